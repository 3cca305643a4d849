"""Name normalisation: a lenient key to search people by, a strict one to match them by.

"al-Suri", "as-Suri", "Suri", "Sūrī" and "السوري" differ in articles, diacritics, apostrophes
for ʿayn/hamza and doubled letters; `normalise_name` maps all of them to the same key ("suri"),
so a plain substring search over keys ignores that noise. It is for finding people (search,
the list's filter, "someone already has this name" questions), where a false hit costs a
glance.

`match_key` decides, without asking anyone, that a name read from a file is a person already
recorded (bibliography imports). It ignores only what is not a letter: case, diacritics and
strokes (é, ł, ø: the same letter as e, l, o), ligatures and ß written out, apostrophes,
punctuation and spacing. Names that differ by a letter ("Hall" and "Hal", "al-Suri" and
"as-Suri") never share it; variants of a person's name (NameVariant) are how spellings that
differ are tied to one person.
"""

import functools
import re
import unicodedata

# Letters that stand for ʿayn and hamza in Latin transliterations, plus typographic quotes.
_APOSTROPHES = dict.fromkeys(map(ord, "'`´ʼʻʿʾ‘’′ʹʽ"), None)

# The Arabic article in its assimilated Latin spellings (al-, el-, as-, ash-, ad-, …) when it
# is attached with a hyphen or apostrophe, and "al"/"el" when written as a separate word.
_LATIN_ARTICLE = re.compile(
    r"\b(?:al|el|ul|as|ash|at|ath|ad|adh|ar|az|an|ud|ut|un)-(?=\w|\s|$)|\b(?:al|el)\s+(?=\w)"
)

# Arabic letter variants that transliteration schemes and typists interchange.
_ARABIC_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ـ": None,  # tatweel
    }
)
_ARABIC_ARTICLE = re.compile(r"(?<!\S)ال(?=\S{2,})")

_NON_WORD = re.compile(r"[\W_]+")
_DOUBLED = re.compile(r"(\w)\1+")

# Latin letters that Unicode does not decompose into a base letter and a mark (so removing
# marks leaves them as they are), written as the letters ASCII transliterations use: people
# type "Lopuszanski" for "Łopuszański", "Sorensen" for "Sørensen", "Strasse" for "Straße".
_LATIN_FOLD = str.maketrans(
    {
        "ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ŧ": "t", "ŀ": "l",
        "ƚ": "l", "ɨ": "i", "ƀ": "b", "ƶ": "z", "ȥ": "z", "ɍ": "r", "ɏ": "y", "ĸ": "k",
        "ß": "ss", "æ": "ae", "œ": "oe", "þ": "th", "ĳ": "ij", "ŉ": "n", "ſ": "s",
    }
)  # fmt: skip


