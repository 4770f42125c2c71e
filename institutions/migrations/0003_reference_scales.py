"""The inspectorates and rating scales failwell ships with (DESIGN.md, "Shipped reference data").

Grades are listed best first. Bands for a four-grade scale run above standard, at
standard, below standard, failing: so Satisfactory and Adequate sit below standard
beside Requires improvement, which replaced them.
"""

from django.db import migrations

FOUR = ["above_standard", "at_standard", "below_standard", "failing"]

INSPECTORATES = {
    "ofsted": "Ofsted",
    "cqc": "Care Quality Commission",
    "audit-commission": "Audit Commission",
    "nhs-england": "NHS England",
}

# slug: (inspectorate, name, effective from, effective to, has overall grade,
#        [(grade, band)], [(area slug, area name, own grades or None)])
SCALES = {
    "ofsted-overall-2005": (
        "ofsted",
        "Ofsted overall effectiveness (2005)",
        "2005-09-01",
        "2012-08-31",
        True,
        list(zip(["Outstanding", "Good", "Satisfactory", "Inadequate"], FOUR, strict=True)),
        [],
    ),
    "ofsted-overall-2012": (
        "ofsted",
        "Ofsted overall effectiveness (2012)",
        "2012-09-01",
        "2025-11-09",
        True,
        list(zip(["Outstanding", "Good", "Requires improvement", "Inadequate"], FOUR, strict=True)),
        [
            ("quality-of-education", "Quality of education", None),
            ("behaviour-and-attitudes", "Behaviour and attitudes", None),
            ("personal-development", "Personal development", None),
            ("leadership-and-management", "Leadership and management", None),
            ("early-years", "Early years provision", None),
            ("sixth-form", "Sixth form provision", None),
        ],
    ),
    "ofsted-report-card-2025": (
        "ofsted",
        "Ofsted report card (2025)",
        "2025-11-10",
        None,
        False,
        [
            ("Exceptional", "above_standard"),
            ("Strong standard", "above_standard"),
            ("Expected standard", "at_standard"),
            ("Needs attention", "below_standard"),
            ("Urgent improvement", "failing"),
        ],
        [
            ("inclusion", "Inclusion", None),
            ("curriculum-and-teaching", "Curriculum and teaching", None),
            ("achievement", "Achievement", None),
            ("attendance-and-behaviour", "Attendance and behaviour", None),
            ("personal-development-and-wellbeing", "Personal development and wellbeing", None),
            ("leadership-and-governance", "Leadership and governance", None),
            ("early-years", "Early years", None),
            ("post-16", "Post-16 provision", None),
            ("safeguarding", "Safeguarding", [("Met", "at_standard"), ("Not met", "failing")]),
        ],
    ),
    "ofsted-childrens-services-2009": (
        "ofsted",
        "Ofsted children's services (2009)",
        "2009-06-01",
        "2013-10-31",
        True,
        list(zip(["Outstanding", "Good", "Adequate", "Inadequate"], FOUR, strict=True)),
        [],
    ),
    "ofsted-childrens-services-2013": (
        "ofsted",
        "Ofsted children's services (2013)",
        "2013-11-01",
        None,
        True,
        list(
            zip(
                ["Outstanding", "Good", "Requires improvement to be good", "Inadequate"],
                FOUR,
                strict=True,
            )
        ),
        [],
    ),
    "cqc-2014": (
        "cqc",
        "CQC ratings (2014)",
        "2014-10-01",
        None,
        True,
        list(zip(["Outstanding", "Good", "Requires improvement", "Inadequate"], FOUR, strict=True)),
        [],
    ),
    "audit-commission-cpa-2005": (
        "audit-commission",
        "Comprehensive performance assessment (2005)",
        "2005-01-01",
        "2009-03-31",
        True,
        [
            ("4 stars", "above_standard"),
            ("3 stars", "at_standard"),
            ("2 stars", "below_standard"),
            ("1 star", "below_standard"),
            ("0 stars", "failing"),
        ],
        [],
    ),
    "governance-finding": (
        "audit-commission",
        "Corporate governance finding",
        None,
        None,
        True,
        [("Sound", "at_standard"), ("Concerns", "below_standard"), ("Failing", "failing")],
        [],
    ),
    "nhs-oversight-2016": (
        "nhs-england",
        "NHS oversight framework segments (2016)",
        "2016-10-01",
        "2025-08-31",
        True,
        list(zip(["Segment 1", "Segment 2", "Segment 3", "Segment 4"], FOUR, strict=True)),
        [],
    ),
    "nhs-oversight-2025": (
        "nhs-england",
        "NHS oversight framework segments (2025)",
        "2025-09-01",
        None,
        True,
        [
            ("Segment 1", "above_standard"),
            ("Segment 2", "at_standard"),
            ("Segment 3", "below_standard"),
            ("Segment 4", "below_standard"),
            ("Segment 5", "failing"),
        ],
        [],
    ),
}


def load(apps, schema_editor):
    Inspectorate = apps.get_model("institutions", "Inspectorate")
    RatingScale = apps.get_model("institutions", "RatingScale")
    EvaluationArea = apps.get_model("institutions", "EvaluationArea")
    Grade = apps.get_model("institutions", "Grade")

    inspectorates = {
        slug: Inspectorate.objects.update_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in INSPECTORATES.items()
    }
    for slug, (inspectorate, name, start, end, overall, grades, areas) in SCALES.items():
        scale, created = RatingScale.objects.get_or_create(
            slug=slug,
            defaults={
                "inspectorate": inspectorates[inspectorate],
                "name": name,
                "effective_from": start,
                "effective_to": end,
                "has_overall_grade": overall,
            },
        )
        if not created:
            continue
        for position, (label, band) in enumerate(grades, start=1):
            Grade.objects.create(scale=scale, label=label, band=band, position=position)
        for area_position, (area_slug, area_name, own_grades) in enumerate(areas, start=1):
            area = EvaluationArea.objects.create(
                scale=scale, slug=area_slug, name=area_name, position=area_position
            )
            for position, (label, band) in enumerate(own_grades or [], start=1):
                Grade.objects.create(
                    scale=scale, area=area, label=label, band=band, position=position
                )


class Migration(migrations.Migration):
    dependencies = [("institutions", "0002_composite_foreign_keys")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
