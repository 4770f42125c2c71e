"""The intervention types failwell ships with, and how long each one's dip may last.

Grace months are defaults administrators can change. They lean on what is known of
recovery times: schools spent about 18-28 months in special measures (Hansard,
2009) and NHS trusts about 24 months in quality special measures.
"""

from django.db import migrations

TYPES = [
    (
        "special-measures",
        "Special measures",
        18,
        "A school or trust judged failing and placed under close monitoring.",
    ),
    (
        "serious-weaknesses",
        "Serious weaknesses",
        12,
        "A school with serious weaknesses in one or more areas, monitored by the inspectorate.",
    ),
    (
        "commissioners-monitoring",
        "Commissioners monitoring",
        18,
        "Government-appointed commissioners who hold powers but oversee hands-off.",
    ),
    (
        "commissioners-direct",
        "Commissioners running services",
        24,
        "Commissioners take over the day-to-day running of some or all functions.",
    ),
    (
        "leadership-change",
        "Leadership change",
        12,
        "New head, chief executive or leadership structure.",
    ),
    (
        "academy-conversion",
        "Academy conversion",
        12,
        "The school becomes an academy, often with a sponsor, under a new identifier.",
    ),
    (
        "improvement-board",
        "Improvement board",
        12,
        "An improvement board of peers and partners oversees an improvement plan.",
    ),
    (
        "recovery-support-programme",
        "Recovery support programme",
        18,
        "NHS England's intensive support for trusts in the most serious difficulty.",
    ),
    (
        "statutory-direction",
        "Statutory direction",
        18,
        "The Secretary of State directs a council's children's services to improve.",
    ),
]


def load(apps, schema_editor):
    InterventionType = apps.get_model("interventions", "InterventionType")
    for slug, name, grace_months, description in TYPES:
        InterventionType.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "grace_months": grace_months, "description": description},
        )


class Migration(migrations.Migration):
    dependencies = [("interventions", "0002_composite_foreign_keys")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
