"""What a researcher types into the search box, read into terms no engine can misread.

The syntax (shown on the search page):

- several words: every one must match (in any field of the same passage, claim, source…);
- "an exact phrase" in double (or typographic) quotes;
- -word or -"a phrase" leaves out what contains it;
- the last word also finds the words it begins ("takf" finds takfir, takfiri), while typing;
- case and accents never matter; very common English words are ignored outside quotes.

Nothing typed reaches a search engine as syntax: the backends receive only the tokens below
(letters and digits), each quoted in the engine's own way. Operators a user may know from other
engines (NEAR, OR, *, ^, column:word, parentheses) are read as punctuation or plain words.

Two readings of each term exist: for text (quotes, notes, statements, titles…) the words are
folded the way the index folds them; for people's names they go through `normalise_name`, the
key Person and NameVariant store, so "as-Suri", "Suri" and "Sūrī" find al-Suri.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from apps.people.names import normalise_name

# Longer queries are cut here (at a word boundary), and the user is told.
MAX_QUERY_LENGTH = 200
# Terms beyond this many are dropped, and the user is told.
MAX_TERMS = 12
# The last word matches as a prefix only from this many letters on: shorter prefixes match a
# large part of any index and say little.
MIN_PREFIX = 3

# Dropped outside quotes: they occur in nearly every passage, so they narrow nothing.
STOP_WORDS = frozenset(
    """
    a about after all also an and any are as at be been before being but by can could did do
    does for from had has have he her hers him his how i if in into is it its me my no nor not
    of on or our ours she so such than that the their theirs them then there these they this
    those to too us was we were what when where which while who whom why will with would you
    your yours
    """.split()
)

QUOTES = str.maketrans(dict.fromkeys("“”„‟«»＂", '"'))
_TERM = re.compile(r'(-?)"([^"]*)("?)|(\S+)')
_TOKEN = re.compile(r"[^\W_]+")
# The Arabic article in its Latin spellings, hyphenated to a name: "al-Suri", "as-Suri",
# "ash-Shami" (the same spellings `normalise_name` drops from names).
_ARTICLE = re.compile(
    r"(?<![^\W_])(?:al|el|ul|as|ash|at|ath|ad|adh|ar|az|an|ud|ut|un)-(?=[^\W_])", re.IGNORECASE
)


def _latin_fold_table() -> dict[str, str]:
    """Latin letters with diacritics (Latin-1, Extended-A and -B, Extended Additional) mapped to
    their lower-case base letter. The PostgreSQL index folds with the same table (see
    backends/postgresql.py); SQLite's FTS5 tokenizer removes the same diacritics itself."""
    table = {}
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        char = chr(code)
        decomposed = unicodedata.normalize("NFKD", char)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        if len(base) == 1 and base.isascii() and base.isalpha():
            table[char] = base.lower()
    return table


LATIN_FOLD = _latin_fold_table()
_FOLD = str.maketrans(LATIN_FOLD)


def fold(text: str) -> str:
    """Lower case without the diacritics of Latin letters, as the index stores words."""
    return unicodedata.normalize("NFC", text).lower().translate(_FOLD)


def text_tokens(text: str) -> list[str]:
    """The index's words in `text`: runs of letters and digits, folded."""
    return _TOKEN.findall(fold(_ARTICLE.sub("", text)))


def name_tokens(text: str) -> list[str]:
    return normalise_name(text).split()


class Mode(StrEnum):
    TEXT = "text"  # passages, claims, sources, concepts
    NAMES = "names"  # people: their normalised names and variants


@dataclass(frozen=True)
class Term:
    """One word or phrase as typed, and how it takes part."""

    text: str
    phrase: bool = False
    exclude: bool = False
    prefix: bool = False  # the last word typed: also the words it begins

    def tokens(self, mode: Mode) -> list[str]:
        return text_tokens(self.text) if mode == Mode.TEXT else name_tokens(self.text)

    def label(self) -> str:
        shown = f"“{self.text}”" if self.phrase else self.text
        return f"−{shown}" if self.exclude else f"{shown}…" if self.prefix else shown


@dataclass
class Query:
    """A parsed search: its terms and what the user should know about how it was read."""

    text: str = ""
    terms: list[Term] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def included(self, mode: Mode) -> list[tuple[Term, list[str]]]:
        return [(t, tokens) for t in self.terms if not t.exclude if (tokens := t.tokens(mode))]

    def excluded(self, mode: Mode) -> list[tuple[Term, list[str]]]:
        return [(t, tokens) for t in self.terms if t.exclude if (tokens := t.tokens(mode))]

    def searchable(self, mode: Mode = Mode.TEXT) -> bool:
        return bool(self.included(mode))

    def __bool__(self) -> bool:
        return self.searchable(Mode.TEXT) or self.searchable(Mode.NAMES)


def parse_query(text: str) -> Query:
    """Read the search box into terms; never fails, whatever was typed."""
    query = Query()
    text = text.replace("\x00", "")
    if len(text) > MAX_QUERY_LENGTH:
        cut = text[:MAX_QUERY_LENGTH]
        # Cut at a word boundary when there is one near the limit.
        space = cut.rfind(" ", MAX_QUERY_LENGTH - 40)
        text = cut[:space] if space > 0 else cut
        query.notices.append(
            f"Your search was longer than {MAX_QUERY_LENGTH} characters; "
            "only its beginning was searched for."
        )
    query.text = text.strip()
    text = text.translate(QUOTES)

    matches = list(_TERM.finditer(text))
    terms: list[Term] = []
    common: list[str] = []
    for match in matches:
        minus, quoted, closing, word = match.groups()
        if word is None:
            if text_tokens(quoted) or name_tokens(quoted):
                terms.append(Term(" ".join(quoted.split()), phrase=True, exclude=bool(minus)))
                if not closing:
                    query.notices.append(
                        f"A closing quote was missing; “{' '.join(quoted.split())}” was "
                        "searched for as a phrase."
                    )
            continue
        exclude = word.startswith("-") and len(word) > 1
        word = word[1:] if exclude else word
        tokens = text_tokens(word)
        if not tokens:
            continue  # punctuation, or an operator of some other engine
        if all(token in STOP_WORDS for token in tokens):
            common.append(word)
            continue
        last = match is matches[-1] and match.end() == len(text) and not exclude
        prefix = last and len(tokens[-1]) >= MIN_PREFIX
        terms.append(Term(word, exclude=exclude, prefix=prefix))

    if len(terms) > MAX_TERMS:
        query.notices.append(
            f"Only the first {MAX_TERMS} words and phrases were searched for; "
            "the rest were left out."
        )
        terms = terms[:MAX_TERMS]
    query.terms = terms

    if common and query:
        listed = ", ".join(f"“{word}”" for word in common)
        query.notices.append(f"Very common words were left out: {listed}.")
    if not query:
        query.notices.append(_why_nothing(query.text, terms, common))
    return query


def _why_nothing(text: str, terms: list[Term], common: list[str]) -> str:
    if not text:
        return "Type a word, a name or a “phrase in quotes” to search the project."
    if any(t.exclude for t in terms):
        return "Add a word to look for: a search cannot consist of left-out (-word) terms only."
    if common:
        return (
            "Only very common words were typed, which nearly every passage contains. Add a "
            "more specific word, or put the words in quotes to find them as a phrase."
        )
    return f"There are no letters or digits to search for in “{text}”."
