"""The access matrix of every project page: who gets what, outsiders 404, wrong method 405.

`PAGES` must name every URL pattern under /p/<slug>/; a test walks the URL conf to make sure a
new page cannot be added without its access rules being written down here.
"""

import datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests import factories

ALL = {"supervisor": 200, "analyst": 200, "analyst2": 200, "student": 200}
SUPERVISORS = {"supervisor": 200, "analyst": 403, "analyst2": 403, "student": 403}

# url name -> (object key in `world` or None, expected status per member)
PAGES = {
    "xref:project_home": (None, ALL),
    "xref:source_list": (None, ALL),
    "xref:source_detail": ("source", ALL),
    "people:person_list": (None, ALL),
    "xref:person_detail": ("person", ALL),
    "claims:claim_list": (None, ALL),
    "xref:claim_detail": ("claim", ALL),
    "claims:concept_list": (None, ALL),
    "xref:concept_detail": ("concept", ALL),
    "xref:matrix": (None, ALL),
    "xref:matrix_csv": (None, ALL),
    "xref:map": (None, ALL),
    "xref:map_gexf": (None, ALL),
    "xref:map_graphml": (None, ALL),
    "annotations:annotation_detail": ("approved", ALL),
    "people:person_lookup": (None, ALL),
    "claims:claim_lookup": (None, ALL),
    "library:source_lookup": (None, ALL),
    "accounts:member_list": (None, ALL),
    "accounts:project_edit": (None, SUPERVISORS),
    "annotations:annotation_create": ("source", {**ALL, "student": 403}),
    # only the author edits, and only drafts and work sent back
    "annotations:annotation_edit": ("draft", {**dict.fromkeys(ALL, 403), "analyst": 200}),
    "annotations:annotation_list": (None, ALL),
    "xref:cocitation": (None, ALL),
    "search:search": (None, ALL),
    "review:queue": (None, SUPERVISORS),
    "review:withdrawn": (None, SUPERVISORS),
    "bibliography:import": (None, {**ALL, "student": 403}),
    "bibliography:export": (None, ALL),
    "bibliography:export_file": (None, ALL),
    "backup:project_export": (None, SUPERVISORS),
    "backup:project_upload": (None, SUPERVISORS),
    "bibliography:duplicate_list": (None, {**ALL, "student": 403}),
    "webanno:annotations_export": (None, ALL),
    "webanno:source_annotations_export": ("source", ALL),
    "webanno:annotations_import": (None, {**ALL, "student": 403}),
    "qda:import": (None, {**ALL, "student": 403}),
    "annotations:source_read": ("source", ALL),
    "annotations:source_orphans": ("source", ALL),
    # the cards the reading view fetches; the passages are named in the query (QUERIES)
    "annotations:source_passages": ("source", ALL),
    "annotations:source_text": ("source", {**ALL, "student": 403}),
    "annotations:source_locate": ("source", {**ALL, "student": 403}),
    # supervisors attach any passage, authors their own while they may edit it
    "annotations:annotation_reattach": (
        "draft",
        {"supervisor": 200, "analyst": 200, "analyst2": 403, "student": 403},
    ),
    # everyone lists their own jobs; supervisors everyone's
    "jobs:job_list": (None, ALL),
    # REFI-QDA: the codebook of what the member may see
    "qda:codebook_export": (None, ALL),
    # Double coding: supervisors and the assignment's coders (both analysts here); students
    # have no part in it
    "agreement:assignment_list": (None, {**ALL, "student": 403}),
    "agreement:assignment_create": (None, SUPERVISORS),
    "agreement:assignment_detail": ("assignment", {**ALL, "student": 403}),
    "agreement:report_csv": ("assignment", {**ALL, "student": 403}),
    # its coders read a unit (feedback); supervisors also resolve it there (POST)
    "agreement:unit_detail": ("unit", {**ALL, "student": 403}),
}

# Pages that need a query string to answer 200: url name -> the query, from `world`.
QUERIES = {
    "annotations:source_passages": lambda world: f"?ids={world['approved'].pk}",
}

# Pages of PAGES that also take their form's POST; other methods are still refused.
FORM_PAGES = {
    "accounts:project_edit",
    "bibliography:import",
    "annotations:annotation_create",
    "annotations:annotation_edit",
    "annotations:source_text",
    "annotations:annotation_reattach",
    "webanno:annotations_import",
    "qda:import",
    "backup:project_upload",
    # POST: a background job writes the file (GET gives it directly when it is small)
    "backup:project_export",
    "webanno:annotations_export",
    "webanno:source_annotations_export",
    "agreement:assignment_create",
    "agreement:unit_detail",
}

