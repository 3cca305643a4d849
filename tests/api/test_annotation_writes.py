"""Annotations written through the API go through the annotation form and the save of the pages:
the quote is found in the source's text (or the caller chooses among the places it could be),
links name claims, people, works and concepts of the project, the author's own draft is what is
made, and only the author changes it while it is a draft or sent back. Review status changes
through transitions/ only."""

import json

import pytest

from apps.annotations.models import Annotation, AnnotationRevision
from apps.claims.models import Claim
from apps.people.models import Person
from tests import factories
from tests.api.test_writes_access import state
from tests.webanno.test_w3c import QUOTE, TEXT
from tests.webanno.test_w3c import review as review  # noqa: F401 (a source with text, links)

URL = "/api/v1/p/review/annotations/"


def send(client, method, url, body=None, **headers):
    data = body if isinstance(body, str) or body is None else json.dumps(body)
    return getattr(client, method)(url, data, content_type="application/json", **headers)


@pytest.fixture
def text_source(cast):
    return factories.make_source(cast.project, "Text", citation_key="text2020", full_text=TEXT)


def test_an_analyst_annotates_a_passage_as_a_draft_of_their_own(cast, api_for, text_source):
    claim = factories.make_claim(cast.project, "Takfiri groups spread after ISIS")
    qutb = factories.make_person(cast.project, "Sayyid Qutb")
    work = factories.make_source(cast.project, "Milestones", citation_key="qutb1964")
    concept = factories.make_concept(cast.project, "isolation")
    response = send(api_for(cast.analyst), "post", URL, {
        "source_id": text_source.pk,
        "quote": "isolationist takfiri groups will spread",
        "note": "The *core* prediction.",
        "claims": [{"claim_id": claim.pk, "stance": "asserts"},
                   {"statement": "Groups outbid each other", "kind": "explanation",
                    "stance": "qualifies"}],
        "mentions": [{"person_id": qutb.pk, "work_id": work.pk, "function": "supporting"},
                     {"name": "Crenshaw, Martha", "function": "contrasting"}],
        "concept_ids": [concept.pk],
    })  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    annotation = Annotation.objects.get(pk=body["id"])
    assert (annotation.author, annotation.status, annotation.version) == (cast.analyst, "draft", 1)
    start = TEXT.index("isolationist")
    assert (annotation.start, annotation.end) == (
        start,
        start + len("isolationist takfiri groups will spread"),
    )
    assert annotation.locator  # from the place in the text, as the form fills it
    assert sorted((e.claim.statement, e.stance) for e in annotation.evidence.all()) == [
        ("Groups outbid each other", "qualifies"),
        ("Takfiri groups spread after ISIS", "asserts"),
    ]
    assert Claim.objects.get(statement="Groups outbid each other").kind == "explanation"
    assert sorted(
        (m.person.display_name, m.function, m.work_id) for m in annotation.mentions.all()
    ) == [("Crenshaw, Martha", "contrasting", None), ("Sayyid Qutb", "supporting", work.pk)]
    assert list(annotation.concepts.all()) == [concept]
    assert AnnotationRevision.objects.filter(annotation=annotation, version=1).exists()
    # Answered in the Web Annotation shape, as the reads are.
    assert body["status"] == "draft" and body["type"] == "Annotation"
    assert body["target"]["selector"][0]["exact"] == "isolationist takfiri groups will spread"
    assert {b["purpose"] for b in body["body"]} == {"commenting", "linking", "tagging"}


def test_a_quote_found_twice_is_chosen_among_its_places(cast, api_for, text_source):
    client = api_for(cast.analyst)
    before = state()
    refused = send(client, "post", URL, {"source_id": text_source.pk, "quote": "society"})
    assert refused.status_code == 400
    answer = refused.json()
    assert answer["errors"][0]["where"] == "body.quote"
    assert "occurs 2 times" in answer["detail"]
    places = answer["occurrences"]
    assert [p["words"] for p in places] == ["society", "society"]
    assert state() == before
    second = places[1]
    chosen = send(client, "post", URL, {
        "source_id": text_source.pk, "quote": "society",
        "occurrence": f"{second['start']}-{second['end']}",
    })  # fmt: skip
    assert chosen.status_code == 201, chosen.content
    assert Annotation.objects.get(pk=chosen.json()["id"]).start == second["start"]


