"""Annotations out and in as W3C Web Annotations (JSON-LD): valid JSON-LD, only what the member
may see, a lossless round trip, and bad files that change nothing."""

import json
import re
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from pyld import jsonld

from apps.accounts.models import Role
from apps.annotations.models import (
    MAX_QUOTE_LENGTH,
    AnchorState,
    Annotation,
    Mention,
    ReviewAction,
    Status,
)
from apps.claims.models import Claim, Concept
from apps.people.models import Person
from apps.webanno import w3c
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = Path(__file__).with_name("validate_annotations.js")

TEXT = (
    "Withdrawal from society. The retreat of ISIS will not end militancy: isolationist takfiri "
    "groups will spread among its former members, as Qutb's idea of a vanguard apart from a "
    "jahili society suggests. Crenshaw reads such groups as a logic of outbidding."
)
QUOTE = "isolationist takfiri groups will spread among its former members"
OA = "http://www.w3.org/ns/oa#"

# The parts of the Web Annotation context (https://www.w3.org/TR/annotation-vocab/) the export
# uses, written from the vocabulary: the tests run offline and never fetch the real file.
ANNO_CONTEXT = {
    "@context": {
        "oa": OA,
        "dc": "http://purl.org/dc/elements/1.1/",
        "dcterms": "http://purl.org/dc/terms/",
        "dctypes": "http://purl.org/dc/dcmitype/",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "as": "https://www.w3.org/ns/activitystreams#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "id": "@id",
        "type": "@type",
        "Annotation": "oa:Annotation",
        "AnnotationCollection": "as:OrderedCollection",
        "AnnotationPage": "as:OrderedCollectionPage",
        "SpecificResource": "oa:SpecificResource",
        "TextualBody": "oa:TextualBody",
        "TextQuoteSelector": "oa:TextQuoteSelector",
        "TextPositionSelector": "oa:TextPositionSelector",
        "Person": "foaf:Person",
        "Text": "dctypes:Text",
        "body": {"@id": "oa:hasBody", "@type": "@id"},
        "target": {"@id": "oa:hasTarget", "@type": "@id"},
        "source": {"@id": "oa:hasSource", "@type": "@id"},
        "selector": {"@id": "oa:hasSelector", "@type": "@id"},
        "purpose": {"@id": "oa:hasPurpose", "@type": "@vocab"},
        "motivation": {"@id": "oa:motivatedBy", "@type": "@vocab"},
        "commenting": "oa:commenting",
        "highlighting": "oa:highlighting",
        "linking": "oa:linking",
        "tagging": "oa:tagging",
        "exact": "oa:exact",
        "prefix": "oa:prefix",
        "suffix": "oa:suffix",
        "start": {"@id": "oa:start", "@type": "xsd:nonNegativeInteger"},
        "end": {"@id": "oa:end", "@type": "xsd:nonNegativeInteger"},
        "value": "rdf:value",
        "format": "dc:format",
        "language": "dc:language",
        "creator": {"@id": "dcterms:creator", "@type": "@id"},
        "created": {"@id": "dcterms:created", "@type": "xsd:dateTime"},
        "modified": {"@id": "dcterms:modified", "@type": "xsd:dateTime"},
        "name": "foaf:name",
        "nickname": "foaf:nick",
        "label": "rdfs:label",
        "total": {"@id": "as:totalItems", "@type": "xsd:nonNegativeInteger"},
        "first": {"@id": "as:first", "@type": "@id"},
        "items": {"@id": "as:items", "@type": "@id", "@container": "@list"},
        "startIndex": {"@id": "as:startIndex", "@type": "xsd:nonNegativeInteger"},
    }
}


def offline_loader(url, options=None):
    """The Web Annotation context from the vocabulary above, ours from the site itself."""
    if url.rstrip("/") == "http://www.w3.org/ns/anno.jsonld":
        return {"contextUrl": None, "documentUrl": url, "document": ANNO_CONTEXT}
    if url == "http://testserver/ns/citemap.jsonld":
        response = Client().get("/ns/citemap.jsonld")  # public: no one signed in
        assert response.status_code == 200
        assert response["Content-Type"] == "application/ld+json"
        return {"contextUrl": None, "documentUrl": url, "document": json.loads(response.content)}
    raise AssertionError(f"The export makes JSON-LD processors fetch {url}.")


