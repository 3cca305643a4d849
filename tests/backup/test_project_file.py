"""Whole-project export and import: the seed review survives it byte for byte, on SQLite and
PostgreSQL and between them; no field of a model is forgotten; files of earlier versions are
still read; bad files change nothing."""

import dataclasses
import hashlib
import io
import json
import os
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from apps.accounts.models import Membership, Project, User
from apps.annotations.anchoring import replace_text
from apps.annotations.models import (
    AnchorState,
    Annotation,
    AnnotationRevision,
    ReviewAction,
    ReviewEvent,
    Status,
)
from apps.backup import project_file
from apps.claims.models import Claim
from apps.demo.seed import load_seed_review
from apps.library.models import Source, SourceText
from apps.people.models import NameVariant, Person
from tests import factories

SLUG = "takfiri-isolationism"
DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def uploads_in_a_temporary_folder(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def export(slug: str = SLUG) -> str:
    out = StringIO()
    call_command("export_project", slug, stdout=out)
    return out.getvalue()


def import_text(text: str | bytes, slug: str | None = None) -> Project:
    data = text.encode() if isinstance(text, str) else text
    return project_file.import_project(io.BytesIO(data), slug=slug)


def import_data(data: dict, slug: str | None = None) -> Project:
    """A file as another program might lay it out (any JSON, not one row per line)."""
    return import_text(json.dumps(data, indent=2), slug=slug)


def empty_the_database() -> None:
    Project.objects.all().delete()
    User.objects.all().delete()


def derived_state(slug: str) -> dict:
    """What the import computes rather than reads: it must be what saving the rows gives."""
    return {
        "people": sorted(
            Person.objects.filter(project__slug=slug).values_list(
                "display_name", "search_key", "match_key", "sort_key"
            )
        ),
        "variants": sorted(
            NameVariant.objects.filter(person__project__slug=slug).values_list(
                "name", "search_key", "match_key"
            )
        ),
        "claims": sorted(
            Claim.objects.filter(project__slug=slug).values_list("statement", "approved_evidence")
        ),
        "notes": sorted(
            Annotation.objects.filter(project__slug=slug).values_list("note", "note_html")
        ),
    }


def test_the_seed_review_survives_export_and_import_into_an_empty_database(db, tmp_path):
    load_seed_review()
    # Some state the seed does not have: a member who saw their decisions, name parts.
    membership = Membership.objects.get(project__slug=SLUG, user__username="analyst")
    membership.mark_decisions_seen()
    for person in Person.objects.filter(project__slug=SLUG):
        # Saved, not updated: the sort key is derived from the particles too.
        person.non_dropping_particle, person.dropping_particle, person.suffix = "al-", "ibn", "Jr."
        person.save()
    # Version 4: a project allowing self-approval, and a self-approval in the ledger.
    Project.objects.filter(slug=SLUG).update(allow_self_approval=True)
    approved = Annotation.objects.filter(project__slug=SLUG, status=Status.APPROVED).first()
    ReviewEvent.objects.create(
        annotation=approved,
        actor=approved.author,
        action=ReviewAction.APPROVE,
        from_status=Status.SUBMITTED,
        to_status=Status.APPROVED,
        annotation_version=approved.version,
        self_approval=True,
    )
    first = export()
    data = json.loads(first)
    assert data["format"] == "citemap-project" and data["version"] == 6
    assert data["project"]["allow_self_approval"] is True
    flags = [e["self_approval"] for a in data["annotations"] for e in a["review_events"]]
    assert flags.count(True) == 1 and flags.count(False) > 1
    counts = {kind: len(data[kind]) for kind in ("sources", "people", "claims", "annotations")}
    assert min(counts.values()) > 1
    assert {(p["non_dropping_particle"], p["suffix"]) for p in data["people"]} == {("al-", "Jr.")}
    events = ReviewEvent.objects.filter(annotation__project__slug=SLUG).count()
    revisions = AnnotationRevision.objects.filter(annotation__project__slug=SLUG).count()
    derived = derived_state(SLUG)
    path = tmp_path / "seed.json"
    path.write_text(first, encoding="utf-8")

    empty_the_database()
    out = StringIO()
    call_command("import_project", str(path), stdout=out)
    assert "Imported “takfiri-isolationism”" in out.getvalue()
    assert f"{counts['annotations']:,} annotations" in out.getvalue()
    assert export() == first
    assert ReviewEvent.objects.filter(annotation__project__slug=SLUG).count() == events
    assert AnnotationRevision.objects.filter(annotation__project__slug=SLUG).count() == revisions
    assert derived_state(SLUG) == derived
    # Users that did not exist come without a usable password.
    assert not User.objects.get(username="student").has_usable_password()


def test_the_file_has_one_row_per_line(db):
    load_seed_review()
    lines = export().splitlines()
    assert lines[:3] == ["{", '"format": "citemap-project",', '"version": 6,']
    start = lines.index('"people": [')
    end = lines.index("],", start)
    people = [json.loads(line.removesuffix(",")) for line in lines[start + 1 : end]]
    assert len(people) == Person.objects.count()
    assert [p["id"] for p in people] == list(range(1, len(people) + 1))


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
    # A passage given a place that was never checked against the text stays unplaced.
    unchecked = factories.make_annotation(
        Source.objects.get(citation_key="two-versions"),
        User.objects.get(username="analyst"),
        quote="A new opening",
        start=0,
        end=13,
    )
    before = reader_state(SLUG)
    states = {quote: state for quote, *_, state, _, _ in before["anchors"]}
    assert states["Withdrawal from society"] == AnchorState.MOVED
    assert states["spread among the groups that stayed"] == AnchorState.FUZZY
    assert states["ends here"] == AnchorState.ORPHANED
    assert states[unchecked.quote] == AnchorState.UNPLACED
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
    saved = []

    def save_a_third_version_meanwhile(*args, **kwargs):
        # Another request, on its own connection, while the export reads.
        def correct():
            replace_text(source, SECOND + " More.", by=analyst, origin="pasted")
            connection.close()

        if not saved:
            writer = threading.Thread(target=correct)
            writer.start()
            writer.join()
            saved.append(True)
        return read_texts(*args, **kwargs)

    chunks = project_file.iter_project_file(Project.objects.get(slug=SLUG))
    head = next(chunks)  # the export's snapshot is taken
    monkeypatch.setattr(SourceText.objects, "filter", save_a_third_version_meanwhile)
    text = head + "".join(chunks)
    monkeypatch.undo()
    assert SourceText.objects.filter(source=source).count() == 3
    data = json.loads(text)
    [exported] = [s for s in data["sources"] if s["citation_key"] == "two-versions"]
    assert exported["text_version"] == 2 and exported["full_text"] == SECOND
    assert [t["version"] for t in exported["texts"]] == [1, 2]
    copy = import_text(text, slug="copy")
    assert copy.sources.get(citation_key="two-versions").texts.count() == 2


def test_a_version_2_file_made_by_the_previous_export_is_read(db):
    """tests/backup/data/seed-review-v2.json was written by the version 2 export (Citemap at
    e57d2ce) from the seed review with a source read in two versions."""
    reference = json.loads((DATA / "seed-review-v2.json").read_text(encoding="utf-8"))
    project = import_text((DATA / "seed-review-v2.json").read_bytes())

    again = json.loads(export(project.slug))
    assert again["version"] == 6
    # Fields added since are the model's defaults: no self-approval in the ledger.
    added = [e.pop("self_approval") for a in again["annotations"] for e in a["review_events"]]
    assert added and not any(added)
    # Everything version 2 wrote comes back, in the order it was written; new fields are empty.
    for kind in ("memberships", "people", "sources", "concepts", "claims", "annotations"):
        assert len(again[kind]) == len(reference[kind])
        for old, new in zip(reference[kind], again[kind], strict=True):
            assert {key: new[key] for key in old} == old
    assert {(p["dropping_particle"], p["suffix"]) for p in again["people"]} == {("", "")}
    assert {key: again["project"][key] for key in reference["project"]} == reference["project"]
    assert again["project"]["allow_self_approval"] is False
    assert again["users"] == reference["users"]
    states = {a["quote"]: a["anchor_state"] for a in again["annotations"]}
    assert states["ends here"] == AnchorState.ORPHANED


def test_a_version_1_file_is_still_read(db):
    data = json.loads((DATA / "seed-review-v2.json").read_text(encoding="utf-8"))
    data["version"] = 1
    for source in data["sources"]:
        del source["texts"], source["text_version"]
    for annotation in data["annotations"]:
        for name in project_file.ANCHOR_STATE_FIELDS:
            del annotation[name]
    import_data(data, slug="old")
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
        import_data(data, slug="copy")
    assert not Project.objects.filter(slug="copy").exists()


def test_a_project_is_imported_beside_the_original_under_another_address(db):
    load_seed_review()
    first = export()
    copy = import_text(first, slug="copy")
    again = export("copy")
    assert again.replace('"slug": "copy"', f'"slug": "{SLUG}"', 1) == first
    assert Annotation.objects.filter(project=copy).count() == len(json.loads(first)["annotations"])


def test_any_json_layout_is_read_and_gives_the_same_project(db):
    load_seed_review()
    first = export()
    import_data(json.loads(first), slug="pretty")
    assert export("pretty").replace('"slug": "pretty"', f'"slug": "{SLUG}"', 1) == first


def test_a_streamed_export_equals_one_written_in_a_single_batch(db, monkeypatch):
    """Batches of three rows (sources one at a time) give the bytes of one batch of all."""
    seed_with_text_versions()
    whole = export()
    monkeypatch.setattr(project_file, "BATCH", 3)
    monkeypatch.setattr(project_file, "SOURCE_BATCH", 1)
    chunks = list(project_file.iter_project_file(Project.objects.get(slug=SLUG)))
    assert len(chunks) > len(json.loads(whole)["annotations"]) / 3
    assert "".join(chunks) == whole
    # And read back in batches just as small.
    import_text(whole, slug="small-batches")
    assert export("small-batches").replace('"slug": "small-batches"', f'"slug": "{SLUG}"', 1) == (
        whole
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "The file is empty"),
        (b"\xff\xfe\x00binary", "not valid JSON"),
        (b"{nope", "not valid JSON"),
        (b"[]", "not a Citemap project file"),
        (b'{"format": "citemap-project", "version": 99}', "format version 99"),
        (b'{"format": "citemap-project", "version": 1, "project": {}}', "incomplete or damaged"),
        (b'{"format": "citemap-project", "version": 3}', "holds no “project”"),
        (
            b'{\n"format": "citemap-project",\n"version": 3,\n"project": {"slug": "x"',
            "damaged at line 4",
        ),
        (b'{\n"format": "citemap-project",\n"version": 3,\n', "cut short"),
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
        import_data(data, slug="copy")
    assert not Project.objects.filter(slug="copy").exists()


# --- Every field travels ----------------------------------------------------------------------


def uncovered(tables: list) -> list[str]:
    """Fields of the project's models that no table writes, derives or excludes, and models
    that are neither in a table nor said to stay out of the file."""
    by_model = {table.model: table for table in tables}
    problems = []
    for model in [*apps.get_models(), *(t.model for t in tables if t.model._meta.auto_created)]:
        label = model._meta.label
        table = by_model.get(model)
        if table is None:
            if label not in project_file.NOT_IN_THE_FILE:
                problems.append(f"{label}: in no table")
            continue
        fields = {
            f.name
            for f in model._meta.get_fields()
            if f.concrete or (f.many_to_many and not f.auto_created)
        }
        accounted = table.field_names() | set(table.derived) | set(table.excluded)
        problems += [f"{label}.{name}" for name in sorted(fields - accounted)]
        problems += [f"{label}.{name}: no such field" for name in sorted(accounted - fields)]
    return problems


def test_every_field_of_every_model_is_in_the_file_derived_or_excluded():
    assert uncovered(project_file.TABLES) == []


def test_a_field_left_out_of_its_table_is_reported():
    columns = [c for c in project_file.PEOPLE.columns if c.field != "suffix"]
    without = dataclasses.replace(project_file.PEOPLE, columns=columns)
    tables = [without if t is project_file.PEOPLE else t for t in project_file.TABLES]
    assert uncovered(tables) == ["people.Person.suffix"]


# --- Between SQLite and PostgreSQL ------------------------------------------------------------


def manage(database_url: str, *arguments: str, output: Path | None = None) -> str:
    environment = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (the suite runs there too)"
)
def test_a_file_goes_from_postgresql_to_sqlite_and_back_unchanged(db, tmp_path):
    seed_with_text_versions()
    Person.objects.filter(project__slug=SLUG, family__gt="").update(suffix="Jr.")
    from_postgresql = export()
    path = tmp_path / "from-postgresql.json"
    path.write_text(from_postgresql, encoding="utf-8")

    sqlite = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    manage(sqlite, "migrate", "--no-input", "-v", "0")
    manage(sqlite, "import_project", str(path))
    from_sqlite = manage(sqlite, "export_project", SLUG)
    assert from_sqlite == from_postgresql

    import_text(from_sqlite, slug="back")
    assert export("back").replace('"slug": "back"', f'"slug": "{SLUG}"', 1) == from_postgresql
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


