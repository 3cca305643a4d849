// Reading view: offsets of a selection, highlights that open their passage, the side list
// that scrolls the text, and the colour scheme the reader chose.
(function () {
  "use strict";
  const text = document.getElementById("reader-text");
  if (!text) return;
  const reader = text.closest(".reader");
  const detail = document.getElementById("reader-detail");
  const button = document.getElementById("excerpt-button");
  const createUrl = reader.dataset.createUrl;

  // Offsets count code points, as the server does; JavaScript strings count UTF-16 units.
  const codePoints = (s) => {
    let n = 0;
    for (const _ of s) n += 1; // eslint-disable-line no-unused-vars
    return n;
  };

  // The offset in the stored text of a DOM position inside the text.
  function offsetOf(node, offset) {
    if (node.nodeType === Node.TEXT_NODE) {
      const segment = node.parentElement.closest("[data-s]");
      if (!segment || !text.contains(segment)) return null;
      return Number(segment.dataset.s) + codePoints(node.data.slice(0, offset));
    }
    // An element boundary: the start of the child at `offset`, or the end of the last one.
    const children = Array.from(node.childNodes);
    for (let i = offset; i < children.length; i += 1) {
      const child = children[i];
      const start = child.dataset ? child.dataset.s : undefined;
      if (start !== undefined) return Number(start);
      if (child.querySelector) {
        const inner = child.querySelector("[data-s]");
        if (inner) return Number(inner.dataset.s);
      }
    }
    return Number(text.dataset.length);
  }

  function selectedSpan() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) return null;
    const range = selection.getRangeAt(0);
    if (!text.contains(range.commonAncestorContainer)) return null;
    const start = offsetOf(range.startContainer, range.startOffset);
    const end = offsetOf(range.endContainer, range.endOffset);
    if (start === null || end === null || end <= start) return null;
    return { start, end, rect: range.getBoundingClientRect() };
  }

  function offerExcerpt() {
    if (!button || !createUrl) return;
    const span = selectedSpan();
    if (!span) {
      button.hidden = true;
      return;
    }
    button.href = `${createUrl}?start=${span.start}&end=${span.end}`;
    button.hidden = false;
    button.style.top = `${window.scrollY + span.rect.bottom + 8}px`;
    button.style.left = `${Math.max(8, window.scrollX + span.rect.left)}px`;
  }
  document.addEventListener("mouseup", () => setTimeout(offerExcerpt, 0));
  document.addEventListener("keyup", (event) => {
    if (event.shiftKey || event.key === "Shift") offerExcerpt();
  });
  document.addEventListener("selectionchange", () => {
    if (button && !button.hidden && !selectedSpan()) button.hidden = true;
  });

  // A highlight shows its passages (the side list's entries) in the detail panel.
  function show(ids) {
    detail.replaceChildren();
    for (const id of ids) {
      const item = document.getElementById(`ann-${id}`);
      if (!item) continue;
      const copy = item.cloneNode(true);
      copy.removeAttribute("id");
      copy.querySelectorAll("[id]").forEach((el) => el.removeAttribute("id"));
      const wrapper = document.createElement("div");
      wrapper.className = "reader__card";
      wrapper.append(...copy.childNodes);
      detail.append(wrapper);
    }
    detail.hidden = detail.childElementCount === 0;
    reader.querySelectorAll(".reader__list li.is-current").forEach((li) => li.classList.remove("is-current"));
    ids.forEach((id) => {
      const item = document.getElementById(`ann-${id}`);
      if (item) item.classList.add("is-current");
    });
  }
  function idsOf(mark) {
    return mark.dataset.a.split(" ");
  }
  text.addEventListener("click", (event) => {
    const mark = event.target.closest("mark[data-a]");
    if (mark && window.getSelection().isCollapsed) show(idsOf(mark));
  });
  text.addEventListener("focusin", (event) => {
    const mark = event.target.closest("mark[data-a]");
    if (mark) show(idsOf(mark));
  });

  // The side list scrolls the text to a passage.
  reader.addEventListener("click", (event) => {
    const jump = event.target.closest("[data-jump]");
    if (!jump) return;
    const id = jump.dataset.jump;
    const marks = text.querySelectorAll(`mark[data-a~="${id}"]`);
    if (!marks.length) return;
    marks[0].scrollIntoView({ block: "center", behavior: "smooth" });
    text.querySelectorAll("mark.is-flashing").forEach((m) => m.classList.remove("is-flashing"));
    marks.forEach((m) => m.classList.add("is-flashing"));
    const first = text.querySelector(`mark[data-a~="${id}"][tabindex]`) || marks[0];
    first.focus({ preventScroll: true });
  });

  // Colour by status or by concept, remembered for the next visit.
  const KEY = "citemap.reader.colour";
  function colourBy(value) {
    text.classList.toggle("by-status", value !== "concept");
    text.classList.toggle("by-concept", value === "concept");
    reader.classList.toggle("legend-concept", value === "concept");
  }
  reader.querySelectorAll('input[name="colour-by"]').forEach((input) => {
    input.addEventListener("change", () => {
      colourBy(input.value);
      try {
        localStorage.setItem(KEY, input.value);
      } catch (e) {
        /* private browsing: the choice lasts for this page */
      }
    });
  });
  let saved = null;
  try {
    saved = localStorage.getItem(KEY);
  } catch (e) {
    saved = null;
  }
  if (saved === "concept") {
    const radio = reader.querySelector('input[name="colour-by"][value="concept"]');
    if (radio) radio.checked = true;
    colourBy("concept");
  }
})();