# Curation: create, edit and delete-confirmation pages of sources, people, claims and concepts.
# GET shows the form (students 403); POST saves or deletes.
EDITORS = {"supervisor": 200, "analyst": 200, "analyst2": 200, "student": 403}
CURATION_PAGES = {
    "library:source_create": (None, EDITORS),
    "library:source_edit": ("source", EDITORS),
    "library:source_delete": ("source", EDITORS),
    "people:person_create": (None, EDITORS),
    "people:person_edit": ("person", EDITORS),
    "people:person_delete": ("person", EDITORS),
    "claims:claim_create": (None, EDITORS),
    "claims:claim_edit": ("claim", EDITORS),
    "claims:claim_delete": ("claim", EDITORS),
    "claims:concept_create": (None, EDITORS),
    "claims:concept_edit": ("concept", EDITORS),
    "claims:concept_delete": ("concept", EDITORS),
}
PAGES.update(CURATION_PAGES)
FORM_PAGES |= set(CURATION_PAGES)

# State changes, POST only: url name -> (object key or None, status per member of an empty POST).
# An allowed member is redirected back with a message (or shown the form's errors).
POST_ENDPOINTS = {
    "accounts:member_add": (None, SUPERVISORS),
    # an empty invitation form is shown again with its errors
    "accounts:member_invite": (None, SUPERVISORS),
    "accounts:invitation_resend": ("invitation", {**SUPERVISORS, "supervisor": 302}),
    "accounts:invitation_revoke": ("invitation", {**SUPERVISORS, "supervisor": 302}),
    "accounts:member_role": ("membership", {**SUPERVISORS, "supervisor": 302}),
    "accounts:member_remove": ("membership", {**SUPERVISORS, "supervisor": 302}),
    # Anyone may leave; the only supervisor is refused with a message.
    "accounts:member_leave": (None, dict.fromkeys(ALL, 302)),
    "review:approve_shown": (None, {**SUPERVISORS, "supervisor": 302}),
    # an empty choice is refused with a message; students have no choice to make
    "accounts:set_scope": (None, {**dict.fromkeys(ALL, 302), "student": 403}),
    # Review actions on analyst's annotations. 403 for members who never may; the others are
    # redirected with the result or with why not now (wrong status, no reason given).
    "annotations:annotation_submit": ("draft", {**dict.fromkeys(ALL, 403), "analyst": 302}),
    "annotations:annotation_approve": ("approved", {**SUPERVISORS, "supervisor": 302}),
    "annotations:annotation_request_changes": ("approved", {**SUPERVISORS, "supervisor": 302}),
    "annotations:annotation_reject": ("approved", {**SUPERVISORS, "supervisor": 302}),
    "annotations:annotation_reopen": ("approved", {**SUPERVISORS, "supervisor": 302}),
    "annotations:annotation_restore": ("approved", {**SUPERVISORS, "supervisor": 302}),
    # supervisor withdraws it; its author is then told it already is; others may not
    "annotations:annotation_withdraw": (
        "draft",
        {"supervisor": 302, "analyst": 302, "analyst2": 403, "student": 403},
    ),
    # an empty choice is refused with a message
    "bibliography:duplicate_merge": (None, {**dict.fromkeys(ALL, 302), "student": 403}),
    # a background job writes the REFI-QDA project of what the member may see
    "qda:project_export": (None, dict.fromkeys(ALL, 302)),
    # coders mark their work done (here: already compared, so they are told so)
    "agreement:assignment_done": (
        "assignment",
        {**dict.fromkeys(ALL, 403), "analyst": 302, "analyst2": 302},
    ),
    "agreement:assignment_compare": ("assignment", {**SUPERVISORS, "supervisor": 302}),
    # an empty form is refused with a message (and a compared assignment is not closed)
    "agreement:assignment_close": ("assignment", {**SUPERVISORS, "supervisor": 302}),
    "agreement:accept_agreements": ("assignment", {**SUPERVISORS, "supervisor": 302}),
    "agreement:coder_drop": ("assignment_coder", {**SUPERVISORS, "supervisor": 302}),
}

