from tests import factories

URL = "/p/review/"


def test_counts_and_recent_approved_passages(cast, client_for):
    source = factories.make_source(cast.project, "Withdrawal from Society")
    claim = factories.make_claim(cast.project)
    factories.make_annotation(
        source,
        cast.analyst,
        status="approved",
        reviewer=cast.supervisor,
        claims=[claim],
        quote="Isolation will ensure a degree of ideological and societal purity",
    )
    factories.make_annotation(source, cast.analyst, status="submitted", quote="Pending words")
    factories.make_claim(cast.project, "No evidence yet")

    student = client_for(cast.student).get(URL)
    assert student.context["counts"] == {
        "sources": 1,
        "people": 0,
        "claims": 1,
        "concepts": 0,
        "annotations": 1,
    }
    assert "ideological and societal purity" in student.text
    assert "Pending words" not in student.text
    supervisor = client_for(cast.supervisor).get(URL)
    assert supervisor.context["counts"]["claims"] == 2
    # The overview lists approved work only, for everyone.
    assert "Pending words" not in supervisor.text


def test_an_empty_project_explains_itself(cast, client_for):
    assert "No passage has been approved yet" in client_for(cast.student).get(URL).text


def test_query_count_does_not_grow(cast, assert_constant_queries):
    # 1 session, 2 user, 3 membership + project, 4 the project's tally (approved passages, the
    # review queue's length), 5-8 counts of sources, people, visible claims and concepts,
    # 9 recent annotations with source and author, 10 their evidence with claims, 11 their
    # mentions with people and works, 12 concepts, 13-16 the overview from the tallies: most
    # cited people, the sources citing those few, contested claims, thinnest concepts
    assert_constant_queries(cast.student, lambda: URL, 16)


def test_analysts_see_their_work_by_status_with_the_reviewers_reasons(cast, client_for):
    source = factories.make_source(cast.project, "Withdrawal from Society")
    factories.make_annotation(source, cast.analyst, quote="my draft", locator="¶3")
    factories.make_annotation(source, cast.analyst, status="submitted", locator="¶4")
    sent_back = factories.make_annotation(source, cast.analyst, status="submitted", locator="¶5")
    sent_back.transition(
        "request_changes", by=cast.supervisor, reason="misquoted", comment="Check the wording."
    )
    factories.make_annotation(source, cast.analyst2, locator="¶6")

    response = client_for(cast.analyst).get(URL)
    own = {
        status.value: [a.locator for a in items] for status, items in response.context["own_work"]
    }
    assert own == {
        "changes_requested": ["¶5"],
        "draft": ["¶3"],
        "submitted": ["¶4"],
        "rejected": [],
    }
    assert "Misquoted:</strong> Check the wording." in response.text
    assert "1 new decision on your annotations since your last visit" in response.text
    # Seen now: the next visit has nothing new until a reviewer decides again.
    assert "new decision" not in client_for(cast.analyst).get(URL).text
    factories.revise(sent_back, cast.analyst, quote="Reworded.")
    sent_back.transition("submit", by=cast.analyst)
    sent_back.transition("approve", by=cast.supervisor, seen_version=sent_back.version)
    assert "1 new decision" in client_for(cast.analyst).get(URL).text


def test_supervisors_see_how_much_waits_for_review(cast, client_for):
    source = factories.make_source(cast.project)
    factories.make_annotation(source, cast.analyst, status="submitted")
    factories.make_annotation(source, cast.analyst, status="submitted")
    assert "2 annotations wait for your review" in client_for(cast.supervisor).get(URL).text
    assert client_for(cast.student).get(URL).context["own_work"] is None


def test_analyst_query_count_does_not_grow(cast, assert_constant_queries):
    # as for students (1-16), plus new decisions since the last visit, remembering this
    # visit, the analyst's own unapproved work, its review events with their actors, their
    # double-coding assignments and the feedback on their resolved units (apps.agreement)
    assert_constant_queries(cast.analyst, lambda: URL, 22)


def test_supervisor_query_count_does_not_grow(cast, assert_constant_queries):
    def own_work(count):
        source = factories.make_source(cast.project)
        for _ in range(count):
            factories.make_annotation(source, cast.supervisor, status="submitted")

    # as for analysts (20); the number waiting for review is the project's tally's
    assert_constant_queries(
        cast.supervisor, lambda: URL, 20, before=lambda: own_work(2), after=lambda: own_work(20)
    )


def test_the_inbox_keeps_the_reviewers_reason_after_a_withdraw_and_restore(cast, client_for):
    source = factories.make_source(cast.project)
    rejected = factories.make_annotation(
        source, cast.analyst, status="rejected", reviewer=cast.supervisor, locator="¶7"
    )
    rejected.transition("withdraw", by=cast.supervisor)
    rejected.transition("restore", by=cast.supervisor)
    assert "Out of scope." in client_for(cast.analyst).get(URL).text