def export_url(project) -> str:
    return f"/p/{project.slug}/export/annotations.jsonld"


def import_url(project) -> str:
    return f"/p/{project.slug}/import/annotations/"


def export(client, project) -> dict:
    response = client.get(export_url(project))
    assert response.status_code == 200
    return json.loads(b"".join(response.streaming_content))


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def upload(client, project, content: bytes, name: str = "annotations.jsonld", **choices):
    """Upload the file and, when its preview is shown, confirm it (tags become concepts unless
    told otherwise); the last response."""
    response = client.post(import_url(project), {"file": SimpleUploadedFile(name, content)})
    if response.status_code != 302 or "/import/annotations/" not in response.url:
        return response
    preview = client.get(response.url)
    assert preview.status_code == 200, preview.content.decode()[:2000]
    return client.post(response.url, {"new_concepts": "on", **choices})


def items(document: dict) -> list[dict]:
    return document["first"]["items"]


def quotes(document: dict) -> set[str]:
    return {item["target"]["selector"][0]["exact"] for item in items(document)}


def place(annotation: Annotation, text: str) -> Annotation:
    """Give the annotation the selectors the annotation form would."""
    annotation.anchor_in(text)
    annotation.save()
    return annotation


@pytest.fixture
def review(cast):
    """A source with text and a DOI, a cited work, and an approved annotation that has every
    kind of link, plus a draft whose quote is not in the text."""
    project = cast.project
    source = factories.make_source(
        project, "Withdrawal from Society", citation_key="faras2016", full_text=TEXT, language="en"
    )
    source.add_identifier("doi", "10.1234/withdrawal")
    work = factories.make_source(project, "Milestones", citation_key="qutb1964")
    qutb = factories.make_person(project, "Sayyid Qutb")
    crenshaw = factories.make_person(project, "Martha Crenshaw")
    spread = factories.make_claim(project, "Takfiri groups spread after ISIS")
    outbid = factories.make_claim(project, "Militant groups outbid each other")
    isolation = factories.make_concept(project, "isolation")
    vanguard = factories.make_concept(project, "vanguard")
    full = factories.make_annotation(
        source,
        cast.analyst,
        quote=QUOTE,
        locator="¶2",
        page_label="14",
        note="The **core** prediction.",
        claims=[spread],
        stance="asserts",
        concepts=[isolation, vanguard],
    )
    full.evidence.create(claim=outbid, stance="qualifies")
    Mention.objects.create(annotation=full, person=qutb, work=work, function="supporting")
    Mention.objects.create(annotation=full, person=crenshaw, function="contrasting")
    place(full, TEXT)
    full.transition(ReviewAction.SUBMIT, by=cast.analyst)
    full.transition(ReviewAction.APPROVE, by=cast.supervisor)
    elsewhere = factories.make_annotation(
        source, cast.analyst, quote="A passage from the printed edition only.", locator="p. 3"
    )
    return {"source": source, "work": work, "annotations": [full, elsewhere]}


def picture(annotation: Annotation) -> dict:
    """What an annotation says, comparable across projects."""
    return {
        "source": annotation.source.citation_key,
        "quote": annotation.quote,
        "prefix": annotation.prefix,
        "suffix": annotation.suffix,
        "start": annotation.start,
        "end": annotation.end,
        "page_label": annotation.page_label,
        "locator": annotation.locator,
        "note": annotation.note,
        "claims": sorted((e.claim.statement, e.stance) for e in annotation.evidence.all()),
        "people": sorted(
            (m.person.display_name, m.function, m.work.citation_key if m.work else "")
            for m in annotation.mentions.all()
        ),
        "concepts": sorted(c.name for c in annotation.concepts.all()),
    }


def pictures(annotations) -> list[dict]:
    return sorted((picture(a) for a in annotations), key=lambda p: p["quote"])


# --- Export ---------------------------------------------------------------------------------


