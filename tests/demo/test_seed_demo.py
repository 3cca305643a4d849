import os
import re
import tomllib
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.accounts.models import Membership, Project, User
from apps.annotations.models import Annotation, ReviewEvent, Status
from apps.claims.models import Claim, ClaimRelation, Concept
from apps.demo.seed import CODING_START, SEED_FILE
from apps.library.models import Source
from apps.people.models import Person

SLUG = "takfiri-isolationism"
FIXTURE = tomllib.loads(SEED_FILE.read_text(encoding="utf-8"))


def seed_texts_dir() -> Path | None:
    """The seed articles live beside the project (shared/seeds/), not in it."""
    candidates = [
        os.environ.get("CITEMAP_SEED_TEXTS"),
        settings.BASE_DIR.parent / "shared" / "seeds",
    ]
    for candidate in candidates:
        if candidate and Path(candidate, FIXTURE["source"][0]["text_file"]).exists():
            return Path(candidate)
    return None


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def test_seed_demo_loads_the_review_and_prints_the_logins(db, debug):
    output = seed()
    project = Project.objects.get(slug=SLUG)
    for username in ("supervisor", "analyst", "analyst2", "student"):
        assert username in output
        assert User.objects.get(username=username).check_password("citemap-demo")
    assert "citemap-demo" in output
    roles = dict(Membership.objects.filter(project=project).values_list("user__username", "role"))
    assert roles == {
        "supervisor": "supervisor",
        "analyst": "analyst",
        "analyst2": "analyst",
        "student": "student",
    }
    assert Claim.objects.filter(project=project).count() >= 15
    assert ClaimRelation.objects.filter(source__project=project).count() >= 2
    assert Concept.objects.filter(project=project).count() >= 8
    annotations = Annotation.objects.filter(project=project)
    assert annotations.count() >= 30
    statuses = {status: annotations.filter(status=status).count() for status in Status.values}
    assert statuses["approved"] > statuses["submitted"] >= 1
    assert statuses["changes_requested"] >= 1


def test_the_seed_review_has_the_articles_and_the_people_they_cite(db, debug):
    seed()
    project = Project.objects.get(slug=SLUG)
    split = Source.objects.get(project=project, citation_key="mironova2017bloody")
    assert [c.person.display_name for c in split.contributors.order_by("position")] == [
        "Vera Mironova",
        "Ekaterina Sergatskova",
        "Karam Alhamad",
    ]
    assert (split.issued_year, split.issued_month, split.issued_day) == (2017, 12, 8)
    withdrawal = Source.objects.get(project=project, citation_key="faras2016withdrawal")
    assert withdrawal.contributors.get().person.kind == "organization"
    for title in (
        "Milestones",
        "In the Shade of the Qur'an",
        "The Management of Savagery",
        "The Global Islamic Resistance Call",
        "A Course in the Art of Recruitment",
        "Ignorance Is Not an Excuse in Islam",
    ):
        assert Source.objects.filter(
            project=project, title__icontains=title.removeprefix("The ")
        ).exists(), title
    cited = set(
        Person.objects.filter(project=project, mentions__isnull=False).values_list(
            "display_name", flat=True
        )
    )
    for name in (
        "Sayyid Qutb",
        "Shukri Mustafa",
        "Abu Bakr Naji",
        "Jeffrey Kaplan",
        "Abu Musab al-Suri",
        "Martha Crenshaw",
        "Tamara Makarenko",
        "Ahmad al-Hazimi",
        "Hilmi Hashimi",
    ):
        assert name in cited, name
    assert (
        Person.objects.filter(project=project).matching("as-Suri").get().display_name
        == "Abu Musab al-Suri"
    )


