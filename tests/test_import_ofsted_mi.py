"""Importing Ofsted's school-inspection management information CSV, as published.

The fixtures in tests/fixtures/ofsted are written by build.py beside them: invented
schools in the published layouts (current report-card sheet, 2019-2024, 2015-2019,
2012-2015), in UTF-8 with and without a byte order mark and in Windows-1252.
"""

import datetime
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from institutions.import_batch import ImportBatch
from institutions.imports import FileRejected
from institutions.models import (
    Band,
    Identifier,
    Inspection,
    Institution,
    Judgement,
    LineageLink,
)
from institutions.ofsted_mi import import_ofsted_mi
from tests.factories import make_identifier, make_institution

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "ofsted"
D2 = FIXTURES / "d2_current.csv"


def school(urn: str) -> Institution:
    return Institution.objects.by_identifier("urn", urn).get()


def inspections(urn: str) -> list[Inspection]:
    return list(school(urn).inspections.with_grades().order_by("inspected_on"))


def judgements(inspection: Inspection) -> dict[str, str]:
    return {j.area.slug: j.grade.label for j in inspection.judgements.all()}


def snapshot() -> dict:
    """Everything an import writes, so two states can be compared field by field."""
    return {
        "institutions": sorted(
            Institution.objects.values_list(
                "pk",
                "name",
                "slug",
                "sector",
                "phase",
                "establishment_type",
                "region",
                "local_authority",
                "updated_at",
                "needs_recompute",
                "marked_dirty_at",
            )
        ),
        "identifiers": sorted(
            Identifier.objects.values_list("pk", "institution", "scheme", "value")
        ),
        "inspections": sorted(
            Inspection.objects.values_list(
                "pk",
                "institution",
                "scale__slug",
                "inspected_on",
                "published_on",
                "reference",
                "overall_grade",
                "category_of_concern",
                "report_url",
            )
        ),
        "judgements": sorted(Judgement.objects.values_list("pk", "inspection", "area", "grade")),
        "links": sorted(
            LineageLink.objects.values_list("pk", "predecessor", "successor", "kind", "linked_on")
        ),
    }


def test_a_report_card_file_creates_schools_with_their_inspections_and_judgements():
    report = import_ofsted_mi(D2)

    assert (report.rows, report.created, report.updated, report.rejected) == (24, 24, 0, [])
    harbour = school("140001")
    assert harbour.name == "Harbour Lane Primary School"
    assert harbour.sector == "school"
    assert (harbour.phase, harbour.establishment_type) == ("Primary", "Community school")
    assert (harbour.region, harbour.local_authority) == ("North West", "Lancaster Vale")
    assert harbour.identifiers.get(scheme="laestab").value == "8881001"
    oeif, ungraded, report_card = inspections("140001")
    assert (report_card.scale.slug, report_card.reference) == (
        "ofsted-report-card-2025",
        "10300001",
    )
    assert report_card.inspected_on == datetime.date(2025, 11, 18)
    assert report_card.published_on == datetime.date(2026, 1, 5)
    assert report_card.report_url == "https://reports.ofsted.gov.uk/provider/21/140001"
    assert judgements(report_card)["achievement"] == "Strong standard"
    assert judgements(report_card)["safeguarding"] == "Met"
    assert "post-16" not in judgements(report_card)
    assert (oeif.scale.slug, oeif.overall_grade.label) == ("ofsted-overall-2012", "Good")
    assert judgements(oeif)["personal-development"] == "Outstanding"
    assert judgements(oeif)["safeguarding"] == "Yes"
    assert (ungraded.reference, ungraded.overall_grade, judgements(ungraded)) == (
        "10250001",
        None,
        {},
    )


def test_importing_the_same_file_again_changes_nothing():
    import_ofsted_mi(D2)
    before = snapshot()

    report = import_ofsted_mi(D2)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 24)
    assert report.changes == {}
    assert snapshot() == before