def test_the_export_is_json_ld_with_the_web_annotation_context(cast, review, client_for):
    response = client_for(cast.supervisor).get(export_url(cast.project))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    assert response["Content-Disposition"] == 'attachment; filename="review-annotations.jsonld"'
    document = json.loads(content(response))
    assert document["@context"] == [
        "http://www.w3.org/ns/anno.jsonld",
        "http://testserver/ns/citemap.jsonld",
    ]
    assert document["type"] == "AnnotationCollection"
    assert document["total"] == 2 == len(items(document))

    expanded = jsonld.expand(document, {"documentLoader": offline_loader})
    nodes = list(walk(expanded))
    annotations = [n for n in nodes if f"{OA}Annotation" in n.get("@type", [])]
    assert len(annotations) == 2
    assert all(f"{OA}hasTarget" in a for a in annotations)
    selectors = [s for n in nodes for s in n.get(f"{OA}hasSelector", [])]
    quote_selectors = [s for s in selectors if f"{OA}TextQuoteSelector" in s["@type"]]
    assert {s[f"{OA}exact"][0]["@value"] for s in quote_selectors} == quotes(document)
    assert any(f"{OA}TextPositionSelector" in s["@type"] for s in selectors)
    purposes = {p["@id"] for n in nodes for p in n.get(f"{OA}hasPurpose", [])}
    assert purposes == {f"{OA}commenting", f"{OA}linking", f"{OA}tagging"}
    assert any(f"{OA}hasBody" in a for a in annotations)
    # Our own terms are IRIs under the site's vocabulary, not dropped as unknown keys.
    vocab = "http://testserver/ns/citemap#"
    stances = {s["@value"] for n in nodes for s in n.get(f"{vocab}stance", [])}
    assert stances == {"asserts", "qualifies"}
    assert any(f"{vocab}locator" in n for n in nodes)


def walk(node):
    """Every node object of an expanded JSON-LD document."""
    if isinstance(node, list):
        for value in node:
            yield from walk(value)
    elif isinstance(node, dict):
        if "@value" not in node:
            yield node
        for key, value in node.items():
            if key != "@value":
                yield from walk(value)


def test_an_exported_annotation_carries_its_target_body_and_creator(cast, review, client_for):
    document = export(client_for(cast.supervisor), cast.project)
    full = next(i for i in items(document) if i["reviewStatus"] == Status.APPROVED)
    annotation = review["annotations"][0]
    assert full["id"] == f"http://testserver/p/review/annotations/{annotation.pk}/"
    assert full["motivation"] == ["commenting", "linking", "tagging"]
    assert full["creator"]["nickname"] == "analyst"
    assert full["created"].endswith("Z")
    target = full["target"]
    # The source is its DOI's IRI; what describes it is in a node with the same id.
    assert target["source"] == "https://doi.org/10.1234/withdrawal"
    assert target["sourceDescription"]["id"] == target["source"]
    assert target["sourceDescription"]["dcterms:identifier"] == [
        "faras2016",
        f"http://testserver/p/review/sources/{review['source'].pk}/",
        "https://doi.org/10.1234/withdrawal",
    ]
    assert target["sourceDescription"]["language"] == "en"
    assert target["selector"][1] == {
        "type": "TextPositionSelector",
        "start": TEXT.index(QUOTE),
        "end": TEXT.index(QUOTE) + len(QUOTE),
    }
    assert (target["locator"], target["pageLabel"]) == ("¶2", "14")
    kinds = [(b["type"], b["purpose"]) for b in full["body"]]
    assert kinds.count(("SpecificResource", "linking")) == 4
    assert kinds.count(("TextualBody", "tagging")) == 2
    qutb = next(b for b in full["body"] if b.get("function") == "supporting")
    assert qutb["source"] == f"http://testserver/p/review/people/{qutb_pk(cast)}/"
    assert qutb["sourceDescription"]["name"] == "Sayyid Qutb"
    assert qutb["work"]["citationKey"] == "qutb1964"
    draft = next(i for i in items(document) if i["reviewStatus"] == Status.DRAFT)
    assert draft["motivation"] == "highlighting"
    assert "body" not in draft


def qutb_pk(cast) -> int:
    return Person.objects.get(project=cast.project, display_name="Sayyid Qutb").pk


def test_a_source_export_holds_only_that_sources_annotations(cast, review, client_for):
    other = factories.make_source(cast.project, "Another")
    factories.make_annotation(other, cast.supervisor, quote="Elsewhere entirely.")
    source = review["source"]
    response = client_for(cast.student).get(f"/p/review/sources/{source.pk}/annotations.jsonld")
    assert response.status_code == 200
    assert 'filename="review-faras2016-annotations.jsonld"' in response["Content-Disposition"]
    assert quotes(json.loads(content(response))) == {QUOTE}


