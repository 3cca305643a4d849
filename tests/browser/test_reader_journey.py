"""An analyst reads a source's text and excerpts from it: by selecting with the mouse, by
typing a repeated quote with the keyboard alone, and in a right-to-left text."""

import re

import pytest
from playwright.sync_api import expect

from apps.annotations.anchoring import replace_text
from apps.annotations.models import Annotation, Status
from tests import factories

pytestmark = pytest.mark.browser

TEXT = (
    "The movement grew out of small circles of readers.\n\n"
    "Its founders argued that leaderless cells would outlast any central command, and they "
    "wrote as much in pamphlets passed from hand to hand.\n\n"
    "Later writers doubted this, and said the cells would act alone only in name."
)
SELECTED = "leaderless cells would outlast any central command"

REPEATED = "the cells would act alone"
TWICE = (
    "Some observers held that the cells would act alone once the leaders were gone.\n\n"
    "Others answered that nothing showed the cells would act alone, and that orders still "
    "came from abroad.\n\n"
    "The question stayed open."
)

ARABIC = (
    "يرى الكاتب أن الجماعات الصغيرة تستمر بعد سقوط القيادة المركزية. "
    "The author quotes one sentence in English here. "
    "ثم يعود النص إلى العربية ويشرح كيف انتشرت هذه الأفكار بين القراء في المدن والقرى."
)

# The box of one character of the reading view's text, by its offset in the stored text
# (the texts above are ASCII or BMP-only, so code points and UTF-16 units agree).
CHAR_BOX = """offset => {
  const root = document.getElementById("reader-text");
  for (const segment of root.querySelectorAll("[data-s]")) {
    const node = segment.firstChild;
    const begin = Number(segment.dataset.s);
    if (node && offset >= begin && offset < begin + node.data.length) {
      const range = document.createRange();
      range.setStart(node, offset - begin);
      range.setEnd(node, offset - begin + 1);
      const box = range.getBoundingClientRect();
      return { left: box.left, right: box.right, top: box.top, height: box.height };
    }
  }
  return null;
}"""


def _source_with_text(project, user, text, **fields):
    source = factories.make_source(project, **fields)
    replace_text(source, text, by=user, origin="pasted")
    return source


def _analyst(project):
    return project.memberships.get(user__username="analyst").user


# Sixty paragraphs: the last ones are well below the first screen.
LONG = "\n\n".join(
    f"Paragraph {n} tells how the circle number {n} met, read and argued through the night."
    for n in range(1, 61)
)


def _approved(source, quote, **links):
    project = source.project
    annotation = factories.make_annotation(
        source,
        _analyst(project),
        status=Status.APPROVED,
        reviewer=project.memberships.get(user__username="supervisor").user,
        quote=quote,
        **links,
    )
    annotation.anchor_in(source.full_text, source.text_version)
    annotation.save()
    return annotation


def test_student_opens_passages_from_the_text_and_from_the_list(
    page, live_server, seed_review, sign_in
):
    source = _source_with_text(seed_review, _analyst(seed_review), LONG, language="en")
    near = _approved(
        source,
        "circle number 2 met",
        note="The **second** circle is the oldest on record.",
        claims=[factories.make_claim(seed_review, "Reading circles came before the cells")],
        people=[factories.make_person(seed_review, "Hilda Reader")],
    )
    far = _approved(source, "circle number 55 met", note="Far down the text.")
    after = _approved(source, "circle number 57 met", note="Two paragraphs later.")
    sign_in(page, "student")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/read/")
    detail = page.locator("#reader-detail")
    expect(detail).to_be_hidden()

    # Clicking a highlight shows its note, claims and people.
    page.locator(f"#at-{near.pk}").click()
    expect(detail).to_be_visible()
    expect(detail).to_contain_text("The second circle is the oldest on record.")
    expect(detail).to_contain_text("Reading circles came before the cells")
    expect(detail).to_contain_text("Hilda Reader")
    expect(page.locator(f"#ann-{near.pk}")).to_have_class(re.compile("is-current"))

    # The side list scrolls the text to a passage far below and opens it.
    far_mark = page.locator(f"#at-{far.pk}")
    expect(far_mark).not_to_be_in_viewport()
    page.locator(f"#ann-{far.pk} a[data-jump]").click()
    expect(far_mark).to_be_in_viewport()
    expect(far_mark).to_be_focused()
    expect(detail).to_contain_text("Far down the text.")
    assert page.evaluate("location.hash") == f"#at-{far.pk}"

    # From there the keyboard reaches the next highlight, which opens it.
    page.keyboard.press("Tab")
    expect(page.locator(f"#at-{after.pk}")).to_be_focused()
    expect(detail).to_contain_text("Two paragraphs later.")
    expect(detail).not_to_contain_text("Far down the text.")
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()
    expect(page.locator(".reader__list li.is-current")).to_have_count(0)

    # Closing the card with its button gives the focus back to the passage that opened it.
    page.locator(f"#at-{far.pk}").focus()
    expect(detail).to_contain_text("Far down the text.")
    page.get_by_role("button", name="Close the passage").click()
    expect(detail).to_be_hidden()
    expect(page.locator(f"#at-{far.pk}")).to_be_focused()

    # An annotation's page links to its place in the text, where it opens.
    page.goto(f"{live_server.url}/p/{seed_review.slug}/annotations/{far.pk}/")
    page.get_by_role("link", name="in the text").click()
    expect(far_mark).to_be_in_viewport()
    expect(detail).to_contain_text("Far down the text.")

    # A card asked for after the session ended says so, instead of showing the sign-in page.
    page.context.clear_cookies()
    page.locator(f"#at-{after.pk}").click()
    expect(detail).to_contain_text("Your session has ended")
    expect(detail.locator("form")).to_have_count(0)


