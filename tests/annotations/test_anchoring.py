"""Finding quotes in a text and finding them again after the text changes."""

import unicodedata

import pytest

from apps.annotations.anchoring import Haystack, replace_text, same_words
from apps.annotations.models import CONTEXT_LENGTH, AnchorState, Annotation
from apps.library.models import SourceText
from tests import factories

TEXT = (
    "Isolation has a history. The assumption about the future is that the retrogression of "
    "ISIS will lead to an increasing number of isolationist takfiri groups. Sayyid Qutb wrote "
    "of a vanguard.\n\nA second paragraph says little. The end."
)
QUOTE = "the retrogression of ISIS will lead to an increasing number of isolationist takfiri groups"


def placed(text: str, quote: str) -> tuple[str, str, int]:
    start = text.index(quote)
    return text[max(0, start - CONTEXT_LENGTH) : start], text[start + len(quote) :][:32], start


def reanchor(old: str, new: str, quote: str = QUOTE):
    prefix, suffix, start = placed(old, quote)
    return Haystack(new).reanchor(quote, prefix, suffix, start)


def test_unchanged_text_is_exact():
    anchor = reanchor(TEXT, TEXT)
    assert anchor.state == AnchorState.EXACT
    assert TEXT[anchor.start : anchor.end] == QUOTE
    assert anchor.score == 1.0


def test_insertion_before_the_passage_moves_it():
    new = "A new opening paragraph was added by the editor.\n\n" + TEXT
    anchor = reanchor(TEXT, new)
    assert anchor.state == AnchorState.MOVED
    assert new[anchor.start : anchor.end] == QUOTE
    assert anchor.start == TEXT.index(QUOTE) + len(
        "A new opening paragraph was added by the editor.\n\n"
    )


def test_change_inside_the_passage_is_fuzzy_with_a_score():
    new = TEXT.replace("an increasing number of", "a growing number of")
    anchor = reanchor(TEXT, new)
    assert anchor.state == AnchorState.FUZZY
    assert 0.75 <= anchor.score < 1
    found = new[anchor.start : anchor.end]
    assert found.startswith("the retrogression") and found.endswith("takfiri groups")


def test_deleted_passage_is_orphaned():
    new = TEXT.replace(
        "The assumption about the future is that the retrogression of ISIS will lead to an "
        "increasing number of isolationist takfiri groups. ",
        "",
    )
    anchor = reanchor(TEXT, new)
    assert anchor.state == AnchorState.ORPHANED
    assert anchor.start is None and anchor.end is None


def test_duplicated_passage_is_chosen_by_context_or_marked_ambiguous():
    quote = "said little"
    text = "First he said little. Then came war. Later she said little. The end."
    start = text.rindex(quote)
    # The context says which: the second one, even when the text moved.
    shifted = "Preface. " + text
    anchor = Haystack(shifted).reanchor(quote, "Later she ", ". The end.", start)
    assert anchor.state == AnchorState.MOVED
    assert anchor.start == shifted.rindex(quote)
    # Two places with the same context: the nearest to the old offset is taken, flagged.
    twice = "x said little y. x said little y."
    anchor = Haystack(twice).reanchor(quote, "x ", " y", 25)
    assert anchor.state == AnchorState.AMBIGUOUS
    assert anchor.start == twice.rindex(quote)


def test_arabic_text_with_diacritics_and_tatweel():
    text = "قال الكاتب إن مفهوم الحاكمية عند سيد قطب يقوم على رفض المجتمع الجاهلي كله."
    quote = "مفهوم الحاكمية عند سيد قطب"
    # The corrected text adds vowel marks (harakat) and a tatweel inside the passage.
    corrected = text.replace("الحاكمية", "الحَاكِمِيّة").replace("قطب", "قـطب")
    anchor = reanchor(text, corrected, quote)
    assert anchor.state in {AnchorState.MOVED, AnchorState.FUZZY}
    assert corrected[anchor.start : anchor.end].startswith("مفهوم")
    assert corrected[anchor.start : anchor.end].endswith("قـطب")
    assert Haystack(text).find(quote)[0].how == "exact"


def test_combining_characters_match_their_composed_form():
    composed = "The writer al-Sūrī called it a call to global resistance."
    decomposed_quote = unicodedata.normalize("NFD", "al-Sūrī called it")
    assert decomposed_quote not in composed
    places = Haystack(composed).find(decomposed_quote)
    assert len(places) == 1
    assert composed[places[0].start : places[0].end] == "al-Sūrī called it"
    assert same_words(composed[places[0].start : places[0].end], decomposed_quote)
    prefix, suffix, start = placed(composed, "al-Sūrī called it")
    anchor = Haystack(composed).reanchor(decomposed_quote, prefix, suffix, None)
    assert anchor.state == AnchorState.MOVED


