from django.db import migrations

from failwell.db import CompositeForeignKey


class Migration(migrations.Migration):
    dependencies = [("institutions", "0001_initial")]

    operations = [
        CompositeForeignKey(
            "institutions_inspection",
            ("scale_id", "overall_grade_id"),
            "institutions_grade",
            ("scale_id", "id"),
        ),
        CompositeForeignKey(
            "institutions_grade",
            ("scale_id", "area_id"),
            "institutions_evaluationarea",
            ("scale_id", "id"),
        ),
        CompositeForeignKey(
            "institutions_judgement",
            ("inspection_id", "scale_id"),
            "institutions_inspection",
            ("id", "scale_id"),
        ),
        CompositeForeignKey(
            "institutions_judgement",
            ("scale_id", "grade_id"),
            "institutions_grade",
            ("scale_id", "id"),
        ),
        CompositeForeignKey(
            "institutions_judgement",
            ("scale_id", "area_id"),
            "institutions_evaluationarea",
            ("scale_id", "id"),
        ),
    ]