def test_a_place_covered_by_more_passages_than_a_card_holds_says_so(
    page, live_server, seed_review, sign_in
):
    analyst = _analyst(seed_review)
    source = _source_with_text(seed_review, analyst, TEXT, language="en")
    for _ in range(52):
        draft = factories.make_annotation(source, analyst, quote=SELECTED)
        draft.anchor_in(source.full_text, source.text_version)
        draft.save()
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/read/")
    page.locator("#reader-text mark[tabindex]").first.click()
    detail = page.locator("#reader-detail")
    expect(detail.locator(".reader__card")).to_have_count(50)
    expect(detail).to_contain_text("2 more passages cover this place")


def test_analyst_excerpts_a_passage_selected_with_the_mouse(
    page, live_server, seed_review, sign_in
):
    source = _source_with_text(seed_review, _analyst(seed_review), TEXT, language="en")
    start = TEXT.index(SELECTED)
    end = start + len(SELECTED)
    sign_in(page, "analyst")
    base = f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}"
    page.goto(f"{base}/read/")
    expect(page.locator("#reader-text")).to_contain_text(SELECTED)

    first = page.evaluate(CHAR_BOX, start)
    last = page.evaluate(CHAR_BOX, end - 1)
    page.mouse.move(first["left"] + 1, first["top"] + first["height"] / 2)
    page.mouse.down()
    page.mouse.move(last["right"] - 1, last["top"] + last["height"] / 2, steps=8)
    page.mouse.up()
    assert page.evaluate("window.getSelection().toString()") == SELECTED

    button = page.get_by_role("link", name="Excerpt this passage")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("href", re.compile(rf"\?start={start}&end={end}$"))
    button.click()

    page.wait_for_url(re.compile(r"/annotations/new/\?start="))
    expect(page.locator("#id_quote")).to_have_value(SELECTED)
    expect(page.locator("#id_start")).to_have_value(str(start))
    expect(page.locator("#id_end")).to_have_value(str(end))
    expect(page.locator("#locate-status")).to_contain_text("Placed in the text at ¶2")
    locator = page.get_by_role("textbox", name="Locator")
    expect(locator).to_have_value("¶2")  # from the selection's paragraph
    if not locator.input_value():
        locator.fill("¶2")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/annotations/\d+/$"))

    annotation = Annotation.objects.get(source=source)
    assert (annotation.start, annotation.end) == (start, end)
    assert annotation.quote == TEXT[annotation.start : annotation.end] == SELECTED
    assert annotation.anchor_state == "exact"
    assert annotation.anchored_version == 1

    page.goto(f"{base}/read/")
    mark = page.locator(f'#reader-text mark[data-a~="{annotation.pk}"]')
    expect(mark).to_have_count(1)
    expect(mark).to_have_text(SELECTED)


