// Reading view: offsets of a selection, highlights that open their passage, the side list
// that scrolls the text, and the colour scheme the reader chose.
(function () {
  "use strict";
  const text = document.getElementById("reader-text");
  if (!text) return;
  const reader = text.closest(".reader");
  const detail = document.getElementById("reader-detail");
  const createUrl = reader.dataset.createUrl;
  // The "Excerpt this passage" button exists only with the script and for those who may
  // excerpt; it is placed after the text, so the keyboard reaches it right after the text.
  let button = null;
  if (createUrl) {
    button = document.createElement("a");
    button.className = "button button--primary reader__excerpt";
    button.id = "excerpt-button";
    button.textContent = "Excerpt this passage";
    button.hidden = true;
    // Pressing it must not clear the selection it is about (which would hide it first).
    button.addEventListener("mousedown", (event) => event.preventDefault());
    text.after(button);
  }

  // Offsets count code points, as the server does; JavaScript strings count UTF-16 units.
  const codePoints = (s) => {
    let n = 0;
    for (const _ of s) n += 1; // eslint-disable-line no-unused-vars
    return n;
  };

  // The offset of the first segment in or after `node` (in document order), within the text.
  function segmentFrom(node) {
    for (let at = node; at; ) {
      if (at.nodeType === Node.ELEMENT_NODE) {
        if (at.dataset.s !== undefined) return Number(at.dataset.s);
        const inner = at.querySelector("[data-s]");
        if (inner) return Number(inner.dataset.s);
      }
      while (at !== text && !at.nextSibling) at = at.parentNode;
      at = at === text ? null : at.nextSibling;
    }
    return Number(text.dataset.length);
  }

  // The offset in the stored text of a DOM position inside the text.
  function offsetOf(node, offset) {
    if (node.nodeType === Node.TEXT_NODE) {
      const segment = node.parentElement.closest("[data-s]");
      if (!segment || !text.contains(segment)) return null;
      return Number(segment.dataset.s) + codePoints(node.data.slice(0, offset));
    }
    // A segment's own boundary: before or after its text.
    if (node.dataset.s !== undefined) {
      return Number(node.dataset.s) + (offset === 0 ? 0 : codePoints(node.textContent));
    }
    // Another element's (the text, a block, a target): the start of the child at `offset`, or
    // of whatever follows the element when the boundary is at its end.
    if (offset < node.childNodes.length) return segmentFrom(node.childNodes[offset]);
    if (node === text) return Number(text.dataset.length);
    while (node !== text && !node.nextSibling) node = node.parentNode;
    return node === text ? Number(text.dataset.length) : segmentFrom(node.nextSibling);
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
  // A selection made with the keyboard (caret.js).
  document.addEventListener("citemap:selection", offerExcerpt);
  document.addEventListener("keyup", (event) => {
    if (event.shiftKey || event.key === "Shift") offerExcerpt();
  });
  document.addEventListener("selectionchange", () => {
    if (button && !button.hidden && !selectedSpan()) button.hidden = true;
  });

  // A highlight or a list entry opens its passages' cards (quote, note, claims, people),
  // fetched from the server the first time and kept for the visit.
  const passagesUrl = reader.dataset.passagesUrl;
  const maxIds = Number(reader.dataset.passagesMax);
  const side = reader.querySelector(".reader__side");
  const cardsBox = document.getElementById("reader-cards");
  const cards = new Map(); // passage ids -> promise of their cards' HTML
  let opened = 0; // the latest request wins when several are on their way
  let pending = 0;
  let opener = null; // what had the focus when a card opened; it gets it back on close
  let quietFocus = false;

  // On a narrow screen the side list is a panel that a button at the bottom opens.
  const narrow = window.matchMedia("(max-width: 60rem)");
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "button button--primary reader__panel-toggle";
  toggle.setAttribute("aria-controls", "reader-side");
  toggle.setAttribute("aria-expanded", "false");
  const count = reader.querySelector("#reader-passages .count");
  const panelLabel = `Passages${count ? ` (${count.textContent})` : ""}`;
  toggle.textContent = panelLabel;
  reader.append(toggle);
  reader.classList.add("has-panel");
  function openPanel(open) {
    reader.classList.toggle("is-panel-open", open);
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Close the list" : panelLabel;
  }
  toggle.addEventListener("click", () => openPanel(!reader.classList.contains("is-panel-open")));

  function markCurrent(ids) {
    reader.querySelectorAll(".reader__list li.is-current").forEach((li) => li.classList.remove("is-current"));
    const items = ids.map((id) => document.getElementById(`ann-${id}`)).filter(Boolean);
    items.forEach((item) => item.classList.add("is-current"));
    // Keep the first entry in sight in the side panel, below the open card that stays at its
    // top, without scrolling the page.
    const item = items[0];
    if (item && side.scrollHeight > side.clientHeight) {
      const covered = detail.hidden ? 0 : detail.offsetHeight;
      const top = item.getBoundingClientRect().top - side.getBoundingClientRect().top;
      if (top < covered || top + item.offsetHeight > side.clientHeight) {
        side.scrollTop += top - covered - (side.clientHeight - covered) / 3;
      }
    }
  }

  const PROBLEMS = {
    failed: "The passage could not be loaded. Check the connection and open it again.",
    gone: "This passage is no longer shown here; reload the page to see the current passages.",
    "signed-out": "Your session has ended; reload the page to sign in again.",
  };

  async function load(key) {
    const response = await fetch(`${passagesUrl}?ids=${encodeURIComponent(key)}`, {
      headers: { Accept: "text/html" },
      credentials: "same-origin",
    });
    if (response.redirected) throw new Error("signed-out"); // the sign-in page came instead
    if (response.status === 404) throw new Error("gone");
    if (!response.ok) throw new Error("failed");
    return response.text();
  }

  function cardsFor(key) {
    if (!cards.has(key)) {
      const loading = load(key);
      cards.set(key, loading);
      loading.catch(() => cards.delete(key)); // opening it again tries again
    }
    return cards.get(key);
  }

  async function show(ids) {
    const sorted = ids.map(Number).sort((a, b) => a - b);
    const key = sorted.slice(0, maxIds).join(" ");
    const ticket = ++opened;
    if (!detail.contains(document.activeElement)) opener = document.activeElement;
    pending += 1;
    detail.setAttribute("aria-busy", "true");
    let html;
    try {
      html = await cardsFor(key);
    } catch (error) {
      const problem = document.createElement("p");
      problem.className = "field__error";
      problem.setAttribute("role", "alert");
      problem.textContent = PROBLEMS[error.message] || PROBLEMS.failed;
      html = problem.outerHTML;
    }
    pending -= 1;
    if (!pending) detail.removeAttribute("aria-busy");
    if (ticket !== opened) return;
    // The server's own partial: its notes were sanitised when they were saved.
    cardsBox.innerHTML = html;
    if (sorted.length > maxIds) {
      const more = document.createElement("p");
      more.className = "muted small";
      more.textContent = `${sorted.length - maxIds} more passages cover this place; the list shows every passage.`;
      cardsBox.append(more);
    }
    detail.hidden = false;
    if (narrow.matches) openPanel(true);
    markCurrent(ids);
  }

  // Focus moved by the script, not by the reader, opens nothing.
  function focusQuietly(element) {
    quietFocus = true;
    element.focus({ preventScroll: true });
    quietFocus = false;
  }

  function close() {
    opened += 1; // a card still on its way stays closed
    const hadFocus = detail.contains(document.activeElement);
    detail.hidden = true;
    markCurrent([]);
    if (hadFocus && opener && opener.isConnected) focusQuietly(opener);
  }
  document.getElementById("reader-close").addEventListener("click", close);
  reader.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && (!detail.hidden || pending)) close();
  });

  function idsOf(mark) {
    return mark.dataset.a.split(" ");
  }
  text.addEventListener("click", (event) => {
    const mark = event.target.closest("mark[data-a]");
    if (mark && window.getSelection().isCollapsed) show(idsOf(mark));
  });
  text.addEventListener("focusin", (event) => {
    const mark = event.target.closest("mark[data-a]");
    if (mark && !quietFocus) show(idsOf(mark));
  });

  // The side list scrolls the text to a passage (its link does the same without the script).
  function flash(id) {
    const marks = text.querySelectorAll(`mark[data-a~="${id}"]`);
    text.querySelectorAll("mark.is-flashing").forEach((m) => m.classList.remove("is-flashing"));
    marks.forEach((m) => m.classList.add("is-flashing"));
    return marks[0];
  }
  reader.addEventListener("click", (event) => {
    const jump = event.target.closest("[data-jump]");
    if (!jump) return;
    const id = jump.dataset.jump;
    const first = flash(id);
    if (!first) return;
    event.preventDefault();
    // At once: a smooth scroll aims before the blocks on its way are laid out, and may stop
    // short of a passage far away.
    // Above the panel on a narrow screen, in the middle on a wide one.
    first.scrollIntoView({ block: narrow.matches ? "start" : "center", behavior: "instant" });
    history.replaceState(null, "", `#at-${id}`);
    focusQuietly(first);
    show([id]);
  });

  // A place in the text given by its offset (a double-coding unit's start): the paragraph
  // holding it is brought into view and flashes. Without the script the link goes to the text.
  function segmentAt(offset) {
    let found = null;
    for (const segment of text.querySelectorAll("[data-s]")) {
      if (Number(segment.dataset.s) > offset) break;
      found = segment;
    }
    return found;
  }
  reader.addEventListener("click", (event) => {
    const place = event.target.closest("a[data-at]");
    if (!place) return;
    const segment = segmentAt(Number(place.dataset.at));
    const paragraph = segment && segment.closest(".reader__p");
    if (!paragraph) return;
    event.preventDefault();
    text.querySelectorAll(".is-flashing").forEach((m) => m.classList.remove("is-flashing"));
    paragraph.classList.add("is-flashing");
    paragraph.scrollIntoView({ block: narrow.matches ? "start" : "center", behavior: "instant" });
  });

  // Arriving at #at-<id> (from an annotation's page): that passage is open.
  const arrived = /^#at-(\d+)$/.exec(window.location.hash);
  const target = arrived && flash(arrived[1]);
  if (target) {
    target.scrollIntoView({ block: "center", behavior: "instant" });
    show([arrived[1]]);
  }

  // A long side list: the server drew its first entries; the others are built here from
  // compact rows, their quotes' openings taken from the text on the page.
  const listData = document.getElementById("reader-list-data");
  if (listData) {
    const data = JSON.parse(listData.textContent);
    const list = document.getElementById("reader-list");
    const drawn = new Set(Array.from(list.children, (li) => li.id));
    const pieces = new Map(); // offset -> text of each segment, to read quotes from
    text.querySelectorAll("[data-s]").forEach((segment) => {
      pieces.set(Number(segment.dataset.s), segment.textContent);
    });
    const starts = Array.from(pieces.keys()).sort((a, b) => a - b);
    const OPENING = 90;
    function opening(start, end) {
      // The segments from the one holding `start`, until enough characters are read.
      let low = 0;
      let high = starts.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (starts[middle] <= start) low = middle;
        else high = middle - 1;
      }
      let words = "";
      for (let i = low; i < starts.length && starts[i] < end; i += 1) {
        const points = Array.from(pieces.get(starts[i]));
        const from = Math.max(0, start - starts[i]);
        const to = Math.min(points.length, end - starts[i]);
        words += `${points.slice(from, to).join("")} `;
        if (words.length > OPENING + 10) break;
      }
      words = words.replace(/\s+/gu, " ").trim();
      const points = Array.from(words);
      return points.length > OPENING ? `${points.slice(0, OPENING - 1).join("")}…` : words;
    }
    const fragment = document.createDocumentFragment();
    // A row leaves out what is usual at its end: approved, and no anchor warning.
    for (const [id, start, end, locator, status = "approved", anchor, score] of data.rows) {
      const existing = drawn.has(`ann-${id}`) && document.getElementById(`ann-${id}`);
      if (existing) {
        fragment.append(existing);
        continue;
      }
      const item = document.createElement("li");
      item.id = `ann-${id}`;
      const jump = document.createElement("a");
      jump.className = "reader__jump";
      jump.href = `#at-${id}`;
      jump.dataset.jump = id;
      jump.setAttribute("aria-label", `Show ${locator} in the text`);
      jump.textContent = locator;
      item.append(jump);
      if (status !== "approved") {
        const badge = document.createElement("span");
        badge.className = `status status--${status}`;
        badge.textContent = data.statuses[status];
        item.append(" ", badge);
      }
      if (data.anchors[anchor]) {
        const badge = document.createElement("span");
        badge.className = `anchor anchor--${anchor}`;
        badge.textContent = data.anchors[anchor] + (anchor === "fuzzy" && score !== null ? ` ${Math.round(score * 100)}%` : "");
        item.append(" ", badge);
      }
      const quote = document.createElement("p");
      quote.className = "reader__quote";
      quote.dir = "auto";
      quote.textContent = `“${opening(start, end)}”`;
      item.append(quote);
      fragment.append(item);
    }
    list.replaceChildren(fragment);
    const more = document.getElementById("reader-more");
    if (more) more.remove();
  }

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
