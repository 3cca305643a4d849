"""Whole-project export and import: the seed review survives it unchanged, and bad files
change nothing."""

import json
import threading
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from apps.accounts.models import Membership, Project, User
from apps.annotations.anchoring import replace_text
from apps.annotations.models import (
    AnchorState,
    Annotation,
    AnnotationRevision,
    ReviewEvent,
    Status,
)
from apps.backup import project_file
from apps.claims.models import Claim
from apps.demo.seed import load_seed_review
from apps.library.models import Source, SourceText
from tests import factories

SLUG = "takfiri-isolationism"


def export(slug: str = SLUG) -> str:
    out = StringIO()
    call_command("export_project", slug, stdout=out)
    return out.getvalue()


def empty_the_database() -> None:
    Project.objects.all().delete()
    User.objects.all().delete()


def test_the_seed_review_survives_export_and_import_into_an_empty_database(db, tmp_path):
    load_seed_review()
    # Some state the seed does not have: a member who saw their decisions, an extra field.
    membership = Membership.objects.get(project__slug=SLUG, user__username="analyst")
    membership.mark_decisions_seen()
    first = export()
    data = json.loads(first)
    assert data["format"] == "citemap-project" and data["version"] == 2
    counts = {kind: len(data[kind]) for kind in ("sources", "people", "claims", "annotations")}
    assert min(counts.values()) > 1
    events = ReviewEvent.objects.filter(annotation__project__slug=SLUG).count()
    revisions = AnnotationRevision.objects.filter(annotation__project__slug=SLUG).count()
    evidence_counts = dict(
        Claim.objects.filter(project__slug=SLUG).values_list("statement", "approved_evidence")
    )
    path = tmp_path / "seed.json"
    path.write_text(first, encoding="utf-8")

    empty_the_database()
    out = StringIO()
    call_command("import_project", str(path), stdout=out)
    assert "Imported “takfiri-isolationism”" in out.getvalue()
    assert export() == first
    assert ReviewEvent.objects.filter(annotation__project__slug=SLUG).count() == events
    assert AnnotationRevision.objects.filter(annotation__project__slug=SLUG).count() == revisions
    assert (
        dict(Claim.objects.filter(project__slug=SLUG).values_list("statement", "approved_evidence"))
        == evidence_counts
    )
    # Users that did not exist come without a usable password.
    assert not User.objects.get(username="student").has_usable_password()


FIRST = (
    "Withdrawal from society is old.\n\nChain takfir spread among the groups that stayed.\n\n"
    "It ends here."
)
# A paragraph before the passages moves them; a word changed makes one fuzzy; one is deleted.
SECOND = (
    "A new opening paragraph.\n\nWithdrawal from society is old.\n\n"
    "Chain takfir spread among the cells that stayed."
)


def reader_state(slug: str) -> dict:
    """Text versions and passages' anchors of a project, by citation key and quote."""
    return {
        "texts": sorted(
            SourceText.objects.filter(source__project__slug=slug).values_list(
                "source__citation_key", "version", "text", "pages", "origin", "comment",
                "created_by__username",
            )
        ),
        "sources": sorted(
            Source.objects.filter(project__slug=slug)
            .exclude(full_text="")
            .values_list("citation_key", "text_version", "full_text")
        ),
        "anchors": sorted(
            Annotation.objects.filter(project__slug=slug).values_list(
                "quote", "start", "end", "anchor_state", "anchor_score", "anchored_version"
            ),
            key=str,
        ),
    }  # fmt: skip


def seed_with_text_versions() -> None:
    """The seed review, with one source read in two versions and its passages re-anchored."""
    project = load_seed_review().project
    analyst = User.objects.get(username="analyst")
    source = factories.make_source(project, "Two versions", citation_key="two-versions")
    replace_text(
        source, FIRST, by=analyst, origin="pdf", pages=[[0, "15"], [34, "16"]], filename="a.pdf"
    )
    for quote in ("Withdrawal from society", "spread among the groups that stayed", "ends here"):
        annotation = factories.make_annotation(
            source, analyst, status=Status.APPROVED,
            reviewer=User.objects.get(username="supervisor"), quote=quote,
        )  # fmt: skip
        annotation.anchor_in(source.full_text, source.text_version)
        annotation.save()
    replace_text(source, SECOND, by=analyst, origin="pasted", comment="fixed a word")