def test_a_source_of_another_project_is_not_found(cast, client_for):
    foreign = factories.make_source(factories.make_project())
    url = f"/p/review/sources/{foreign.pk}/annotations.jsonld"
    assert client_for(cast.analyst).get(url).status_code == 404


@pytest.fixture
def mixed(cast):
    """An approved annotation, each analyst's draft, a submitted and a withdrawn one."""
    source = factories.make_source(cast.project)
    make = factories.make_annotation
    make(source, cast.analyst, quote="approved", status=Status.APPROVED, reviewer=cast.supervisor)
    make(source, cast.analyst, quote="analyst's draft")
    make(source, cast.analyst2, quote="analyst2's draft")
    make(source, cast.analyst2, quote="analyst2's submitted", status=Status.SUBMITTED)
    withdrawn = make(source, cast.analyst, quote="withdrawn")
    withdrawn.transition(ReviewAction.WITHDRAW, by=cast.supervisor)


@pytest.mark.parametrize(
    ("member", "seen"),
    [
        ("student", {"approved"}),
        ("analyst", {"approved", "analyst's draft"}),
        ("supervisor", {"approved", "analyst's draft", "analyst2's draft", "analyst2's submitted"}),
    ],
)
def test_members_export_only_what_they_may_see(cast, mixed, client_for, member, seen):
    document = export(client_for(cast.members()[member]), cast.project)
    assert quotes(document) == seen
    assert document["total"] == len(seen)


def test_outsiders_do_not_learn_the_export_exists(cast, client_for):
    assert client_for(cast.outsider).get(export_url(cast.project)).status_code == 404


def test_the_export_refuses_put(cast, client_for):
    assert client_for(cast.student).put(export_url(cast.project)).status_code == 405


def test_a_large_export_is_written_by_a_job_with_the_same_content(
    cast, mixed, client_for, monkeypatch
):
    from apps.jobs.models import Job, JobState
    from apps.webanno import views

    student = client_for(cast.student)
    direct = content(student.get(export_url(cast.project)))
    monkeypatch.setattr(views, "DIRECT_LIMIT", 0)

    offer = student.get(export_url(cast.project))
    assert offer.status_code == 200 and not offer.streaming
    assert "the file is written in the background" in offer.text
    assert 'method="post"' in offer.text

    started = student.post(export_url(cast.project))
    job = Job.objects.get(kind="webanno.export")
    assert started.status_code == 302 and started.url == f"/p/review/jobs/{job.token}/"
    assert job.state == JobState.SUCCEEDED and job.user == cast.student
    assert job.summary == "The file is ready: 1 annotation as W3C Web Annotations."
    download = student.get(f"/p/review/jobs/{job.token}/download/")
    file = b"".join(download.streaming_content) if download.streaming else download.content
    # What the student may see, as the direct download gave it.
    assert file == direct and quotes(json.loads(file)) == {"approved"}


def test_the_export_takes_the_same_queries_however_many_annotations(
    cast, client_for, django_assert_num_queries
):
    def add_cited_work(count: int) -> None:
        for _ in range(count):
            source = factories.make_source(cast.project)
            source.add_identifier("doi", f"10.1234/{source.pk}")
            annotation = factories.make_annotation(source, cast.supervisor)
            person = factories.make_person(cast.project)
            Mention.objects.create(annotation=annotation, person=person, work=source)

    client = client_for(cast.supervisor)
    # session, user, membership; the count; annotations with their authors; evidence with
    # claims; mentions with people; concepts; the identifiers of the sources annotated and
    # cited; those sources (each a batch of annotations at a time).
    for count in (3, 27):
        add_cited_work(count)
        with django_assert_num_queries(10):
            response = client.get(export_url(cast.project))
            assert len(json.loads(content(response))["first"]["items"]) >= count


def test_no_query_names_every_annotation(cast, client_for, monkeypatch):
    """Links are read a batch of annotations at a time (SQLite refused one query with the ids
    of a 2,500-source project), and the batches join into the same file."""
    source = factories.make_source(cast.project, full_text=TEXT)
    claim = factories.make_claim(cast.project, "A claim")
    for number in range(12):
        factories.make_annotation(source, cast.analyst, claims=[claim], quote=f"Passage {number}")
    client = client_for(cast.supervisor)
    whole = content(client.get(export_url(cast.project)))
    monkeypatch.setattr(w3c, "BATCH", 5)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        batched = content(client.get(export_url(cast.project)))
    assert batched == whole
    assert len(json.loads(batched)["first"]["items"]) == 12
    evidence = [q["sql"] for q in captured if "annotations_evidence" in q["sql"]]
    assert len(evidence) == 3  # 5 + 5 + 2
    assert all(
        len(re.findall(r"\b\d+\b", sql.split(" IN (")[1].split(")")[0])) <= 5 for sql in evidence
    )