@pytest.mark.parametrize(
    "variant,encoding",
    [("d2_current_bom.csv", "utf-8-sig"), ("d2_current_cp1252.csv", "windows-1252")],
)
def test_a_bom_or_windows_1252_file_gives_the_same_data_as_plain_utf8(variant, encoding):
    import_ofsted_mi(D2)
    before = snapshot()

    report = import_ofsted_mi(FIXTURES / variant)

    assert report.encoding == encoding
    assert (report.unchanged, report.rejected) == (24, [])
    assert snapshot() == before
    assert school("140003").name == "St Thérèse’s Catholic Primary School"


def test_windows_1252_names_are_decoded_when_the_file_comes_first():
    report = import_ofsted_mi(FIXTURES / "d2_current_cp1252.csv")

    assert report.created == 24
    assert school("140003").name == "St Thérèse’s Catholic Primary School"


def test_grades_are_read_as_numbers_or_as_words_in_any_case():
    import_ofsted_mi(D2)

    (by_number,) = [i for i in inspections("140001") if i.reference == "10200001"]
    assert by_number.overall_grade.label == "Good"  # "2"
    assert judgements(by_number)["early-years"] == "Good"
    (in_words,) = inspections("140006")
    assert in_words.overall_grade.label == "Requires improvement"  # "requires improvement"
    assert judgements(in_words)["quality-of-education"] == "Requires improvement"
    assert judgements(in_words)["behaviour-and-attitudes"] == "Good"  # "GOOD"


def test_null_9_not_judged_and_blank_mean_no_grade():
    import_ofsted_mi(D2)

    (words,) = inspections("140006")  # early years "9", sixth form blank
    assert "early-years" not in judgements(words)
    assert "sixth-form" not in judgements(words)
    (no_overall,) = inspections("140007")  # 2024-25: overall "Not judged"
    assert no_overall.overall_grade is None
    assert judgements(no_overall)["quality-of-education"] == "Requires improvement"
    assert no_overall.headline_band == Band.BELOW_STANDARD
    (old,) = inspections("140008")  # key judgements NULL
    assert judgements(old) == {}


def test_a_report_card_with_safeguarding_not_met_has_a_failing_headline():
    import_ofsted_mi(D2)

    report_card = inspections("140002")[-1]
    assert report_card.overall_grade is None
    assert judgements(report_card)["safeguarding"] == "Not met"
    assert judgements(report_card)["inclusion"] == "Strong standard"
    assert report_card.headline_band == Band.FAILING


@pytest.mark.parametrize(
    "urn,category",
    [
        ("140003", "special_measures"),  # "special measures"
        ("140014", "special_measures"),  # "SPECIAL MEASURES"
        ("100004", "serious_weaknesses"),  # "Serious Weaknesses", on the predecessor
        ("140013", "notice_to_improve"),
    ],
)
def test_categories_of_concern_are_read_in_any_case_and_make_the_headline_failing(urn, category):
    import_ofsted_mi(D2)

    inspection = inspections(urn)[-1]
    assert inspection.category_of_concern == category
    assert inspection.headline_band == Band.FAILING


def test_the_scale_follows_the_columns_and_the_inspection_date():
    import_ofsted_mi(D2)

    assert [i.scale.slug for i in inspections("140001")] == [
        "ofsted-overall-2012",
        "ofsted-overall-2012",
        "ofsted-report-card-2025",
    ]
    (outstanding_2008,) = inspections("140008")
    assert outstanding_2008.scale.slug == "ofsted-overall-2005"
    assert outstanding_2008.overall_grade.label == "Outstanding"
    (satisfactory,) = inspections("140009")  # "3" before September 2012
    assert (satisfactory.scale.slug, satisfactory.overall_grade.label) == (
        "ofsted-overall-2005",
        "Satisfactory",
    )
    assert satisfactory.headline_band == Band.BELOW_STANDARD