# --- The backup page --------------------------------------------------------------------------


def test_supervisors_export_and_import_whole_projects_from_the_backup_page(cast, client_for):
    factories.make_source(cast.project, "Kept through the round trip")
    supervisor = client_for(cast.supervisor)
    page = supervisor.get("/p/review/export/")
    assert 'href="/p/review/export/project/"' in page.text
    backup = supervisor.get("/p/review/export/project/")
    assert 'href="/p/review/export/project.json"' in backup.text
    download = supervisor.get("/p/review/export/project.json")
    assert download["Content-Disposition"] == 'attachment; filename="review-project.json"'
    assert download.streaming
    content = b"".join(download.streaming_content)
    upload = supervisor.post(
        "/p/review/export/project/",
        {"file": SimpleUploadedFile("p.json", content), "slug": "restored"},
    )
    assert upload.status_code == 302
    preview = supervisor.get(upload.url)
    assert "/p/restored/" in preview.text and not Project.objects.filter(slug="restored").exists()
    assert "<dt>Sources</dt><dd>1</dd>" in preview.text
    done = supervisor.post(upload.url)
    assert done.status_code == 302 and done.url == "/p/restored/"
    restored = Project.objects.get(slug="restored")
    assert restored.sources.get().title == "Kept through the round trip"
    assert restored.memberships.count() == 4
    # The upload waited on disk and is gone once imported.
    assert not list((Path(settings.DATA_DIR) / "uploads").glob("*.json"))

    for user in (cast.analyst, cast.student):
        client = client_for(user)
        assert "/p/review/export/project/" not in client.get("/p/review/export/").text
        assert client.get("/p/review/export/project/").status_code == 403
        assert client.get("/p/review/export/project.json").status_code == 403
        refused = client.post(
            "/p/review/export/project/",
            {"file": SimpleUploadedFile("p.json", content), "slug": "other"},
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
    assert not list((Path(settings.DATA_DIR) / "uploads").glob("*.json"))


# --- Many downloads at once, and one given up ---------------------------------------------------


def test_many_simultaneous_downloads_wait_their_turn(cast, client_for):
    factories.make_source(cast.project, "A source")
    supervisor = client_for(cast.supervisor)
    url = "/p/review/export/project.json"
    started = [supervisor.get(url) for _ in range(2)]
    assert all(r.status_code == 200 for r in started)

    refused = supervisor.get(url)
    assert refused.status_code == 503 and refused["Retry-After"] == "60"
    assert "being written right now; try again in a minute" in refused.content.decode()

    # One finishes (read to its end), and the next may start.
    json.loads(b"".join(started[0].streaming_content))
    assert supervisor.get(url).status_code == 200


def test_a_client_that_goes_away_mid_download_frees_its_place_and_changes_nothing(cast, client_for):
    for number in range(5):
        factories.make_source(cast.project, f"Source {number}")
    supervisor = client_for(cast.supervisor)
    url = "/p/review/export/project.json"
    responses = [supervisor.get(url) for _ in range(2)]
    for response in responses:
        next(iter(response.streaming_content))  # the first bytes reached the client
        factories.close_response(response)  # what the server does when the client disconnects
    done = supervisor.get(url)
    assert done.status_code == 200
    assert len(json.loads(b"".join(done.streaming_content))["sources"]) == 5


# --- Large projects: background jobs ----------------------------------------------------------


def job_file(client, job) -> bytes:
    download = client.get(f"/p/{job.project.slug}/jobs/{job.token}/download/")
    assert download.status_code == 200
    return b"".join(download.streaming_content) if download.streaming else download.content


def test_a_large_projects_file_is_written_by_a_job(cast, client_for, monkeypatch):
    from apps.backup import views
    from apps.jobs.models import Job, JobState

    source = factories.make_source(cast.project, "Kept")
    factories.make_annotation(source, cast.analyst, quote="One passage.")
    supervisor = client_for(cast.supervisor)
    direct = b"".join(supervisor.get("/p/review/export/project.json").streaming_content)
    monkeypatch.setattr(views, "DIRECT_LIMIT", 0)

    refused = supervisor.get("/p/review/export/project.json")
    assert refused.status_code == 302 and refused.url == "/p/review/export/project/"
    page = supervisor.get(refused.url)
    assert "its file is prepared in the background" in page.text  # the message
    assert "Prepare the project file (JSON)" in page.text and 'method="post"' in page.text

    started = supervisor.post("/p/review/export/project.json")
    job = Job.objects.get(kind="backup.export")
    assert started.url == f"/p/review/jobs/{job.token}/"
    assert job.state == JobState.SUCCEEDED
    assert job.summary.endswith(" KB): 1 source, 1 annotation.")
    assert job_file(supervisor, job) == direct


def test_a_large_file_is_imported_by_a_job(cast, client_for, monkeypatch):
    from apps.backup import views
    from apps.jobs.models import Job, JobState

    factories.make_source(cast.project, "Kept through the job")
    supervisor = client_for(cast.supervisor)
    content = b"".join(supervisor.get("/p/review/export/project.json").streaming_content)
    monkeypatch.setattr(views, "IMPORT_IN_REQUEST_BYTES", 10)
    upload = supervisor.post(
        "/p/review/export/project/",
        {"file": SimpleUploadedFile("p.json", content), "slug": "restored"},
    )
    confirmed = supervisor.post(upload.url)
    job = Job.objects.get(kind="backup.import")
    assert confirmed.url == f"/p/review/jobs/{job.token}/"
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.summary == "Imported the project “A review” at /p/restored/."
    assert job.next_url == "/p/restored/"
    assert Project.objects.get(slug="restored").sources.get().title == "Kept through the job"
    assert supervisor.get(job.next_url).status_code == 200
    # The upload is gone from the disk, and the preview says it was imported.
    assert not list((Path(settings.DATA_DIR) / "uploads").glob("*.json"))
    assert "Imported by a background job" in supervisor.get(upload.url).text


def test_a_job_that_imports_a_damaged_file_fails_with_the_reason_and_keeps_nothing(
    cast, client_for, monkeypatch
):
    from apps.backup import views
    from apps.jobs.models import Job, JobState

    supervisor = client_for(cast.supervisor)
    data = json.loads(b"".join(supervisor.get("/p/review/export/project.json").streaming_content))
    data["annotations"] = [{"id": 1, "source": 99}]
    monkeypatch.setattr(views, "IMPORT_IN_REQUEST_BYTES", 10)
    upload = supervisor.post(
        "/p/review/export/project/",
        {"file": SimpleUploadedFile("p.json", json.dumps(data).encode()), "slug": "broken"},
    )
    supervisor.post(upload.url)
    job = Job.objects.get(kind="backup.import")
    assert job.state == JobState.FAILED
    assert job.error == "The file refers to source 99, which it does not hold."
    assert not Project.objects.filter(slug="broken").exists()
    page = supervisor.get(f"/p/review/jobs/{job.token}/")
    assert "The file refers to source 99, which it does not hold." in page.text


# --- Larger than the memory it may use --------------------------------------------------------


# What a streamed project file may hold at once in these tests, with batches of 25 rows.
BUDGET = 1_500_000


def test_a_project_larger_than_its_memory_budget_streams_the_reference_file(
    cast, grow, monkeypatch
):
    """The file is larger than the memory the export may use, and is the one written in a
    single batch of everything."""
    grow(120)  # 120 sources, about 1,200 annotations with their links, history and revisions
    project = Project.objects.get(pk=cast.project.pk)
    monkeypatch.setattr(project_file, "BATCH", 10**6)
    monkeypatch.setattr(project_file, "SOURCE_BATCH", 10**6)
    reference = "".join(project_file.iter_project_file(project)).encode()
    monkeypatch.setattr(project_file, "BATCH", 25)
    monkeypatch.setattr(project_file, "SOURCE_BATCH", 5)
    digest, size, peak = factories.streamed(project_file.iter_project_file(project))
    assert (digest, size) == (hashlib.sha256(reference).hexdigest(), len(reference))
    assert peak < BUDGET < size
