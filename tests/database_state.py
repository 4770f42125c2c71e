"""What "the database changed" means in the permission, CSRF and XSS tests."""

from django.apps import apps
from django.contrib.admin.models import LogEntry

AUDITED_APPS = ("institutions", "interventions", "auth")


def database_state() -> dict[str, list[tuple]]:
    """Every row of the apps' tables and their history tables, and the admin's log.

    Two states compare equal only if no row was added, changed or removed: a denied
    write must leave no trace, not even an audit row.
    """
    models = [model for app in AUDITED_APPS for model in apps.get_app_config(app).get_models()]
    models.append(LogEntry)
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for model in models
    }


def tables_changed(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]
