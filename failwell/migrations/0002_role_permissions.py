"""What each role may do in Django's own terms, i.e. in the admin.

Officers and leads get view permissions only: they never use the admin (they are
not staff), and a lead's writes happen on the staff pages, which check assignments
through failwell/access.py rather than these permissions. Administrators manage the
reference data, users, lead assignments and imported data, and view the rest.
Nobody may delete evidence (it is retracted instead), nor users (deactivate them:
their name must stay on the history rows they wrote). Re-running sets each group's
permissions to exactly these.
"""

from django.db import migrations

from failwell.db import ensure_permissions_exist

ROLE_DOMAIN_APPS = ("institutions", "interventions")

ALL = ("add", "change", "delete", "view")
NO_DELETE = ("add", "change", "view")

# (app label, model name) -> actions granted to Administrators.
ADMINISTRATOR_GRANTS = {
    # Reference data.
    ("institutions", "inspectorate"): ALL,
    ("institutions", "ratingscale"): ALL,
    ("institutions", "evaluationarea"): ALL,
    ("institutions", "grade"): ALL,
    ("interventions", "interventiontype"): ALL,
    ("interventions", "indicator"): ALL,
    ("interventions", "methodsettings"): NO_DELETE,
    # People and who leads what.
    ("institutions", "leadassignment"): ALL,
    ("auth", "user"): NO_DELETE,
    ("auth", "group"): ("view",),
    # Imported data, corrected by hand when an import got it wrong.
    ("institutions", "institution"): ALL,
    ("institutions", "identifier"): ALL,
    ("institutions", "lineagelink"): ALL,
    ("institutions", "inspection"): ALL,
    ("institutions", "judgement"): ALL,
    # Sign-in lockouts: deleting an attempt unlocks the account.
    ("axes", "accessattempt"): ("view", "delete"),
    ("axes", "accesslog"): ("view",),
    ("axes", "accessfailurelog"): ("view",),
}


def grant_role_permissions(apps, schema_editor):
    ensure_permissions_exist(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permission(app_label: str, model: str, action: str):
        return Permission.objects.get(
            content_type__app_label=app_label,
            content_type__model=model,
            codename=f"{action}_{model}",
        )

    # Viewing the domain: every model of the two domain apps except the audit
    # trail's shadow tables, which the admin shows through their own models.
    domain_views = list(
        Permission.objects.filter(
            content_type__app_label__in=ROLE_DOMAIN_APPS, codename__startswith="view_"
        ).exclude(content_type__model__startswith="historical")
    )
    administrator = {
        permission(*key, action)
        for key, actions in ADMINISTRATOR_GRANTS.items()
        for action in actions
    }
    administrator.update(domain_views)

    Group.objects.get(name="Oversight officers").permissions.set(domain_views)
    Group.objects.get(name="Turnaround leads").permissions.set(domain_views)
    Group.objects.get(name="Administrators").permissions.set(administrator)


def revoke_role_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(
        name__in=["Oversight officers", "Turnaround leads", "Administrators"]
    ):
        group.permissions.clear()


class Migration(migrations.Migration):
    dependencies = [
        ("failwell", "0001_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("axes", "0010_accessattemptexpiration"),
        ("institutions", "0007_history"),
        ("interventions", "0006_history"),
    ]

    operations = [migrations.RunPython(grant_role_permissions, revoke_role_permissions)]
