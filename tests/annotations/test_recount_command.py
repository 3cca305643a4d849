from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.annotations.models import ConceptTally
from tests import factories


def test_recount_repairs_tallies_written_around_the_app(cast):
    concept = factories.make_concept(cast.project)
    source = factories.make_source(cast.project)
    factories.make_annotation(
        source, cast.analyst, concepts=[concept], status="approved", reviewer=cast.supervisor
    )
    ConceptTally.objects.filter(concept=concept).update(approved=40, visible=41)
    out = StringIO()
    call_command("recount_tallies", project="review", stdout=out)
    assert "Recounted review." in out.getvalue()
    tally = ConceptTally.objects.get(concept=concept)
    assert (tally.approved, tally.visible) == (1, 1)


def test_recount_refuses_an_unknown_project(db):
    with pytest.raises(CommandError, match="No project 'nope'"):
        call_command("recount_tallies", project="nope")
