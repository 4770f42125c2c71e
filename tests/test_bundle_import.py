import datetime
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command

from institutions.models import (
    Identifier,
    Inspection,
    Inspectorate,
    Institution,
    LineageLink,
    RatingScale,
)
from interventions.bundle import BundleError, import_bundle, parse_json
from interventions.models import Evidence, Intervention, Milestone
from tests.bundles import school_bundle
from tests.factories import make_identifier, make_inspection, make_institution
from tests.rows import all_rows

pytestmark = pytest.mark.django_db


def errors_of(bundle) -> list[str]:
    with pytest.raises(BundleError) as caught:
        import_bundle(bundle)
    return caught.value.errors


def test_import_creates_the_institutions_and_their_histories():
    summary = import_bundle(school_bundle())

    eltham = Institution.objects.get(slug="eltham")
    assert eltham.name == "Eltham Foundation School"
    assert eltham.identifiers.get().value == "100180"
    inspection = eltham.inspections.get()
    assert inspection.overall_grade.label == "Inadequate"
    assert inspection.category_of_concern == "special_measures"
    intervention = eltham.interventions.get()
    assert (intervention.grace_months, intervention.outcome) == (12, "ongoing")
    assert intervention.milestones.get().achieved_on == datetime.date(2010, 8, 20)
    assert eltham.evidence.count() == 2
    assert summary.counts["institutions"]["created"] == 2
    assert summary.counts["evidence"]["created"] == 2


def test_importing_the_same_bundle_twice_changes_no_row():
    import_bundle(school_bundle())
    before = all_rows()

    summary = import_bundle(school_bundle())

    assert all_rows() == before
    assert not summary.changed
    assert summary.counts["inspections"]["unchanged"] == 2
    assert summary.dirty == []


def test_a_changed_value_updates_the_matched_row_instead_of_adding_one():
    import_bundle(school_bundle())
    bundle = school_bundle()
    bundle["institutions"][0]["region"] = "Greater London"
    bundle["institutions"][0]["interventions"][0]["grace_months"] = 18

    summary = import_bundle(bundle)

    assert Institution.objects.get(slug="eltham").region == "Greater London"
    assert Intervention.objects.get().grace_months == 18
    assert Institution.objects.count() == 2
    assert summary.counts["institutions"]["updated"] == 1
    assert summary.counts["interventions"]["updated"] == 1


def test_an_institution_is_matched_by_identifier_before_ref():
    stored = make_institution(slug="eltham-school", name="Eltham School")
    make_identifier(stored, "urn", "100180")

    import_bundle(school_bundle())

    stored.refresh_from_db()
    assert stored.name == "Eltham Foundation School"
    assert stored.slug == "eltham-school"
    assert not Institution.objects.filter(slug="eltham").exists()
    assert stored.inspections.count() == 1


def test_a_bad_institution_late_in_the_file_leaves_nothing_written():
    bundle = school_bundle()
    bundle["institutions"].append({"ref": "broken", "name": "Broken", "sector": "castle"})

    errors = errors_of(bundle)

    assert errors == [
        'institutions[2].sector: "castle" is not a sector (one of: school, local_authority, '
        "childrens_services, nhs_trust, police_force, prison, other)"
    ]
    assert Institution.objects.count() == 0
    assert Evidence.objects.count() == 0
    assert not Inspectorate.objects.filter(slug="castle").exists()


def test_every_error_in_the_file_is_reported_at_once():
    bundle = school_bundle()
    bundle["institutions"][0]["inspections"][0]["overall"] = "Requires Improvment"
    bundle["institutions"][1]["successor_of"][0]["kind"] = "takeover"

    errors = errors_of(bundle)

    assert len(errors) == 2
    assert errors[0].startswith("institutions[0].inspections[0].overall: ")
    assert errors[1].startswith("institutions[1].successor_of[0].kind: ")


def _set(path: str, value):
    """A change to the school bundle: set the value at a dotted path (list indexes as ints)."""

    def change(bundle):
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = bundle
        for part in parents:
            target = target[part]
        target[last] = value

    return change


