from django.contrib import admin
from django.db import models

from apps.library.models import Contributor, Source, SourceIdentifier
from config.admin import ForgivingAutocomplete


class ContributorInline(ForgivingAutocomplete, admin.TabularInline):
    model = Contributor
    extra = 1
    autocomplete_fields = ["person"]


class SourceIdentifierInline(admin.TabularInline):
    model = SourceIdentifier
    extra = 1


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = [
        "citation_key",
        "title",
        "csl_type",
        "issued_year",
        "container_title",
        "project",
    ]
    list_filter = ["csl_type", "project", "language"]
    search_fields = ["citation_key", "title", "container_title", "identifiers__value"]
    list_select_related = ["project"]
    inlines = [ContributorInline, SourceIdentifierInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["project", "citation_key", "csl_type", "title", "title_short"]}),
        (
            "Publication",
            {
                "fields": [
                    "container_title",
                    "collection_title",
                    "publisher",
                    "publisher_place",
                    "genre",
                    "edition",
                    ("volume", "issue", "page"),
                    ("issued_year", "issued_month", "issued_day"),
                    "language",
                ]
            },
        ),
        ("Online", {"fields": ["url", "accessed"]}),
        # The full text changes only through the reading view's text page, which keeps every
        # version and re-anchors the passages.
        ("Content", {"fields": ["abstract", "extra", "text_version"], "classes": ["collapse"]}),
    ]
    readonly_fields = ["text_version"]