# --- Each annotation is valid alone ---------------------------------------------------------


def schema_verdicts(annotations: list[dict]) -> list[bool]:
    """The verdicts of validate-web-annotation (npm, a JSON Schema of the W3C model)."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the Web Annotation schema test (apt-get install nodejs)"
    assert (ROOT / "node_modules" / "validate-web-annotation").is_dir(), (
        "The test tools are missing: run make test-tools (npm ci)."
    )
    done = subprocess.run(
        [node, str(VALIDATOR)],
        input=json.dumps(annotations),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


# The model's lifecycle times (https://www.w3.org/TR/annotation-model/#lifecycle-information):
# xsd:dateTime in UTC. validate-web-annotation 0.3.0 checks them with JSON Schema's "date"
# format (a day, no time), against the model, so they are checked here with the model's rule
# and the rest of each annotation with the schema.
LIFECYCLE = ("created", "modified")
DATETIME_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def test_every_exported_annotation_is_valid_against_a_web_annotation_schema(
    cast, review, client_for
):
    work = review["work"]
    work.url = "https://example.org/milestones?edition=1"
    work.save()
    bare = factories.make_source(cast.project, "No identifiers at all")
    factories.make_annotation(bare, cast.supervisor, quote="Plain words.", note="A note.")
    annotations = items(export(client_for(cast.supervisor), cast.project))
    assert len(annotations) == 3

    alone = [{k: v for k, v in a.items() if k not in LIFECYCLE} for a in annotations]
    assert schema_verdicts(alone) == [True] * 3
    assert all(DATETIME_UTC.match(a[time]) for a in annotations for time in LIFECYCLE)
    # And the schema is no pushover: what the export wrote before is refused.
    old_shape = json.loads(json.dumps(alone[0]))
    old_shape["target"]["source"] = old_shape["target"].pop("sourceDescription")
    no_context = {k: v for k, v in alone[0].items() if k != "@context"}
    context_object = {**alone[0], "@context": [w3c.ANNO_CONTEXT, {"cm": "http://x/"}]}
    assert schema_verdicts([old_shape, no_context, context_object]) == [False] * 3

    # Sources are IRIs: the DOI's, else the source's URL, else its page here.
    by_quote = {a["target"]["selector"][0]["exact"]: a for a in annotations}
    assert by_quote[QUOTE]["target"]["source"] == "https://doi.org/10.1234/withdrawal"
    assert by_quote["Plain words."]["target"]["source"] == (
        f"http://testserver/p/review/sources/{bare.pk}/"
    )
    qutb = next(b for b in by_quote[QUOTE]["body"] if b.get("function") == "supporting")
    assert qutb["work"]["id"] == "https://example.org/milestones?edition=1"


def test_an_annotation_taken_alone_is_json_ld_with_our_terms(cast, review, client_for):
    [approved] = [
        a for a in items(export(client_for(cast.supervisor), cast.project))
        if a["reviewStatus"] == Status.APPROVED
    ]  # fmt: skip
    expanded = jsonld.expand(approved, {"documentLoader": offline_loader})
    [node] = expanded
    assert node["@id"] == approved["id"] and f"{OA}Annotation" in node["@type"]
    [target] = node[f"{OA}hasTarget"]
    assert target[f"{OA}hasSource"] == [{"@id": "https://doi.org/10.1234/withdrawal"}]
    [description] = target["http://testserver/ns/citemap#sourceDescription"]
    assert description["@id"] == "https://doi.org/10.1234/withdrawal"
    assert description["http://purl.org/dc/terms/title"] == [{"@value": "Withdrawal from Society"}]


def test_the_vocabulary_is_public_and_names_every_term(client):
    response = client.get("/ns/citemap.jsonld")
    assert response.status_code == 200
    terms = json.loads(response.content)["@context"]
    assert terms["cm"] == "http://testserver/ns/citemap#"
    assert {*w3c.TERMS, *w3c.NODE_TERMS} <= set(terms)
    assert client.post("/ns/citemap.jsonld").status_code == 405


def test_the_export_page_links_the_annotations_and_their_import(cast, client_for):
    page = client_for(cast.analyst).get("/p/review/export/").content.decode()
    assert "Annotations (W3C Web Annotation, JSON-LD)" in page
    assert export_url(cast.project) in page and import_url(cast.project) in page
    page = client_for(cast.student).get("/p/review/export/").content.decode()
    assert export_url(cast.project) in page and import_url(cast.project) not in page


def test_the_source_page_links_its_annotations(cast, review, client_for):
    source = review["source"]
    page = client_for(cast.student).get(f"/p/review/sources/{source.pk}/").content.decode()
    assert f"/p/review/sources/{source.pk}/annotations.jsonld" in page


# --- Round trip -----------------------------------------------------------------------------


def test_annotations_come_back_unchanged_as_drafts_of_the_importer(cast, review, client_for):
    content = b"".join(client_for(cast.supervisor).get(export_url(cast.project)).streaming_content)
    counts = (Claim.objects.count(), Person.objects.count(), Concept.objects.count())

    response = upload(client_for(cast.analyst2), cast.project, content)

    assert response.status_code == 302
    assert response["Location"] == "/p/review/annotations/?status=draft"
    imported = Annotation.objects.filter(author=cast.analyst2)
    assert pictures(imported) == pictures(review["annotations"])
    assert {a.status for a in imported} == {Status.DRAFT}
    # The same project: its claims, people and concepts are linked again, not copied.
    assert (Claim.objects.count(), Person.objects.count(), Concept.objects.count()) == counts
    placed = imported.get(quote=QUOTE)
    assert placed.anchor_state == AnchorState.EXACT
    assert placed.revisions.count() == 1
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Imported 2 annotations as drafts."]


def test_annotations_move_to_another_project_by_citation_key(cast, review, client_for):
    content = b"".join(client_for(cast.supervisor).get(export_url(cast.project)).streaming_content)
    other = factories.make_project(slug="other")
    factories.add_member(other, cast.analyst, Role.ANALYST)
    factories.make_source(other, "Withdrawal", citation_key="faras2016", full_text=TEXT)
    factories.make_source(other, "Milestones", citation_key="qutb1964")
    qutb = factories.make_person(other, "Sayyid Qutb")
    factories.make_concept(other, "isolation")

    response = upload(client_for(cast.analyst), other, content)

    assert response.status_code == 302
    imported = Annotation.objects.filter(project=other)
    assert pictures(imported) == pictures(review["annotations"])
    # Found by name where the other project knows them, created where it does not.
    assert Person.objects.filter(project=other).count() == 2
    assert Mention.objects.filter(annotation__project=other, person=qutb).exists()
    assert Claim.objects.filter(project=other).count() == 2
    assert set(Concept.objects.filter(project=other).values_list("name", flat=True)) == {
        "isolation",
        "vanguard",
    }


def test_a_position_that_no_longer_holds_is_replaced_by_the_quote(cast, review, client_for):
    content = b"".join(client_for(cast.supervisor).get(export_url(cast.project)).streaming_content)
    other = factories.make_project(slug="other")
    factories.add_member(other, cast.analyst, Role.ANALYST)
    factories.make_source(other, citation_key="faras2016", full_text="Preface. " + TEXT)
    factories.make_source(other, citation_key="qutb1964")

    assert upload(client_for(cast.analyst), other, content).status_code == 302

    moved = Annotation.objects.get(project=other, quote=QUOTE)
    assert moved.start == TEXT.index(QUOTE) + len("Preface. ")
    assert ("Preface. " + TEXT)[moved.start : moved.end] == QUOTE


def annotation(**target) -> dict:
    """One minimal Web Annotation on the review's source, for import tests."""
    return {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "target": {
            "source": {"id": "https://elsewhere.example/doc", "dcterms:identifier": ["faras2016"]},
            "selector": [{"type": "TextQuoteSelector", "exact": QUOTE}],
            **target,
        },
    }


