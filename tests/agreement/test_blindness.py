"""While an assignment is open a coder never sees a co-coder's passages in its sources: not in
pages, lists, search, the matrix, the map, exports or the API. After resolution they appear."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.agreement import coding
from apps.agreement.models import Unit
from tests import factories

# Not in the source's text, so that finding it on a page means the passage leaked.
SECRET = "Organisations outlive zebraquartz causes"
MARK = "zebraquartz"


def pages(r, project="review"):
    source, claim, person, concept = r.source.pk, r.claim.pk, r.person.pk, r.concept.pk
    return [
        reverse("xref:project_home", args=[project]),
        reverse("xref:source_detail", args=[project, source]),
        reverse("annotations:source_read", args=[project, source]),
        reverse("annotations:annotation_list", args=[project]),
        reverse("annotations:annotation_list", args=[project]) + "?scope=approved",
        reverse("search:search", args=[project]) + "?q=" + MARK,
        reverse("xref:matrix", args=[project]) + "?rows=sources&cols=claims",
        reverse("xref:matrix_csv", args=[project]) + "?rows=sources&cols=people",
        reverse("xref:map", args=[project]),
        reverse("xref:map_gexf", args=[project]),
        reverse("xref:claim_detail", args=[project, claim]),
        reverse("xref:person_detail", args=[project, person]),
        reverse("xref:concept_detail", args=[project, concept]),
        reverse("webanno:annotations_export", args=[project]),
        reverse("webanno:source_annotations_export", args=[project, source]),
        reverse("qda:codebook_export", args=[project]),
    ]


def body(response) -> str:
    if response.streaming:
        text = b"".join(response.streaming_content).decode()
    else:
        text = response.content.decode()
    factories.close_response(response)
    return text


@pytest.fixture
def co_coded(cast, coding_round):
    """analyst2 coded SECRET in the open assignment, and a supervisor approved it; analyst2
    had also an approved passage on the source from before."""
    r = coding_round
    r.code(cast.analyst, "The Islamic State's retreat will not end jihadism.")
    start, end = len("The Islamic State's retreat"), len("The Islamic State's retreat will")
    theirs = factories.make_annotation(
        r.source, cast.analyst2, quote=SECRET, start=start, end=end, note=f"Note {MARK}",
        claims=[r.claim], people=[r.person], concepts=[r.concept],
    )  # fmt: skip
    theirs.transition("submit", by=cast.analyst2)
    theirs.transition("approve", by=cast.supervisor)
    return r, theirs


def test_a_coder_sees_nothing_of_a_co_coder_in_an_open_assignment(cast, client_for, co_coded):
    r, theirs = co_coded
    client = client_for(cast.analyst)
    link = f"/annotations/{theirs.pk}/"
    for url in pages(r):
        response = client.get(url)
        assert response.status_code == 200, url
        text = body(response)
        assert link not in text, url
        if "/search/" in url:  # the search box repeats what was asked
            assert "Nothing found" in text or "No results" in text or "0 results" in text
        else:
            assert MARK not in text, url
    # Opened directly, it is refused like any passage the member may not see.
    detail = reverse("annotations:annotation_detail", args=["review", theirs.pk])
    assert client.get(detail).status_code == 403
    passages = reverse("annotations:source_passages", args=["review", r.source.pk])
    assert MARK not in body(client.get(f"{passages}?ids={theirs.pk}"))


def test_the_api_hides_it_too(cast, co_coded):
    api = Client(HTTP_ACCEPT="application/json")
    api.force_login(cast.analyst)
    response = api.get("/api/v1/p/review/annotations/")
    assert response.status_code == 200
    assert MARK not in response.content.decode()


def test_others_see_what_the_policy_lets_them_see(cast, client_for, co_coded):
    r, _ = co_coded
    url = reverse("annotations:annotation_list", args=["review"])
    search = reverse("search:search", args=["review"]) + "?q=" + MARK
    assert f"/annotations/{co_coded[1].pk}/" in body(client_for(cast.analyst2).get(search))
    # Its author, supervisors, an analyst who is not a coder, students (it is approved).
    other = factories.make_user("analyst3")
    factories.add_member(cast.project, other, "analyst")
    for user in (cast.analyst2, cast.supervisor, other, cast.student):
        assert MARK in body(client_for(user).get(url)), user


def test_it_appears_once_compared_and_resolved(cast, client_for, co_coded):
    r, _ = co_coded
    for coder in (cast.analyst, cast.analyst2):
        coding.mark_done(assignment=r.assignment, coder=coder)
    coding.compare(assignment=r.assignment, by=cast.supervisor)
    unit = Unit.objects.get(assignment=r.assignment, passages__quote=SECRET)
    coding.resolve(
        unit=unit, by=cast.supervisor, kind="picked", passage=unit.passages.get(quote=SECRET),
        seen_version=unit.version, reason="other", comment="Only one coder saw it; it stands.",
    )  # fmt: skip
    url = reverse("annotations:annotation_list", args=["review"])
    assert MARK in body(client_for(cast.analyst).get(url))
