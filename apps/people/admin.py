from django.contrib import admin

from apps.people.models import NameVariant, Person


class NameVariantInline(admin.TabularInline):
    model = NameVariant
    extra = 1


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["display_name", "kind", "project", "description"]
    list_filter = ["kind", "project"]
    search_fields = ["display_name", "search_key", "variants__name", "variants__search_key"]
    list_select_related = ["project"]
    inlines = [NameVariantInline]
    fieldsets = [
        (None, {"fields": ["project", "kind", "display_name", "description"]}),
        ("Name parts (CSL)", {"fields": ["family", "given", "literal"]}),
        ("Identifiers", {"fields": ["orcid", "wikidata"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        # The admin search ignores transliteration noise like the people page does.
        if not search_term:
            return queryset, False
        return queryset.matching(search_term), False
