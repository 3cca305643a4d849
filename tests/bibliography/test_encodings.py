"""The same entries written in each encoding bibliography files come in are read the same,
and the preview names the encoding used."""

import codecs

import pytest

from apps.bibliography.files import decode, read_files
from apps.bibliography.records import FileError
from tests.bibliography.helpers import import_file, picture

WESTERN_BIB = """@string{sct = {Studies in Conflict \\& Terrorism}}
@article{mueller2001,
  author = {M\u00fcller, J\u00f6rg and P\u00e9rez, H\u00e9l\u00e8ne and Bront\u00eb, Anne},
  title = {\u00c9tudes sur la fran\u00e7aise: \u00e0 la recherche du na\u00eff},
  journal = sct,
  year = 2001,
}
@book{garcia2010,
  author = {Garc\u00eda M\u00e1rquez, Gabriel and \u00c5sberg, S\u00f8ren},
  title = {Cien a\u00f1os: \u00fcber \u00c6sop, \u00ee\u00ef\u00fb},
  publisher = {Editorial Sudamericana},
  year = 2010,
}
"""
# Typographic quotes and dashes exist in Windows-1252, not in Latin-1.
SMART_RIS = (
    "TY  - JOUR\r\nAU  - O\u2019Neill, Se\u00e1n\r\nTI  - \u201cFifth wave\u201d \u2013 "
    "terror\u2019s \u20ac cost\r\nT2  - Caf\u00e9 Quarterly\r\nPY  - 2008\r\nER  - \r\n"
)
CHINESE_BIB = """@book{wang2001,
  author = {\u738b, \u5c0f\u660e and \u674e\u534e},
  title = {\u4e2d\u56fd\u8fd1\u4ee3\u53f2\u7814\u7a76\uff1a\u95ee\u9898\u4e0e\u65b9\u6cd5},
  publisher = {\u5317\u4eac\u5927\u5b66\u51fa\u7248\u793e},
  year = 2001,
}
@article{li2015,
  author = {\u674e, \u56db},
  title = {\u5173\u4e8e\u6050\u6016\u4e3b\u4e49\u7684\u7814\u7a76\u7efc\u8ff0},
  journal = {\u653f\u6cbb\u5b66\u7814\u7a76},
  year = 2015,
}
"""


def encoded(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-bom":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    if encoding == "utf-16-le-bom":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    if encoding == "utf-16-be-no-bom":
        return text.encode("utf-16-be")
    return text.encode(encoding)


@pytest.mark.parametrize(
    ("text", "name", "encoding", "named"),
    [
        (WESTERN_BIB, "w.bib", "utf-8", "UTF-8"),
        (WESTERN_BIB, "w.bib", "utf-8-bom", "UTF-8 with a byte order mark"),
        (WESTERN_BIB, "w.bib", "utf-16", "UTF-16"),
        (WESTERN_BIB, "w.bib", "utf-16-le-bom", "UTF-16"),
        (WESTERN_BIB, "w.bib", "utf-16-be-no-bom", "UTF-16 (big-endian)"),
        (WESTERN_BIB, "w.bib", "latin-1", "Windows-1252 (Latin-1)"),
        (WESTERN_BIB, "w.bib", "cp1252", "Windows-1252 (Latin-1)"),
        (SMART_RIS, "s.ris", "utf-8", "UTF-8"),
        (SMART_RIS, "s.ris", "cp1252", "Windows-1252 (Latin-1)"),
        (SMART_RIS, "s.ris", "utf-16", "UTF-16"),
        (CHINESE_BIB, "c.bib", "utf-8", "UTF-8"),
        (CHINESE_BIB, "c.bib", "gbk", "GB18030 (GBK)"),
        (CHINESE_BIB, "c.bib", "utf-16", "UTF-16"),
    ],
)
def test_the_same_entries_in_each_encoding_import_the_same(cast, text, name, encoding, named):
    data = encoded(text, encoding)
    assert decode(data).text == text
    reading = read_files([(name, data)])
    assert reading.files[0].encoding == named
    baseline = read_files([(name, text.encode("utf-8"))]).entries
    assert [(e.fields, e.names) for e in reading.entries] == [(e.fields, e.names) for e in baseline]
    import_file(cast.project, data, name)
    rows = picture(cast.project)
    assert len(rows) == len(baseline) and all(row["title"] for row in rows)


def test_accented_names_survive_latin_1(cast):
    import_file(cast.project, encoded(WESTERN_BIB, "latin-1"), "w.bib")
    rows = {row["citation_key"]: row for row in picture(cast.project)}
    assert rows["mueller2001"]["title"] == "Études sur la française: à la recherche du naïf"
    assert ("author", 1, "Jörg Müller", "Müller", "Jörg", "") in rows["mueller2001"]["contributors"]
    assert rows["garcia2010"]["contributors"][1][2] == "Søren Åsberg"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR\x00\x10\x00\x01" * 20, "binary file"),
        (codecs.BOM_UTF8, "empty"),
        (codecs.BOM_UTF16_LE + "@book{a, title={x}}".encode("utf-16-le")[:-1] + b"\xd8", "UTF-16"),
    ],
)
def test_undecodable_files_are_refused_with_the_reason(data, problem):
    with pytest.raises(FileError, match=problem):
        decode(data)
