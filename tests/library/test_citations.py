"""Formatted citations in APA 7, Chicago author-date (17th edition) and MLA 9, as the styles
prescribe them, for the kinds of source a review cites."""

import datetime
import json

import pytest
from django.conf import settings

from apps.library.citations import (
    SOURCE_PATCHES,
    Style,
    _citeproc,
    format_bibliography,
    format_citation,
    patched_source,
    warm_up,
)
from tests import factories


@pytest.fixture
def works(cast):
    project = cast.project
    person = lambda family, given: factories.make_person(  # noqa: E731
        project, f"{given} {family}", family=family, given=given
    )
    article = factories.make_source(
        project,
        "Bloody moments: The isolationist takfiri dissidents of ISIS",
        csl_type="article-journal",
        container_title="Studies in Conflict & Terrorism",
        volume="40",
        issue="3",
        page="201-215",
        issued_year=2017,
        issued_month=3,
    )
    article.add_contributor(person("Mironova", "Vera"))
    article.add_contributor(person("Sergatskova", "Ekaterina"))
    article.add_identifier("doi", "10.1080/1057610X.2016.1192393")
    book = factories.make_source(
        project,
        "Milestones",
        csl_type="book",
        publisher="Kazi Publications",
        publisher_place="Chicago",
        issued_year=1964,
    )
    book.add_contributor(person("Qutb", "Sayyid"))
    chapter = factories.make_source(
        project,
        "The fifth wave",
        csl_type="chapter",
        container_title="Terrorism in waves",
        publisher="Routledge",
        publisher_place="London",
        page="45-67",
        issued_year=2008,
    )
    chapter.add_contributor(person("Kaplan", "Jeffrey"))
    chapter.add_contributor(person("Rapoport", "David C."), role="editor")
    web = factories.make_source(
        project,
        "The sectarianism of the Islamic State",
        csl_type="webpage",
        container_title="Carnegie Endowment",
        issued_year=2016,
        issued_month=6,
        issued_day=13,
        url="https://carnegieendowment.org/2016/06/13/pub-63746",
        accessed=datetime.date(2020, 1, 5),
    )
    web.add_contributor(person("Hassan", "Hassan"))
    report = factories.make_source(
        project,
        "Exploiting disorder: Al-Qaeda and the Islamic State",
        csl_type="report",
        publisher="International Crisis Group",
        publisher_place="Brussels",
        issued_year=2016,
    )
    report.add_contributor(
        factories.make_person(
            project, "International Crisis Group", literal="International Crisis Group"
        )
    )
    return {"article": article, "book": book, "chapter": chapter, "web": web, "corporate": report}


EXPECTED = {
    Style.APA: {
        "article": "Mironova, V., & Sergatskova, E. (2017). Bloody moments: The isolationist "
        "takfiri dissidents of ISIS. Studies in Conflict & Terrorism, 40(3), 201–215. "
        "https://doi.org/10.1080/1057610x.2016.1192393",
        "book": "Qutb, S. (1964). Milestones. Kazi Publications.",
        "chapter": "Kaplan, J. (2008). The fifth wave. In D. C. Rapoport (Ed.), Terrorism in "
        "waves (pp. 45–67). Routledge.",
        "web": "Hassan, H. (2016, June 13). The sectarianism of the Islamic State. Carnegie "
        "Endowment. https://carnegieendowment.org/2016/06/13/pub-63746",
        # APA 7's manual omits a publisher that is also the author; Zotero (citeproc-js with
        # the same style) names it, and we print what Zotero prints.
        "corporate": "International Crisis Group. (2016). Exploiting disorder: Al-Qaeda and the "
        "Islamic State. International Crisis Group.",
    },
    Style.CHICAGO: {
        "article": "Mironova, Vera, and Ekaterina Sergatskova. 2017. “Bloody Moments: The "
        "Isolationist Takfiri Dissidents of ISIS.” Studies in Conflict & Terrorism 40 (3): "
        "201–15. https://doi.org/10.1080/1057610x.2016.1192393.",
        "book": "Qutb, Sayyid. 1964. Milestones. Chicago: Kazi Publications.",
        "chapter": "Kaplan, Jeffrey. 2008. “The Fifth Wave.” In Terrorism in Waves, edited by "
        "David C. Rapoport, 45–67. London: Routledge.",
        "web": "Hassan, Hassan. 2016. “The Sectarianism of the Islamic State.” Carnegie "
        "Endowment, June 13. https://carnegieendowment.org/2016/06/13/pub-63746.",
        # Reports are set in italics, like books.
        "corporate": "International Crisis Group. 2016. Exploiting Disorder: Al-Qaeda and the "
        "Islamic State. Brussels: International Crisis Group.",
    },
    Style.MLA: {
        "article": "Mironova, Vera, and Ekaterina Sergatskova. “Bloody Moments: The "
        "Isolationist Takfiri Dissidents of ISIS.” Studies in Conflict & Terrorism, vol. 40, "
        "no. 3, Mar. 2017, pp. 201–15, https://doi.org/10.1080/1057610x.2016.1192393.",
        "book": "Qutb, Sayyid. Milestones. Kazi Publications, 1964.",
        "chapter": "Kaplan, Jeffrey. “The Fifth Wave.” Terrorism in Waves, edited by David C. "
        "Rapoport, Routledge, 2008, pp. 45–67.",
        "web": "Hassan, Hassan. “The Sectarianism of the Islamic State.” Carnegie Endowment, 13 "
        "June 2016, https://carnegieendowment.org/2016/06/13/pub-63746.",
        "corporate": "International Crisis Group. Exploiting Disorder: Al-Qaeda and the Islamic "
        "State. International Crisis Group, 2016.",
    },
}