def test_a_drag_that_ends_inside_a_word_takes_the_whole_word_unless_asked(
    page, live_server, seed_review, sign_in
):
    source = _source_with_text(seed_review, _analyst(seed_review), TEXT, language="en")
    start = TEXT.index("aderless cells")
    end = TEXT.index("outlast") + 3  # "…would out|last"
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/read/")
    first, last = page.evaluate(CHAR_BOX, start), page.evaluate(CHAR_BOX, end - 1)
    page.mouse.move(first["left"] + 1, first["top"] + first["height"] / 2)
    page.mouse.down()
    page.mouse.move(last["right"] - 1, last["top"] + last["height"] / 2, steps=8)
    page.mouse.up()
    assert page.evaluate("window.getSelection().toString()") == "aderless cells would out"
    page.get_by_role("link", name="Excerpt this passage").click()

    expect(page.locator("#id_quote")).to_have_value("leaderless cells would outlast")
    note = page.locator("#snapped-note")
    expect(note).to_contain_text("inside a word")
    expect(note.locator("q")).to_have_text("aderless cells would out")
    note.get_by_role("link", name="Keep exactly the characters selected").click()
    expect(page.locator("#id_quote")).to_have_value("aderless cells would out")
    expect(page.locator("#snapped-note")).to_have_count(0)
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/annotations/\d+/$"))
    assert Annotation.objects.get(source=source).quote == "aderless cells would out"


# Selects from `start` (or from the boundary before the segment starting at -`start`) to the
# end of the block holding it (a boundary between elements, as a triple click or a drag past a
# paragraph's end gives), or to the character at `end`.
SELECT = """([start, end]) => {
  const root = document.getElementById("reader-text");
  const place = (offset) => {
    for (const segment of root.querySelectorAll("[data-s]")) {
      const node = segment.firstChild;
      const begin = Number(segment.dataset.s);
      if (node && offset >= begin && offset <= begin + node.data.length) {
        return [node, offset - begin];
      }
    }
  };
  const range = document.createRange();
  if (start < 0) {
    // Before the segment that starts at -start: a boundary of the element, not of its text.
    const segment = root.querySelector(`[data-s="${-start}"]`);
    range.setStart(segment, 0);
    start = -start;
  } else {
    range.setStart(...place(start));
  }
  if (end === null) {
    const block = place(start)[0].parentElement.closest(".reader__block");
    range.setEnd(block, block.childNodes.length);
  } else {
    range.setEnd(...place(end));
  }
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  document.dispatchEvent(new MouseEvent("mouseup", { bubbles: true }));
}"""


def test_selections_across_blocks_of_a_long_text_keep_their_offsets(
    page, live_server, seed_review, sign_in
):
    source = _source_with_text(seed_review, _analyst(seed_review), LONG, language="en")
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/read/")
    expect(page.locator("#reader-text")).to_contain_text("Paragraph 60")
    blocks = page.locator("#reader-text .reader__block")
    assert blocks.count() == 3  # about 5,200 characters: blocks of 2,000 or more
    second = int(blocks.nth(1).locator("[data-s]").first.get_attribute("data-s"))
    button = page.get_by_role("link", name="Excerpt this passage")

    # From the last paragraph of the first block into the first words of the second.
    start = LONG.rindex("Paragraph", 0, second - 2)
    end = second + len("Paragraph 25")
    assert LONG[second:end] == "Paragraph 25"
    page.evaluate(SELECT, [start, end])
    expect(button).to_have_attribute("href", re.compile(rf"\?start={start}&end={end}$"))

    # From the boundary before the second block's first segment (an element's boundary, as
    # a double click or a drag from the margin may give) into its words.
    page.evaluate(SELECT, [-second, end])
    expect(button).to_have_attribute("href", re.compile(rf"\?start={second}&end={end}$"))

    # To the end of the first block: the selection ends where the second begins.
    page.evaluate(SELECT, [start, None])
    expect(button).to_have_attribute("href", re.compile(rf"\?start={start}&end={second}$"))
    button.click()
    page.wait_for_url(re.compile(r"/annotations/new/\?start="))
    # The form leaves out the blank line the selection ended with.
    quote = LONG[start:second].rstrip()
    expect(page.locator("#id_quote")).to_have_value(quote)
    expect(page.locator("#id_end")).to_have_value(str(start + len(quote)))


