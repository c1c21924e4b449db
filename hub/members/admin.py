from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import models

from hub import policy
from hub.admin_site import PolicyAdminMixin, ReadOnlyAdminMixin
from hub.core.services import audit_record
from hub.members import services
from hub.members.models import (
    Application,
    Expertise,
    Invitation,
    Membership,
    Organisation,
    Profile,
    User,
)


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created"]
    readonly_fields = fields


@admin.register(User)
class UserAdmin(PolicyAdminMixin, DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "__str__", "standing", "is_active", "is_staff", "is_moderator"]
    list_filter = ["standing", "is_active", "is_staff", "is_moderator"]
    search_fields = ["email", "profile__display_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Standing and powers", {"fields": ["standing", "is_active", "is_staff", "is_moderator",
                                            "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"],
                             "fields": ["email", "password1", "password2"]})]
    actions = ["deactivate"]

    POWER_FIELDS = ("standing", "is_active", "is_staff", "is_moderator", "is_superuser")

    def get_readonly_fields(self, request, obj=None):
        fields = ["last_login", "date_joined"]
        if obj is not None and not request.user.is_superuser:
            # A changed address would let its changer reset the password: superusers only.
            fields += ["email", "is_superuser"]
        return fields

    def user_change_password(self, request, id, form_url=""):
        # Nobody sets another person's password here: they reset it themselves by email.
        raise PermissionDenied

    def save_model(self, request, obj, form, change):
        before = {}
        if change:
            before = (User.objects.filter(pk=obj.pk)
                      .values("email", *self.POWER_FIELDS).first() or {})
        super().save_model(request, obj, form, change)
        changed = {f: getattr(obj, f) for f in self.POWER_FIELDS
                   if change and before.get(f) != getattr(obj, f)}
        if change and before.get("email") != obj.email:
            changed["email"] = "changed"  # the fact, not the address
        if changed:
            audit_record(actor=request.user, action="user.powers", target=obj, **changed)

    @admin.action(description="Deactivate the selected accounts")
    def deactivate(self, request, queryset):
        for user in queryset.exclude(pk=request.user.pk):
            services.user_deactivate(user=user, actor=request.user)
        messages.success(request, "The selected accounts can no longer sign in.")


@admin.register(Profile)
class ProfileAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["display_name", "sector", "organisation", "country", "visibility"]
    list_filter = ["sector", "visibility"]
    search_fields = ["display_name"]
    autocomplete_fields = ["user", "organisation"]

    def get_queryset(self, request):
        return policy.visible_profiles(request.user, super().get_queryset(request))


@admin.register(Organisation)
class OrganisationAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "country", "is_partner"]
    list_filter = ["kind", "is_partner"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return policy.visible_organisations(request.user, super().get_queryset(request))


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Applications are decided on the Applications page, which admits the person properly."""

    list_display = ["user", "organisation", "status", "created", "decided_at"]
    list_filter = ["status"]

    def get_queryset(self, request):
        return policy.visible_applications(request.user, super().get_queryset(request))


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Links are made and withdrawn on the organisation's page, where a token is shown once."""

    list_display = ["organisation", "role", "note", "expires_at", "used_at", "revoked_at"]
    exclude = ["token_hash"]

    def get_queryset(self, request):
        return policy.visible_invitations(request.user, super().get_queryset(request))


@admin.register(Expertise)
class ExpertiseAdmin(PolicyAdminMixin, admin.ModelAdmin):
    search_fields = ["name"]