BAD = [
    ({"quote": "Words nowhere in the text"}, "body.quote"),
    ({"quote": "society", "start": 0, "end": 5}, "body.quote"),
    ({"quote": "society", "start": 5}, "body"),
    ({"quote": "society", "start": 0, "end": 10**6}, "body.quote"),
    ({"quote": ""}, "body.quote"),
    ({"quote": 7}, "body.quote"),
    ({"quote": QUOTE, "status": "approved"}, "body.status"),
    ({"quote": QUOTE, "author": "supervisor"}, "body.author"),
    ({"quote": QUOTE, "claims": [{"claim_id": 1, "statement": "x"}]}, "body.claims.0"),
    ({"quote": QUOTE, "claims": [{"stance": "supports"}]}, "body.claims.0"),
    ({"quote": QUOTE, "claims": [{"statement": "x", "stance": "adores"}]}, "body.claims.0.stance"),
    ({"quote": QUOTE, "claims": [{"claim_id": 10**12}]}, "body.claims.0.claim_id"),
    ({"quote": QUOTE, "mentions": [{"name": "X", "function": "praising"}]},
     "body.mentions.0.function"),
    ({"quote": QUOTE, "mentions": [{"person_id": 10**12}]}, "body.mentions.0.person_id"),
    ({"quote": QUOTE, "concept_ids": [10**12]}, "body.concept_ids"),
    ({"quote": QUOTE, "concept_ids": "1"}, "body.concept_ids"),
    ({"quote": QUOTE, "concept_ids": [10**30]}, "body.concept_ids.0"),
    ({"quote": QUOTE, "claims": [{"claim_id": "#1"}]}, "body.claims.0.claim_id"),
    ({"quote": QUOTE, "note": "n" * 20_001}, "body.note"),
    ({"quote": QUOTE, "locator": "\x00"}, "body.locator"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "where"), BAD, ids=range(len(BAD)))
def test_bad_annotations_are_refused_and_change_nothing(cast, api_for, text_source, body, where):
    draft = factories.make_annotation(text_source, cast.analyst, quote=QUOTE, locator="¶2")
    client = api_for(cast.analyst)
    before = state()
    for method, url, headers in (
        ("post", URL, {}),
        ("patch", f"{URL}{draft.pk}/", {"HTTP_IF_MATCH": '"1"'}),
    ):
        data = {"source_id": text_source.pk, **body} if method == "post" else body
        response = send(client, method, url, data, **headers)
        assert response.status_code == 400, (method, response.content)
        answer = response.json()
        assert answer["detail"]
        assert any(e["where"].startswith(where) for e in answer["errors"]), answer
    assert state() == before


def test_links_and_sources_of_another_project_are_refused(cast, api_for, text_source):
    other = factories.make_project(slug="other")
    factories.add_member(other, cast.analyst, "analyst")
    theirs = {
        "source_id": factories.make_source(other, full_text=TEXT).pk,
        "claim": factories.make_claim(other).pk,
        "person": factories.make_person(other).pk,
        "work": factories.make_source(other).pk,
        "concept": factories.make_concept(other).pk,
    }
    person = factories.make_person(cast.project)
    client = api_for(cast.analyst)
    before = state()
    for change, where in (
        ({"source_id": theirs["source_id"]}, "body.source_id"),
        ({"claims": [{"claim_id": theirs["claim"]}]}, "body.claims.0.claim_id"),
        ({"mentions": [{"person_id": theirs["person"]}]}, "body.mentions.0.person_id"),
        ({"mentions": [{"person_id": person.pk, "work_id": theirs["work"]}]},
         "body.mentions.0.work_id"),
        ({"concept_ids": [theirs["concept"]]}, "body.concept_ids"),
    ):  # fmt: skip
        body = {"source_id": text_source.pk, "quote": QUOTE, **change}
        response = send(client, "post", URL, body)
        assert response.status_code == 400, response.content
        assert [e["where"] for e in response.json()["errors"]] == [where]
    assert state() == before


