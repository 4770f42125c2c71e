"""An index on the institutions' region for the dashboard's list of regions in use
(failwell/dashboard.py, regions_in_use), which steps through it one region at a
time instead of reading every institution on every page view."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("failwell", "0003_dashboard_indexes")]

    operations = [
        migrations.RunSQL(
            sql='CREATE INDEX "institution_region" ON "institutions_institution" ("region")',
            reverse_sql='DROP INDEX "institution_region"',
            elidable=False,
        ),
    ]
