// "Add a row" for Django formsets: clones the empty form (a <template>), numbers it, and bumps
// TOTAL_FORMS. Without JavaScript the blank rows rendered by the server are used instead.
(function () {
  "use strict";

  function setUp(fieldset) {
    var prefix = fieldset.getAttribute("data-formset-prefix");
    var total = fieldset.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var template = fieldset.querySelector("template.formset__template");
    var rows = fieldset.querySelector(".formset__rows");
    var button = fieldset.querySelector(".formset__add");
    if (!total || !template || !rows || !button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      row.dispatchEvent(new CustomEvent("citemap:row-added", { bubbles: true }));
      var first = row.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("fieldset[data-formset-prefix]").forEach(setUp);
  });
})();
