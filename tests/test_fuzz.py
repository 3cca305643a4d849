"""Every URL pattern, every method, hostile input, every role: never a 500.

The patterns are read from the URL conf (a new page is fuzzed without being listed here).
Each is requested by each member of the cast, an outsider and a signed-out visitor, with
every HTTP method, with path ids of this project, of another project, huge and zero, and
with query strings and form bodies of hostile values: non-path `next`, NUL bytes, right-to-
left marks and astral characters, numbers of twenty and five thousand digits, deeply nested
brackets, ids of another project's rows, uploads that are not what they claim. The field
names are those the page's own form has (read from its HTML) plus common ones. The values
are drawn by a generator seeded with the pattern's name, so a failure repeats.

A 500 would show here as the exception the view raised (the test client re-raises it).
Django's admin is left out: it is Django's own, and only staff reach past its sign-in.
"""

from __future__ import annotations

import random
import re
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, SlugConverter, StringConverter

from config.converters import IdConverter
from tests import factories
from tests.conftest import BROWSER_ACCEPT
from tests.test_access import world as world  # noqa: F401 (the fixture of objects to open)

METHODS = ["get", "post", "put", "patch", "delete", "head", "options", "trace"]

HOSTILE = [
    "abc",
    "",
    "\x00",
    "a\x00b",
    "//evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "/p/review/\r\nSet-Cookie: x=1",
    "\u202eevil\u202c",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🧨 مرحبا",
    "-1",
    "0",
    "99999999999999999999",
    "9" * 5000,
    "1e400",
    "NaN",
    "[" * 5000,
    '{"a":' * 3000,
    "%00%ff",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "x" * 20000,
    "#1",
    "#99999999999999999999",
    "2026-13-45",
]

# Form fields many pages read, besides those their HTML names.
COMMON_FIELDS = [
    "next", "page", "q", "id", "pk", "seen", "seen_version", "loaded_version", "scope", "role",
    "who", "approve", "keep", "sources", "format", "style", "sort", "order", "status", "kind",
    "year", "year_from", "year_to", "concept", "person", "claim", "source", "analyst", "type",
    "reason", "comment", "statement", "name", "slug", "title", "text", "quote", "start", "end",
    "passages", "ids", "filter", "confirm", "token", "per_page", "view", "color", "colour",
]  # fmt: skip

NAME = re.compile(r'name="([^"]{1,100})"')
ROLES = ["supervisor", "analyst", "student", "outsider", None]


def url_patterns() -> list[tuple[str, str, dict]]:
    """(name, route with converters, converters) for every pattern outside the admin."""
    found = []

    def walk(patterns, prefix: str, converters: dict, namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                walk(
                    entry.url_patterns,
                    prefix + str(entry.pattern),
                    {**converters, **getattr(entry.pattern, "converters", {})},
                    entry.namespace or namespace,
                )
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name}" if namespace else str(entry.name)
                route = prefix + str(entry.pattern)
                found.append(
                    (name, route, {**converters, **getattr(entry.pattern, "converters", {})})
                )

    walk(get_resolver().url_patterns, "", {}, None)
    return sorted(found)


PATTERNS = url_patterns()


def test_the_fuzzer_sees_every_kind_of_page():
    names = {name for name, _, _ in PATTERNS}
    assert {"xref:project_home", "accounts:set_scope", "bibliography:duplicate_merge"} <= names
    assert "healthz" in names and "login" in names
    assert len(PATTERNS) > 70


