// Keyboard shortcuts for the review queue. The page works without them: every decision is a
// plain form reachable with Tab and Enter.
(function () {
  "use strict";

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue-item]"));
  }

  function current() {
    var active = document.activeElement;
    return active ? active.closest("[data-queue-item]") : null;
  }

  function move(step) {
    var list = items();
    if (!list.length) return;
    var index = list.indexOf(current());
    var next = list[Math.min(list.length - 1, Math.max(0, index + step))] || list[0];
    next.focus();
    next.scrollIntoView({ block: "start" });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.matches("input[type=text], input[type=search], textarea, select")) return;
    var item = current();
    if (event.key === "j") { move(1); event.preventDefault(); return; }
    if (event.key === "k") { move(-1); event.preventDefault(); return; }
    if (!item) return;
    if (event.key === "a") {
      var approve = item.querySelector("[data-key='a']");
      if (approve) { approve.click(); event.preventDefault(); }
    } else if (event.key === "c") {
      var comment = item.querySelector("textarea[name='comment']");
      if (comment) { comment.focus(); event.preventDefault(); }
    } else if (event.key === "x") {
      var box = item.querySelector("input[data-key='x']");
      if (box) { box.checked = !box.checked; event.preventDefault(); }
    }
  });
})();
