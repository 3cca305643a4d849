"""The OpenAPI 3.1 document describes the API as it is: it is valid, names every route, and
schemathesis, generating requests from it, finds no server error and no answer that does not
match it. The reference page is rendered from it with nothing loaded from elsewhere."""

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
)

from apps.annotations.models import Annotation
from apps.api.views import openapi_document
from apps.claims.models import Claim, Concept
from apps.library.models import Source
from apps.people.models import Person
from tests.api.test_access import (
    ACTIONS_ON,
    BATCHES,
    ENDPOINTS,
    FILES,
    OTHER_WRITES,
    SIGNED_IN,
    WRITES,
)


def test_the_schema_is_valid_openapi_3_1(db, api_for):
    response = api_for(None).get("/api/v1/schema/")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any fault


def test_the_schema_names_every_route_and_how_to_authenticate(db, api_for):
    document = api_for(None).get("/api/v1/schema/").json()
    operations = {
        operation["operationId"]
        for methods in document["paths"].values()
        for operation in methods.values()
    }
    routes = {
        name.split(":")[1]
        for name in set(ENDPOINTS) | SIGNED_IN | set(ACTIONS_ON) | BATCHES | FILES
    }
    writes = {
        f"{verb}_{kind}"
        for verb in ("create", "update", "delete")
        for kind in ("source", "person", "claim", "concept")
    } | {"create_annotation_draft", "update_annotation_content"}
    # Generated ids name the module ("apps_api_endpoints_list_people"); some are set by hand.
    named = {op.split("_", 3)[3] if op.startswith("apps_api_") else op for op in operations}
    assert named == routes | writes
    assert len(WRITES) + len(OTHER_WRITES) == len(writes)
    patch = document["paths"]["/api/v1/p/{slug}/sources/{pk}/"]["patch"]
    headers = {p["name"] for p in patch["parameters"] if p["in"] == "header"}
    assert headers == {"If-Unmodified-Since-Version", "If-Match"}
    assert set(patch["responses"]) >= {"200", "400", "403", "404", "412", "428"}
    assert "/api/v1/p/{slug}/annotations/{pk}/" in document["paths"]
    review = document["paths"]["/api/v1/p/{slug}/annotations/{pk}/transitions/"]["post"]
    assert set(review["responses"]) >= {"201", "400", "403", "404", "409", "412"}
    schemes = document["components"]["securitySchemes"]
    assert {scheme["type"] for scheme in schemes.values()} == {"http", "apiKey"}
    listing = document["paths"]["/api/v1/p/{slug}/sources/"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 100
    assert set(listing["responses"]) >= {"200", "400", "401", "403", "404"}


def test_the_reference_page_shows_every_operation_from_our_own_files(db, client_for, cast):
    page = client_for(None).get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.text
    for path in openapi_document()["paths"]:
        assert f"<code>{path}</code>" in html
    assert 'id="schema-AnnotationOut"' in html and "TextQuoteSelector" in html
    # Scripts, styles and images, if any, come from this site.
    for reference in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert reference.startswith(("/", "#")), reference
    # Signed in, it points to where tokens are made.
    assert "/accounts/tokens/" in client_for(cast.student).get("/api/v1/docs/").text


# --- Fuzzing from the schema -----------------------------------------------------------------

KINDS = {
    "sources": Source, "people": Person, "claims": Claim, "concepts": Concept,
    "annotations": Annotation,
}  # fmt: skip

schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = get_wsgi_application()


@pytest.fixture
def fuzz_token(cast, world, token_for, grow):
    grow(2)
    # The WSGI app closes the database connection after each request, and with it the test's
    # transaction on PostgreSQL; Django's test client keeps it open the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield token_for(cast.analyst, "write")
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same requests every run: a failure repeats
    database=None,  # nothing written to .hypothesis/
)
def test_the_api_answers_every_generated_request_as_its_schema_says(case, fuzz_token):
    # Most requests reach the cast's project, and half the ids one of its rows; the rest go
    # where the generated values lead.
    params = case.path_parameters or {}
    if "slug" in params and len(params["slug"]) % 4 != 3:
        params["slug"] = "review"
    replaced = False
    if isinstance(params.get("pk"), int) and params["pk"] % 2 == 0:
        model = KINDS[case.path.split("/")[5]]
        rows = list(model.objects.order_by("pk").values_list("pk", flat=True))
        params["pk"] = rows[params["pk"] // 2 % len(rows)]
        replaced = True
    response = case.call(headers={"Authorization": f"Bearer {fuzz_token}"})
    assert response.status_code < 500, response.text[:500]
    headers = {name.lower(): values for name, values in response.headers.items()}
    # JSON, but for the files the sources list answers with `?format=` (documented too).
    files = ("bibtex", "ris", "csljson", "jsonld", "csv", "gexf", "graphml")
    is_file = (case.query or {}).get("format") in files or case.path.endswith(("/matrix/", "/map/"))
    if is_file and response.status_code == 200:
        assert not headers["content-type"][0].startswith("application/json")
    else:
        assert headers["content-type"][0].startswith("application/json")
    # Every request carries a valid token (the access tests cover missing and bad ones), which
    # the check for ignored authentication would take for a generated, invalid one. A cursor
    # is opaque: one the API did not give out is refused (400), however well-formed.
    # Nor can a schema say all the form's rules (a citation key unique in the project, a day
    # that exists in its month, a URL that resolves to a host): writes it refuses are 400s.
    excluded = [ignored_auth]
    if replaced:
        # An id out of range, generated to be refused, was just swapped for a real row's.
        excluded.append(negative_data_rejection)
    if "cursor" in (case.query or {}) or case.method != "GET":
        excluded.append(positive_data_acceptance)
    if any(name.lower().startswith("x-schemathesis-unknown") for name in case.headers or {}):
        # An operation with header parameters gets an extra, unknown header as "invalid":
        # HTTP lets clients send any header, and an API ignores those it does not know.
        excluded.append(negative_data_rejection)
    case.validate_response(response, excluded_checks=excluded)
