"""Finding a quote in a source's text, and finding it again after the text changes.

Offsets count code points in the stored text (Python string indices). A quote is looked for in
this order: at its saved offsets; as the exact words elsewhere, the saved context (prefix and
suffix) choosing between repeats; as the same words once case, accents, combining marks,
punctuation and spacing are set aside ("folded"); and last as an approximate match scored
0–1. Below `MIN_SCORE` the quote is orphaned: kept, but no longer placed.
"""

from __future__ import annotations

import re
import string
import unicodedata
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from os.path import commonprefix

from django.db import connection, transaction
from django.utils import timezone
from rapidfuzz import fuzz

from apps.accounts.models import Project
from apps.accounts.sync import bump
from apps.annotations.models import CONTEXT_LENGTH, AnchorState, Annotation
from apps.library.models import Source, SourceText, TextOrigin

# Approximate matches scoring less than this are not trusted (short quotes need more).
MIN_SCORE = 0.75
MIN_SCORE_SHORT = 0.9
SHORT_QUOTE = 20
# At most this many places are compared when a quote repeats or is searched approximately.
MAX_OCCURRENCES = 200
MAX_SEEDS = 8
MAX_WINDOWS = 12

PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n(?=\s*\S)")
# Paragraphs are single lines in a text without blank lines.
LINE_BREAK = re.compile(r"\n")
_ASCII_PUNCTUATION = str.maketrans("", "", string.punctuation)
# Arabic tatweel stretches a word without changing it.
_IGNORED = {"\u0640"}
# Arabic letters typists interchange: alef maqsura and ya, ta marbuta and ha, alef wasla, and
# the Persian forms of ya and kaf. (Hamza on alef, waw and ya, madda and the harakat are
# combining marks once decomposed, and go with the other marks.)
_ARABIC_VARIANTS = str.maketrans({"ى": "ي", "ی": "ي", "ة": "ه", "ٱ": "ا", "ک": "ك"})


def fold_token(token: str) -> str:
    """A whitespace-free token without case, accents, combining marks (harakat, hamzas
    written over or under a letter) or punctuation, Arabic letter variants made one."""
    if token.isascii():
        return token.translate(_ASCII_PUNCTUATION).lower()
    kept = [
        ch
        for ch in unicodedata.normalize("NFKD", token)
        if unicodedata.category(ch)[0] not in "MPC" and ch not in _IGNORED
    ]
    return "".join(kept).casefold().translate(_ARABIC_VARIANTS)


def same_words(a: str, b: str) -> bool:
    """Equal once spacing and Unicode normalisation are set aside (a textarea sends CRLF)."""
    return unicodedata.normalize("NFC", " ".join(a.split())) == unicodedata.normalize(
        "NFC", " ".join(b.split())
    )


def similarity(a: str, b: str) -> float:
    """0–1 likeness of two passages, spacing and normalisation aside."""
    a = unicodedata.normalize("NFC", " ".join(a.split()))
    b = unicodedata.normalize("NFC", " ".join(b.split()))
    return round(fuzz.ratio(a, b) / 100, 3)


@dataclass(frozen=True)
class Place:
    """Where a quote was found: a span of the text, how it was found, and how well."""

    start: int
    end: int
    how: str  # "exact", "folded" or "fuzzy"
    score: float = 1.0


@dataclass(frozen=True)
class Anchor:
    state: str
    start: int | None = None
    end: int | None = None
    score: float | None = None


@dataclass(frozen=True)
class _Folded:
    string: str
    folded_starts: list[int]  # where each token starts in `string`
    starts: list[int]  # where it starts in the text
    ends: list[int]
    exact_width: list[bool]  # folding kept each character in place (offsets map one to one)