def test_an_academy_conversion_in_the_file_links_predecessor_and_successor():
    import_ofsted_mi(D2)

    academy, predecessor = school("140004"), school("100004")
    assert predecessor.name == "Riverside Community School"
    assert predecessor.establishment_type == "Community school"
    assert predecessor.identifiers.get(scheme="laestab").value == "8882004"
    assert (predecessor.region, predecessor.phase) == ("North West", "Secondary")
    link = LineageLink.objects.get(successor=academy)
    assert link.predecessor == predecessor
    assert link.kind == "academy_conversion"
    assert link.linked_on == datetime.date(2016, 9, 1)  # the academy's open date
    (inspection,) = predecessor.inspections.all()
    assert inspection.reference == "10200004"
    assert inspection.report_url == ""
    assert not academy.inspections.exists()
    assert {i.pk for i in academy.lineage()} == {academy.pk, predecessor.pk}


def test_a_new_urn_without_academy_conversion_is_a_rename_dated_by_the_inspection():
    import_ofsted_mi(D2)

    link = LineageLink.objects.get(successor=school("140005"))
    assert link.predecessor == school("100005")
    assert link.kind == "rename"
    assert link.linked_on == datetime.date(2022, 6, 14)  # no open date in the file


def test_a_report_card_grade_dated_apart_is_recorded_on_its_own_date():
    import_ofsted_mi(D2)

    full, monitoring = inspections("140010")
    assert (full.inspected_on, full.reference) == (datetime.date(2025, 11, 20), "10300010")
    assert "achievement" not in judgements(full)
    assert monitoring.inspected_on == datetime.date(2026, 3, 3)
    assert judgements(monitoring) == {"achievement": "Expected standard"}
    assert monitoring.scale.slug == "ofsted-report-card-2025"


def test_dates_written_d_m_yyyy_are_read():
    import_ofsted_mi(D2)

    (inspection,) = inspections("140011")
    assert inspection.inspected_on == datetime.date(2026, 2, 3)
    assert inspection.published_on == datetime.date(2026, 3, 9)


def test_a_school_not_yet_inspected_is_created_without_inspections():
    import_ofsted_mi(D2)

    assert school("140012").establishment_type == "Free schools"
    assert inspections("140012") == []


def test_an_existing_school_is_updated_not_duplicated():
    existing = make_institution(name="Harbour Lane School", region="", sector="other")
    make_identifier(existing, "urn", "140001")

    report = import_ofsted_mi(D2)

    assert report.created == 23 and report.updated == 1
    existing.refresh_from_db()
    assert (existing.name, existing.region, existing.sector) == (
        "Harbour Lane Primary School",
        "North West",
        "school",
    )
    assert existing.slug.startswith("institution-")  # URLs already shared keep working
    assert Institution.objects.by_identifier("urn", "140001").count() == 1


def test_a_changed_grade_updates_the_inspection_and_nothing_else():
    import_ofsted_mi(D2)
    text = D2.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if ",140006," in line)
    changed = text.replace(row, row.replace("Outstanding", "Good"))
    before = snapshot()

    report = import_ofsted_mi(changed.encode("utf-8"))

    assert (report.updated, report.unchanged) == (1, 23)
    assert report.changes["judgements updated"] == 1
    assert judgements(inspections("140006")[0])["personal-development"] == "Good"
    after = snapshot()
    assert after["inspections"] == before["inspections"]
    assert after["links"] == before["links"]


def test_a_bad_row_is_rejected_with_its_row_number_and_field_and_the_good_rows_import():
    report = import_ofsted_mi(FIXTURES / "bad_rows.csv")

    rejected = {(r.row, r.field) for r in report.rejected}
    assert rejected == {
        (3, "Inspection start date"),
        (5, "Latest OEIF overall effectiveness"),
        (6, "URN"),
        (7, "Publication date"),
        (8, "Category of concern"),
        (10, ""),  # too few fields
        (11, "Latest OEIF overall effectiveness"),
        (12, "Does the latest OEIF graded inspection relate to the URN of the current school?"),
        (14, "LAESTAB"),
    }
    reasons = {r.row: str(r) for r in report.rejected}
    assert (
        reasons[3] == "Row 3 (URN 180003): Inspection start date: '31/02/2026' is not a real date."
    )
    assert "'Satisfactory' is not a grade" in reasons[11]
    assert "also given to URN 180013 on row 13" in reasons[14]
    assert report.created == 4  # rows 2, 4, 9 and 13
    for urn in ("140001", "180004", "180009", "180013"):
        assert school(urn).inspections.count() == 3
    for urn in ("180003", "180005", "180007", "180008", "180011", "180012", "180014"):
        assert not Identifier.objects.filter(value=urn).exists()


