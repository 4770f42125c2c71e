from django.db import migrations

from failwell.db import CompositeForeignKey


class Migration(migrations.Migration):
    dependencies = [("interventions", "0001_initial")]

    operations = [
        CompositeForeignKey(
            "interventions_evidence",
            ("institution_id", "intervention_id"),
            "interventions_intervention",
            ("institution_id", "id"),
        ),
        CompositeForeignKey(
            "interventions_evidence",
            ("intervention_id", "milestone_id"),
            "interventions_milestone",
            ("intervention_id", "id"),
        ),
    ]
