"""Evaluation areas that older Ofsted management-information files grade.

The shipped 2012 scale knows the 2019 framework's key judgements only. Files from
before September 2019 grade "Achievement of pupils" (renamed "Outcomes for pupils"
in 2015), "Quality of teaching" (later "... learning and assessment"), "Behaviour
and safety of pupils" (2012-2015) and "Personal development, behaviour and welfare"
(2015-2019); files from 2019 also say whether safeguarding is effective, Yes or No.
Schools whose latest inspection predates September 2012 carry the same columns on
the 2005 scale. Adding an area gives existing grades no new meaning, so the scales
keep their version.

"Safeguarding is effective? No" is band failing, like a report card's "Not met".
"""

from django.db import migrations

LEGACY_AREAS = [
    ("outcomes-for-pupils", "Outcomes for pupils (achievement of pupils)"),
    ("quality-of-teaching", "Quality of teaching, learning and assessment"),
    ("behaviour-and-safety", "Behaviour and safety of pupils"),
    (
        "personal-development-behaviour-and-welfare",
        "Personal development, behaviour and welfare",
    ),
]

# scale slug: [(area slug, area name, own grades or None)]
AREAS = {
    "ofsted-overall-2012": [
        *((slug, name, None) for slug, name in LEGACY_AREAS),
        (
            "safeguarding",
            "Safeguarding is effective",
            [("Yes", "at_standard"), ("No", "failing")],
        ),
    ],
    "ofsted-overall-2005": [
        *((slug, name, None) for slug, name in LEGACY_AREAS),
        ("leadership-and-management", "Leadership and management", None),
        ("early-years", "Early years provision", None),
        ("sixth-form", "Sixth form provision", None),
    ],
}


def add_areas(apps, schema_editor):
    RatingScale = apps.get_model("institutions", "RatingScale")
    EvaluationArea = apps.get_model("institutions", "EvaluationArea")
    Grade = apps.get_model("institutions", "Grade")
    for scale_slug, areas in AREAS.items():
        scale = RatingScale.objects.filter(slug=scale_slug).first()
        if scale is None:
            continue
        last = max(scale.areas.values_list("position", flat=True), default=0)
        for offset, (slug, name, own_grades) in enumerate(areas, start=1):
            area, created = EvaluationArea.objects.get_or_create(
                scale=scale, slug=slug, defaults={"name": name, "position": last + offset}
            )
            if not created:
                continue
            for position, (label, band) in enumerate(own_grades or [], start=1):
                Grade.objects.create(
                    scale=scale, area=area, label=label, band=band, position=position
                )


def remove_areas(apps, schema_editor):
    EvaluationArea = apps.get_model("institutions", "EvaluationArea")
    for scale_slug, areas in AREAS.items():
        EvaluationArea.objects.filter(
            scale__slug=scale_slug,
            slug__in=[slug for slug, _, _ in areas],
            judgements__isnull=True,
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("institutions", "0003_reference_scales")]

    operations = [migrations.RunPython(add_areas, remove_areas)]
