import pytest

from apps.people.names import normalise_name, search_tokens


@pytest.mark.parametrize(
    "spelling",
    ["al-Suri", "as-Suri", "Suri", "Sūrī", "SURI", "al Suri", "Al-Sūrī", "as-Suri "],
)
def test_transliterations_of_suri_share_a_key(spelling):
    assert normalise_name(spelling) == "suri"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Abu Mus'ab al-Suri", "abu musab suri"),
        ("Abu Musʿab al-Sūrī", "abu musab suri"),
        ("Sayyid Quṭb", "sayid qutb"),
        ("Sayid Qutb", "sayid qutb"),
        ("The Shade of the Quraan", "the shade of the quran"),
        ("Qur’an", "quran"),
        ("أبو مصعب السوري", "ابو مصعب سوري"),
        ("إبراهيم", "ابراهيم"),
        ("  Martha   Crenshaw ", "martha crenshaw"),
    ],
)
def test_keys_ignore_articles_diacritics_apostrophes_and_doubling(name, key):
    assert normalise_name(name) == key


def test_ordinary_words_are_kept():
    # Only hyphenated articles and "al"/"el" on their own are dropped: "as" in English stays.
    assert normalise_name("Security as Practice") == "security as practice"


def test_queries_of_only_noise_have_no_tokens():
    assert search_tokens("al- ' ʿ") == []