# Pages of one upload waiting for confirmation, reached by the random token in their address:
# url name -> (kind of upload, method, status for its uploader).
TOKEN_PAGES = {
    "bibliography:import_preview": ("bibliography", "get", 200),
    "bibliography:import_confirm": ("bibliography", "post", 302),
    "backup:project_preview": ("project", "get", 200),
    "qda:import_preview": ("qdpx", "get", 200),
    "webanno:annotations_preview": ("annotations", "get", 200),
}

# Pages of one background job, reached by the random token in their address: url name ->
# (method, status for the job's starter, status for a supervisor). Other members get 404.
JOB_PAGES = {
    "jobs:job_detail": ("get", 200, 200),
    "jobs:job_status": ("get", 200, 200),
    "jobs:job_download": ("get", 200, 200),
    # only the starter runs a failed job again
    "jobs:job_retry": ("post", 302, 403),
}

# Pages about objects some members may not see.
RESTRICTED = {
    # analyst's draft: its author and supervisors only
    ("annotations:annotation_detail", "draft"): {
        "supervisor": 200, "analyst": 200, "analyst2": 403, "student": 403,
    },
    # a claim whose only evidence is unapproved: hidden from students
    ("xref:claim_detail", "unsupported_claim"): {
        "supervisor": 200, "analyst": 200, "analyst2": 200, "student": 403,
    },
}  # fmt: skip


@pytest.fixture
def world(cast):
    project = cast.project
    source = factories.make_source(project)
    person = factories.make_person(project)
    claim = factories.make_claim(project)
    unsupported = factories.make_claim(project)
    concept = factories.make_concept(project)
    approved = factories.make_annotation(
        source,
        cast.analyst,
        status="approved",
        reviewer=cast.supervisor,
        claims=[claim],
        people=[person],
        concepts=[concept],
    )
    draft = factories.make_annotation(source, cast.analyst, claims=[unsupported])
    membership = factories.add_member(project, factories.make_user("extra"), "student")
    invitation = project.invite("invited@example.org", role="student", by=cast.supervisor)
    assignment, unit = _compared_assignment(cast, source, [draft, approved])
    return {
        "assignment": assignment,
        "assignment_coder": assignment.coders.first(),
        "unit": unit,
        "invitation": invitation,
        "source": source,
        "person": person,
        "claim": claim,
        "unsupported_claim": unsupported,
        "concept": concept,
        "approved": approved,
        "draft": draft,
        "membership": membership,
    }


def _compared_assignment(cast, source, annotations):
    """A compared double-coding assignment of `source` to both analysts, with one unit whose
    versions point at `annotations` (left as they are, so other tests count the same rows)."""
    from apps.agreement import coding
    from apps.agreement.models import CodedPassage, Unit

    assignment = coding.assign(
        project=cast.project, title="Round", ranges=[coding.Range(source)],
        coders=[cast.analyst, cast.analyst2], variables=["spans", "claims"], due_date=None,
        tolerance=5, by=cast.supervisor,
    )  # fmt: skip
    for coder in (cast.analyst, cast.analyst2):
        coding.mark_done(assignment=assignment, coder=coder)
    coding.compare(assignment=assignment, by=cast.supervisor)
    unit = Unit.objects.create(assignment=assignment, source=source, number=1, outcome="disagreed")
    for row, annotation in zip(assignment.coders.order_by("pk"), annotations, strict=True):
        CodedPassage.objects.create(
            coder=row, annotation=annotation, annotation_version=annotation.version,
            source=source, quote=annotation.quote, locator=annotation.locator, unit=unit,
        )  # fmt: skip
    return assignment, unit


def url_for(name, world, key, slug="review"):
    kwargs = {"slug": slug}
    if key:
        kwargs["pk"] = world[key].pk
    query = QUERIES[name](world) if name in QUERIES else ""
    return reverse(name, kwargs=kwargs) + query


def project_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace, under_project):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = entry.namespace or namespace
                walk(
                    entry.url_patterns, inner, under_project or "<slug:slug>" in str(entry.pattern)
                )
            elif isinstance(entry, URLPattern) and under_project:
                names.add(f"{namespace}:{entry.name}")

    walk(get_resolver().url_patterns, None, False)
    return names


def test_every_project_page_is_in_the_access_matrix():
    assert project_url_names() == (
        set(PAGES) | set(POST_ENDPOINTS) | set(TOKEN_PAGES) | set(JOB_PAGES)
    )