BAD_BUNDLES = [
    (
        "unknown grade",
        _set("institutions.0.inspections.0.overall", "Requires Improvment"),
        'institutions[0].inspections[0].overall: no grade "Requires Improvment" on scale '
        "ofsted-overall-2005 (grades: Outstanding, Good, Satisfactory, Inadequate)",
    ),
    (
        "bad sector",
        _set("institutions.1.sector", "academy"),
        'institutions[1].sector: "academy" is not a sector',
    ),
    (
        "bad category of concern",
        _set("institutions.0.inspections.0.category_of_concern", "special measures"),
        'institutions[0].inspections[0].category_of_concern: "special measures" is not a '
        "category of concern (one of: special_measures, serious_weaknesses, "
        "requires_significant_improvement, notice_to_improve)",
    ),
    (
        "bad lineage kind",
        _set("institutions.1.successor_of.0.kind", "conversion"),
        'institutions[1].successor_of[0].kind: "conversion" is not a lineage kind',
    ),
    (
        "bad outcome",
        _set("institutions.0.interventions.0.outcome", "failed"),
        'institutions[0].interventions[0].outcome: "failed" is not an outcome',
    ),
    (
        "bad milestone status",
        _set("institutions.0.interventions.0.milestones.0.status", "done"),
        'institutions[0].interventions[0].milestones[0].status: "done" is not a milestone status',
    ),
    (
        "bad evidence direction",
        _set("institutions.0.evidence.1.direction", "up"),
        'institutions[0].evidence[1].direction: "up" is not a direction',
    ),
    (
        "date not in ISO form",
        _set("institutions.0.inspections.0.date", "10/03/2010"),
        'institutions[0].inspections[0].date: "10/03/2010" is not a date (yyyy-mm-dd)',
    ),
    (
        "impossible date",
        _set("institutions.0.evidence.0.observed_on", "2010-02-30"),
        'institutions[0].evidence[0].observed_on: "2010-02-30" is not a date (yyyy-mm-dd)',
    ),
    (
        "unknown scale",
        _set("institutions.0.inspections.0.scale", "ofsted-overall-1999"),
        'institutions[0].inspections[0].scale: no rating scale "ofsted-overall-1999"',
    ),
    (
        "unknown intervention type",
        _set("institutions.0.interventions.0.type", "special-measure"),
        'institutions[0].interventions[0].type: no intervention type "special-measure"',
    ),
    (
        "unknown indicator",
        _set("institutions.0.evidence.0.indicator", "exclusions"),
        'institutions[0].evidence[0].indicator: no indicator "exclusions"',
    ),
    (
        "unknown predecessor ref",
        _set("institutions.1.successor_of.0.ref", "eltam"),
        'institutions[1].successor_of[0].ref: no institution with ref "eltam"',
    ),
    (
        "ongoing intervention with an end date",
        _set("institutions.0.interventions.0.ended_on", "2012-01-01"),
        "institutions[0].interventions[0].outcome: ended_on is 2012-01-01 but the outcome "
        "is ongoing",
    ),
    (
        "ended outcome without an end date",
        _set("institutions.0.interventions.0.outcome", "succeeded"),
        'institutions[0].interventions[0].ended_on: the outcome is "succeeded" but there is '
        "no end date",
    ),
    (
        "evidence with a value and a direction",
        _set("institutions.0.evidence.0.direction", "negative"),
        "institutions[0].evidence[0]: give either an indicator value or a direction, not both",
    ),
    (
        "evidence with neither value nor direction",
        _set("institutions.0.evidence.1.direction", None),
        "institutions[0].evidence[1]: give either an indicator with a value, or a direction",
    ),
    (
        "judgement for an area the scale lacks",
        _set("institutions.1.inspections.0.judgements", {"outcomes-for-children": "Good"}),
        "institutions[1].inspections[0].judgements.outcomes-for-children: no area "
        '"outcomes-for-children" on scale ofsted-overall-2012',
    ),
    (
        "met milestone without its date",
        _set("institutions.0.interventions.0.milestones.0.achieved_on", None),
        "institutions[0].interventions[0].milestones[0].achieved_on: a met milestone needs "
        "the date it was achieved",
    ),
    (
        "unknown key",
        _set("institutions.1.sucessor_of", []),
        "institutions[1].sucessor_of: unknown key",
    ),
    (
        "indicator flag not a boolean",
        _set("indicators.0.higher_is_better", "no"),
        "indicators[0].higher_is_better: expected true or false, got a string",
    ),
    (
        "unknown top-level key",
        _set("institution", []),
        "institution: unknown key",
    ),
    (
        "bad identifier scheme",
        _set("institutions.0.identifiers", {"urm": "100180"}),
        "institutions[0].identifiers.urm: unknown identifier scheme",
    ),
    (
        "wrong format",
        _set("format", "failwell.bundle/2"),
        'format: "failwell.bundle/2" is not a known format; expected "failwell.bundle/1"',
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(change, expected, id=name) for name, change, expected in BAD_BUNDLES],
)
def test_a_bad_value_is_reported_with_its_json_path(change, expected):
    bundle = school_bundle()
    change(bundle)

    errors = errors_of(bundle)

    assert len(errors) == 1, errors
    assert errors[0].startswith(expected), errors[0]
    assert Institution.objects.count() == 0


