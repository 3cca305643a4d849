// Annotation form: a typed or pasted quote is looked up in the source's text as you type; a
// single exact match is placed at once, repeats and near matches are offered to choose from.
(function () {
  "use strict";
  const status = document.getElementById("locate-status");
  const quote = document.getElementById("id_quote");
  const start = document.getElementById("id_start");
  const end = document.getElementById("id_end");
  const locator = document.getElementById("id_locator");
  const pageLabel = document.getElementById("id_page_label");
  if (!status || !quote || !start || !end) return;
  // What the script last wrote into the locator and page: replaced on the next placing, but
  // anything the analyst typed there is kept.
  const filled = new Map();
  const url = status.dataset.locateUrl;
  let timer = null;
  let asked = quote.value;
  let request = null;

  function fill(field, value) {
    if (!field) return;
    if (field.value === "" || field.value === filled.get(field)) {
      field.value = value;
      filled.set(field, value);
    }
  }

  function place(match) {
    start.value = match.start;
    end.value = match.end;
    fill(locator, match.locator || "");
    fill(pageLabel, match.page || "");
  }

  // The answer replaces what the status said. When the focus was on something in it (Tab
  // pressed before the answer came lands on its link or choices), the focus moves to the
  // first choice of the answer, or to the status itself, never to the page's start.
  function say(...nodes) {
    const hadFocus = status.contains(document.activeElement);
    status.replaceChildren(...nodes);
    if (!hadFocus) return;
    const next = status.querySelector("input, a[href], button");
    if (next) {
      next.focus();
    } else {
      status.tabIndex = -1;
      status.focus();
    }
  }

  // Where, as researchers say it: the paragraph (or page) a reader finds it in.
  function where(match) {
    return match.locator ? `in ${match.locator}` : `at characters ${match.start}–${match.end}`;
  }

  function context(match) {
    const line = document.createElement("span");
    line.dir = "auto";
    const mark = document.createElement("mark");
    mark.textContent = match.words;
    line.append(`…${match.before}`, mark, `${match.after}…`);
    return line;
  }

  function choices(matches, exact) {
    const list = document.createElement("ul");
    list.className = "occurrences";
    matches.forEach((match, index) => {
      const item = document.createElement("li");
      const label = document.createElement("label");
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "js-occurrence";
      radio.value = String(index);
      radio.addEventListener("change", () => {
        if (!exact) {
          quote.value = match.words;
          asked = quote.value;
        }
        place(match);
      });
      const score = exact ? "" : ` · ${Math.round(match.score * 100)}% alike`;
      label.append(radio, ` ${where(match)}${score}`);
      item.append(label, document.createElement("br"), context(match));
      list.append(item);
    });
    return list;
  }

  function show(data) {
    const matches = data.matches || [];
    if (data.error) return say(data.error);
    if (!matches.length) return say("Not found in the source's text. Check the quote, or select the passage in the reading view.");
    if (matches.length === 1 && matches[0].how === "exact") {
      place(matches[0]);
      return say(`Found once, ${where(matches[0])}.`);
    }
    if (matches.length === 1 && matches[0].how === "folded") {
      // The same words written with other letter forms (hamzas, ى/ي, ة/ه), case or
      // punctuation: the text's own spelling is taken.
      place(matches[0]);
      quote.value = matches[0].words;
      asked = quote.value;
      return say(`Found once, spelt in the text as “${matches[0].words}”, which replaces the typed quote, ${where(matches[0])}.`);
    }
    const exact = matches[0].how === "exact";
    const intro = exact
      ? `The quote occurs ${data.total} times. Choose the one you mean:`
      : "Not found exactly. Choose the passage you mean to take the text's own words:";
    return say(intro, choices(matches, exact));
  }

  function lookUp() {
    const value = quote.value;
    if (value === asked) return;
    asked = value;
    start.value = "";
    end.value = "";
    if (!value.trim()) return say("");
    if (request) request.abort();
    request = new AbortController();
    say("Looking for the quote in the text…");
    fetch(`${url}?quote=${encodeURIComponent(value)}`, {
      headers: { Accept: "application/json" },
      signal: request.signal,
    })
      .then((response) => response.json())
      .then(show)
      .catch((error) => {
        if (error.name !== "AbortError") say("The text could not be searched just now; the quote is checked when you save.");
      });
  }

  quote.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(lookUp, 400);
  });
  quote.addEventListener("blur", lookUp);
})();
