"""Name normalisation for matching people across transliterations.

"al-Suri", "as-Suri", "Suri", "Sūrī" and "السوري" differ in articles, diacritics, apostrophes
for ʿayn/hamza and doubled letters; `normalise_name` maps all of them to the same key ("suri"),
so a plain substring search over keys ignores that noise.
"""

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


def normalise_name(name: str) -> str:
    """A search key: lower case, no diacritics, articles or apostrophes, doubled letters single."""
    text = unicodedata.normalize("NFKD", name).translate(_APOSTROPHES)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().translate(_ARABIC_FOLD)
    text = _LATIN_ARTICLE.sub("", text)
    text = _NON_WORD.sub(" ", text)
    text = _ARABIC_ARTICLE.sub("", text)
    text = _DOUBLED.sub(r"\1", text)
    return " ".join(text.split())


MAX_TOKENS = 12


def search_tokens(query: str) -> list[str]:
    """The normalised words of a name query (at most a dozen); each must occur in a match."""
    return normalise_name(query).split()[:MAX_TOKENS]