def test_text_versions_and_anchor_states_survive_export_and_import(db, tmp_path):
    seed_with_text_versions()
    before = reader_state(SLUG)
    states = {quote: state for quote, *_, state, _, _ in before["anchors"]}
    assert states["Withdrawal from society"] == AnchorState.MOVED
    assert states["spread among the groups that stayed"] == AnchorState.FUZZY
    assert states["ends here"] == AnchorState.ORPHANED
    first = export()
    data = json.loads(first)
    [source] = [s for s in data["sources"] if s["citation_key"] == "two-versions"]
    assert source["text_version"] == 2
    assert [t["version"] for t in source["texts"]] == [1, 2]
    # The newest version's words are the source's full text, written once.
    assert source["texts"][0]["text"] == FIRST and "text" not in source["texts"][1]
    assert source["full_text"] == SECOND
    path = tmp_path / "project.json"
    path.write_text(first, encoding="utf-8")

    empty_the_database()
    call_command("import_project", str(path), stdout=StringIO())
    assert reader_state(SLUG) == before
    assert export() == first


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="one snapshot per export is PostgreSQL's"
)
def test_a_text_saved_during_an_export_is_wholly_out_of_the_file(transactional_db, monkeypatch):
    seed_with_text_versions()
    analyst = User.objects.get(username="analyst")
    source = Source.objects.get(citation_key="two-versions")
    read_texts = SourceText.objects.filter

    def save_a_third_version_meanwhile(*args, **kwargs):
        # Another request, on its own connection, while the export has read the sources.
        def correct():
            replace_text(source, SECOND + " More.", by=analyst, origin="pasted")
            connection.close()

        writer = threading.Thread(target=correct)
        writer.start()
        writer.join()
        return read_texts(*args, **kwargs)

    monkeypatch.setattr(SourceText.objects, "filter", save_a_third_version_meanwhile)
    data = project_file.export_project(Project.objects.get(slug=SLUG))
    monkeypatch.undo()
    assert SourceText.objects.filter(source=source).count() == 3
    [exported] = [s for s in data["sources"] if s["citation_key"] == "two-versions"]
    assert exported["text_version"] == 2 and exported["full_text"] == SECOND
    assert [t["version"] for t in exported["texts"]] == [1, 2]
    copy = project_file.import_project(data, slug="copy")
    assert copy.sources.get(citation_key="two-versions").texts.count() == 2


def test_a_version_1_file_is_still_read(db):
    seed_with_text_versions()
    data = json.loads(export())
    data["version"] = 1
    for source in data["sources"]:
        del source["texts"], source["text_version"]
    for annotation in data["annotations"]:
        for name in project_file.ANCHOR_STATE_FIELDS:
            del annotation[name]
    project_file.import_project(data, slug="old")
    # Texts come as their version 1; passages with a place in them are exact there.
    copy = Source.objects.get(project__slug="old", citation_key="two-versions")
    assert copy.text_version == 1 and copy.texts.get().text == SECOND
    assert {a.anchor_state for a in copy.annotations.all()} == {
        AnchorState.EXACT,
        AnchorState.UNPLACED,  # the orphan has no place
    }


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda s: s.update(text_version=5), "says its text is version 5"),
        (lambda s: s["texts"].append(dict(s["texts"][0])), "refused a row"),
        (lambda s: s["texts"][0].pop("text"), "incomplete or damaged"),
        (lambda s: s["texts"][0].update(version="two"), "incomplete or damaged"),
    ],
)
def test_damaged_text_versions_are_refused_and_nothing_is_written(db, damage, problem):
    seed_with_text_versions()
    data = json.loads(export())
    damage(next(s for s in data["sources"] if s["citation_key"] == "two-versions"))
    with pytest.raises(project_file.ProjectFileError, match=problem):
        project_file.import_project(data, slug="copy")
    assert not Project.objects.filter(slug="copy").exists()


