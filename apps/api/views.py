"""The account's API tokens page, and the API's description: its OpenAPI document and a
reference page rendered from it on the server (no script, as the CSP wants)."""

from __future__ import annotations

import json
from functools import cache

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.api.endpoints import api
from apps.api.forms import TokenForm
from apps.api.models import ApiToken
from apps.library.richtext import render_markdown

ROOT = "/api/v1/"


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST if request.method == "POST" else None, user=request.user)
    secret = None
    if form.is_valid():
        token, secret = ApiToken.issue(
            user=request.user,
            project=form.cleaned_data["project"],
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            lifetime=form.lifetime_delta,
        )
        # Shown on this answer only (not after a redirect): the secret is never stored.
        form = TokenForm(user=request.user)
    tokens = ApiToken.objects.of_user(request.user).select_related("project")
    return render(
        request,
        "api/token_list.html",
        {"form": form, "tokens": tokens, "secret": secret, "api_root": ROOT},
        status=201 if secret else 200,
    )


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.of_user(request.user).filter(pk=pk).first()
    if token is None:
        raise Http404("No such token of yours.")
    token.revoke()
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("tokens:token_list")


@require_safe
@login_not_required  # addresses only
def root(request: HttpRequest) -> JsonResponse:
    """Where to start: the caller's projects, the OpenAPI document, the reference page."""
    return JsonResponse(
        {
            name: request.build_absolute_uri(ROOT + path)
            for name, path in (("projects", "projects/"), ("schema", "schema/"), ("docs", "docs/"))
        }
    )


@cache
def openapi_document() -> dict:
    return api.get_openapi_schema(path_prefix=ROOT.rstrip("/"))


@require_safe
@login_not_required  # the description of the API holds no project's data
def schema(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document(), json_dumps_params={"ensure_ascii": False})


@require_safe
@login_not_required
def docs(request: HttpRequest) -> HttpResponse:
    document = openapi_document()
    return render(request, "api/docs.html", {"api": reference(document)})


def reference(document: dict) -> dict:
    """The OpenAPI document arranged for the reference page: operations by tag, each with its
    parameters and the schema of each answer; schemas by name, with their fields."""
    components = document.get("components", {}).get("schemas", {})
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "anchor": operation.get("operationId", f"{method}-{path}"),
                    "summary": operation.get("summary", ""),
                    "description": _markdown(operation.get("description", "")),
                    "tag": (operation.get("tags") or ["other"])[0],
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": _type(p.get("schema", {})),
                            "description": p.get("description")
                            or p.get("schema", {}).get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "responses": [
                        {
                            "status": status,
                            "description": answer.get("description", ""),
                            "type": _type(
                                answer.get("content", {})
                                .get("application/json", {})
                                .get("schema", {})
                            ),
                        }
                        for status, answer in operation.get("responses", {}).items()
                    ],
                }
            )
    schemas = [
        {
            "name": name,
            "description": schema.get("description", ""),
            "fields": [
                {
                    "name": field,
                    "type": _type(spec),
                    "required": field in schema.get("required", []),
                    "description": spec.get("description", ""),
                }
                for field, spec in schema.get("properties", {}).items()
            ],
        }
        for name, schema in sorted(components.items())
    ]
    tags = {}
    for operation in operations:
        tags.setdefault(operation["tag"], []).append(operation)
    return {
        "title": document["info"]["title"],
        "version": document["info"]["version"],
        "description": _markdown(document["info"].get("description", "")),
        "openapi": document["openapi"],
        "tags": tags,
        "schemas": schemas,
        "security": list(document.get("components", {}).get("securitySchemes", {})),
    }


def _markdown(text: str) -> str:
    # Sanitised by render_markdown (and written by us, in the code's docstrings).
    return mark_safe(render_markdown(text))


def _type(schema: dict) -> str:
    """A schema as a short type for people: `SourceList`, `integer`, `string | null`…"""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type(option) for option in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(json.dumps(value) for value in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if schema.get("type") == "object" and "additionalProperties" in schema:
        return "object"
    return str(schema.get("type", "any"))
