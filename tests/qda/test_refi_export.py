"""REFI-QDA out: the .qdpx project and the .qdc codebook validate against the standard's own
XML schemas (Project.xsd and Codebook.xsd, from the pyrefiqda sdist on PyPI: `make test-tools`),
every GUID they refer to is defined, and each selection's positions hold its passage's words in
the exported text."""

import io
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from lxml import etree

from apps.annotations.anchoring import replace_text
from apps.annotations.models import Status
from apps.jobs.models import Job
from apps.qda import refi
from tests import factories

SCHEMAS = Path(sys.prefix) / "share" / "refi-qda"
NS = {"q": refi.PROJECT_NS}
TEXT = (
    "Withdrawal from society is old.\r\n\r\nChain takfir spread among the groups, said "
    "al-Su\u0304ri\u0304 in his call.\r\n\r\nIt ends here."
)


def schema(name: str) -> etree.XMLSchema:
    path = SCHEMAS / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make test-tools` (it fetches the REFI-QDA schemas).")
    return etree.XMLSchema(etree.parse(str(path)))


@pytest.fixture
def project(cast):
    project = cast.project
    source = factories.make_source(project, "Withdrawal from Society")
    replace_text(source, TEXT, by=cast.analyst, origin="pasted")
    isolation = factories.make_concept(
        project, "Isolation", definition="Withdrawal.", colour="#aa3300"
    )
    factories.make_concept(project, "Physical isolation", parent=isolation)
    claim = factories.make_claim(project, "Takfir spreads between groups")
    hidden_claim = factories.make_claim(project, "Only a draft argues this")
    suri = factories.make_person(project, "Abu Musab al-Suri")
    approved = factories.make_annotation(
        source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor,
        quote="Chain takfir spread among the groups", note="Why it *matters*.",
        claims=[claim], people=[suri], concepts=[isolation],
    )  # fmt: skip
    draft = factories.make_annotation(
        source, cast.analyst, quote="al-Su\u0304ri\u0304 in his call", claims=[hidden_claim]
    )
    for annotation in (approved, draft):
        annotation.anchor_in(source.full_text, source.text_version)
        annotation.save()
    return {"source": source, "approved": approved, "draft": draft, "claim": claim}


def export(cast, username=None) -> zipfile.ZipFile:
    out = io.BytesIO()
    membership = (
        cast.project.memberships.get(user__username=username)
        if username
        else refi.Membership(project=cast.project, role="supervisor")
    )
    refi.write_project(out, membership)
    return zipfile.ZipFile(out)


def test_the_project_validates_and_every_guid_it_names_exists(cast, project):
    archive = export(cast)
    document = etree.fromstring(archive.read("project.qde"))
    project_schema = schema("Project.xsd")
    assert project_schema.validate(document), project_schema.error_log
    defined = {node.get("guid") for node in document.iter() if node.get("guid")}
    for attribute in ("targetGUID", "originGUID", "creatingUser"):
        for node in document.iter():
            if node.get(attribute):
                assert node.get(attribute) in defined, (node.tag, attribute)
    for source in document.iterfind(".//q:TextSource", NS):
        path = source.get("plainTextPath")
        assert path == f"internal://{source.get('guid')}.txt"
        assert f"sources/{source.get('guid')}.txt" in archive.namelist()
    assert "code points" in document.findtext("q:Description", namespaces=NS)


def test_selections_hold_their_words_in_the_exported_text(cast, project):
    archive = export(cast)
    document = etree.fromstring(archive.read("project.qde"))
    (source,) = document.iterfind(".//q:TextSource", NS)
    text = archive.read(f"sources/{source.get('guid')}.txt").decode("utf-8")
    # NFC with LF line ends, as the description says.
    assert "\r" not in text and unicodedata.is_normalized("NFC", text)
    quotes = {}
    for selection in source.iterfind("q:PlainTextSelection", NS):
        start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
        quotes[selection.get("name")] = text[start:end]
    assert set(quotes.values()) == {
        "Chain takfir spread among the groups",
        unicodedata.normalize("NFC", "al-Su\u0304ri\u0304 in his call"),
    }


def test_codings_and_links_carry_concepts_claims_stances_and_people(cast, project):
    document = etree.fromstring(export(cast).read("project.qde"))
    codes = {
        code.get("guid"): code.get("name") for code in document.iter(f"{{{refi.PROJECT_NS}}}Code")
    }
    approved = refi.guid(cast.project, "annotation", project["approved"].pk)
    selection = document.find(f".//q:PlainTextSelection[@guid='{approved}']", NS)
    assert selection.findtext("q:Description", namespaces=NS) == "Why it *matters*."
    coded = {codes[ref.get("targetGUID")] for ref in selection.iterfind(".//q:CodeRef", NS)}
    assert coded == {"Isolation", "Takfir spreads between groups", "Abu Musab al-Suri"}
    links = {
        (link.get("name"), codes[link.get("targetGUID")])
        for link in document.iterfind(".//q:Link", NS)
        if link.get("originGUID") == approved
    }
    assert links == {
        ("supports", "Takfir spreads between groups"),
        ("mentioning", "Abu Musab al-Suri"),
    }
    # The concepts keep their hierarchy under a group that is not codable.
    group = document.find(".//q:Code[@name='Concepts']", NS)
    assert group.get("isCodable") == "false"
    assert (
        group.find("q:Code[@name='Isolation']/q:Code[@name='Physical isolation']", NS) is not None
    )


def test_a_second_export_names_everything_as_the_first(cast, project):
    assert export(cast).read("project.qde") == export(cast).read("project.qde")


def test_a_students_export_holds_approved_work_only(cast, project):
    document = etree.fromstring(export(cast, "student").read("project.qde"))
    names = [s.get("guid") for s in document.iterfind(".//q:PlainTextSelection", NS)]
    assert names == [refi.guid(cast.project, "annotation", project["approved"].pk)]
    codes = {code.get("name") for code in document.iter(f"{{{refi.PROJECT_NS}}}Code")}
    assert "Takfir spreads between groups" in codes
    assert "Only a draft argues this" not in codes


def test_the_codebook_validates(cast, project, client_for):
    response = client_for(cast.student).get(f"/p/{cast.project.slug}/export/codebook.qdc")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('filename="review-codebook.qdc"')
    document = etree.fromstring(b"".join(response.streaming_content))
    codebook_schema = schema("Codebook.xsd")
    assert codebook_schema.validate(document), codebook_schema.error_log
    names = {code.get("name") for code in document.iter(f"{{{refi.CODEBOOK_NS}}}Code")}
    assert {"Isolation", "Physical isolation", "Takfir spreads between groups"} <= names
    assert "Only a draft argues this" not in names
    colours = {
        code.get("name"): code.get("color") for code in document.iter(f"{{{refi.CODEBOOK_NS}}}Code")
    }
    assert colours["Isolation"] == "#aa3300" and colours["Physical isolation"] is None


def test_the_project_is_prepared_by_a_job_and_downloaded(cast, project, client_for):
    client = client_for(cast.student)
    response = client.post(f"/p/{cast.project.slug}/export/project.qdpx")
    assert response.status_code == 302
    job = Job.objects.get(kind="qda.export")
    assert job.state == "succeeded", job.error
    assert "1 passages" in job.summary or "1 passage" in job.summary
    page = client.get(response.url)
    assert page.status_code == 200
    download = client.get(f"{response.url}download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert "project.qde" in archive.namelist()
    assert client.get(f"/p/{cast.project.slug}/export/project.qdpx").status_code == 405


def test_the_commands_write_both_files(cast, project, tmp_path):
    out = io.StringIO()
    call_command("export_qdpx", project=cast.project.slug, output=tmp_path / "p.qdpx", stdout=out)
    assert "2 passages" in out.getvalue()
    assert schema("Project.xsd").validate(
        etree.fromstring(zipfile.ZipFile(tmp_path / "p.qdpx").read("project.qde"))
    )
    call_command("export_qdc", project=cast.project.slug, output=tmp_path / "c.qdc", stderr=out)
    assert schema("Codebook.xsd").validate(etree.parse(str(tmp_path / "c.qdc")))
    with pytest.raises(Exception, match="No project"):
        call_command("export_qdpx", project="nope", output=tmp_path / "x.qdpx")


def test_characters_xml_cannot_carry_are_replaced_not_a_broken_file(cast, project):
    project["approved"].note = "Form\x0cfeed and \x01 control."
    project["approved"].save()
    document = etree.fromstring(export(cast).read("project.qde"))
    assert schema("Project.xsd").validate(document)


def test_positions_move_with_the_text_only_where_it_changed():
    stored = "ab\r\ncd\u0065\u0301f\r\ng"  # CR LF twice, and e + combining acute
    exported = refi.ExportedText(stored)
    assert exported.text == "ab\ncd\u00e9f\ng"
    for word in ("ab", "cd", "f", "g"):
        start = stored.index(word)
        moved = exported.position(start)
        assert exported.text[moved : moved + len(word)] == word, word
    # A position inside a changed place goes to its start; the end of the text to the end.
    assert exported.position(stored.index("\u0301")) == exported.text.index("\u00e9")
    assert exported.position(len(stored)) == len(exported.text)
    # A text with nothing to change maps to itself, remembering nothing.
    plain = refi.ExportedText("plain\ntext")
    assert plain.position(7) == 7 and plain._changes == []


def test_the_codebook_takes_the_same_queries_with_ten_times_the_data(cast, assert_constant_queries):
    # session, user, membership + project, concepts, claims, people
    assert_constant_queries(cast.student, lambda: f"/p/{cast.project.slug}/export/codebook.qdc", 6)
