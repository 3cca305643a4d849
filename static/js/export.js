// The export form: the citation style matters only for a formatted bibliography, so it is
// shown only when one is chosen. Without this script both fields show, the style's help
// saying when it applies.
(function () {
  "use strict";
  const form = document.querySelector("form.export-form");
  if (!form) return;
  const format = form.querySelector("select[name=format]");
  const style = form.querySelector(".field--style");
  if (!format || !style) return;
  const formatted = new Set(JSON.parse(form.dataset.formatted || "[]"));
  function show() {
    const wanted = formatted.has(format.value);
    style.hidden = !wanted;
    style.querySelector("select").disabled = !wanted;
  }
  format.addEventListener("change", show);
  show();
})();