def test_an_unknown_inspectorate_is_created_with_its_scale():
    bundle = school_bundle()
    bundle["rating_scales"] = [
        {
            "slug": "hmip-healthy-prison",
            "inspectorate": "hmip",
            "name": "Healthy prison tests",
            "grades": [
                {"label": "Good", "band": "above_standard"},
                {"label": "Reasonably good", "band": "at_standard"},
                {"label": "Not sufficiently good", "band": "below_standard"},
                {"label": "Poor", "band": "failing"},
            ],
        }
    ]
    bundle["institutions"].append(
        {
            "ref": "hmp-example",
            "name": "HMP Example (fictional)",
            "sector": "prison",
            "inspections": [
                {
                    "inspectorate": "hmip",
                    "scale": "hmip-healthy-prison",
                    "date": "2019-05-01",
                    "overall": "poor",
                }
            ],
        }
    )

    summary = import_bundle(bundle)

    hmip = Inspectorate.objects.get(slug="hmip")
    scale = RatingScale.objects.get(slug="hmip-healthy-prison")
    assert scale.inspectorate == hmip
    assert [g.label for g in scale.grades.order_by("position")] == [
        "Good",
        "Reasonably good",
        "Not sufficiently good",
        "Poor",
    ]
    inspection = Inspection.objects.get(institution__slug="hmp-example")
    assert inspection.inspectorate == hmip
    assert inspection.headline_band == "failing"
    assert summary.counts["inspectorates"]["created"] == 1


def test_an_inspection_naming_an_unknown_inspectorate_for_a_shipped_scale_is_refused():
    bundle = school_bundle()
    bundle["institutions"][0]["inspections"][0]["inspectorate"] = "hmi"

    assert errors_of(bundle) == [
        "institutions[0].inspections[0].inspectorate: scale ofsted-overall-2005 belongs to "
        "inspectorate ofsted, not hmi"
    ]


def test_a_stored_scale_with_different_grades_is_an_error_not_an_edit():
    bundle = school_bundle()
    bundle["rating_scales"] = [
        {
            "slug": "governance-finding",
            "inspectorate": "audit-commission",
            "name": "Corporate governance finding",
            "grades": [
                {"label": "Sound", "band": "at_standard"},
                {"label": "Failing", "band": "failing"},
            ],
        }
    ]

    errors = errors_of(bundle)

    assert len(errors) == 1
    assert errors[0].startswith(
        "rating_scales[0]: scale governance-finding already exists with a different definition"
    )
    assert RatingScale.objects.get(slug="governance-finding").grades.count() == 3


def test_a_stored_scale_defined_identically_is_accepted_unchanged():
    bundle = school_bundle()
    bundle["rating_scales"] = [
        {
            "slug": "governance-finding",
            "inspectorate": "audit-commission",
            "name": "Corporate governance finding",
            "grades": [
                {"label": "sound", "band": "at_standard"},
                {"label": "Concerns", "band": "below_standard"},
                {"label": "FAILING", "band": "failing"},
            ],
        }
    ]

    summary = import_bundle(bundle)

    assert summary.counts["rating scales"]["unchanged"] == 1


def test_successor_of_links_the_predecessor_to_the_successor():
    import_bundle(school_bundle())

    link = LineageLink.objects.get()
    assert link.predecessor.slug == "eltham"
    assert link.successor.slug == "harris-greenwich"
    assert (link.kind, link.linked_on) == ("academy_conversion", datetime.date(2012, 9, 1))