def test_a_row_the_database_refuses_is_rejected_alone_and_leaves_nothing_half_written(
    monkeypatch,
):
    flush = ImportBatch.flush

    def refuse_northgate(batch):
        if any(i.name == "Northgate Primary School" for i in batch._new[Institution]):
            raise IntegrityError("refused for the test")
        flush(batch)

    monkeypatch.setattr(ImportBatch, "flush", refuse_northgate)

    report = import_ofsted_mi(D2, batch_size=10)

    assert [(r.row, r.reason) for r in report.rejected] == [
        (3, "the database refused it: refused for the test")
    ]
    assert report.created == 23
    assert not Identifier.objects.filter(value__in=["140002", "8881002"]).exists()
    assert not Inspection.objects.filter(reference__in=["10300002", "10200002"]).exists()
    assert school("140001").inspections.count() == 3


def test_missing_required_headers_reject_the_whole_file_naming_them():
    with pytest.raises(FileRejected) as rejected:
        import_ofsted_mi(FIXTURES / "missing_headers.csv")

    assert "'URN'" in str(rejected.value)
    assert "'School name'" in str(rejected.value)
    assert not Institution.objects.exists()


def test_a_file_with_grades_but_no_inspection_date_column_is_rejected_naming_it():
    data = b"URN,School name,Latest OEIF overall effectiveness\r\n140001,A School,2\r\n"

    with pytest.raises(FileRejected, match="Inspection start date of latest OEIF graded"):
        import_ofsted_mi(data)


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "empty"),
        (b"   \r\n", "empty"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "not a CSV file"),
        (b"URN,School name,Inspection start date\r\n", "no data rows"),
        (b"URN,School name,Inspection start date\r\n1,\x81\x8d\r\n", "neither UTF-8 nor"),
        (b'URN,School name,Inspection start date\r\n"140001,"Unclosed\r\n', "not a readable CSV"),
    ],
)
def test_an_unusable_file_is_rejected_with_nothing_written(data, message):
    with pytest.raises(FileRejected, match=message):
        import_ofsted_mi(data)

    assert not Institution.objects.exists()


def test_a_dry_run_writes_nothing_and_reports_what_a_real_run_would():
    dry = import_ofsted_mi(D2, dry_run=True)

    assert not Institution.objects.exists()
    assert not Inspection.objects.exists()
    real = import_ofsted_mi(D2)
    assert dry.dry_run and not real.dry_run
    assert {**dry.as_dict(), "dry_run": False} == real.as_dict()


def test_older_files_map_their_key_judgements_onto_the_scales():
    r2019 = import_ofsted_mi(FIXTURES / "oeif_2019_2024_cp1252.csv")
    r2015 = import_ofsted_mi(FIXTURES / "legacy_2015_2019_bom.csv")
    r2012 = import_ofsted_mi(FIXTURES / "legacy_2012_2015.csv")

    assert [r.encoding for r in (r2019, r2015, r2012)] == ["windows-1252", "utf-8-sig", "utf-8"]
    assert all(not r.rejected for r in (r2019, r2015, r2012))
    assert school("150002").name == "Cœur de Lion Primary School"
    (no_overall,) = inspections("150003")  # 2024-25: overall "Not judged"
    assert no_overall.overall_grade is None
    assert judgements(no_overall)["personal-development"] == "Outstanding"
    (unsafe,) = inspections("150004")
    assert judgements(unsafe)["safeguarding"] == "No"
    assert unsafe.headline_band == Band.FAILING
    (pdbw,) = inspections("160006")
    assert judgements(pdbw) == {
        "outcomes-for-pupils": "Requires improvement",
        "quality-of-teaching": "Inadequate",
        "leadership-and-management": "Inadequate",
        "personal-development-behaviour-and-welfare": "Requires improvement",
        "sixth-form": "Requires improvement",
    }
    assert pdbw.category_of_concern == "serious_weaknesses"
    (ntl,) = inspections("160004")  # 2011: the 2005 scale, with its key judgements
    assert (ntl.scale.slug, ntl.category_of_concern) == ("ofsted-overall-2005", "notice_to_improve")
    assert judgements(ntl)["outcomes-for-pupils"] == "Satisfactory"
    (safety,) = inspections("170001")
    assert judgements(safety)["behaviour-and-safety"] == "Good"
    assert judgements(safety)["outcomes-for-pupils"] == "Requires improvement"
    link = LineageLink.objects.get(successor=school("150005"))
    assert (link.predecessor, link.kind) == (school("120005"), "academy_conversion")
    assert link.linked_on == datetime.date(2018, 4, 1)  # open date written 1/4/2018
    assert LineageLink.objects.get(successor=school("160003")).predecessor == school("130003")


