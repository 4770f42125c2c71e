"""The admin site's own words, and users; each app registers its models in its admin.py."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from failwell.roles import ADMINISTRATOR

admin.site.site_header = "failwell administration"
admin.site.site_title = "failwell admin"
admin.site.index_title = "Reference data, institutions and their history"

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class FailwellUserAdmin(UserAdmin):
    """Users and their roles, managed by administrators.

    Staff status (entry to this admin) follows the Administrators role, so making
    someone an administrator is one tick in "Groups". Only a superuser may grant
    superuser status or single permissions, or change a superuser: otherwise an
    administrator could raise themselves above the role. Users are deactivated,
    never deleted, so their names stay on the history rows they wrote.
    """

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        readonly = [*super().get_readonly_fields(request, obj), "is_staff"]
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions"]
        return readonly

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_related(self, request: HttpRequest, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        user = form.instance
        is_administrator = user.groups.filter(name=ADMINISTRATOR).exists()
        should_be_staff = user.is_superuser or is_administrator
        if user.is_staff != should_be_staff:
            user.is_staff = should_be_staff
            user.save(update_fields=["is_staff"])