def _tab_to(page, element_id: str, limit: int = 80) -> None:
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def test_analyst_chooses_the_second_occurrence_with_the_keyboard(
    page, live_server, seed_review, sign_in
):
    source = _source_with_text(seed_review, _analyst(seed_review), TWICE, language="en")
    first = TWICE.index(REPEATED)
    second = TWICE.index(REPEATED, first + 1)
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/annotations/new/")

    _tab_to(page, "id_quote")
    page.keyboard.type(REPEATED)
    status = page.locator("#locate-status")
    expect(status).to_contain_text("occurs 2 times")
    options = page.locator('input[name="js-occurrence"]')
    expect(options).to_have_count(2)

    # The group of choices is one stop for Tab; an arrow key moves to, and picks, the second.
    page.keyboard.press("Tab")
    expect(options.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_be_focused()
    expect(options.nth(1)).to_be_checked()
    expect(page.locator("#id_start")).to_have_value(str(second))
    expect(page.locator("#id_end")).to_have_value(str(second + len(REPEATED)))

    _tab_to(page, "id_locator")
    page.keyboard.type("para. 2")
    page.keyboard.press("Enter")  # implicit submission: the form's first button, "Save draft"
    page.wait_for_url(re.compile(r"/annotations/\d+/$"))

    annotation = Annotation.objects.get(source=source)
    assert annotation.start == second != first
    assert annotation.end == second + len(REPEATED)
    assert annotation.quote == REPEATED
    assert annotation.locator == "para. 2"
    assert annotation.anchor_state == "exact"


def _direction(page) -> str:
    return page.evaluate("getComputedStyle(document.getElementById('reader-text')).direction")


def test_arabic_text_reads_right_to_left(page, live_server, seed_review, sign_in):
    analyst = _analyst(seed_review)
    named = _source_with_text(seed_review, analyst, ARABIC, language="ar")
    detected = _source_with_text(seed_review, analyst, ARABIC, language="")
    english = _source_with_text(seed_review, analyst, TEXT, language="")
    sign_in(page, "analyst")
    base = f"{live_server.url}/p/{seed_review.slug}/sources"

    page.goto(f"{base}/{named.pk}/read/")
    expect(page.locator("#reader-text")).to_contain_text("The author quotes one sentence")
    assert _direction(page) == "rtl"
    expect(page.locator("#reader-text")).to_have_attribute("lang", "ar")

    # No language named: the text's own letters decide.
    page.goto(f"{base}/{detected.pk}/read/")
    expect(page.locator("#reader-text")).to_contain_text("The author quotes one sentence")
    assert _direction(page) == "rtl"

    page.goto(f"{base}/{english.pk}/read/")
    expect(page.locator("#reader-text")).to_contain_text(SELECTED)
    assert _direction(page) == "ltr"


def test_the_excerpt_button_goes_with_the_selection(page, live_server, seed_review, sign_in):
    source = _source_with_text(seed_review, _analyst(seed_review), TEXT, language="en")
    start = TEXT.index(SELECTED)
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/read/")
    # No dead copy of the button waits at the bottom of the page as a tab stop.
    expect(page.locator('a[href="#"]')).to_have_count(0)
    button = page.get_by_role("link", name="Excerpt this passage")
    expect(button).to_have_count(0)

    page.evaluate(SELECT, [start, start + len(SELECTED)])
    expect(button).to_be_visible()
    # A click elsewhere in the text clears the selection: the button, which pointed at the
    # old offsets, goes with it.
    box = page.evaluate(CHAR_BOX, 3)
    page.mouse.click(box["left"] + 1, box["top"] + box["height"] / 2)
    assert page.evaluate("window.getSelection().isCollapsed")
    expect(button).to_be_hidden()
    expect(page.locator("#excerpt-button")).to_be_hidden()

    # Selected again, it offers the new place; pressing it keeps the selection it is about.
    page.evaluate(SELECT, [start, start + len("leaderless cells")])
    expect(button).to_be_visible()
    button.click()
    page.wait_for_url(re.compile(r"/annotations/new/\?start="))
    expect(page.locator("#id_quote")).to_have_value("leaderless cells")


PARAGRAPHS = (
    "The first paragraph is short.\n\n"
    "The second paragraph says nothing of note.\n\n"
    "The third paragraph holds the quote the analyst wants, and only once."
)


def test_paragraph_numbers_are_in_the_margin_and_fill_the_locator(
    page, live_server, seed_review, sign_in
):
    source = _source_with_text(seed_review, _analyst(seed_review), PARAGRAPHS, language="en")
    sign_in(page, "analyst")
    base = f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}"
    page.goto(f"{base}/read/")
    paragraphs = page.locator("#reader-text .reader__p")
    expect(paragraphs).to_have_count(3)
    # Each number is drawn in the margin before its paragraph, outside the text and any
    # selection of it.
    for n in range(3):
        number = page.evaluate(
            """n => {
              const p = document.querySelectorAll("#reader-text .reader__p")[n];
              const style = getComputedStyle(p, "::before");
              const left = p.getBoundingClientRect().left + parseFloat(style.left);
              // The block clips what overflows it (content-visibility contains its paint).
              const block = p.closest(".reader__block").getBoundingClientRect();
              return { content: style.content, right: left + parseFloat(style.width),
                       text: p.getBoundingClientRect().left,
                       visible: style.display !== "none" && left >= block.left };
            }""",
            n,
        )
        assert number["content"] == f'"{n + 1}"' or number["content"].endswith(f'"{n + 1}"')
        assert number["visible"] and number["right"] <= number["text"]
    page.screenshot(path="test-results/reader-paragraph-numbers.png")

    # Typed, not selected: the quote found once fills the locator with its paragraph.
    page.goto(f"{base}/annotations/new/")
    page.locator("#id_quote").fill("the quote the analyst wants")
    expect(page.locator("#locate-status")).to_contain_text("Found once, in ¶3")
    expect(page.get_by_role("textbox", name="Locator")).to_have_value("¶3")
    # A locator the analyst typed is theirs: another quote does not overwrite it.
    page.get_by_role("textbox", name="Locator").fill("para. three")
    page.locator("#id_quote").fill("The second paragraph says")
    expect(page.locator("#locate-status")).to_contain_text("Found once, in ¶2")
    expect(page.get_by_role("textbox", name="Locator")).to_have_value("para. three")