def test_an_older_file_adds_history_to_schools_the_current_file_brought_in():
    import_ofsted_mi(D2)

    report = import_ofsted_mi(FIXTURES / "oeif_2019_2024_cp1252.csv")

    assert report.created == 9  # 140001 is already known
    assert Inspection.objects.filter(reference="10200001").count() == 1


def test_only_schools_whose_data_changed_are_marked_for_recompute():
    import_ofsted_mi(D2)
    Institution.objects.update(needs_recompute=False, marked_dirty_at=None)
    text = D2.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if ",140004," in line)
    changed = text.replace(row, row.replace("Serious Weaknesses", "Special measures"))

    import_ofsted_mi(changed.encode("utf-8"))

    dirty = set(Institution.objects.filter(needs_recompute=True).values_list("name", flat=True))
    assert dirty == {"Riverside Academy", "Riverside Community School"}
    assert not Institution.objects.filter(needs_recompute=True, marked_dirty_at=None).exists()


def test_a_fresh_import_marks_every_school_it_creates_for_recompute():
    import_ofsted_mi(D2)

    assert not Institution.objects.filter(needs_recompute=False).exists()
    assert not Institution.objects.filter(marked_dirty_at=None).exists()


def test_progress_is_reported_after_each_batch():
    calls = []

    import_ofsted_mi(D2, batch_size=10, progress=lambda done, total: calls.append((done, total)))

    assert calls == [(0, 24), (10, 24), (20, 24), (24, 24)]


def test_batch_size_does_not_change_the_result():
    one_by_one = import_ofsted_mi(D2, dry_run=True, batch_size=1).as_dict()
    all_at_once = import_ofsted_mi(D2, batch_size=1000).as_dict()

    assert {**one_by_one, "dry_run": False} == all_at_once


def test_the_command_prints_a_summary_and_the_rejected_rows_and_exits_zero():
    out, err = io.StringIO(), io.StringIO()

    call_command("import_ofsted_mi", str(FIXTURES / "bad_rows.csv"), stdout=out, stderr=err)

    output = out.getvalue()
    assert "Rows: 4 created, 0 updated, 0 unchanged, 0 skipped, 9 rejected." in output
    assert "Rejected rows (row 1 is the header):" in output
    assert "Row 5 (URN 180005): Latest OEIF overall effectiveness: 'Brilliant'" in output
    assert "13/13" in err.getvalue()  # the progress bar


def test_the_command_dry_run_saves_nothing():
    out = io.StringIO()

    call_command("import_ofsted_mi", str(D2), "--dry-run", stdout=out, stderr=io.StringIO())

    assert "Dry run: nothing was saved." in out.getvalue()
    assert "Rows: 24 created" in out.getvalue()
    assert not Institution.objects.exists()


def test_the_command_fails_when_the_file_is_rejected_as_a_whole():
    with pytest.raises(CommandError, match="rejected, nothing imported.*'URN', 'School name'"):
        call_command(
            "import_ofsted_mi",
            str(FIXTURES / "missing_headers.csv"),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )


def test_the_command_fails_clearly_for_a_missing_file():
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_ofsted_mi", "/nonexistent/ofsted.csv", stdout=io.StringIO())
