"""Normal forms of bibliographic identifiers: the same work is recognised however it is written."""

import re

from stdnum import isbn, issn
from stdnum.exceptions import ValidationError

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_OPENALEX = re.compile(r"^(?:https://openalex\.org/)?(W\d+)$", re.IGNORECASE)


def _doi(value: str) -> str:
    # DOIs are case-insensitive by definition; exports add resolver URLs or "doi:" prefixes.
    doi = _DOI_PREFIX.sub("", value.strip()).lower()
    if not _DOI.match(doi):
        raise ValueError("A DOI starts with 10. and a registrant code, e.g. 10.1080/1234.")
    return doi


def _isbn(value: str) -> str:
    # ISBN-10s become ISBN-13s so that both printings of the same number match.
    try:
        return isbn.to_isbn13(isbn.validate(value))
    except ValidationError as error:
        raise ValueError(f"Not a valid ISBN: {error}") from None


def _issn(value: str) -> str:
    try:
        return issn.format(issn.validate(value))
    except ValidationError as error:
        raise ValueError(f"Not a valid ISSN: {error}") from None


def _url(value: str) -> str:
    url = value.strip()
    if not re.match(r"^https?://\S+$", url):
        raise ValueError("A URL starts with http:// or https://.")
    return url


def _openalex(value: str) -> str:
    match = _OPENALEX.match(value.strip())
    if not match:
        raise ValueError("An OpenAlex work ID looks like W2741809807.")
    return match.group(1).upper()


_NORMALISERS = {"doi": _doi, "isbn": _isbn, "issn": _issn, "url": _url, "openalex": _openalex}


def normalise_identifier(scheme: str, value: str) -> str:
    """The canonical form of `value`; raises ValueError with a readable reason when malformed."""
    value = value.strip()
    if not value:
        raise ValueError("The identifier is empty.")
    return _NORMALISERS.get(scheme, str.strip)(value)
