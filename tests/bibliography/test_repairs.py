"""What Zotero or JabRef would import, Citemap imports: each repaired case from a hand-written
sample file, with its warning, its line and the data kept."""

from io import StringIO

from django.core.management import call_command

from apps.bibliography import bibtex
from apps.bibliography.records import UNTITLED
from apps.jobs.models import ImportJob
from apps.library.models import Source
from tests.bibliography.helpers import SAMPLES, import_file

REPAIRS = SAMPLES / "repairs"


def read(name: str):
    return bibtex.read((REPAIRS / name).read_text())


def warnings(entry) -> list[tuple[int, str]]:
    return entry.warning_rows()


def line_of(name: str, text: str, start: int = 0) -> int:
    """The line of the file on which `text` first appears (after line `start`)."""
    lines = (REPAIRS / name).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if n > start and text in line)


def test_entries_without_a_key_get_one_made_of_author_year_and_title():
    entries = read("endnote-no-keys.bib")
    assert [e.error for e in entries] == ["", "", ""]
    assert [e.key for e in entries] == [
        "mironova2017bloody",
        "kepel2017terror",
        "mironova2017bloodya",  # the same key would be made twice: a letter is added
    ]
    assert [e.title for e in entries] == [
        "Bloody Moments",
        "Terror in France",
        "Bloody Moments Revisited",
    ]
    first_line = line_of("endnote-no-keys.bib", "@article{")
    assert warnings(entries[0]) == [
        (first_line, "It has no citation key: it gets “mironova2017bloody”.")
    ]
    assert warnings(entries[2]) == [
        (
            line_of("endnote-no-keys.bib", "@article{", first_line),
            "It has no citation key: it gets “mironova2017bloodya”.",
        )
    ]


def test_a_key_used_twice_gets_a_letter_keys_ignoring_case():
    entries = read("duplicate-keys.bib")
    assert [e.key for e in entries] == ["zelin2014", "zelin2014a", "Zelin2014b"]
    assert [e.title for e in entries] == [
        "The War between ISIS and al-Qaeda",
        "Picking Up the Pieces",
        "Jihadology",
    ]
    assert warnings(entries[0]) == []
    second = line_of("duplicate-keys.bib", "@article{zelin2014", 3)
    assert warnings(entries[1]) == [
        (second, "Its key “zelin2014” is taken by entry 1 (line 2): it becomes “zelin2014a”.")
    ]
    assert warnings(entries[2]) == [
        (
            line_of("duplicate-keys.bib", "@misc{Zelin2014"),
            "Its key “Zelin2014” is taken by entry 1 (line 2): it becomes “Zelin2014b”.",
        )
    ]


def test_a_repeated_field_keeps_its_first_value_and_lists_the_others():
    (entry,) = read("repeated-fields.bib")
    assert not entry.error
    assert entry.extra["bibtex"]["fields"]["funding_details"] == "Norwegian Research Council, 1234"
    assert entry.extra["bibtex"]["fields"]["note"] == "First note"
    second = line_of("repeated-fields.bib", "Harvard Kennedy School")
    third = line_of("repeated-fields.bib", "Belfer Center")
    assert warnings(entry) == [
        (
            second,
            f"The field funding_details is repeated (lines {second}, {third}): the first value "
            "is kept, the others left out: “Harvard Kennedy School”; “Belfer Center”.",
        )
    ]


def test_a_scopus_file_that_repeats_funding_details_imports_every_entry(cast):
    entries = read("scopus.bib")
    assert len(entries) == 5 and not any(e.error for e in entries)
    repeated = {e.key: warnings(e) for e in entries if warnings(e)}
    assert sorted(repeated) == ["Byman2016", "Hegghammer2010", "Zelin2015"]
    line = line_of("scopus.bib", "funding_details={Harvard Kennedy School, HKS}")
    assert repeated["Hegghammer2010"] == [
        (
            line,
            f"The field funding_details is repeated (line {line}): the first value is kept, the "
            "other left out: “Harvard Kennedy School, HKS”.",
        )
    ]
    first = line_of("scopus.bib", "funding_details={Washington Institute, WINEP}")
    same = line_of("scopus.bib", "funding_details={Washington Institute, WINEP}", first)
    assert repeated["Zelin2015"] == [
        (
            same,
            f"The field funding_details is repeated with the same value (line {same}): kept once.",
        )
    ]
    result = import_file(cast.project, (REPAIRS / "scopus.bib").read_bytes(), "scopus.bib")
    assert (result.created, result.rejected, result.skipped) == (5, 0, 0)
    byman = Source.objects.get(project=cast.project, citation_key="Byman2016")
    assert byman.extra["bibtex"]["fields"]["funding_details"] == "Brookings Institution"