def fold_letters(name: str) -> str:
    """Lower case, without diacritics, Latin letters without a decomposition written out."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.casefold().translate(_LATIN_FOLD)


# Both keys are cached: an import of 50,000 entries computes them for the same names again
# and again (people, first authors, duplicates).
@functools.lru_cache(maxsize=200_000)
def normalise_name(name: str, *, single_letters: bool = True) -> str:
    """A search key: lower case, no diacritics, articles or apostrophes, doubled letters single
    (unless `single_letters` is False: sort keys keep "Hall" after "Hal")."""
    text = fold_letters(name.translate(_APOSTROPHES)).translate(_ARABIC_FOLD)
    text = _LATIN_ARTICLE.sub("", text)
    text = _NON_WORD.sub(" ", text)
    text = _ARABIC_ARTICLE.sub("", text)
    if single_letters:
        text = _DOUBLED.sub(r"\1", text)
    return " ".join(text.split())


@functools.lru_cache(maxsize=200_000)
def match_key(name: str) -> str:
    """The key under which two spellings are the same name: only what is not a letter is
    ignored (case, diacritics, strokes, apostrophes, punctuation, spacing)."""
    text = fold_letters(name.translate(_APOSTROPHES)).translate(_ARABIC_FOLD)
    return " ".join(_NON_WORD.sub(" ", text).split())


MAX_TOKENS = 12


def search_tokens(query: str) -> list[str]:
    """The normalised words of a name query (at most a dozen); each must occur in a match."""
    return normalise_name(query).split()[:MAX_TOKENS]


# Matching across scripts. Arabic script leaves short vowels unwritten and Latin
# transliterations spell its consonants several ways, so a word in one script is turned into a
# regular expression over the other script's keys: its consonants in order, each as any of its
# usual spellings, with any vowels (and the letters that stand for long vowels, ʿayn and hamza)
# between them. The expression is anchored at the start of a word and, as the plain search
# does, accepts a longer word ("qutb" finds "qutbi"). Both sides are keys of `normalise_name`:
# articles gone, hamza forms, ة and ى folded, doubled letters single.
_LATIN_VOWELS = "[aeiou]*"
_ARABIC_TO_LATIN = {
    "ب": "b",
    "پ": "p",
    "ت": "t",
    "ث": "(th|s|t)",
    "ج": "(j|g|dj|dsh|zh)",
    "چ": "(ch|tsh)",
    "ح": "h",
    "خ": "(kh|h|x)",
    "د": "d",
    "ذ": "(dh|z|d|th)",
    "ر": "r",
    "ز": "z",
    "ژ": "(zh|j)",
    "س": "s",
    "ش": "(sh|ch|sch|s)",
    "ص": "s",
    "ض": "(d|dh|z)",
    "ط": "t",
    "ظ": "(z|dh|th|d)",
    "غ": "(gh|g|r)",
    "ف": "(f|v)",
    "ق": "(q|k|g)",
    "ك": "(k|c)",
    "گ": "g",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h?",  # ta marbuta (folded to ha) is mostly an unwritten "a" or "ah" in Latin
    "و": "[aeiouw]*",  # a long vowel or w
    "ي": "[aeiouy]*",  # a long vowel or y
    "ا": _LATIN_VOWELS,
    "ع": _LATIN_VOWELS,  # ʿayn: its apostrophe is dropped from keys, a vowel may stand for it
    "ء": _LATIN_VOWELS,
}
_ARABIC_VOWELS = "[اويعء]*"
# Latin spellings (two letters first) and the Arabic letters each may stand for.
_LATIN_TO_ARABIC = {
    "sh": "(ش|[سصث][حه])",
    "kh": "(خ|[كق][حه])",
    "gh": "(غ|[جقك][حه])",
    "th": "(ث|ذ|ظ|[تط][حه])",
    "dh": "(ذ|ض|ظ|[دض][حه])",
    "ch": "(ش|چ|تش)",
    "zh": "(ژ|ج|[زظذ][حه])",
    "b": "[بپ]",
    "p": "[بپ]",
    "t": "[تط]",
    "j": "ج",
    "g": "[جغقكگ]",
    "h": "[حه]",
    "d": "[دضذ]",
    "r": "ر",
    "z": "[زظذ]",
    "s": "[سصث]",
    "f": "ف",
    "v": "ف",
    "q": "ق",
    "k": "[كق]",
    "c": "[كقس]",
    "x": "خ",
    "l": "ل",
    "m": "م",
    "n": "ن",
    "w": "و",
    "y": "ي",
}
_ARABIC_WORD = re.compile(f"^[{''.join(_ARABIC_TO_LATIN)}]+$")
_LATIN_WORD = re.compile("^[a-z]+$")


def cross_script_pattern(token: str) -> str | None:
    """A regular expression (the same in Python, PostgreSQL and SQLite) that finds the word
    `token`, a key word in Arabic or Latin script, among the other script's keys; None for a
    word of neither script alone."""
    if _ARABIC_WORD.match(token):
        parts = [_ARABIC_TO_LATIN[letter] for letter in token]
        return "(^| )" + _LATIN_VOWELS.join(parts)
    if _LATIN_WORD.match(token):
        parts, at = [], 0
        while at < len(token):
            pair = token[at : at + 2]
            if pair in _LATIN_TO_ARABIC:
                parts.append(_LATIN_TO_ARABIC[pair])
                at += 2
                continue
            letter = token[at]
            at += 1
            if letter not in "aeiou":
                parts.append(_LATIN_TO_ARABIC[letter])
        if not parts:
            return None  # vowels only: anything would match
        return "(^| )" + _ARABIC_VOWELS + _ARABIC_VOWELS.join(parts)
    return None