class Fuzzer:
    def __init__(self, name: str, cast, world, client_for) -> None:
        self.random = random.Random(zlib.crc32(name.encode()))
        self.cast = cast
        elsewhere = factories.make_project(slug="elsewhere-fuzz")
        factories.add_member(elsewhere, cast.supervisor, "supervisor")
        other_source = factories.make_source(elsewhere)
        foreign = factories.make_annotation(other_source, cast.supervisor)
        self.own_ids = [obj.pk for obj in world.values()]
        self.foreign_ids = [other_source.pk, foreign.pk, factories.make_claim(elsewhere).pk]
        self.clients = {role: client_for(getattr(cast, role) if role else None) for role in ROLES}

    def value(self) -> str:
        pick = self.random.random()
        if pick < 0.15:
            return str(self.random.choice(self.foreign_ids))
        if pick < 0.25:
            return str(self.random.choice(self.own_ids))
        return self.random.choice(HOSTILE)

    def path(self, route: str, converters: dict) -> str:
        def fill(match: re.Match) -> str:
            name = match.group(2)
            converter = converters.get(name)
            if name == "slug":
                return self.random.choice(["review", "review", "elsewhere-fuzz", "no-such"])
            if isinstance(converter, IdConverter | IntConverter):
                return str(
                    self.random.choice(
                        [*self.own_ids, *self.own_ids, *self.foreign_ids, 0, 10**18 - 1]
                    )
                )
            if isinstance(converter, SlugConverter):
                return "x-" + str(self.random.randrange(10**6))
            if isinstance(converter, StringConverter):
                return self.random.choice(["abc", "x" * 200, "ü", "0"])
            return "abc"

        return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)

    def params(self, names: list[str]) -> dict:
        chosen = self.random.sample(names, k=min(len(names), self.random.randint(1, 8)))
        data: dict = {name: self.value() for name in chosen}
        # Some fields twice, as a multiple choice posts them.
        if chosen and self.random.random() < 0.3:
            data[chosen[0]] = [self.value(), self.value()]
        data.setdefault("next", self.random.choice(["abc", "//evil.example/", "\x00", "/p/"]))
        return data

    def upload(self) -> SimpleUploadedFile:
        name, content = self.random.choice(
            [
                ("x.pdf", b"%PDF-1.7\n" + b"[" * 5000),
                ("x.json", b"[" * 50_000),
                ("x.bib", b"@article{" * 1000),
                ("x.ris", b"TY  - \x00\xff\xfe"),
                ("x.txt", b"\xff\xfe\x00\xd8"),
                ("x.html", b"<" * 10_000),
                ("empty.json", b""),
            ]
        )
        return SimpleUploadedFile(name, content)


def request(client, method: str, path: str, data: dict):
    call = getattr(client, method)
    if method == "get" and "?" not in path and data.get("next") == "\x00":
        # Bytes that are not UTF-8 (a lone surrogate, a stray continuation byte), as a raw
        # client can send them.
        path += "?next=%ED%A0%80&q=%FF%FE&page=%C0"
    if method in ("get", "head", "options", "trace", "delete"):
        return call(path, data if method in ("get", "head") else None)
    if method == "post":
        return call(path, data)
    return call(path, "&".join(f"{k}={v}" for k, v in data.items() if isinstance(v, str)))


@pytest.mark.parametrize(("name", "route", "converters"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_no_request_to_any_page_ends_in_a_server_error(
    cast, world, client_for, name, route, converters
):
    fuzzer = Fuzzer(name, cast, world, client_for)
    fields = list(COMMON_FIELDS)
    # The page's own form fields, as the supervisor sees them.
    page = fuzzer.clients["supervisor"].get(
        fuzzer.path(route, converters).replace("/elsewhere-fuzz/", "/review/")
    )
    if page.status_code == 200 and page.get("Content-Type", "").startswith("text/html"):
        fields += sorted(set(NAME.findall(page.content.decode())) - {"csrfmiddlewaretoken"})
    for role in ROLES:
        client = fuzzer.clients[role]
        # Every method by a supervisor and a signed-out visitor; GET and POST by everyone.
        methods = METHODS if role in ("supervisor", None) else ["get", "post"]
        for method in methods:
            for _ in range(2 if method in ("get", "post") else 1):
                path = fuzzer.path(route, converters)
                data = fuzzer.params(fields)
                if method == "post" and fuzzer.random.random() < 0.4:
                    data["file"] = fuzzer.upload()
                check(client, method, path, data, role)
    # Then every field at once with each of the values most likely to reach the database or
    # a redirect unchecked, once alone and once as a list, by a supervisor on this project.
    path = fuzzer.path(route, converters).replace("/elsewhere-fuzz/", "/review/")
    for value in EVERY_FIELD:
        for method in ("get", "post"):
            check(fuzzer.clients["supervisor"], method, path, dict.fromkeys(fields, value))
            check(fuzzer.clients["supervisor"], method, path, {f: [value, value] for f in fields})


EVERY_FIELD = ["99999999999999999999", "-99999999999999999999", "abc", "\x00", "//evil.example/"]


def check(client, method: str, path: str, data: dict, role: str | None = "supervisor") -> None:
    response = request(client, method, path, data)
    assert response.status_code < 500, (role, method, path, data)
    if hasattr(response, "streaming_content"):
        factories.close_response(response)


def test_the_clients_send_what_a_browser_sends(client_for):
    assert client_for(None).defaults["HTTP_ACCEPT"] == BROWSER_ACCEPT