def test_crlf_and_lf_texts_anchor_the_same_passage():
    crlf = TEXT.replace("\n", "\r\n")
    quote = "a vanguard.\r\n\r\nA second paragraph"
    anchor = reanchor(crlf, TEXT, quote)
    assert anchor.state == AnchorState.MOVED
    assert TEXT[anchor.start : anchor.end] == "a vanguard.\n\nA second paragraph"


def test_quote_longer_than_the_context_window():
    words = [f"word{n}" for n in range(800)]
    text = " ".join(words)
    quote = " ".join(words[100:600])
    assert len(quote) > 20 * CONTEXT_LENGTH
    changed = text.replace("word300 word301", "WORDS CHANGED HERE")
    anchor = reanchor(text, changed, quote)
    assert anchor.state == AnchorState.FUZZY
    assert anchor.score > 0.9
    assert changed[anchor.start :].startswith("word100 ")
    assert changed[: anchor.end].endswith("word599")


def test_folded_search_ignores_case_punctuation_and_spacing():
    places = Haystack(TEXT).find("ISIS  will lead, to an INCREASING number")
    assert [TEXT[p.start : p.end] for p in places] == ["ISIS will lead to an increasing number"]
    assert places[0].how == "folded"


def test_nothing_like_the_quote_finds_nothing():
    assert Haystack(TEXT).find("Completely unrelated words about gardening and tomatoes") == []


@pytest.mark.django_db
def test_replacing_the_text_keeps_versions_and_reanchors_every_passage(cast):
    source = factories.make_source(cast.project, "A source")
    replace_text(source, TEXT, by=cast.analyst, origin="pasted")
    kept = factories.make_annotation(source, cast.analyst, quote=QUOTE, locator="¶1")
    deleted = factories.make_annotation(
        source, cast.analyst, quote="Sayyid Qutb wrote", locator="¶1"
    )
    for annotation in (kept, deleted):
        annotation.anchor_in(TEXT, 1)
        annotation.save()
    new = ("Preface.\r\n" + TEXT).replace("Sayyid Qutb wrote of a vanguard.", "")
    states = replace_text(source, new, by=cast.supervisor, origin="pasted", comment="fixes")
    assert states == {AnchorState.MOVED: 1, AnchorState.ORPHANED: 1}
    source.refresh_from_db()
    assert source.text_version == 2
    assert "\r" not in source.full_text
    assert list(SourceText.objects.filter(source=source).values_list("version", flat=True)) == [
        2,
        1,
    ]
    assert SourceText.objects.get(source=source, version=1).text == TEXT
    kept.refresh_from_db()
    assert source.full_text[kept.start : kept.end] == QUOTE
    assert (kept.anchor_state, kept.anchored_version) == (AnchorState.MOVED, 2)
    orphan = Annotation.objects.get(pk=deleted.pk)
    assert orphan.anchor_state == AnchorState.ORPHANED
    # Nothing is deleted: the quote and its context stay, to be attached again.
    assert orphan.quote == "Sayyid Qutb wrote" and orphan.prefix
    assert orphan.start is None


ARABIC_TEXT = (
    "قال الكاتب إنّ الأمير أعلن الدولة في مدينة الرقة، ثم أُعيدت صياغة الفتوى "
    "على يد القاضي الشرعي، وآمن بها كثيرون في المنطقة الشرقية."
)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        # Hamza forms written as a bare alef (أ إ آ → ا).
        ("الامير اعلن الدولة", "الأمير أعلن الدولة"),
        ("ان الامير", "إنّ الأمير"),
        ("وامن بها كثيرون", "وآمن بها كثيرون"),
        # Alef maqsura for ya, and ya for alef maqsura.
        ("علي يد القاضي", "على يد القاضي"),
        ("على يد القاضى الشرعي", "على يد القاضي الشرعي"),
        # Ha for ta marbuta, and ta marbuta for ha.
        ("في مدينه الرقه", "في مدينة الرقة"),
        ("صياغه الفتوى", "صياغة الفتوى"),
        # Tatweel and harakat, typed or left out.
        ("الدولـــة فِي مَدِينَة", "الدولة في مدينة"),
        ("اعيدت صياغة", "أُعيدت صياغة"),
        # Persian ya and kaf for the Arabic letters.
        ("القاضی الشرعی", "القاضي الشرعي"),
    ],
)
def test_quote_lookup_folds_arabic_letter_variants(typed, meant):
    places = Haystack(ARABIC_TEXT).find(typed)
    assert len(places) == 1
    assert places[0].how == "folded"
    start = ARABIC_TEXT.index(meant)
    assert (places[0].start, places[0].end) == (start, start + len(meant))