def test_a_string_redefinition_wins_from_where_it_stands_as_in_bibtex():
    before, after = read("string-redefinition.bib")
    assert (before.error, after.error) == ("", "")
    assert before.fields["container_title"] == "Journal of Terrorism"
    assert after.fields["container_title"] == "Journal of Terrorism Research"
    line = line_of("string-redefinition.bib", "Journal of Terrorism Research")
    assert warnings(after) == [
        (
            line,
            "@string{jt} is defined again (first on line 1): as in BibTeX, this definition is "
            "used from here on.",
        )
    ]
    assert warnings(before) == []


def test_an_undefined_macro_is_kept_as_text_and_listed():
    (entry,) = read("undefined-macro.bib")
    assert not entry.error
    assert entry.fields["container_title"] == "jcr"
    assert warnings(entry) == [
        (
            line_of("undefined-macro.bib", "journal = jcr"),
            "Its journal uses the macro “jcr”, which no @string defines: the word “jcr” is "
            "kept as the text.",
        )
    ]


def test_an_entry_without_title_is_marked_untitled_and_a_set_is_skipped_with_a_note():
    untitled, titled = read("untitled-and-set.bib")
    assert untitled.title == UNTITLED == "[Untitled]" and not untitled.error
    assert untitled.fields["container_title"] == "Survival"
    assert warnings(untitled) == [(1, "It has no title: it is imported as “[Untitled]”.")]
    assert titled.key == "titled1" and titled.title == "Beyond Counterterrorism"
    assert warnings(titled) == [
        (
            line_of("untitled-and-set.bib", "@set{bundle"),
            "@set{bundle} is a BibLaTeX set of other entries, not a work: skipped.",
        )
    ]


def test_tex_logos_become_their_text_and_unknown_commands_stay_as_words():
    knuth, lamport, plain = read("tex-logos.bib")
    assert knuth.title == "The TeXbook"
    assert plain.title == "The TeXbook"
    assert lamport.title == "LaTeX: A Document Preparation System, with BibTeX and Zotero"
    assert warnings(knuth) == warnings(plain) == []
    assert warnings(lamport) == [
        (
            line_of("tex-logos.bib", "\\Zotero"),
            "Its title uses LaTeX command \\Zotero that we do not know: kept as words.",
        )
    ]
    assert bibtex.text(r"a {\em b} \textsc{c} \foo{} d") == "a b c foo d"
    # BibTeX preambles' sorting tricks print nothing.
    assert bibtex.text(r"{\noop{1999}}Milestones") == "Milestones"


def test_a_month_without_a_year_is_left_out_with_a_warning_not_rejected():
    (entry,) = bibtex.read("@article{m,\n  title = {T},\n  month = nov,\n}\n")
    assert not entry.error and "issued_month" not in entry.fields
    assert warnings(entry) == [(1, "It has a month (11) but no year: the month is left out.")]