def test_a_change_keeps_what_it_does_not_name(cast, review, api_for):
    draft = review["annotations"][1]  # the analyst's draft, with no text to place it in
    full = review["annotations"][0]
    claim = factories.make_claim(cast.project, "A claim")
    factories.revise(draft, cast.analyst)  # version 2
    client = api_for(cast.analyst)
    url = f"{URL}{draft.pk}/"
    etag = client.get(url)["ETag"]
    assert etag == '"2"'
    noted = send(client, "patch", url, {"claims": [{"claim_id": claim.pk}]}, HTTP_IF_MATCH=etag)
    assert noted.status_code == 200, noted.content
    assert noted["ETag"] == '"3"'
    draft.refresh_from_db()
    assert (draft.quote, draft.locator, draft.version) == (
        "A passage from the printed edition only.", "p. 3", 3,
    )  # fmt: skip
    assert [e.claim for e in draft.evidence.all()] == [claim]
    again = send(client, "patch", url, {"note": "Now with a note."}, HTTP_IF_MATCH='"3"')
    assert again.status_code == 200
    draft.refresh_from_db()
    assert draft.note == "Now with a note." and [e.claim for e in draft.evidence.all()] == [claim]
    # The approved one is locked, also for its author; the status is not the API's to set.
    before = state()
    locked = send(
        client, "patch", f"{URL}{full.pk}/", {"note": "x"}, HTTP_IF_MATCH=f'"{full.version}"'
    )
    assert locked.status_code == 403 and "locked" in locked.json()["detail"]
    assert state() == before


def test_a_new_quote_is_found_again_in_the_text(cast, api_for, text_source):
    draft = factories.make_annotation(text_source, cast.analyst, quote=QUOTE, locator="¶2")
    response = send(
        api_for(cast.analyst), "patch", f"{URL}{draft.pk}/",
        {"quote": "a logic of outbidding"}, HTTP_IF_MATCH='"1"',
    )  # fmt: skip
    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert draft.start == TEXT.index("a logic of outbidding")


def test_only_the_author_edits_and_only_what_they_may_see(cast, world, api_for):
    draft = world["draft"]  # the analyst's
    url = f"{URL}{draft.pk}/"
    before = state()
    supervisor = send(api_for(cast.supervisor), "patch", url, {"note": "x"}, HTTP_IF_MATCH='"1"')
    assert supervisor.status_code == 403
    # Another analyst may not even see it.
    other = send(api_for(cast.analyst2), "patch", url, {"note": "x"}, HTTP_IF_MATCH='"1"')
    assert other.status_code == 404
    assert state() == before


def test_work_submitted_meanwhile_is_not_changed(cast, api_for, text_source):
    draft = factories.make_annotation(text_source, cast.analyst, quote=QUOTE, locator="¶2")
    draft.transition("submit", by=cast.analyst)
    before = state()
    response = send(
        api_for(cast.analyst), "patch", f"{URL}{draft.pk}/", {"note": "x"},
        HTTP_IF_MATCH=f'"{draft.version}"',
    )  # fmt: skip
    assert response.status_code == 403
    assert state() == before


def test_a_new_name_typed_twice_is_refused_not_a_server_error(cast, api_for, text_source):
    naji = {"source_id": text_source.pk, "quote": QUOTE,
            "mentions": [{"name": "Abu Bakr Naji"}, {"name": "abu  bakr nāji"}]}  # fmt: skip
    claims = {"source_id": text_source.pk, "quote": QUOTE,
              "claims": [{"statement": "Groups split"},
                         {"statement": "groups  split"}]}  # fmt: skip
    for body in (naji, claims):
        response = send(api_for(cast.analyst), "post", URL, body)
        assert response.status_code == 400, response.content
        assert "linked twice" in response.json()["detail"]
    assert not Person.objects.filter(display_name__icontains="Naji").exists()
    # A new name that is someone already linked in the same annotation: refused, not a 500.
    known = factories.make_person(cast.project, "Martha Crenshaw")
    body = {"source_id": text_source.pk, "quote": QUOTE,
            "mentions": [{"person_id": known.pk}, {"name": "Martha Crenshaw"}]}  # fmt: skip
    before = state()
    response = send(api_for(cast.analyst), "post", URL, body)
    assert response.status_code in (400, 409), response.content
    assert response.json()["detail"]
    assert state() == before
