// Suggestions for reference inputs (people, claims, works): as the user types, ask the
// project's lookup view and offer "#id label" values in a <datalist>. The form works without
// this script: typed names and "#id" references are resolved on the server.
(function () {
  "use strict";

  function attach(input) {
    var url = input.getAttribute("data-lookup");
    if (!url) return;
    var list = document.createElement("datalist");
    list.id = input.id + "-suggestions";
    input.setAttribute("list", list.id);
    input.insertAdjacentElement("afterend", list);
    var timer = null;
    var last = "";

    input.addEventListener("input", function () {
      var text = input.value.trim();
      if (text === last || text.startsWith("#")) return;
      last = text;
      window.clearTimeout(timer);
      if (text.length < 2) {
        list.replaceChildren();
        return;
      }
      timer = window.setTimeout(function () {
        fetch(url + "?q=" + encodeURIComponent(text), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        })
          .then(function (response) {
            return response.ok ? response.json() : { results: [] };
          })
          .then(function (data) {
            list.replaceChildren.apply(
              list,
              data.results.map(function (row) {
                var option = document.createElement("option");
                option.value = row.value;
                return option;
              })
            );
          })
          .catch(function () {
            list.replaceChildren();
          });
      }, 200);
    });
  }

  function attachAll(root) {
    root.querySelectorAll("input[data-lookup]").forEach(attach);
  }

  document.addEventListener("DOMContentLoaded", function () {
    attachAll(document);
  });
  // Formset rows added by formset.js get suggestions too.
  document.addEventListener("citemap:row-added", function (event) {
    attachAll(event.target);
  });
})();