@pytest.mark.parametrize("style", list(Style))
@pytest.mark.parametrize("kind", ["article", "book", "chapter", "web", "corporate"])
def test_citations_read_as_the_style_prescribes(works, style, kind):
    assert format_citation(works[kind], style) == EXPECTED[style][kind]


def test_html_citations_escape_the_data_and_keep_the_styles_italics(cast):
    source = factories.make_source(
        cast.project,
        "<script>alert(1)</script> & <b>bold</b>",
        csl_type="book",
        publisher="A & B",
        issued_year=2001,
        url="https://example.org/?a=1&b=<2>",
    )
    html = format_citation(source, Style.APA, html=True)
    assert "<script>" not in html and "<2>" not in html
    # The title in the style's italics; the data's own <b> is rich text as Zotero keeps it.
    assert "<i>&#60;script&#62;alert(1)&#60;/script&#62; &#38; <b>bold</b></i>" in html
    assert "A &#38; B" in html
    assert format_citation(source, Style.APA) == (
        "<script>alert(1)</script> & bold. (2001). A & B. https://example.org/?a=1&b=<2>"
    )


def test_a_bibliography_is_in_the_styles_order(works):
    from apps.library.citations import csl_item

    items = [csl_item(source) for source in works.values()]
    entries = format_bibliography(items, Style.CHICAGO)
    assert [entry.split(" ")[0] for entry in entries] == [
        "Hassan,",
        "International",
        "Kaplan,",
        "Mironova,",
        "Qutb,",
    ]


def test_chicago_prints_no_stray_edition_term_for_magazine_articles(db):
    from apps.demo.seed import load_seed_review
    from apps.library.citations import Style, format_citation

    project = load_seed_review().project
    source = project.sources.get(citation_key="mironova2017bloody")
    text = format_citation(source, Style.CHICAGO)
    assert "Edition." not in text
    assert "Foreign Affairs (New York), December 8, 2017. https://www.foreignaffairs.com" in text


def test_a_title_ending_in_a_question_mark_takes_no_period(db):
    from apps.demo.seed import load_seed_review
    from apps.library.citations import Style, format_citation

    project = load_seed_review().project
    source = project.sources.get(citation_key="faras2016withdrawal")
    for style in (Style.CHICAGO, Style.MLA):
        assert "?.”" not in format_citation(source, style)


def test_html_citations_carry_no_style_attribute_for_the_content_security_policy():
    item = {
        "id": "sc",
        "type": "book",
        "title": 'The <span style="font-variant:small-caps;">Isis</span> files',
        "author": [{"family": "Qutb", "given": "Sayyid"}],
        "issued": {"date-parts": [[1964]]},
    }
    html = format_bibliography([item], Style.APA, html=True)[0]
    assert 'The <span class="csl-small-caps">Isis</span> files' in html
    assert "style=" not in html


def test_every_speed_patch_applies_to_the_pinned_citeproc_js():
    """A patch whose text is not found once is left out (citations stay right but slow): a new
    citeproc-js version must have its patches looked at again."""
    source = settings.CITEPROC_JS.read_text("utf-8")
    for old, new in SOURCE_PATCHES:
        assert source.count(old) == 1, old
        assert new in patched_source(source)


@pytest.mark.parametrize(
    ("langs", "word", "lower", "upper"),
    [
        (["en-US"], "Title İstanbul", "title i̇stanbul", "TITLE İSTANBUL"),
        (["tr"], "Title İstanbul", "title istanbul", "TİTLE İSTANBUL"),
        (["az-Latn"], "IRAN", "ıran", "IRAN"),
        (["lt"], "Ì", "i̇̀", "Ì"),
        (["el"], "άλφα", "άλφα", "ΑΛΦΑ"),
        (["tr", "en-US"], "I", "ı", "I"),
        (["en-US", "tr"], "I", "i", "I"),
    ],
)
def test_citeprocs_casing_keeps_the_rules_of_turkish_lithuanian_and_greek(
    langs, word, lower, upper
):
    """The plain-case shortcut is taken only where the locale has no case rules of its own: the
    patched citeproc-js cases as the locale does (the expected values are V8's own, as Node
    prints them for str.toLocaleLowerCase(langs))."""
    js = _citeproc._context()
    state = json.dumps({"tmp": {"lang_array": langs}})
    assert js.execute(f"CSL.toLocaleLowerCase.call({state}, {json.dumps(word)})") == lower
    assert js.execute(f"CSL.toLocaleUpperCase.call({state}, {json.dumps(word)})") == upper


def test_a_warm_up_builds_every_styles_engine():
    """What gunicorn runs in each new worker, so its first source page does not build them."""
    warm_up()
    engines = _citeproc._context().execute("Object.keys(ENGINES)")
    assert sorted(engines) == sorted(style.value for style in Style)


def test_an_empty_bibliography_starts_no_engine(monkeypatch):
    monkeypatch.setattr(_citeproc, "_context", lambda: pytest.fail("an engine was started"))
    assert format_bibliography([], Style.APA) == []
    assert format_bibliography(iter([]), Style.MLA, html=True) == []
