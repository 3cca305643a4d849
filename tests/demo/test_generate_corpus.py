from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import Project
from apps.annotations.models import Annotation, ReviewEvent
from apps.claims.models import Claim
from apps.library.models import Source
from apps.people.models import Person


def test_generates_a_proportional_corpus_with_review_history(db):
    out = StringIO()
    call_command("generate_corpus", "--project", "bench", "--sources", "40", stdout=out)
    project = Project.objects.get(slug="bench")
    assert Source.objects.filter(project=project).count() == 40
    assert Claim.objects.filter(project=project).count() == 40
    assert Person.objects.filter(project=project).count() == 10
    annotations = Annotation.objects.filter(project=project)
    assert 200 <= annotations.count() <= 600
    assert annotations.filter(status="approved").count() > annotations.count() // 2
    assert ReviewEvent.objects.filter(annotation__project=project).count() > annotations.count()
    assert "annotations" in out.getvalue()
    # Notes are stored raw and sanitised, as the app itself would.
    with_note = annotations.exclude(note="").first()
    assert with_note.note_html.startswith("<p>")


def test_the_same_seed_gives_the_same_data_and_runs_add_up(db):
    call_command("generate_corpus", "--project", "one", "--sources", "5", stdout=StringIO())
    call_command("generate_corpus", "--project", "two", "--sources", "5", stdout=StringIO())
    quotes = [
        list(
            Annotation.objects.filter(project__slug=slug)
            .order_by("pk")
            .values_list("quote", flat=True)
        )
        for slug in ("one", "two")
    ]
    assert quotes[0] == quotes[1]
    call_command(
        "generate_corpus", "--project", "one", "--sources", "5", "--seed", "2", stdout=StringIO()
    )
    assert Source.objects.filter(project__slug="one").count() == 10


@pytest.mark.parametrize("sources", ["0", "-3", "2000000"])
def test_refuses_silly_sizes(db, sources):
    with pytest.raises(CommandError):
        call_command("generate_corpus", "--project", "x", "--sources", sources, stdout=StringIO())
    assert not Project.objects.filter(slug="x").exists()
