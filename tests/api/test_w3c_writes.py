"""Annotating in the Web Annotation model through the API: what GET gives as JSON-LD is what
POST …/annotations/w3c/ takes back (and what the import page takes), as the caller's drafts."""

import json

import pytest

from apps.annotations.anchoring import replace_text
from apps.annotations.models import Annotation, Status
from tests import factories

W3C = "/api/v1/p/review/annotations/w3c/"
TEXT = "The groups withdrew from society. Chain takfir spread among them, said the emir."


@pytest.fixture
def annotated(cast):
    source = factories.make_source(cast.project, "Withdrawal", citation_key="faras2016")
    replace_text(source, TEXT, by=cast.analyst, origin="pasted")
    claim = factories.make_claim(cast.project, "Takfir spreads")
    approved = factories.make_annotation(
        source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor,
        quote="Chain takfir spread among them", claims=[claim], note="The *core*.",
    )  # fmt: skip
    approved.anchor_in(source.full_text, source.text_version)
    approved.save()
    return approved


def post(client, body):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(W3C, data, content_type="application/ld+json")


def test_what_get_gives_post_takes_back_as_a_new_draft(cast, api_for, annotated):
    read = api_for(cast.analyst2).get(
        f"/api/v1/p/review/annotations/{annotated.pk}/?format=jsonld",
    )
    assert read.status_code == 200
    response = post(api_for(cast.analyst2), json.loads(read.content))
    assert response.status_code == 201, response.content
    (created,) = response.json()["results"]
    assert created["status"] == "draft" and created["creator"]["nickname"] == "analyst2"
    copy = Annotation.objects.get(pk=created["id"])
    assert (copy.author, copy.quote, copy.source) == (
        cast.analyst2,
        annotated.quote,
        annotated.source,
    )
    assert [(e.claim_id, e.stance) for e in copy.evidence.all()] == [
        (e.claim_id, e.stance) for e in annotated.evidence.all()
    ]
    assert copy.note == "The *core*." and copy.origin["file"] == "API"


def test_who_may_post(cast, api_for, annotated):
    body = json.loads(api_for(cast.analyst).get(
        f"/api/v1/p/review/annotations/{annotated.pk}/?format=jsonld"
    ).content)  # fmt: skip
    before = Annotation.objects.count()
    assert post(api_for(cast.student), body).status_code == 403
    assert post(api_for(cast.outsider), body).status_code == 404
    assert post(api_for(None), body).status_code == 401
    assert api_for(cast.analyst).get(W3C).status_code == 405
    assert Annotation.objects.count() == before
    assert post(api_for(cast.supervisor), body).status_code == 201


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not valid JSON"),
        ({}, ""),
        ([], ""),
        ({"type": "Annotation", "target": {"source": "https://elsewhere.example/x"}}, ""),
    ],
)
def test_bad_bodies_are_refused_and_nothing_is_written(cast, api_for, annotated, body, message):
    before = Annotation.objects.count()
    response = post(api_for(cast.analyst), body)
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert Annotation.objects.count() == before


def test_more_than_a_hundred_at_once_are_refused(cast, api_for, annotated):
    item = json.loads(
        api_for(cast.analyst)
        .get(f"/api/v1/p/review/annotations/{annotated.pk}/?format=jsonld")
        .content
    )
    item.pop("id", None)
    response = post(api_for(cast.analyst), {
        "@context": "http://www.w3.org/ns/anno.jsonld", "type": "AnnotationCollection",
        "first": {"type": "AnnotationPage", "items": [item] * 101},
    })  # fmt: skip
    assert response.status_code == 400
    assert "at most 100" in response.json()["detail"]
    assert Annotation.objects.count() == 1
