"""Every stored row of failwell's own tables, to show that a second run changed nothing."""

from django.apps import apps
from django.contrib.auth.models import Group, User

APPS = ("institutions", "interventions")


def all_rows() -> dict[str, list[tuple]]:
    """Each model's rows as sorted value tuples, every column included."""
    models = [m for app in APPS for m in apps.get_app_config(app).get_models()]
    models += [User, Group, User.groups.through]
    return {
        model._meta.label: sorted(
            model.objects.order_by("pk").values_list(), key=lambda row: repr(row)
        )
        for model in models
    }


def row_counts() -> dict[str, int]:
    return {label: len(rows) for label, rows in all_rows().items()}
