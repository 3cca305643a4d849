from django.contrib import admin

from apps.annotations.models import Annotation, Evidence, Mention, ReviewEvent
from apps.annotations.tallies import Counted, retally
from apps.claims.models import Claim
from config.admin import ForgivingAutocomplete


class EvidenceInline(ForgivingAutocomplete, admin.TabularInline):
    model = Evidence
    extra = 1
    autocomplete_fields = ["claim"]


class MentionInline(ForgivingAutocomplete, admin.TabularInline):
    model = Mention
    extra = 1
    autocomplete_fields = ["person", "work"]


class ReviewEventInline(admin.TabularInline):
    """The ledger, read-only: review events are never edited or deleted."""

    model = ReviewEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "actor", "action", "from_status", "to_status", "reason", "comment"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Annotation)
class AnnotationAdmin(ForgivingAutocomplete, admin.ModelAdmin):
    list_display = ["__str__", "status", "author", "locator", "project", "status_changed_at"]
    list_filter = ["status", "project", "author"]
    search_fields = ["quote", "note", "source__title", "source__citation_key"]
    list_select_related = ["source", "author", "project"]
    autocomplete_fields = ["source", "concepts"]
    readonly_fields = ["status", "status_changed_at", "version", "note_html"]
    inlines = [EvidenceInline, MentionInline, ReviewEventInline]

    def has_delete_permission(self, request, obj=None):
        # Annotations are withdrawn, never destroyed: that would take their ledger with them.
        return False

    def save_model(self, request, obj, form, change):
        # What it counted for before the change (source, links), for the tallies.
        obj._counted_before = Counted.of(obj.pk, lock=True) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        annotation = form.instance
        before = set(annotation.evidence.values_list("claim_id", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(annotation.evidence.values_list("claim_id", flat=True))
        Claim.objects.filter(pk__in=before | after).refresh_approved_evidence()
        retally(getattr(annotation, "_counted_before", None), Counted.of(annotation.pk))

    fieldsets = [
        (
            None,
            {"fields": ["project", "source", "author", "status", "status_changed_at", "version"]},
        ),
        (
            "Excerpt",
            {
                "fields": [
                    "quote",
                    "locator",
                    "page_label",
                    "page_index",
                    "prefix",
                    "suffix",
                    ("start", "end"),
                ]
            },
        ),
        ("Note and codes", {"fields": ["note", "note_html", "concepts"]}),
    ]


@admin.register(ReviewEvent)
class ReviewEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "actor",
        "action",
        "from_status",
        "to_status",
        "reason",
        "annotation",
    ]
    list_filter = ["action", "to_status", "reason"]
    search_fields = ["comment", "actor__username"]
    list_select_related = ["actor", "annotation__source"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