def test_a_single_foreign_annotation_is_placed_by_its_quote(cast, review, client_for):
    item = annotation()
    item["target"]["source"]["dcterms:identifier"] = ["https://doi.org/10.1234/WITHDRAWAL"]
    item["bodyValue"] = "Seen elsewhere."
    response = upload(client_for(cast.analyst), cast.project, json.dumps(item).encode())
    assert response.status_code == 302
    created = Annotation.objects.get(note="Seen elsewhere.")
    assert created.source == review["source"]
    # No locator in the file: where the quote was found, as the form would say it.
    assert (created.start, created.locator) == (TEXT.index(QUOTE), "¶1")
    assert created.origin == {"tool": "W3C Web Annotation", "file": "annotations.jsonld"}


# --- Import access --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "status"), [("supervisor", 200), ("analyst", 200), ("student", 403)]
)
def test_members_who_annotate_may_import(cast, client_for, member, status):
    assert client_for(cast.members()[member]).get(import_url(cast.project)).status_code == status


def test_outsiders_do_not_learn_the_import_exists(cast, client_for):
    assert client_for(cast.outsider).get(import_url(cast.project)).status_code == 404


def test_the_import_refuses_put(cast, client_for):
    assert client_for(cast.analyst).put(import_url(cast.project)).status_code == 405