def test_successor_of_may_name_an_institution_already_stored():
    make_institution(slug="old-school", name="Old School")
    bundle = school_bundle()
    bundle["institutions"][1]["successor_of"].append(
        {"ref": "old-school", "kind": "merger", "on": "2012-09-01"}
    )

    import_bundle(bundle)

    assert LineageLink.objects.filter(predecessor__slug="old-school").exists()


def test_grades_and_judgements_match_labels_in_any_case():
    bundle = school_bundle()
    bundle["institutions"][1]["inspections"][0]["overall"] = "gOOD"
    bundle["institutions"][1]["inspections"][0]["judgements"] = {
        "leadership-and-management": "REQUIRES IMPROVEMENT"
    }

    import_bundle(bundle)

    inspection = Inspection.objects.get(institution__slug="harris-greenwich")
    assert inspection.overall_grade.label == "Good"
    assert inspection.judgements.get().grade.label == "Requires improvement"


def test_the_judgements_given_replace_the_stored_ones():
    import_bundle(school_bundle())
    bundle = school_bundle()
    bundle["institutions"][1]["inspections"][0]["judgements"] = {"quality-of-education": "Good"}

    import_bundle(bundle)

    inspection = Inspection.objects.get(institution__slug="harris-greenwich")
    assert [j.area.slug for j in inspection.judgements.all()] == ["quality-of-education"]


def test_a_corrected_indicator_value_retracts_the_old_row_and_keeps_it():
    import_bundle(school_bundle())
    bundle = school_bundle()
    bundle["institutions"][0]["evidence"][0]["value"] = 14.0

    import_bundle(bundle)
    import_bundle(bundle)

    rows = Evidence.objects.filter(indicator__slug="exclusion-rate").order_by("pk")
    assert [(row.value, row.is_retracted) for row in rows] == [(12.5, True), (14.0, False)]
    assert "12.5 replaced by 14" in rows[0].retraction_reason


def test_retracted_evidence_in_a_bundle_is_stored_retracted():
    bundle = school_bundle()
    bundle["institutions"][0]["evidence"][1]["retracted"] = {
        "at": "2011-02-01T10:00:00+00:00",
        "reason": "Logged against the wrong school",
    }

    import_bundle(bundle)
    import_bundle(bundle)

    evidence = Evidence.objects.get(direction="positive")
    assert evidence.retraction_reason == "Logged against the wrong school"
    assert evidence.retracted_at == datetime.datetime(2011, 2, 1, 10, tzinfo=datetime.UTC)


def test_evidence_can_point_at_its_intervention_and_milestone():
    bundle = school_bundle()
    bundle["institutions"][0]["evidence"][1].update(
        intervention={"type": "special-measures", "started_on": "2010-03-10"},
        milestone="new headteacher in post",
    )

    import_bundle(bundle)

    evidence = Evidence.objects.get(direction="positive")
    assert evidence.intervention == Intervention.objects.get()
    assert evidence.milestone == Milestone.objects.get()


def test_a_retraction_in_a_later_bundle_retracts_the_stored_row():
    import_bundle(school_bundle())
    bundle = school_bundle()
    bundle["institutions"][0]["evidence"][0]["retracted"] = {
        "at": "2011-02-01T10:00:00+00:00",
        "reason": "Wrong term",
    }

    summary = import_bundle(bundle)

    evidence = Evidence.objects.get(indicator__slug="exclusion-rate")
    assert (evidence.value, evidence.retraction_reason) == (12.5, "Wrong term")
    assert summary.counts["evidence"]["updated"] == 1


def test_evidence_can_point_at_a_milestone_added_by_the_same_import():
    import_bundle(school_bundle())
    bundle = school_bundle()
    bundle["institutions"][0]["interventions"][0]["milestones"].append(
        {"title": "Behaviour policy", "due_on": "2010-12-01"}
    )
    bundle["institutions"][0]["evidence"].append(
        {
            "observed_on": "2010-12-15",
            "direction": "positive",
            "summary": "Policy in use",
            "intervention": {"type": "special-measures", "started_on": "2010-03-10"},
            "milestone": "Behaviour policy",
        }
    )

    import_bundle(bundle)

    assert Evidence.objects.get(summary="Policy in use").milestone.title == "Behaviour policy"