@pytest.mark.parametrize("name", sorted(TOKEN_PAGES))
def test_uploads_are_reached_by_their_uploader_only(cast, client_for, name):
    from apps.jobs.models import ImportJob

    kind, method, status = TOKEN_PAGES[name]
    # Bibliographies are imported by analysts; whole projects by supervisors.
    owner, other = (
        (cast.analyst, cast.analyst2) if kind == "bibliography" else (cast.supervisor, None)
    )
    payload = [] if kind == "bibliography" else {"slug": "copy", "data": {"project": {}}}
    job = ImportJob.objects.create(
        project=cast.project, user=owner, kind=kind, format="bibtex", payload=payload
    )
    url = reverse(name, kwargs={"slug": "review", "token": job.token})
    assert getattr(client_for(owner), method)(url).status_code == status
    if other:
        assert getattr(client_for(other), method)(url).status_code == 404
    assert getattr(client_for(cast.student), method)(url).status_code == 403
    assert getattr(client_for(cast.outsider), method)(url).status_code == 404
    assert getattr(client_for(owner), method)(url.replace(job.token, "x" * 43)).status_code == 404
    wrong = "delete" if method == "post" else "put"
    assert getattr(client_for(owner), wrong)(url).status_code == 405
    response = getattr(client_for(None), method)(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("name", sorted(JOB_PAGES))
def test_jobs_are_reached_by_their_starter_and_supervisors_only(cast, client_for, name):
    from apps.jobs.models import Job, JobChunk

    method, for_starter, for_supervisor = JOB_PAGES[name]
    # A failed job with a result file: every page of it answers (retry needs the failure).
    job = Job.objects.create(
        project=cast.project, user=cast.analyst, kind="test", title="A job", state="failed",
        error="It failed.", result_name="r.txt", result_type="text/plain", result_size=1,
    )  # fmt: skip
    JobChunk.objects.create(job=job, role="result", seq=0, data=b"x")
    if name == "jobs:job_download":
        Job.objects.filter(pk=job.pk).update(state="succeeded", error="")
    url = reverse(name, kwargs={"slug": "review", "token": job.token})
    assert getattr(client_for(cast.supervisor), method)(url).status_code == for_supervisor
    for other in (cast.analyst2, cast.student, cast.outsider):
        assert getattr(client_for(other), method)(url).status_code == 404, other
    wrong = "delete" if method == "post" else "post"
    assert getattr(client_for(cast.analyst), wrong)(url).status_code == 405
    response = getattr(client_for(None), method)(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert getattr(client_for(cast.analyst), method)(url).status_code == for_starter
    assert (
        getattr(client_for(cast.analyst), method)(url.replace(job.token, "x" * 43)).status_code
        == 404
    )


@pytest.mark.parametrize("name", sorted(PAGES))
def test_members_get_what_their_role_allows(cast, world, client_for, name):
    key, expected = PAGES[name]
    url = url_for(name, world, key)
    for role, status in expected.items():
        response = client_for(cast.members()[role]).get(url)
        assert response.status_code == status, role
        factories.close_response(response)  # as a server does: a streamed file frees its place


@pytest.mark.parametrize(("name", "key"), sorted(RESTRICTED))
def test_members_without_the_right_get_403(cast, world, client_for, name, key):
    url = url_for(name, world, key)
    for role, status in RESTRICTED[name, key].items():
        assert client_for(cast.members()[role]).get(url).status_code == status, role


@pytest.mark.parametrize("name", sorted(PAGES))
def test_outsiders_get_404_and_anonymous_users_are_sent_to_sign_in(cast, world, client_for, name):
    key, _ = PAGES[name]
    url = url_for(name, world, key)
    assert client_for(cast.outsider).get(url).status_code == 404
    response = client_for(None).get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("name", sorted(set(PAGES) - FORM_PAGES))
def test_read_only_pages_refuse_other_methods(cast, world, client_for, name):
    key, _ = PAGES[name]
    url = url_for(name, world, key)
    client = client_for(cast.supervisor)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(url).status_code == 405, method


@pytest.mark.parametrize("name", sorted(n for n, (key, _) in PAGES.items() if key))
def test_objects_of_another_project_and_unknown_ids_are_404(cast, world, client_for, name):
    key, _ = PAGES[name]
    elsewhere = factories.make_project(slug="other")
    factories.add_member(elsewhere, cast.supervisor, "supervisor")
    client = client_for(cast.supervisor)
    # The object exists, but under the other project's slug it is not found.
    assert client.get(url_for(name, world, key, slug="other")).status_code == 404
    for pk in ("0", "999999999", "999999999999999999"):
        path = url_for(name, world, key).replace(f"/{world[key].pk}/", f"/{pk}/")
        assert client.get(path).status_code == 404, pk
    too_long = url_for(name, world, key).replace(f"/{world[key].pk}/", "/1" + "0" * 30 + "/")
    assert client.get(too_long).status_code == 404


@pytest.mark.parametrize("name", sorted(FORM_PAGES))
def test_form_pages_refuse_methods_other_than_get_and_post(cast, world, client_for, name):
    key, _ = PAGES[name]
    url = url_for(name, world, key)
    client = client_for(cast.supervisor)
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(url).status_code == 405, method


@pytest.mark.parametrize("name", sorted(POST_ENDPOINTS))
def test_post_endpoints_answer_members_as_their_role_allows(cast, world, client_for, name):
    key, expected = POST_ENDPOINTS[name]
    url = url_for(name, world, key)
    for role, status in expected.items():
        assert client_for(cast.members()[role]).post(url).status_code == status, role


@pytest.mark.parametrize("name", sorted(POST_ENDPOINTS))
def test_post_endpoints_refuse_other_methods_and_outsiders(cast, world, client_for, name):
    key, _ = POST_ENDPOINTS[name]
    url = url_for(name, world, key)
    for user in [*cast.members().values(), cast.outsider]:
        client = client_for(user)
        for method in ("get", "head", "put", "patch", "delete"):
            assert getattr(client, method)(url).status_code == 405, (user, method)
    assert client_for(cast.outsider).post(url).status_code == 404
    response = client_for(None).post(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("name", sorted(n for n, (key, _) in POST_ENDPOINTS.items() if key))
def test_post_endpoints_do_not_reach_objects_of_another_project(cast, world, client_for, name):
    key, _ = POST_ENDPOINTS[name]
    elsewhere = factories.make_project(slug="other")
    factories.add_member(elsewhere, cast.supervisor, "supervisor")
    client = client_for(cast.supervisor)
    assert client.post(url_for(name, world, key, slug="other")).status_code == 404
    for pk in ("0", "999999999", "999999999999999999"):
        path = url_for(name, world, key).replace(f"/{world[key].pk}/", f"/{pk}/")
        assert client.post(path).status_code == 404, pk


@pytest.mark.parametrize("name", sorted(CURATION_PAGES))
def test_curation_posts_are_refused_to_students_outsiders_and_other_projects(
    cast, world, client_for, name
):
    key, _ = CURATION_PAGES[name]
    url = url_for(name, world, key)

    def state():
        project = cast.project
        rows = [project.sources, project.people, project.claims, project.concepts]
        return [list(related.values_list("pk", "version")) for related in rows]

    before = state()
    assert client_for(cast.student).post(url).status_code == 403
    assert client_for(cast.outsider).post(url).status_code == 404
    response = client_for(None).post(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    if key:
        elsewhere = factories.make_project(slug="other")
        factories.add_member(elsewhere, cast.supervisor, "supervisor")
        client = client_for(cast.supervisor)
        assert client.post(url_for(name, world, key, slug="other")).status_code == 404
        for pk in ("0", "999999999999999999"):
            path = url.replace(f"/{world[key].pk}/", f"/{pk}/")
            assert client.post(path).status_code == 404, pk
    assert state() == before


def test_unknown_and_malformed_project_slugs_are_404(cast, client_for):
    client = client_for(cast.supervisor)
    for slug in ("nope", "REVIEW", "a" * 300):
        assert client.get(f"/p/{slug}/").status_code == 404
    assert client.get("/p/review%00/").status_code == 400
    assert client.get("/p/../").status_code == 404


def test_sign_in_and_sign_out(cast, client):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    wrong = client.post("/accounts/login/", {"username": "student", "password": "nope"})
    assert wrong.status_code == 200
    assert "correct username and password" in wrong.text
    right = client.post("/accounts/login/", {"username": "student", "password": factories.PASSWORD})
    assert right.status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


# Pages outside any project: the member's own account and the sign-in machinery. url name ->
# (status signed out, status signed in). Signed out, a page that needs an account sends to
# sign-in (302); a page for signed-out people also answers signed-in ones.
ACCOUNT_PAGES = {
    "login": (200, 302),  # signed in: sent on to their projects
    "password_reset": (200, 200),
    "password_reset_done": (200, 200),
    "password_reset_complete": (200, 200),
    "password_change": (302, 200),
    "password_change_done": (302, 200),
    "accounts:profile": (302, 200),
    "tokens:token_list": (302, 200),
}
ACCOUNT_FORM_PAGES = {
    "login", "password_reset", "password_change", "accounts:profile", "tokens:token_list",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ACCOUNT_PAGES))
def test_account_pages_answer_signed_out_and_signed_in_people(cast, client_for, name):
    signed_out, signed_in = ACCOUNT_PAGES[name]
    url = reverse(name)
    response = client_for(None).get(url)
    assert response.status_code == signed_out
    if signed_out == 302:
        assert response.url.startswith("/accounts/login/")
    assert client_for(cast.student).get(url).status_code == signed_in
    methods = ("put", "patch", "delete") if name in ACCOUNT_FORM_PAGES else ("post", "put")
    # Wrong methods are refused by whoever the page is for (sign-in sends signed-in people on).
    client = client_for(cast.student if signed_in == 200 else None)
    for method in methods:
        assert getattr(client, method)(url).status_code == 405, method


def test_api_tokens_are_revoked_by_their_owner_only_and_by_post(cast, client_for):
    from apps.api.models import ApiToken

    token, _ = ApiToken.issue(
        user=cast.student, project=cast.project, name="script", scope="read",
        lifetime=datetime.timedelta(days=1),
    )  # fmt: skip
    url = reverse("tokens:token_revoke", args=[token.pk])
    response = client_for(None).post(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    for user in (cast.supervisor, cast.outsider):
        assert client_for(user).post(url).status_code == 404
    for method in ("get", "head", "put", "patch", "delete"):
        assert getattr(client_for(cast.student), method)(url).status_code == 405, method
    assert (
        client_for(cast.student).post(url.replace(f"/{token.pk}/", "/999999999/")).status_code
        == 404
    )
    assert client_for(cast.student).post(url).status_code == 302


def test_invitation_links_answer_everyone_and_refuse_other_methods(cast, world, client_for):
    url = reverse("accounts:invitation_accept", args=[world["invitation"].make_token()])
    # Signed out, the link offers to sign up or sign in; signed in to an account whose address
    # is not the invited one, it is refused (and stays pending).
    for user, status in ((None, 200), (cast.student, 403), (cast.outsider, 403)):
        assert client_for(user).get(url).status_code == status
        for method in ("put", "patch", "delete"):
            assert getattr(client_for(user), method)(url).status_code == 405
    forged = reverse("accounts:invitation_accept", args=["x" * 40])
    assert client_for(None).get(forged).status_code == 404
    assert client_for(cast.student).post(forged).status_code == 404


def test_an_email_confirmation_link_answers_only_its_own_account(cast, client_for):
    from apps.accounts.mail import email_change_token

    url = reverse("accounts:email_confirm", args=[email_change_token(cast.student, "s@x.org")])
    response = client_for(None).get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert client_for(cast.student).get(url).status_code == 200
    for user in (cast.analyst, cast.outsider):
        assert client_for(user).get(url).status_code == 403
        assert client_for(user).post(url).status_code == 403
    for method in ("put", "patch", "delete"):
        assert getattr(client_for(cast.student), method)(url).status_code == 405, method
    forged = reverse("accounts:email_confirm", args=["x" * 40])
    assert client_for(cast.student).post(forged).status_code == 404
    cast.student.refresh_from_db()
    assert cast.student.email == ""


def test_a_password_reset_link_answers_signed_out_people(cast, client_for):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(cast.student.pk))
    client = client_for(None)
    link = reverse(
        "password_reset_confirm", args=[uid, default_token_generator.make_token(cast.student)]
    )
    # Django moves the token into the session and the address to …/set-password/.
    response = client.get(link)
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(response.url).status_code == 405, method
    # A link that is not valid says so (whatever the method), and changes nothing.
    bad = reverse("password_reset_confirm", args=[uid, "set-password"])
    assert "cannot be used" in client_for(None).get(bad).text
