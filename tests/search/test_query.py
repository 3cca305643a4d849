"""Reading the search box: terms, phrases, exclusions, prefixes, and what cannot be searched."""

import re

import pytest

from apps.search.backends import postgresql, sqlite
from apps.search.query import MAX_QUERY_LENGTH, MAX_TERMS, Mode, fold, parse_query


def test_several_words_are_all_required_and_the_last_one_is_a_prefix():
    query = parse_query("chain takfir")
    assert [(t.text, t.prefix) for t in query.terms] == [("chain", False), ("takfir", True)]
    assert sqlite.fts_query(query, Mode.TEXT) == '"chain" AND "takfir"*'
    assert postgresql.tsquery(query, Mode.TEXT) == "('chain') & ('takfir':*)"


def test_a_trailing_space_ends_the_last_word_and_short_words_are_never_prefixes():
    assert not parse_query("chain takfir ").terms[-1].prefix
    assert not parse_query("chain al").terms[-1].prefix


def test_phrases_and_exclusions_are_read_as_such():
    query = parse_query('"chain takfir" -ISIS -"al Baghdadi" caliphate')
    assert [(t.text, t.phrase, t.exclude) for t in query.terms] == [
        ("chain takfir", True, False),
        ("ISIS", False, True),
        ("al Baghdadi", True, True),
        ("caliphate", False, False),
    ]
    assert sqlite.fts_query(query, Mode.TEXT) == (
        '(("chain takfir" AND "caliphate"*) NOT "isis") NOT "al baghdadi"'
    )
    assert postgresql.tsquery(query, Mode.TEXT) == (
        "('chain' <-> 'takfir') & ('caliphate':*) & !('isis') & !('al' <-> 'baghdadi')"
    )


def test_typographic_quotes_work_like_straight_ones():
    query = parse_query("“chain takfir”")
    assert query.terms[0].phrase and query.terms[0].text == "chain takfir"


def test_case_and_accents_are_folded_as_the_index_folds_them():
    assert fold("Sūrī ÉCOLE Ḥadīth") == "suri ecole hadith"
    query = parse_query("Sūrī")
    assert query.included(Mode.TEXT)[0][1] == ["suri"]


def test_names_are_read_in_any_transliteration_for_people():
    for typed in ["as-Suri", "al-Suri", "Suri", "Sūrī", "al-Sūrī"]:
        query = parse_query(typed)
        assert query.included(Mode.NAMES)[0][1] == ["suri"], typed
    # In text the article is dropped too, so "as-Suri" finds a quote naming "al-Suri".
    assert parse_query("as-Suri").included(Mode.TEXT)[0][1] == ["suri"]
    assert parse_query("Mus'ab").included(Mode.NAMES)[0][1] == ["musab"]


def test_a_hyphenated_or_dotted_word_is_a_phrase_of_its_parts():
    query = parse_query("crime-terror 3.14")
    assert sqlite.fts_query(query, Mode.TEXT) == '"crime terror" AND "3 14"'
    assert postgresql.tsquery(query, Mode.TEXT) == "('crime' <-> 'terror') & ('3' <-> '14')"


@pytest.mark.parametrize(
    "typed",
    [
        "NEAR(chain takfir, 3)",
        "chain* OR ^takfir",
        "lead:chain AND body:takfir",
        "(chain) {takfir}",
        "chain ' takfir",
        'chain "takfir',
        "chain\\ takfir;--",
        "chain' OR '1'='1",
        "chain & takfir | !isis <-> :*",
    ],
)
def test_operators_of_the_engines_never_reach_them_as_syntax(typed):
    query = parse_query(typed)
    # Every term is a quoted string of letters, digits and spaces; outside the quotes there
    # is nothing but our own operators.
    fts = sqlite.fts_query(query, Mode.TEXT)
    strings = re.findall(r'"([^"]*)"', fts)
    assert all(re.fullmatch(r"[^\W_]+( [^\W_]+)*", string) for string in strings), fts
    assert set(re.sub(r'"[^"]*"', "", fts).split()) <= {"AND", "NOT", "*", "(", ")"} | {
        "(" * n for n in range(1, 12)
    }
    tsq = postgresql.tsquery(query, Mode.TEXT)
    lexemes = re.findall(r"'([^']*)'", tsq)
    assert all(re.fullmatch(r"[^\W_]+", lexeme) for lexeme in lexemes), tsq
    assert set(re.sub(r"'[^']*'", "", tsq).replace(" ", "")) <= set("()&!<->:*")


def test_an_unbalanced_quote_searches_the_rest_as_a_phrase_and_says_so():
    query = parse_query('isis "chain takfir')
    assert query.terms[-1].phrase and query.terms[-1].text == "chain takfir"
    assert any("closing quote" in notice for notice in query.notices)


def test_common_words_are_left_out_outside_quotes_but_kept_in_phrases():
    query = parse_query('the withdrawal of "the state"')
    assert [t.text for t in query.terms] == ["withdrawal", "the state"]
    assert any("“the”" in notice and "“of”" in notice for notice in query.notices)


@pytest.mark.parametrize(
    ("typed", "explained"),
    [
        ("", "Type a word"),
        ("   ", "Type a word"),
        ("the of and", "Only very common words"),
        ("*** ::: ^^^ ()", "no letters or digits"),
        ("-isis -caliphate", "cannot consist of left-out"),
        ('""', "no letters or digits"),
        ('"', "no letters or digits"),
    ],
)
def test_queries_with_nothing_to_look_for_are_explained(typed, explained):
    query = parse_query(typed)
    assert not query
    assert any(explained in notice for notice in query.notices), query.notices


def test_very_long_queries_are_cut_with_a_message():
    query = parse_query("withdrawal " * 100)
    assert len(query.text) <= MAX_QUERY_LENGTH
    assert len(query.terms) == MAX_TERMS
    assert any("longer than" in notice for notice in query.notices)
    assert any(f"first {MAX_TERMS}" in notice for notice in query.notices)
    # One enormous word is cut too.
    assert len(parse_query("x" * 10_000).text) == MAX_QUERY_LENGTH
