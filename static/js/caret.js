// Reading view: selecting text with the keyboard alone. "Select with the keyboard" puts a
// caret in the text; arrows move it by word (← →), sentence (↑ ↓) or paragraph (Page Up,
// Page Down), Shift extends the selection, Enter opens the excerpt form for it, Esc leaves.
// The selection is the page's own, so reader.js offers "Excerpt this passage" as for a mouse
// selection, with the same offsets.
(function () {
  "use strict";
  const text = document.getElementById("reader-text");
  if (!text) return;
  const reader = text.closest(".reader");
  if (!reader.dataset.createUrl) return;
  const bar = document.querySelector(".page-head .action-bar");

  const start = document.createElement("button");
  start.type = "button";
  start.className = "button";
  start.id = "caret-start";
  start.textContent = "Select with the keyboard";
  start.setAttribute("aria-controls", "reader-text");
  (bar || reader).prepend(start);

  const help = document.createElement("div");
  help.className = "reader__caret-help";
  help.id = "caret-help";
  help.hidden = true;
  const keys = document.createElement("p");
  keys.className = "small";
  keys.textContent =
    "Keyboard selection: ← → by word, ↑ ↓ by sentence, Page Up and Page Down by paragraph; " +
    "hold Shift to select; Enter excerpts the selection; Esc stops.";
  const status = document.createElement("p");
  status.id = "caret-status";
  status.setAttribute("role", "status");
  help.append(keys, status);
  reader.before(help);

  const caret = document.createElement("span");
  caret.className = "reader__caret";
  caret.setAttribute("aria-hidden", "true");
  caret.hidden = true;
  text.after(caret);

  // The text as code points at their offsets (blank lines between paragraphs are not in the
  // page; they read as line breaks), the segments that hold them, and the paragraphs.
  let chars = null;
  let segments = null;
  let paragraphs = null;
  function model() {
    if (chars) return;
    chars = new Array(Number(text.dataset.length)).fill("\n");
    segments = [];
    text.querySelectorAll("[data-s]").forEach((element) => {
      const node = element.firstChild;
      if (!node) return;
      const points = Array.from(node.data);
      const s = Number(element.dataset.s);
      points.forEach((ch, i) => {
        chars[s + i] = ch;
      });
      segments.push({ s, node, points });
    });
    paragraphs = Array.from(text.querySelectorAll(".reader__p"))
      .map((p) => {
        const inside = Array.from(p.querySelectorAll("[data-s]"));
        if (!inside.length) return null;
        const last = inside[inside.length - 1];
        const end = Number(last.dataset.s) + Array.from(last.textContent).length;
        return { start: Number(inside[0].dataset.s), end, n: p.dataset.n, element: p };
      })
      .filter(Boolean);
  }

  const WORD = /[\p{L}\p{N}\p{M}]/u;
  const TERMINAL = /[.!?؟…。]/u;
  const CLOSING = /["'”’»)\]]/u;
  const isWord = (i) => i >= 0 && i < chars.length && WORD.test(chars[i]);
  const isSpace = (i) => i < 0 || i >= chars.length || /\s/u.test(chars[i]);

  function paragraphAt(offset) {
    let low = 0;
    let high = paragraphs.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (paragraphs[middle].start <= offset) low = middle;
      else high = middle - 1;
    }
    return paragraphs[low];
  }
  const paragraphStart = (i) => paragraphs.some((p) => p.start === i);
  const paragraphEnd = (i) => paragraphs.some((p) => p.end === i);

  // Whether a sentence ends just before `i`: terminal punctuation, maybe closing quotes, then
  // a space or the paragraph's end.
  function sentenceEndsBefore(i) {
    if (paragraphEnd(i)) return true;
    if (!isSpace(i)) return false;
    let j = i - 1;
    while (j >= 0 && CLOSING.test(chars[j])) j -= 1;
    return j >= 0 && TERMINAL.test(chars[j]);
  }
  function sentenceStartsAt(i) {
    if (paragraphStart(i)) return true;
    if (isSpace(i)) return false;
    let j = i - 1;
    if (!isSpace(j)) return false;
    while (j >= 0 && isSpace(j) && chars[j] !== undefined) j -= 1;
    return sentenceEndsBefore(j + 1);
  }

  const BOUNDARY = {
    word: {
      start: (i) => isWord(i) && !isWord(i - 1),
      end: (i) => isWord(i - 1) && !isWord(i),
    },
    sentence: { start: sentenceStartsAt, end: sentenceEndsBefore },
    paragraph: { start: paragraphStart, end: paragraphEnd },
  };

  // The next boundary of the kind after (or before) `from`, or the text's end (start).
  function seek(from, step, test) {
    for (let i = from + step; i > 0 && i < chars.length; i += step) {
      if (test(i)) return i;
    }
    return step > 0 ? chars.length : 0;
  }

  // A DOM position for an offset: inside the segment holding it, or at the start of the next
  // one (an offset on the blank lines between paragraphs).
  function domAt(offset) {
    let low = 0;
    let high = segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (segments[middle].s <= offset) low = middle;
      else high = middle - 1;
    }
    let segment = segments[low];
    if (offset > segment.s + segment.points.length && segments[low + 1]) {
      segment = segments[low + 1];
      offset = segment.s;
    }
    const within = Math.max(0, Math.min(offset - segment.s, segment.points.length));
    return [segment.node, segment.points.slice(0, within).join("").length];
  }

  let active = false;
  let anchor = 0;
  let focus = 0;

  function describe() {
    const paragraph = paragraphAt(Math.min(anchor, focus));
    const where = paragraph ? `¶${paragraph.n}` : "";
    if (anchor === focus) {
      const next = chars.slice(focus, focus + 40).join("").split(/\s+/u).filter(Boolean)[0] || "";
      return `Caret in ${where}, before “${next}”.`;
    }
    const words = chars.slice(Math.min(anchor, focus), Math.max(anchor, focus)).join("").trim();
    const count = words.split(/\s+/u).filter(Boolean).length;
    const shown = words.length > 120 ? `${words.slice(0, 60)} … ${words.slice(-50)}` : words;
    return `${count} ${count === 1 ? "word" : "words"} selected from ${where}: “${shown}”. Enter to excerpt.`;
  }

  function draw() {
    const selection = window.getSelection();
    const [anchorNode, anchorOffset] = domAt(anchor);
    const [focusNode, focusOffset] = domAt(focus);
    selection.setBaseAndExtent(anchorNode, anchorOffset, focusNode, focusOffset);
    const range = document.createRange();
    range.setStart(focusNode, focusOffset);
    const box = range.getBoundingClientRect();
    caret.hidden = anchor !== focus;
    caret.style.top = `${window.scrollY + box.top}px`;
    caret.style.left = `${window.scrollX + box.left - 1}px`;
    caret.style.height = `${box.height || 24}px`;
    focusNode.parentElement.scrollIntoView({ block: "nearest" });
    status.textContent = describe();
    document.dispatchEvent(new CustomEvent("citemap:selection"));
  }

  function begin() {
    model();
    if (!segments.length) return;
    active = true;
    // Where the reader is: the highlight that has the focus, else the first paragraph on
    // the screen.
    const mark = document.activeElement && document.activeElement.closest("mark[data-s]");
    let place = mark && text.contains(mark) ? Number(mark.dataset.s) : null;
    if (place === null) {
      const seen = paragraphs.find((p) => p.element.getBoundingClientRect().bottom > 0);
      place = seen ? seen.start : 0;
    }
    anchor = focus = place;
    text.tabIndex = -1;
    text.setAttribute("aria-describedby", "caret-help");
    help.hidden = false;
    start.setAttribute("aria-pressed", "true");
    text.focus({ preventScroll: true });
    draw();
  }

  function stop({ keepSelection = true } = {}) {
    if (!active) return;
    active = false;
    caret.hidden = true;
    help.hidden = true;
    start.setAttribute("aria-pressed", "false");
    text.removeAttribute("aria-describedby");
    if (!keepSelection) window.getSelection().removeAllRanges();
  }

  const MOVES = {
    ArrowRight: ["word", 1],
    ArrowLeft: ["word", -1],
    ArrowDown: ["sentence", 1],
    ArrowUp: ["sentence", -1],
    PageDown: ["paragraph", 1],
    PageUp: ["paragraph", -1],
  };

  text.addEventListener("keydown", (event) => {
    if (!active) return;
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      stop({ keepSelection: false });
      start.focus();
      return;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      const button = document.getElementById("excerpt-button");
      if (anchor !== focus && button && button.href) window.location.assign(button.href);
      else status.textContent = "Nothing is selected yet: hold Shift and move to select words.";
      return;
    }
    const move = MOVES[event.key];
    if (!move || event.ctrlKey || event.metaKey || event.altKey) return;
    event.preventDefault();
    let [unit, step] = move;
    // In a right-to-left paragraph the left arrow goes forward in the text.
    if (unit === "word") {
      const paragraph = paragraphAt(focus);
      if (paragraph && getComputedStyle(paragraph.element).direction === "rtl") step = -step;
    }
    // The moving edge stops at word (sentence, paragraph) ends when it is the selection's
    // end, at their starts when it is the caret or the selection's start.
    const edge = event.shiftKey && (focus > anchor || (focus === anchor && step > 0)) ? "end" : "start";
    focus = seek(focus, step, BOUNDARY[unit][edge]);
    if (!event.shiftKey) anchor = focus;
    draw();
  });

  text.addEventListener("focusout", (event) => {
    if (active && !text.contains(event.relatedTarget)) stop();
  });
  start.addEventListener("click", () => (active ? stop() : begin()));
})();