def _fold(text: str) -> _Folded:
    tokens: list[str] = []
    folded_starts: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    exact_width: list[bool] = []
    position = 0
    begin = None
    # Splitting by hand keeps the original offsets of every token.
    for index, ch in enumerate(text + " "):
        if ch.isspace():
            if begin is not None:
                raw = text[begin:index]
                folded = fold_token(raw)
                if folded:
                    tokens.append(folded)
                    folded_starts.append(position)
                    starts.append(begin)
                    ends.append(index)
                    exact_width.append(raw.isascii() and len(folded) == len(raw))
                    position += len(folded) + 1
                begin = None
        elif begin is None:
            begin = index
    return _Folded(" ".join(tokens), folded_starts, starts, ends, exact_width)


class Haystack:
    """One version of a source's text, searched many times (the folded copy is made once)."""

    def __init__(self, text: str, pages: list | None = None) -> None:
        self.text = text
        self.pages = pages or []

    @cached_property
    def folded(self) -> _Folded:
        return _fold(self.text)

    # Finding -----------------------------------------------------------------------------

    def exact(self, quote: str) -> list[Place]:
        found, at = [], self.text.find(quote) if quote else -1
        while at >= 0 and len(found) < MAX_OCCURRENCES:
            found.append(Place(at, at + len(quote), "exact"))
            at = self.text.find(quote, at + 1)
        return found

    def tolerant(self, quote: str) -> list[Place]:
        """The quote's words in the text with case, accents and punctuation set aside."""
        needle = " ".join(filter(None, map(fold_token, quote.split())))
        if not needle:
            return []
        haystack = self.folded.string
        found, at = [], haystack.find(needle)
        while at >= 0 and len(found) < MAX_OCCURRENCES:
            start, end = self._unfold(at, at + len(needle), quote)
            found.append(Place(start, end, "folded", similarity(quote, self.text[start:end])))
            at = haystack.find(needle, at + 1)
        return found

    def fuzzy(self, quote: str, *, near: int | None = None, limit: int = 3) -> list[Place]:
        """The best approximate places of the quote, best first, above the trusted score."""
        needle = " ".join(filter(None, map(fold_token, quote.split())))
        if not needle:
            return []
        haystack = self.folded.string
        cutoff = MIN_SCORE_SHORT if len(needle) < SHORT_QUOTE else MIN_SCORE
        results: dict[tuple[int, int], float] = {}
        for begin in self._candidate_starts(needle, near):
            low = max(0, begin - len(needle) // 2 - 8)
            window = haystack[low : begin + len(needle) + len(needle) // 2 + 8]
            aligned = fuzz.partial_ratio_alignment(needle, window, score_cutoff=cutoff * 100)
            if aligned is None:
                continue
            span = self._refine(
                *self._unfold(low + aligned.dest_start, low + aligned.dest_end, quote), quote
            )
            if span[1] > span[0]:
                results[span] = max(results.get(span, 0), aligned.score / 100)
        ranked = sorted(results.items(), key=lambda item: (-item[1], item[0][0]))
        places, taken = [], []
        for (start, end), _ in ranked:
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                continue
            taken.append((start, end))
            places.append(Place(start, end, "fuzzy", similarity(quote, self.text[start:end])))
            if len(places) == limit:
                break
        return [place for place in places if place.score >= cutoff * 0.8]

    def find(self, quote: str, *, near: int | None = None) -> list[Place]:
        """Every exact place; failing that every folded one; failing that the best guesses."""
        return self.exact(quote) or self.tolerant(quote) or self.fuzzy(quote, near=near)

    def _candidate_starts(self, needle: str, near: int | None) -> list[int]:
        """Where in the folded text the needle could begin: pieces of it found exactly."""
        haystack = self.folded.string
        width = max(4, min(24, len(needle) // 3))
        step = max(1, (len(needle) - width) // (MAX_SEEDS - 1)) if len(needle) > width else 1
        votes: dict[int, int] = {}
        bucket = max(1, len(needle) // 2)
        for offset in range(0, max(1, len(needle) - width + 1), step)[:MAX_SEEDS]:
            piece = needle[offset : offset + width]
            at, hits = haystack.find(piece), 0
            while at >= 0 and hits < 50:
                begin = max(0, at - offset)
                votes[begin // bucket] = votes.get(begin // bucket, 0) + 1
                at, hits = haystack.find(piece, at + 1), hits + 1
        starts = [key * bucket for key, _ in sorted(votes.items(), key=lambda kv: -kv[1])]
        if near is not None:
            starts.insert(0, self._fold_offset(near))
        return starts[:MAX_WINDOWS]

    def _fold_offset(self, offset: int) -> int:
        folded = self.folded
        index = max(0, bisect_right(folded.starts, offset) - 1)
        return folded.folded_starts[index] if folded.folded_starts else 0

    def _unfold(self, begin: int, end: int, quote: str) -> tuple[int, int]:
        """The text span behind folded characters [begin, end), widened to whole tokens except
        where a token maps one to one, then without punctuation the quote does not have."""
        folded = self.folded
        first = bisect_right(folded.folded_starts, begin) - 1
        last = bisect_right(folded.folded_starts, max(begin, end - 1)) - 1
        start = folded.starts[first]
        if folded.exact_width[first]:
            start += begin - folded.folded_starts[first]
        stop = folded.ends[last]
        if folded.exact_width[last]:
            stop = folded.starts[last] + (end - folded.folded_starts[last])
        stop = min(stop, folded.ends[last])
        return self._trim(start, stop, quote)

    def _trim(self, start: int, stop: int, quote: str) -> tuple[int, int]:
        """The span without punctuation at its edges that the quote does not have there."""
        text, quote = self.text, quote.strip()
        while (
            start < stop - 1 and _is_punctuation(text[start]) and not quote.startswith(text[start])
        ):
            start += 1
        while (
            stop > start + 1
            and _is_punctuation(text[stop - 1])
            and not quote.endswith(text[stop - 1])
        ):
            stop -= 1
        return start, stop

    def _refine(self, start: int, stop: int, quote: str) -> tuple[int, int]:
        """An approximate span moved to the nearby word boundaries that make it most alike the
        quote (the alignment is found on folded text and may cut words)."""
        folded = self.folded
        first = bisect_right(folded.starts, start) - 1
        last = bisect_right(folded.starts, max(start, stop - 1)) - 1
        starts = folded.starts[max(0, first - 1) : first + 2]
        ends = folded.ends[max(0, last - 1) : last + 2]
        spans = [(s, e) for s in starts for e in ends if e > s]
        if not spans:
            return start, stop
        best = max(spans, key=lambda span: fuzz.ratio(quote, self.text[span[0] : span[1]]))
        return self._trim(*best, quote)

    # Placing -----------------------------------------------------------------------------

    def context(self, start: int, end: int) -> tuple[str, str]:
        return self.text[max(0, start - CONTEXT_LENGTH) : start], self.text[
            end : end + CONTEXT_LENGTH
        ]

    def page_label(self, offset: int) -> str:
        label = ""
        for begin, name in self.pages:
            if begin > offset:
                break
            label = name
        return label

    def locator(self, offset: int) -> str:
        """Where a reader finds the character at `offset`: its printed page when the text has
        pages, else its paragraph (the number the reading view shows in the margin)."""
        page = self.page_label(offset)
        return f"p. {page}" if page else f"¶{paragraph_number(self.text, offset)}"

    def reanchor(self, quote: str, prefix: str, suffix: str, start: int | None) -> Anchor:
        """Where the quote is in this text now, and in what state (see the module's doc)."""
        text = self.text
        if start is not None and text[start : start + len(quote)] == quote:
            return Anchor(AnchorState.EXACT, start, start + len(quote), 1.0)
        for places in (self.exact(quote), self.tolerant(quote)):
            if places:
                chosen, certain = self._choose(places, prefix, suffix, start)
                anchor = self._anchor_for(chosen, quote, certain)
                if (
                    start is None
                    and anchor.state == AnchorState.MOVED
                    and self.text[anchor.start : anchor.end] == quote
                ):
                    # Placed for the first time (an import without a position), on the very
                    # characters: nothing moved.
                    return Anchor(AnchorState.EXACT, anchor.start, anchor.end, 1.0)
                return anchor
        guesses = self.fuzzy(quote, near=start, limit=1)
        if guesses:
            best = guesses[0]
            return Anchor(AnchorState.FUZZY, best.start, best.end, best.score)
        return Anchor(AnchorState.ORPHANED)

    def _anchor_for(self, place: Place, quote: str, certain: bool) -> Anchor:
        if not certain:
            return Anchor(AnchorState.AMBIGUOUS, place.start, place.end, place.score)
        if place.how == "exact" or same_words(self.text[place.start : place.end], quote):
            return Anchor(AnchorState.MOVED, place.start, place.end, 1.0)
        return Anchor(AnchorState.FUZZY, place.start, place.end, place.score)

    def _choose(
        self, places: list[Place], prefix: str, suffix: str, start: int | None
    ) -> tuple[Place, bool]:
        """The place whose surroundings best match the saved context; `certain` is False when
        two places match it equally (the one nearest the old position is taken)."""
        if len(places) == 1:
            return places[0], True

        def fit(place: Place) -> int:
            before = self.text[max(0, place.start - len(prefix)) : place.start]
            after = self.text[place.end : place.end + len(suffix)]
            return len(commonprefix([before[::-1], prefix[::-1]])) + len(
                commonprefix([after, suffix])
            )

        scored = sorted(
            places,
            key=lambda p: (-fit(p), abs(p.start - start) if start is not None else p.start),
        )
        return scored[0], fit(scored[0]) > fit(scored[1])


def _is_punctuation(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "P"


def current_haystack(source_id: int) -> tuple[Haystack, int]:
    """The source's current text with its page boundaries, and its version number."""
    text, version = Source.objects.values_list("full_text", "text_version").get(pk=source_id)
    return Haystack(text, text_pages(source_id, version)), version


def text_pages(source_id: int, version: int) -> list:
    """Where each page of that version of the source's text starts ([] without pages)."""
    return (
        SourceText.objects.filter(source_id=source_id, version=version)
        .values_list("pages", flat=True)
        .first()
    ) or []


def normalise_newlines(text: str) -> str:
    """Stored texts end lines with LF only: browsers turn CR LF into LF in the page, and offsets
    must count the same characters in the page as in the database."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


ANCHOR_ROW_FIELDS = ("id", "quote", "prefix", "suffix", "start", "end", "page_label")


def replace_text(
    source: Source,
    text: str,
    *,
    by,
    origin: str,
    pages: list | None = None,
    filename: str = "",
    comment: str = "",
) -> Counter:
    """Keep `text` as the source's next version and re-anchor every annotation of the source
    (withdrawn ones too) in it; one transaction. Returns how many ended in each state."""
    text = normalise_newlines(text)
    with transaction.atomic():
        # The project's version before the row's lock, as every writer (apps.accounts.sync).
        library_version = bump(source.project_id)
        locked = Source.objects.select_for_update().only("text_version").get(pk=source.pk)
        version = locked.text_version + 1
        SourceText.objects.create(
            source=locked,
            version=version,
            text=text,
            pages=pages or [],
            origin=origin,
            filename=filename[:255],
            comment=comment[:300],
            created_by=by,
        )
        now = timezone.now()
        Source.objects.filter(pk=source.pk).update(
            full_text=text,
            text_version=version,
            updated_at=now,
            updated_by=by,
            library_version=library_version,
        )
        states = reanchor_all(source.pk, Haystack(text, pages), version, now=now)
    source.full_text, source.text_version = text, version
    return states


def reanchor_all(source_id: int, haystack: Haystack, version: int, *, now) -> Counter:
    annotations = list(Annotation.objects.filter(source_id=source_id).only(*ANCHOR_ROW_FIELDS))
    states: Counter = Counter()
    for annotation in annotations:
        anchor = haystack.reanchor(
            annotation.quote, annotation.prefix, annotation.suffix, annotation.start
        )
        annotation.apply_anchor(anchor, haystack, version)
        annotation.updated_at = now
        states[annotation.anchor_state] += 1
    _write_anchors(annotations)
    return states


def _write_anchors(annotations: list[Annotation]) -> None:
    """One prepared UPDATE per row: bulk_update's CASE expressions over nine columns cost
    several times more for thousands of rows."""
    fields = [
        Annotation._meta.get_field(name) for name in [*Annotation.ANCHOR_FIELDS, "updated_at"]
    ]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    # Moved passages are changes API clients sync: stamped with the version the write that
    # re-anchors them took (apps.accounts.sync).
    project = quote(Project._meta.db_table)
    assignments += (
        f", {quote('library_version')} = (SELECT {quote('library_version')} FROM {project} "
        f"WHERE {project}.{quote('id')} = {quote(Annotation._meta.db_table)}."
        f"{quote('project_id')})"
    )
    sql = f"UPDATE {quote(Annotation._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"
    rows = [
        [field.get_db_prep_save(getattr(a, field.attname), connection) for field in fields] + [a.pk]
        for a in annotations
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the spaces a selection picks up at its edges."""
    end = min(end, len(text))
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# A selection is widened to whole words by at most this many characters at each end: a longer
# run of letters is not a word (a URL, a line of data) and is kept as selected.
MAX_WORD_GROWTH = 40


def is_word_character(char: str) -> bool:
    """Letters and digits of any script, with the combining marks written on them (Arabic
    harakat, accents) and the apostrophe inside a word (don't, Mu'tazila)."""
    return char.isalnum() or unicodedata.category(char).startswith("M") or char in "'’"


def word_snapped(text: str, start: int, end: int) -> tuple[int, int]:
    """The span widened to whole words where it begins or ends inside one (a drag that ends
    at "exco|mmunication" takes the whole word); spans on word boundaries are unchanged."""
    floor = max(0, start - MAX_WORD_GROWTH)
    while start > floor and is_word_character(text[start - 1]) and is_word_character(text[start]):
        start -= 1
    ceiling = min(len(text), end + MAX_WORD_GROWTH)
    while end < ceiling and is_word_character(text[end - 1]) and is_word_character(text[end]):
        end += 1
    return start, end


def paragraph_number(text: str, offset: int) -> int:
    """Which paragraph (blank-line separated; single lines when there are none) `offset` is in."""
    # Breaks are matched in the whole text: a break's look-ahead must see the paragraph that
    # follows it, even when `offset` is that paragraph's first character.
    breaks = PARAGRAPH_BREAK.finditer(text)
    first = next(breaks, None)
    if first is None:
        return text.count("\n", 0, offset) + 1
    blank_lines = 0
    for found in (first, *breaks):
        if found.end() > offset:
            break
        blank_lines += 1
    return blank_lines + 1


def adopt_stored_texts(project_id: int) -> None:
    """Texts written straight into `Source.full_text` (the seed review, project files) become
    their source's version 1, and the passages placed in them exact."""
    fresh = Source.objects.filter(project_id=project_id, text_version=0).exclude(full_text="")
    SourceText.objects.bulk_create(
        SourceText(source_id=pk, version=1, text=text, origin=TextOrigin.IMPORTED)
        for pk, text in fresh.values_list("pk", "full_text").iterator()
    )
    fresh.update(text_version=1)
    Annotation.objects.filter(
        project_id=project_id, start__isnull=False, anchor_state=AnchorState.UNPLACED
    ).update(anchor_state=AnchorState.EXACT, anchor_score=1.0, anchored_version=1)