def test_the_preview_lists_each_repair_with_its_line_and_the_import_keeps_the_data(
    cast, client_for
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(cast.analyst)
    data = b"".join(
        (REPAIRS / name).read_bytes()
        for name in ("endnote-no-keys.bib", "repeated-fields.bib", "untitled-and-set.bib")
    )
    response = client.post("/p/review/import/", {"file": SimpleUploadedFile("mixed.bib", data)})
    assert response.status_code == 302
    page = client.get(response.url).text
    assert "6 new" in page and "0 rejected" in page and "6 repaired on the way in" in page
    assert "Repaired" in page
    text = data.decode()
    set_line = text[: text.index("@set{bundle")].count("\n") + 1
    assert f"<td>Line {set_line}</td><td>@set{{bundle}} is a BibLaTeX set" in page
    assert "It has no citation key: it gets “mironova2017bloody”." in page
    assert "It has no title: it is imported as “[Untitled]”." in page
    confirmed = client.post(response.url + "confirm/")
    assert confirmed.status_code == 302
    keys = set(Source.objects.for_project(cast.project).values_list("citation_key", flat=True))
    assert keys == {
        "mironova2017bloody",
        "kepel2017terror",
        "mironova2017bloodya",
        "scopus1",
        "untitled1",
        "titled1",
    }
    assert Source.objects.get(project=cast.project, citation_key="untitled1").title == UNTITLED
    assert ImportJob.objects.get().is_finished


def test_the_import_command_prints_each_repair_with_its_line(cast):
    out = StringIO()
    call_command(
        "import_bibliography",
        str(REPAIRS / "duplicate-keys.bib"),
        "--project",
        "review",
        stdout=out,
        stderr=StringIO(),
    )
    printed = out.getvalue()
    assert (
        "Repaired line 8, entry 2 (line 8): Its key “zelin2014” is taken by entry 1 (line 2): "
        "it becomes “zelin2014a”." in printed
    )
    assert "3 sources imported" in printed


def test_the_fast_path_for_common_escapes_reads_as_the_latex_parser_does():
    for value in (
        r"50\% of \emph{them} \& more",
        r"a\_b \$5 and \#1",
        r"x \textbf{Bold} -- y",
        r"50\% and Caf\'e",
        r"``quoted'' and $x$",
    ):
        assert bibtex.text(value) == " ".join(bibtex._decoded(value).split())


def test_ris_and_csl_json_records_without_a_title_are_untitled_too():
    from apps.bibliography.importing import read_file

    ris_text = (
        b"TY  - JOUR\nTI  - Titled\nER  - \n\nTY  - JOUR\nAU  - Byman, Daniel\nPY  - 2015\nER  - \n"
    )
    _, (titled, untitled) = read_file(ris_text, filename="x.ris")
    assert titled.title == "Titled" and titled.warnings == []
    assert (untitled.title, untitled.error) == (UNTITLED, "")
    assert untitled.warning_rows() == [(5, "It has no title: it is imported as “[Untitled]”.")]
    _, (item,) = read_file(b'[{"id": "a", "type": "book", "issued": 2001}]', filename="x.json")
    assert (item.title, item.error) == (UNTITLED, "")
    assert item.warning_rows() == [(None, "It has no title: it is imported as “[Untitled]”.")]


def test_the_preview_says_which_keys_change_against_the_project(cast):
    from apps.bibliography.importing import preview_import, read_file
    from tests import factories

    factories.make_source(cast.project, "Known", citation_key="zelin2014")
    entries = read("duplicate-keys.bib")
    rows = preview_import(project=cast.project, entries=entries)
    assert [row["key"] for row in rows] == ["zelin2014-a", "zelin2014a", "Zelin2014b"]
    assert rows[0]["warnings"] == [
        (2, "Its key “zelin2014” is taken by a source of the project: it gets “zelin2014-a”.")
    ]
    _, ris_entries = read_file(
        b"TY  - BOOK\nAU  - Kepel, Gilles\nTI  - Terror\nPY  - 2017\nER  - \n", filename="k.ris"
    )
    (row,) = preview_import(project=cast.project, entries=ris_entries)
    assert row["warnings"] == [(1, "It has no citation key: it gets “kepel2017terror”.")]
    import_file(cast.project, (REPAIRS / "duplicate-keys.bib").read_bytes(), "d.bib")
    keys = set(Source.objects.for_project(cast.project).values_list("citation_key", flat=True))
    assert keys == {"zelin2014", "zelin2014-a", "zelin2014a", "Zelin2014b"}


def test_overlong_fields_are_cut_and_impossible_years_left_out_with_warnings(cast):
    journal = "J" * 600
    url = "https://example.org/" + "x" * 2100
    text = (
        f"@article{{long,\n  title = {{Long}},\n  journal = {{{journal}}},\n"
        f"  url = {{{url}}},\n  year = 99999,\n}}\n"
    )
    (entry,) = bibtex.read(text)
    assert not entry.error
    limit = Source._meta.get_field("container_title").max_length
    assert entry.fields["container_title"] == "J" * (limit - 1) + "…"
    # BibTeX keeps what it cannot store as it was, to be exported again.
    assert "url" not in entry.fields and entry.extra["bibtex"]["fields"]["url"] == url
    assert entry.extra["bibtex"]["fields"]["year"] == "99999"  # not a year: kept as it was
    assert [message for _, message in entry.warning_rows()] == [
        f"Its container title is longer than {limit:,} characters: cut there."
    ]
    result = import_file(cast.project, text.encode(), "long.bib")
    assert (result.created, result.rejected) == (1, 0)
    from apps.bibliography.importing import read_file

    item = b'[{"id": "y", "type": "book", "title": "T", "issued": {"date-parts": [[99999, 2]]}}]'
    _, (csl,) = read_file(item, filename="y.json")
    assert not csl.error and "issued_year" not in csl.fields and "issued_month" not in csl.fields
    assert [message for _, message in csl.warning_rows()] == [
        "Its year 99999 is out of range: left out.",
        "It has a month (2) but no year: the month is left out.",
    ]
