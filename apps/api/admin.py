from django.contrib import admin

from apps.api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Site administrators see who holds which token, and revoke one; tokens are made by their
    owners only (the secret is shown to them once)."""

    list_display = ["name", "user", "project", "scope", "hint", "expires_at", "last_used_at",
                    "revoked_at"]  # fmt: skip
    list_filter = ["scope", "project"]
    search_fields = ["name", "user__username", "project__name"]
    list_select_related = ["user", "project"]
    readonly_fields = ["user", "project", "name", "scope", "hint", "created_at", "expires_at",
                       "last_used_at", "revoked_at"]  # fmt: skip
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset) -> None:
        for token in queryset:
            token.revoke()