# --- Bad input ------------------------------------------------------------------------------


def as_file(*annotations: dict) -> bytes:
    return json.dumps(list(annotations)).encode()


BAD_FILES = {
    "malformed JSON": (b'{"@context": "http://www.w3.org/ns/anno.jsonld", ', "not valid JSON"),
    "not a web annotation": (b'{"format": "citemap-project"}', "neither a W3C Web Annotation"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "binary file"),
    "empty": (b"", "The submitted file is empty"),
    "no annotations": (
        b'{"@context": "http://www.w3.org/ns/anno.jsonld", "type": "AnnotationPage", "items": []}',
        "holds no annotations",
    ),
    "no target": (
        b'{"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation"}',
        "Annotation 1: no target",
    ),
    "no quote": (
        as_file(annotation(selector=[{"type": "TextPositionSelector", "start": 0, "end": 5}])),
        "Annotation 1: no TextQuoteSelector",
    ),
    "quote too long": (
        as_file(annotation(selector=[{"type": "TextQuoteSelector", "exact": "x" * 5001}])),
        f"at most {MAX_QUOTE_LENGTH:,}",
    ),
    "offsets beyond the text": (
        as_file(
            annotation(
                selector=[
                    {"type": "TextQuoteSelector", "exact": "Words the source never had."},
                    {"type": "TextPositionSelector", "start": 9000, "end": 9027},
                ]
            )
        ),
        "Annotation 1: the TextPositionSelector (9000–9027) does not hold the quote",
    ),
    "negative offsets": (
        as_file(
            annotation(
                selector=[
                    {"type": "TextQuoteSelector", "exact": QUOTE},
                    {"type": "TextPositionSelector", "start": -4, "end": 3},
                ]
            )
        ),
        "is not a stretch of text",
    ),
    "unknown source": (
        as_file(annotation(source={"id": "https://elsewhere.example/doc"})),
        "Annotation 1: the source https://elsewhere.example/doc is not in this project",
    ),
    "unknown stance": (
        as_file(
            {
                **annotation(),
                "body": {"type": "SpecificResource", "stance": "adores", "source": "urn:x"},
            }
        ),
        "the stance “adores” is not one of",
    ),
    "a NUL character": (as_file(annotation(locator="p.\x00 3")), "NUL character"),
    "a lone surrogate": (as_file(annotation(locator="p. \ud800")), "lone surrogate"),
    "a number too long": (b"[" + b"9" * 5000 + b"]", "not valid JSON"),
    "two targets": (
        json.dumps({**annotation(), "target": [annotation()["target"]] * 2}).encode(),
        "Annotation 1: 2 targets",
    ),
    "a page index out of range": (as_file(annotation(pageIndex=10**12)), "page index"),
    "a bad second item": (
        as_file(
            {
                **annotation(),
                "body": [
                    {"purpose": "tagging", "value": "a brand-new concept"},
                    {"stance": "supports", "source": {"type": "Claim", "value": "A new claim"}},
                ],
            },
            {"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation"},
        ),
        "Annotation 2: no target",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_refused_and_changes_nothing(cast, review, client_for, case):
    content, message = BAD_FILES[case]
    before = (Annotation.objects.count(), Claim.objects.count(), Concept.objects.count())

    response = upload(client_for(cast.analyst), cast.project, content)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert (Annotation.objects.count(), Claim.objects.count(), Concept.objects.count()) == before


def test_a_claim_created_by_an_item_is_gone_when_a_later_item_is_refused(cast, review, client_for):
    good = {
        **annotation(),
        "body": {"stance": "supports", "source": {"type": "Claim", "value": "A new claim"}},
    }
    unknown = annotation(source={"dcterms:identifier": ["nobody2020"]})
    response = upload(client_for(cast.analyst), cast.project, as_file(good, unknown))
    assert response.status_code == 400
    assert "Annotation 2: the source nobody2020 is not in this project" in response.content.decode()
    assert not Claim.objects.filter(statement="A new claim").exists()


def test_an_oversize_file_is_refused(cast, client_for):
    content = b" " * (20 * 1024 * 1024 + 1)
    response = upload(client_for(cast.analyst), cast.project, content)
    assert response.status_code == 400
    assert "the limit is 20 MB" in response.content.decode()
    assert not Annotation.objects.exists()


# --- Commands -------------------------------------------------------------------------------


def test_the_commands_export_and_import_annotations(cast, review, tmp_path):
    out = StringIO()
    call_command("export_annotations", "--project", "review", "--user", "student", stdout=out)
    # The collection's total follows its one page of items (it is counted while streaming).
    assert out.getvalue().endswith(']}, "total": 1}\n')
    assert quotes(json.loads(out.getvalue())) == {QUOTE}
    path = tmp_path / "review.jsonld"
    path.write_text(out.getvalue(), encoding="utf-8")

    out = StringIO()
    call_command(
        "import_annotations", str(path), "--project", "review", "--user", "analyst2", stdout=out
    )

    assert "Imported 1 annotations" in out.getvalue()
    assert pictures(Annotation.objects.filter(author=cast.analyst2)) == pictures(
        review["annotations"][:1]
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--project", "nowhere"], "No project"),
        (["--project", "review", "--user", "outsider"], "not a member"),
        (["--project", "review", "--source", "999999"], "No source 999999"),
    ],
)
def test_the_export_command_refuses_bad_arguments(cast, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_annotations", *arguments, stdout=StringIO())


def test_the_import_command_refuses_students_and_bad_files(cast, review, tmp_path):
    path = tmp_path / "bad.jsonld"
    path.write_bytes(b"not json")
    with pytest.raises(CommandError, match="may not annotate"):
        call_command("import_annotations", str(path), "--project", "review", "--user", "student")
    with pytest.raises(CommandError, match="nothing was imported. The file is not valid JSON"):
        call_command("import_annotations", str(path), "--project", "review", "--user", "analyst")
    assert Annotation.objects.count() == 2


def test_many_students_downloading_at_once_are_asked_to_come_back(cast, review, client_for):
    student = client_for(cast.student)
    started = [student.get(export_url(cast.project)) for _ in range(3)]
    refused = student.get(export_url(cast.project))
    assert refused.status_code == 503
    assert "try again in a minute" in refused.content.decode()
    factories.close_response(started[0])  # a client that went away gives its place back
    again = student.get(export_url(cast.project))
    assert again.status_code == 200 and quotes(json.loads(content(again))) == {QUOTE}
    for response in started[1:]:
        assert quotes(json.loads(content(response))) == {QUOTE}


# What a streamed export may hold at once in these tests, with batches of 20 annotations.
BUDGET = 1_500_000


def test_an_export_larger_than_its_memory_budget_streams_the_reference_file(
    cast, grow, monkeypatch
):
    """The file is larger than the memory the export may use, and is the one written in a
    single batch of everything."""
    import hashlib

    site = w3c.Site(base="http://testserver", slug=cast.project.slug)
    annotations = Annotation.objects.for_project(cast.project)

    def chunks():
        return w3c.iter_collection(annotations, site=site, url="http://testserver/x", label="x")

    grow(120)  # 120 sources, about 1,200 annotations with their links
    reference = "".join(chunks()).encode()
    monkeypatch.setattr(w3c, "BATCH", 20)
    digest, size, peak = factories.streamed(chunks())
    assert (digest, size) == (hashlib.sha256(reference).hexdigest(), len(reference))
    assert json.loads(reference)["total"] == annotations.count()
    assert peak < BUDGET < size