def test_tab_during_the_lookup_keeps_the_focus(page, live_server, seed_review, sign_in):
    source = _source_with_text(seed_review, _analyst(seed_review), PARAGRAPHS, language="en")
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/annotations/new/")
    page.locator("#id_quote").focus()
    page.keyboard.type("the quote the analyst wants")
    # Tab before the lookup answers (it waits for a pause in typing, then the server).
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.outerHTML")
    expect(page.locator("#locate-status")).to_contain_text("Found once")
    assert page.evaluate("document.activeElement !== document.body")
    assert page.evaluate("document.activeElement.outerHTML") == focused
    # The keys pressed next go where the focus is, not into the quote.
    page.keyboard.press("Tab")
    page.keyboard.type("¶ three")
    expect(page.locator("#id_quote")).to_have_value("the quote the analyst wants")


# An Arabic text whose second paragraph names a Latin-script author and work in brackets.
MIXED = (
    "يقول الكاتب إن الجماعات تستمر بعد سقوط القيادة.\n\n"
    "كتب سيد قطب (Sayyid Qutb) عن الجاهلية [jahiliyya].\n\n"
    "ثم يعود النص إلى العربية."
)

# The brackets and the letters inside them, in the order they are drawn from left to right.
DRAWN_ORDER = """element => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const boxes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i += 1) {
      if (!"()[]SQbjy".includes(node.data[i])) continue;
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      boxes.push([range.getBoundingClientRect().left, node.data[i]]);
    }
  }
  return boxes.sort((a, b) => a[0] - b[0]).map((b) => b[1]).join("");
}"""


def test_brackets_in_a_mixed_arabic_paragraph_face_the_right_way(
    page, live_server, seed_review, sign_in
):
    source = _source_with_text(seed_review, _analyst(seed_review), MIXED, language="ar")
    sign_in(page, "analyst")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/read/")
    mixed = page.locator("#reader-text .reader__p").nth(1)
    expect(mixed).to_contain_text("Sayyid Qutb")
    # The same paragraph in a plain right-to-left block of the same font and width, placed
    # after it: how any browser draws it (the reference).
    mixed.evaluate(
        """paragraph => {
          const reference = document.createElement("div");
          reference.id = "reference";
          reference.dir = "rtl";
          reference.textContent = paragraph.textContent;
          paragraph.after(reference);
        }"""
    )
    drawn = page.evaluate(DRAWN_ORDER, mixed.element_handle())
    expected = page.evaluate(DRAWN_ORDER, page.locator("#reference").element_handle())
    assert "(" in drawn and "[" in drawn
    assert drawn == expected


