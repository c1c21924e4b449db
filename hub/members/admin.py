from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from hub import policy
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


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
    readonly_fields = ["last_login", "date_joined"]
    actions = ["deactivate"]

    @admin.action(description="Deactivate the selected accounts")
    def deactivate(self, request, queryset):
        for user in queryset.exclude(pk=request.user.pk):
            services.user_deactivate(user=user, actor=request.user)
        messages.success(request, "The selected accounts can no longer sign in.")


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "sector", "organisation", "country", "visibility"]
    list_filter = ["sector", "visibility"]
    search_fields = ["display_name"]
    autocomplete_fields = ["user", "organisation"]

    def get_queryset(self, request):
        return policy.visible_profiles(request.user, super().get_queryset(request))


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "country", "is_partner"]
    list_filter = ["kind", "is_partner"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return policy.visible_organisations(request.user, super().get_queryset(request))


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "status", "created", "decided_at"]
    list_filter = ["status"]
    readonly_fields = ["user", "decided_by", "decided_at"]

    def get_queryset(self, request):
        return policy.visible_applications(request.user, super().get_queryset(request))


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["organisation", "role", "note", "expires_at", "used_at", "revoked_at"]
    readonly_fields = ["token_hash", "used_by", "used_at", "invited_by"]

    def has_add_permission(self, request):
        # Links are made on the organisation's page, where the token can be shown once.
        return False


admin.site.register(Expertise, search_fields=["name"])