def test_every_review_status_has_the_ledger_that_led_to_it(db, debug):
    seed()
    for annotation in Annotation.objects.filter(project__slug=SLUG):
        events = list(annotation.review_events.all())
        if annotation.status == Status.DRAFT:
            # Only the double-coded round's drafts have events: withdrawn once compared,
            # which keeps their status.
            assert all(event.action == "withdraw" for event in events)
            continue
        assert events[0].action == "submit"
        assert events[-1].to_status == annotation.status
        if annotation.status == Status.CHANGES_REQUESTED:
            assert events[-1].reason and events[-1].comment


def test_running_it_again_changes_nothing(db, debug):
    seed()
    counts = (
        Annotation.objects.count(),
        ReviewEvent.objects.count(),
        Person.objects.count(),
        User.objects.count(),
    )
    output = seed()
    assert "nothing changed" in output
    assert counts == (
        Annotation.objects.count(),
        ReviewEvent.objects.count(),
        Person.objects.count(),
        User.objects.count(),
    )


def test_texts_given_later_are_added_to_the_existing_demo(db, debug, tmp_path):
    seed()
    entry = next(e for e in FIXTURE["source"] if e.get("text_file"))
    source = Source.objects.get(project__slug=SLUG, citation_key=entry["key"])
    assert source.full_text == ""
    (tmp_path / entry["text_file"]).write_text("A text given after the demo was loaded.\n")
    output = seed("--texts", str(tmp_path))
    assert "added the text of 1 source(s)" in output
    source.refresh_from_db()
    assert (source.full_text, source.text_version) == (
        "A text given after the demo was loaded.\n",
        1,
    )
    # Again: that text is there now, so nothing changes.
    assert "nothing changed" in seed("--texts", str(tmp_path))


def test_reset_reloads_the_project(db, debug):
    seed()
    Annotation.objects.filter(project__slug=SLUG).first().evidence.all().delete()
    seed("--reset")
    # The fixture's annotations, and those of its double-coded round (made after CODING_START).
    loaded = Annotation.objects.filter(project__slug=SLUG, created_at__lt=CODING_START)
    assert loaded.count() == len(FIXTURE["annotation"])
    assert Annotation.objects.filter(project__slug=SLUG).count() > loaded.count()


def test_it_refuses_to_run_with_debug_off_unless_forced(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        seed()
    assert not Project.objects.exists()
    seed("--force")
    assert Project.objects.filter(slug=SLUG).exists()


def test_a_missing_texts_folder_is_an_error(db, debug):
    with pytest.raises(CommandError, match="no such folder"):
        seed("--texts", "/nonexistent/folder")


def test_fixture_excerpts_are_well_formed():
    """Checks that hold without the seed texts: every excerpt's selectors fit together."""
    for entry in FIXTURE["annotation"]:
        assert entry["end"] - entry["start"] == len(entry["quote"]), entry["key"]
        assert 0 < len(entry["quote"]) <= 5000
        assert len(entry["prefix"]) <= 32 and len(entry["suffix"]) <= 32
        assert re.fullmatch(r"¶\d+", entry["locator"]), entry["key"]


def test_fixture_quotes_match_the_stored_source_texts(db, debug):
    texts = seed_texts_dir()
    if texts is None:
        pytest.skip("The seed articles (shared/seeds/) are not beside this checkout.")
    seed("--texts", str(texts))
    checked = coded = 0
    for annotation in Annotation.objects.filter(project__slug=SLUG).select_related("source"):
        text = annotation.source.full_text
        assert text, annotation.source.citation_key
        where = f"{annotation.source.citation_key} {annotation.locator}"
        assert text[annotation.start : annotation.end] == annotation.quote, where
        assert text[: annotation.start].endswith(annotation.prefix), where
        assert text[annotation.end :].startswith(annotation.suffix), where
        paragraphs = re.split(r"\n(?:[ \t]*\n)+", text)
        number = int(annotation.locator.removeprefix("¶"))
        assert annotation.quote in paragraphs[number - 1], where
        checked += annotation.created_at < CODING_START
        coded += annotation.created_at >= CODING_START
    # Every passage of the fixture, and those of its double-coded round too.
    assert checked == len(FIXTURE["annotation"]) and coded > 0
