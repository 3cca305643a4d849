// A job's page: fetch its status every second or two and show it in place, until the job has
// finished. Without JavaScript the page reloads itself instead (a <noscript> refresh).
(function () {
  "use strict";

  var box = document.querySelector("[data-job-status]");
  if (!box) return;
  var url = box.getAttribute("data-job-status");
  var delay = 1000;

  function finished() {
    var job = box.querySelector("[data-job-state]");
    var state = job && job.getAttribute("data-job-state");
    return state === "succeeded" || state === "failed";
  }

  function poll() {
    if (finished()) return;
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        box.innerHTML = html;
        delay = 1000;
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000); // the server is busy or away: back off
      })
      .then(function () {
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
