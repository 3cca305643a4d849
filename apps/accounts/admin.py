from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from apps.accounts.models import Invitation, Membership, Project, User
from config.admin import ForgivingAutocomplete, ForgivingLookups


class MembershipInline(ForgivingAutocomplete, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class CitemapUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    list_filter = [*UserAdmin.list_filter, "memberships__role"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "students_see_history", "created_at"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(ForgivingAutocomplete, admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "user__email", "project__name"]
    autocomplete_fields = ["user", "project"]
    list_select_related = ["user", "project"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "project", "role", "status", "sent_at", "invited_by"]
    list_filter = ["status", "role", "project"]
    search_fields = ["email", "project__name"]
    list_select_related = ["project", "invited_by"]
    # The key is the secret half of the link: never shown, never edited here.
    exclude = ["key"]
    readonly_fields = ["accepted_by", "decided_at", "created_at"]


# django-axes' own admin of sign-in failures and lockouts, with its lists' filters made safe.
for model, model_admin in [
    (AccessAttempt, axes_admin.AccessAttemptAdmin),
    (AccessLog, axes_admin.AccessLogAdmin),
    (AccessFailureLog, axes_admin.AccessFailureLogAdmin),
]:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
        admin.site.register(model, type(model_admin.__name__, (ForgivingLookups, model_admin), {}))