def test_a_duplicated_row_in_the_file_is_an_error():
    bundle = school_bundle()
    evidence = bundle["institutions"][0]["evidence"]
    evidence.append(dict(evidence[0]))

    assert errors_of(bundle) == [
        "institutions[0].evidence[2]: the same evidence as institutions[0].evidence[0]"
    ]


def test_a_numeric_identifier_matches_the_stored_text():
    stored = make_institution(slug="eltham-school")
    make_identifier(stored, "urn", "100180")
    bundle = school_bundle()
    bundle["institutions"][0]["identifiers"] = {"urn": 100180}

    import_bundle(bundle)

    assert stored.inspections.count() == 1
    assert Identifier.objects.count() == 1


def test_an_unknown_inspectorate_in_the_inspectorates_list_is_created_with_its_name():
    bundle = school_bundle()
    bundle["inspectorates"] = [{"slug": "hmip", "name": "HM Inspectorate of Prisons"}]

    import_bundle(bundle)

    assert Inspectorate.objects.get(slug="hmip").name == "HM Inspectorate of Prisons"


def test_an_identifier_of_another_stored_institution_is_refused():
    other = make_institution(slug="someone-else")
    make_identifier(other, "urn", "100180")
    make_institution(slug="eltham")

    errors = errors_of(school_bundle())

    assert errors == [
        'institutions[0].ref: "eltham" is the slug of a stored institution, but the '
        "identifiers match another (someone-else)"
    ]


def test_changed_institutions_are_marked_dirty_inside_the_import():
    untouched = make_institution(slug="elsewhere")
    Institution.objects.update(needs_recompute=False)

    summary = import_bundle(school_bundle())

    dirty = set(Institution.objects.filter(needs_recompute=True).values_list("slug", flat=True))
    assert dirty == {"eltham", "harris-greenwich"}
    assert untouched.slug not in dirty
    assert len(summary.dirty) == 2


def test_notes_at_the_top_and_on_an_institution_are_ignored():
    bundle = school_bundle()
    bundle["notes"] = ["Illustrative figures.", "Not published statistics."]
    bundle["institutions"][0]["notes"] = "Dates are approximate."

    import_bundle(bundle)

    assert Institution.objects.count() == 2


def test_invalid_json_names_the_line_and_column():
    with pytest.raises(BundleError) as caught:
        parse_json('{"format": "failwell.bundle/1",\n "institutions": [}')

    assert caught.value.errors == ["not valid JSON: line 2, column 19: Expecting value"]


def test_the_command_imports_a_file_and_prints_a_summary(tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(school_bundle()))
    out = io.StringIO()

    call_command("import_bundle", str(path), stdout=out)

    assert re.search(r"^institutions +2 +0 +0$", out.getvalue(), re.MULTILINE)
    assert "2 institutions queued for recompute." in out.getvalue()
    assert Identifier.objects.count() == 1


def test_the_command_reads_standard_input(monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO(json.dumps(school_bundle()).encode()))
    monkeypatch.setattr("sys.stdin", stdin)

    call_command("import_bundle", "-", stdout=io.StringIO())

    assert Institution.objects.count() == 2


def test_the_command_lists_every_error_and_writes_nothing(tmp_path):
    bundle = school_bundle()
    bundle["institutions"][0]["sector"] = "schol"
    bundle["institutions"][1]["inspections"][0]["date"] = "2013-13-01"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bundle))

    with pytest.raises(CommandError) as caught:
        call_command("import_bundle", str(path))

    message = str(caught.value)
    assert "nothing imported; 2 errors" in message
    assert "  institutions[0].sector: " in message
    assert "  institutions[1].inspections[0].date: " in message
    assert Institution.objects.count() == 0


def test_the_command_reports_a_json_syntax_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "failwell.bundle/1", "institutions": [,]}')

    with pytest.raises(CommandError, match="line 1, column 50"):
        call_command("import_bundle", str(path))


def test_the_command_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*missing.json: No such file"):
        call_command("import_bundle", str(tmp_path / "missing.json"))


def test_an_existing_inspection_on_the_same_key_is_updated_not_duplicated():
    eltham = make_institution(slug="eltham")
    make_inspection(
        eltham,
        scale_slug="ofsted-overall-2005",
        overall="Satisfactory",
        on=datetime.date(2010, 3, 10),
    )

    import_bundle(school_bundle())

    inspection = eltham.inspections.get()
    assert inspection.overall_grade.label == "Inadequate"
