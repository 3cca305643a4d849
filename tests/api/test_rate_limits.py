"""API rate limits: past the minute's allowance a caller gets 429 with Retry-After, counted per
token, per session or per address in the shared cache; other callers are not held back."""

import datetime

import time_machine
from django.utils import timezone

from apps.api import middleware

URL = "/api/v1/p/review/sources/"


def test_a_token_past_its_allowance_waits_for_the_next_minute(cast, api_for, token_for, settings):
    settings.API_REQUESTS_PER_MINUTE = 3
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        client = api_for(token=token_for(cast.analyst))
        assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 200]
        refused = client.get(URL)
        assert refused.status_code == 429
        assert refused["Retry-After"] == "55"
        assert "at most 3 a minute for this token" in refused.json()["detail"]
        # Another token, and a signed-in browser, have their own allowance.
        assert api_for(token=token_for(cast.supervisor)).get(URL).status_code == 200
        assert api_for(cast.student).get(URL).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=1), tick=False):
        assert client.get(URL).status_code == 200


def test_signed_out_callers_are_counted_by_address(db, api_for, settings):
    settings.API_REQUESTS_PER_MINUTE = 2
    with time_machine.travel(timezone.now().replace(second=30), tick=False):
        statuses = [api_for(None).get("/api/v1/schema/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_no_limit_when_it_is_off(db, api_for, settings):
    settings.API_REQUESTS_PER_MINUTE = 0
    assert middleware.over_the_rate(api_for(None).get("/api/v1/schema/").wsgi_request) is None
