"""Indexes for the dashboard at national scale (docs/BENCHMARKS.md has the figures).

They live here, with the dashboard that needs them (failwell/dashboard.py), rather
than in the institutions app: they serve a page composed one floor up. Raw SQL,
because Django's model indexes cannot say "PostgreSQL only" and the trigram one
needs an extension; none of them changes the models' state.

- institution_name_id: the default order (name, then id) and the deep pages, which
  the paginator reads as "ids of rows 9,951 to 10,000" from this index alone.
- institution_name_trgm (PostgreSQL): the search "name contains X", which Django
  writes as UPPER(name) LIKE UPPER('%X%'), from a trigram index on that same
  expression rather than by reading every name.
"""

from django.db import migrations

from failwell.db import PostgreSQLOnlySQL


class Migration(migrations.Migration):
    dependencies = [
        ("failwell", "0002_role_permissions"),
        ("institutions", "0007_history"),
    ]

    operations = [
        migrations.RunSQL(
            sql='CREATE INDEX "institution_name_id" ON "institutions_institution" ("name", "id")',
            reverse_sql='DROP INDEX "institution_name_id"',
            elidable=False,
        ),
        # Left in place on the way back: other objects in the database may use it, and it
        # costs nothing unused.
        PostgreSQLOnlySQL(
            sql="CREATE EXTENSION IF NOT EXISTS pg_trgm",
            reverse_sql=migrations.RunSQL.noop,
            elidable=False,
        ),
        PostgreSQLOnlySQL(
            sql=(
                'CREATE INDEX "institution_name_trgm" ON "institutions_institution" '
                'USING gin (UPPER("name"::text) gin_trgm_ops)'
            ),
            reverse_sql='DROP INDEX "institution_name_trgm"',
            elidable=False,
        ),
    ]
