// Suggestions for reference inputs (people, claims, concepts' originators, works): as the user
// types, ask the project's lookup view and offer "#id label" values in a list that follows the
// WAI-ARIA combobox pattern (https://www.w3.org/WAI/ARIA/apg/patterns/combobox/): the input is
// role=combobox, the list a role=listbox of role=option items; Down/Up move through them (the
// input keeps the focus, aria-activedescendant names the current one), Enter chooses, Escape
// closes, a click chooses. The form works without this script: the input is a plain text
// input and typed names and "#id" references are resolved on the server.
(function () {
  "use strict";

  var count = 0;

  function attach(input) {
    var url = input.getAttribute("data-lookup");
    if (!url || input.getAttribute("role") === "combobox") return;
    count += 1;
    var listId = (input.id || "lookup-" + count) + "-suggestions";

    var box = document.createElement("span");
    box.className = "combobox";
    input.parentNode.insertBefore(box, input);
    box.appendChild(input);

    var list = document.createElement("ul");
    list.id = listId;
    list.className = "combobox__list";
    list.setAttribute("role", "listbox");
    var label = input.labels && input.labels[0];
    if (label) {
      if (!label.id) label.id = listId + "-label";
      list.setAttribute("aria-labelledby", label.id);
    } else {
      list.setAttribute("aria-label", "Suggestions");
    }
    list.hidden = true;
    box.appendChild(list);

    // Screen readers hear how many suggestions came, as sighted users see the list appear.
    var status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    box.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var timer = null;
    var last = "";
    var asked = 0;
    var active = -1;

    function options() {
      return list.querySelectorAll("[role=option]");
    }

    function setActive(index) {
      var items = options();
      active = index;
      items.forEach(function (item, i) {
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0 && items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open() {
      if (!options().length) return;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    function choose(item) {
      input.value = item.getAttribute("data-value");
      last = input.value.trim();
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function show(results) {
      list.replaceChildren.apply(
        list,
        results.map(function (row, i) {
          var item = document.createElement("li");
          item.id = listId + "-" + i;
          item.className = "combobox__option";
          item.setAttribute("role", "option");
          item.setAttribute("aria-selected", "false");
          item.setAttribute("data-value", row.value);
          item.textContent = row.value;
          return item;
        })
      );
      active = -1;
      input.removeAttribute("aria-activedescendant");
      status.textContent = results.length
        ? results.length + (results.length === 1 ? " suggestion" : " suggestions") +
          ": press Down to choose"
        : "";
      if (results.length && document.activeElement === input) open();
      else close();
    }

    input.addEventListener("input", function () {
      var text = input.value.trim();
      if (text === last) return;
      last = text;
      window.clearTimeout(timer);
      if (text.length < 2 || text.startsWith("#")) {
        asked += 1; // an answer still on its way is no longer wanted
        show([]);
        return;
      }
      timer = window.setTimeout(function () {
        var mine = (asked += 1);
        fetch(url + "?q=" + encodeURIComponent(text), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        })
          .then(function (response) {
            return response.ok ? response.json() : { results: [] };
          })
          .then(function (data) {
            if (mine === asked) show(data.results || []);
          })
          .catch(function () {
            if (mine === asked) show([]);
          });
      }, 200);
    });

    input.addEventListener("keydown", function (event) {
      var items = options();
      var expanded = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!items.length) return;
        event.preventDefault();
        if (!expanded) {
          open();
          if (event.altKey) return;
        }
        var next;
        if (event.key === "ArrowDown") next = active + 1 >= items.length ? 0 : active + 1;
        else next = active <= 0 ? items.length - 1 : active - 1;
        setActive(next);
      } else if (event.key === "Enter") {
        if (expanded && active >= 0) {
          event.preventDefault(); // choosing is not submitting the form
          choose(items[active]);
        }
      } else if (event.key === "Escape") {
        if (expanded) {
          event.preventDefault();
          close();
        }
      } else if (event.key === "Tab") {
        close();
      }
    });

    input.addEventListener("blur", function () {
      close();
    });

    // The input keeps the focus while the pointer is on the list.
    list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    list.addEventListener("click", function (event) {
      var item = event.target.closest("[role=option]");
      if (item) choose(item);
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
