"""Administrators view and tidy import runs in the admin; nobody else sees them.

ImportRun came after 0002_role_permissions, whose "view everything in the domain
apps" may or may not have caught it, depending on the order a fresh database
applies the two apps' migrations. So this sets it explicitly either way.
"""

from django.db import migrations

from failwell.db import ensure_permissions_exist

GRANTS = ("view_importrun", "delete_importrun")


def grant(apps, schema_editor):
    ensure_permissions_exist(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    import_run = Permission.objects.filter(
        content_type__app_label="institutions", content_type__model="importrun"
    )
    for group in Group.objects.exclude(name="Administrators"):
        group.permissions.remove(*import_run)
    Group.objects.get(name="Administrators").permissions.add(
        *import_run.filter(codename__in=GRANTS)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Group.objects.get(name="Administrators").permissions.remove(
        *Permission.objects.filter(content_type__app_label="institutions", codename__in=GRANTS)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("failwell", "0004_region_index"),
        ("institutions", "0008_import_run"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
