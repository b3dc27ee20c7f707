from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError

from adplatform.accounts import services
from adplatform.accounts.models import PersonalAccessToken, User


class PersonalAccessTokenInline(admin.TabularInline):
    model = PersonalAccessToken
    extra = 0
    can_delete = False
    readonly_fields = ("name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "role", "company", "is_active", "approved_at", "date_joined"]
    list_filter = ["role", "is_active", "is_staff", ("approved_at", admin.EmptyFieldListFilter)]
    search_fields = ["username", "email", "company", "first_name", "last_name"]
    ordering = ["-date_joined"]
    readonly_fields = ["approved_at", "approved_by", "date_joined", "last_login", "updated_at", "signup_note"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Platform", {"fields": ("role", "company", "signup_note", "approved_at", "approved_by", "updated_at")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Platform", {"fields": ("role", "company", "email")}),
    )
    actions = ["approve_accounts"]
    inlines = [PersonalAccessTokenInline]

    def get_deleted_objects(self, objs, request):
        # The service deletes an account's tokens with it, though staff may only revoke a token on its own.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, perms_needed - {PersonalAccessToken._meta.verbose_name}, protected

    def delete_model(self, request, obj):
        self.delete_queryset(request, [obj])

    def delete_queryset(self, request, queryset):
        # One path for deleting accounts, one or "delete selected": the service.
        try:
            services.users_delete(users=list(queryset))
        except ValidationError as exc:
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)

    @admin.action(description="Approve selected accounts (activate them)")
    def approve_accounts(self, request, queryset):
        approved = 0
        for user in queryset:
            if not (user.is_active and user.approved_at):
                services.user_approve(user=user, approved_by=request.user)
                approved += 1
        self.message_user(request, f"{approved} account(s) approved.", messages.SUCCESS)


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "prefix", "created_at", "updated_at", "last_used_at", "expires_at", "revoked_at"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # keys are created by their owner, who alone sees them

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted (the revoke action)

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.token_revoke(token=token)
        self.message_user(request, f"{queryset.count()} token(s) revoked.", messages.SUCCESS)