def test_analyst_excerpts_with_the_keyboard_alone(page, live_server, seed_review, sign_in):
    source = _source_with_text(seed_review, _analyst(seed_review), TEXT, language="en")
    start = TEXT.index(SELECTED)
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/read/")
    _tab_to(page, "caret-start")
    page.keyboard.press("Enter")
    status = page.locator("#caret-status")
    expect(status).to_contain_text("Caret in ¶1, before “The”")
    expect(page.locator("#reader-text")).to_be_focused()

    page.keyboard.press("ArrowDown")  # the next sentence: the second paragraph's first
    expect(status).to_contain_text("Caret in ¶2, before “Its”")
    page.keyboard.press("PageUp")
    page.keyboard.press("PageDown")
    expect(status).to_contain_text("Caret in ¶2, before “Its”")
    for _ in range(4):  # Its founders argued that
        page.keyboard.press("ArrowRight")
    expect(status).to_contain_text("before “leaderless”")
    for _ in range(8):
        page.keyboard.press("Shift+ArrowRight")
    expect(status).to_contain_text("8 words selected from ¶2")
    page.keyboard.press("Shift+ArrowLeft")  # one word back: the selection ends at "command"
    expect(status).to_contain_text(f"7 words selected from ¶2: “{SELECTED}”")
    assert page.evaluate("window.getSelection().toString()") == SELECTED
    button = page.get_by_role("link", name="Excerpt this passage")
    expect(button).to_have_attribute(
        "href", re.compile(rf"\?start={start}&end={start + len(SELECTED)}$")
    )
    page.screenshot(path="test-results/reader-keyboard-selection.png")

    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/annotations/new/\?start="))
    expect(page.locator("#id_quote")).to_have_value(SELECTED)
    expect(page.get_by_role("textbox", name="Locator")).to_have_value("¶2")


def test_a_skip_link_passes_the_highlights_to_the_passage_list(
    page, live_server, seed_review, sign_in
):
    source = _source_with_text(seed_review, _analyst(seed_review), LONG, language="en")
    passages = [_approved(source, f"circle number {n} met") for n in range(1, 30)]
    sign_in(page, "student")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/read/")
    skip = page.get_by_role("link", name="Skip the text and its highlights")
    _tab_to(page, skip.evaluate("e => e.id = 'skip-test'"))
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(f"#ann-{passages[0].pk} a[data-jump]")).to_be_focused()


def test_a_long_passage_list_is_built_in_the_browser(page, live_server, seed_review, sign_in):
    from apps.annotations.reader import LIST_PAGE

    count = LIST_PAGE + 10
    text = "\n\n".join(
        f"Paragraph {n} has its own words, number {n} of many." for n in range(count)
    )
    source = _source_with_text(seed_review, _analyst(seed_review), text, language="en")
    passages = [_approved(source, f"its own words, number {n} of many") for n in range(count)]
    sign_in(page, "student")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/read/")
    entries = page.locator("#reader-list > li")
    expect(entries).to_have_count(count)
    expect(page.get_by_role("link", name="Show all")).to_have_count(0)
    last = passages[-1]
    entry = page.locator(f"#ann-{last.pk}")
    expect(entry.locator(".reader__quote")).to_have_text(
        f"“its own words, number {count - 1} of many”"
    )
    entry.locator("a[data-jump]").click()
    expect(page.locator(f"#at-{last.pk}")).to_be_in_viewport()
    expect(entry).to_have_class(re.compile("is-current"))


# Each entry of the side list as a reader sees it: the locator and the badges after it (their
# text, and their kinds, which give their colours).
ENTRIES = """() => Array.from(document.querySelectorAll("#reader-list > li"), (li) => {
  const copy = li.cloneNode(true);
  copy.querySelector(".reader__quote").remove();
  const badges = Array.from(copy.querySelectorAll("span"), (badge) => badge.className);
  return [li.id, `${copy.textContent.replace(/\\s+/g, " ").trim()} ${badges.join(" ")}`];
})"""


