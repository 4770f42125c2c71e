"""Database helpers shared by both apps' migrations."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


class PostgreSQLOnlySQL(migrations.RunSQL):
    """RunSQL that does nothing on other databases (SQLite has no extensions and
    cannot add constraints to an existing table)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class CompositeForeignKey(PostgreSQLOnlySQL):
    """A foreign key over two columns, which Django's ORM cannot declare.

    Used where a row must point at a parent *of the same scale* (or institution,
    or intervention), so the database itself refuses a grade from another scale.
    Only PostgreSQL gets it: SQLite cannot add constraints to an existing table,
    and on the embedded default the model's clean() methods do the same check.
    """

    def __init__(self, table: str, columns: tuple[str, str], ref_table: str, ref_columns):
        name = f"{table}_{'_'.join(columns)}_composite_fk"[:63]
        super().__init__(
            sql=(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" '
                f'FOREIGN KEY ("{columns[0]}", "{columns[1]}") '
                f'REFERENCES "{ref_table}" ("{ref_columns[0]}", "{ref_columns[1]}") '
                "DEFERRABLE INITIALLY DEFERRED"
            ),
            reverse_sql=f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"',
            elidable=False,
        )


def ensure_permissions_exist(apps) -> None:
    """Make the permissions of every model now, for a migration that grants them:
    Django normally makes them only after `migrate` finishes."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