def test_a_project_is_imported_beside_the_original_under_another_address(db):
    load_seed_review()
    first = json.loads(export())
    copy = project_file.import_project(first, slug="copy")
    again = json.loads(export("copy"))
    again["project"]["slug"] = SLUG
    assert again == first
    assert Annotation.objects.filter(project=copy).count() == len(first["annotations"])


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "The file is empty"),
        (b"\xff\xfe\x00binary", "not UTF-8"),
        (b"{nope", "not valid JSON"),
        (b"[]", "not a Citemap project file"),
        (b'{"format": "citemap-project", "version": 99}', "format version 99"),
        (b'{"format": "citemap-project", "version": 1, "project": {}}', "incomplete or damaged"),
    ],
)
def test_wrong_files_get_a_clear_message_and_write_nothing(db, tmp_path, content, problem):
    path = tmp_path / "wrong.json"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=problem):
        call_command("import_project", str(path), stdout=StringIO())
    assert not Project.objects.exists() and not User.objects.exists()


def test_a_slug_that_exists_is_refused_and_nothing_is_written(db, tmp_path):
    load_seed_review()
    path = tmp_path / "seed.json"
    path.write_text(export(), encoding="utf-8")
    users = User.objects.count()
    with pytest.raises(CommandError, match="exists already"):
        call_command("import_project", str(path), stdout=StringIO())
    assert Project.objects.count() == 1 and User.objects.count() == users


def test_a_damaged_reference_rolls_the_whole_import_back(db):
    load_seed_review()
    data = json.loads(export())
    data["annotations"][-1]["evidence"].append({"claim": 9999, "stance": "supports"})
    with pytest.raises(project_file.ProjectFileError, match="claim 9999"):
        project_file.import_project(data, slug="copy")
    assert not Project.objects.filter(slug="copy").exists()


def test_supervisors_export_and_import_whole_projects_from_the_backup_page(cast, client_for):
    factories.make_source(cast.project, "Kept through the round trip")
    supervisor = client_for(cast.supervisor)
    page = supervisor.get("/p/review/export/")
    assert 'href="/p/review/export/project/"' in page.text
    backup = supervisor.get("/p/review/export/project/")
    assert 'href="/p/review/export/project.json"' in backup.text
    download = supervisor.get("/p/review/export/project.json")
    assert download["Content-Disposition"] == 'attachment; filename="review-project.json"'
    upload = supervisor.post(
        "/p/review/export/project/",
        {"file": SimpleUploadedFile("p.json", download.content), "slug": "restored"},
    )
    assert upload.status_code == 302
    preview = supervisor.get(upload.url)
    assert "/p/restored/" in preview.text and not Project.objects.filter(slug="restored").exists()
    done = supervisor.post(upload.url)
    assert done.status_code == 302 and done.url == "/p/restored/"
    restored = Project.objects.get(slug="restored")
    assert restored.sources.get().title == "Kept through the round trip"
    assert restored.memberships.count() == 4

    for user in (cast.analyst, cast.student):
        client = client_for(user)
        assert "/p/review/export/project/" not in client.get("/p/review/export/").text
        assert client.get("/p/review/export/project/").status_code == 403
        assert client.get("/p/review/export/project.json").status_code == 403
        refused = client.post(
            "/p/review/export/project/",
            {"file": SimpleUploadedFile("p.json", download.content), "slug": "other"},
        )
        assert refused.status_code == 403
    assert not Project.objects.filter(slug="other").exists()


def test_the_export_page_refuses_wrong_project_files_with_a_message(cast, client_for):
    supervisor = client_for(cast.supervisor)
    bib = supervisor.post(
        "/p/review/export/project/",
        {"file": SimpleUploadedFile("refs.bib", b"@book{a, title={A}}")},
    )
    assert bib.status_code == 400 and "not a Citemap project file" in bib.text
    taken = supervisor.post(
        "/p/review/export/project/",
        {"file": SimpleUploadedFile("p.json", b"{}"), "slug": "elsewhere"},
    )
    assert taken.status_code == 400 and "exists already" in taken.text
    assert Project.objects.count() == 2
