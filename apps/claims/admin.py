from django.contrib import admin

from apps.claims.models import Claim, ClaimRelation, Concept
from config.admin import ForgivingAutocomplete


class RelationOutInline(ForgivingAutocomplete, admin.TabularInline):
    model = ClaimRelation
    fk_name = "source"
    extra = 1
    autocomplete_fields = ["target"]
    verbose_name = "relation to another claim"


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ["statement", "kind", "project", "created_at"]
    list_filter = ["kind", "project"]
    search_fields = ["statement"]
    list_select_related = ["project"]
    inlines = [RelationOutInline]
    readonly_fields = ["created_by"]


@admin.register(Concept)
class ConceptAdmin(ForgivingAutocomplete, admin.ModelAdmin):
    list_display = ["name", "parent", "originator", "project"]
    list_filter = ["project"]
    search_fields = ["name", "definition"]
    list_select_related = ["parent", "originator", "project"]
    autocomplete_fields = ["parent", "originator"]
