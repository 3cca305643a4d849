// Annotation form: a typed or pasted quote is looked up in the source's text as you type; a
// single exact match is placed at once, repeats and near matches are offered to choose from.
(function () {
  "use strict";
  const status = document.getElementById("locate-status");
  const quote = document.getElementById("id_quote");
  const start = document.getElementById("id_start");
  const end = document.getElementById("id_end");
  if (!status || !quote || !start || !end) return;
  const url = status.dataset.locateUrl;
  let timer = null;
  let asked = quote.value;
  let request = null;

  function place(match) {
    start.value = match.start;
    end.value = match.end;
  }

  function say(...nodes) {
    status.replaceChildren(...nodes);
  }

  function where(match) {
    return `${match.page ? `p. ${match.page}, ` : ""}characters ${match.start}–${match.end}`;
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
      return say(`Found once: ${where(matches[0])}.`);
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