def test_the_list_built_in_the_browser_reads_as_the_servers(
    page, live_server, seed_review, sign_in
):
    from apps.annotations.models import AnchorState
    from apps.annotations.reader import LIST_PAGE

    count = LIST_PAGE + 10
    text = "\n\n".join(
        f"Paragraph {n} has its own words, number {n} of many." for n in range(count)
    )
    source = _source_with_text(seed_review, _analyst(seed_review), text, language="en")
    # Past the entries the server draws: a draft, one sent back, a fuzzy and an ambiguous
    # place, a moved one (no badge); the others approved where they were.
    unusual = {LIST_PAGE + 2, LIST_PAGE + 4, LIST_PAGE + 6, LIST_PAGE + 7, LIST_PAGE + 8}
    passages = []
    for n in range(count):
        quote = f"its own words, number {n} of many"
        if n in unusual:
            annotation = factories.make_annotation(source, _analyst(seed_review), quote=quote)
            annotation.anchor_in(text, source.text_version)
            annotation.save()
        else:
            annotation = _approved(source, quote)
        passages.append(annotation)
    Annotation.objects.filter(pk=passages[LIST_PAGE + 4].pk).update(status=Status.CHANGES_REQUESTED)
    for n, state, score in [
        (LIST_PAGE + 6, AnchorState.FUZZY, 0.87),
        (LIST_PAGE + 7, AnchorState.AMBIGUOUS, None),
        (LIST_PAGE + 8, AnchorState.MOVED, 1.0),
        (LIST_PAGE + 9, AnchorState.FUZZY, 0.5),
    ]:
        Annotation.objects.filter(pk=passages[n].pk).update(anchor_state=state, anchor_score=score)
    sign_in(page, "supervisor")
    url = f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/read/"
    page.goto(url)
    expect(page.locator("#reader-list > li")).to_have_count(count)
    built = page.evaluate(ENTRIES)
    # The server's own entries, every one drawn ("Show all", as without the script).
    page.goto(url + "?list=all")
    expect(page.locator("#reader-list > li")).to_have_count(count)
    drawn = page.evaluate(ENTRIES)
    assert built == drawn
    shown = dict(drawn)
    draft = "status status--draft"
    assert shown[f"ann-{passages[LIST_PAGE + 1].pk}"] == f"{passages[LIST_PAGE + 1].locator} "
    assert shown[f"ann-{passages[LIST_PAGE + 2].pk}"].endswith(f" Draft {draft}")
    assert shown[f"ann-{passages[LIST_PAGE + 4].pk}"].endswith(
        " Changes requested status status--changes_requested"
    )
    assert shown[f"ann-{passages[LIST_PAGE + 6].pk}"].endswith(
        f" Draft Fuzzy 87% {draft} anchor anchor--fuzzy"
    )
    assert shown[f"ann-{passages[LIST_PAGE + 7].pk}"].endswith(
        f" Draft Ambiguous {draft} anchor anchor--ambiguous"
    )
    assert shown[f"ann-{passages[LIST_PAGE + 8].pk}"].endswith(f" Draft {draft}")
    assert shown[f"ann-{passages[LIST_PAGE + 9].pk}"].endswith(" Fuzzy 50% anchor anchor--fuzzy")


# The background of an element, and whether a line is drawn under it (covered twice or more).
LOOK = """(element) => {
  const style = getComputedStyle(element);
  return [style.backgroundColor, style.boxShadow !== "none"];
}"""


def test_highlights_take_the_colours_the_legend_shows(page, live_server, seed_review, sign_in):
    source = _source_with_text(seed_review, _analyst(seed_review), TEXT, language="en")
    approved = _approved(source, "small circles of readers")
    inside = _approved(source, "circles")
    draft = factories.make_annotation(source, _analyst(seed_review), quote=SELECTED)
    draft.anchor_in(source.full_text, source.text_version)
    draft.save()
    sign_in(page, "supervisor")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/read/")
    legend = {
        status: page.locator(f'.legend--status mark[data-status="{status}"]').evaluate(LOOK)[0]
        for status in ("approved", "draft")
    }
    assert legend["approved"] != legend["draft"]
    # Covered by one approved passage, then by two (the shorter, also approved, gives the
    # colour; a line under it says there are two), then a draft.
    assert page.locator(f"#at-{approved.pk}").evaluate(LOOK) == [legend["approved"], False]
    assert page.locator(f"#at-{inside.pk}").evaluate(LOOK) == [legend["approved"], True]
    assert page.locator(f"#at-{draft.pk}").evaluate(LOOK) == [legend["draft"], False]
