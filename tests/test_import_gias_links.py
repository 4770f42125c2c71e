"""Importing the GIAS establishment links CSV into lineage.

The fixtures in tests/fixtures/gias are written by build.py beside them (invented
schools, the published columns); comments there give each row's number.
"""

import datetime
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from institutions.gias_links import import_gias_links
from institutions.imports import FileRejected
from institutions.models import Institution, LineageLink
from tests.factories import make_identifier, make_institution, make_link

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "gias"
LINKS = FIXTURES / "links.csv"


def school(urn: str) -> Institution:
    return Institution.objects.by_identifier("urn", urn).get()


def make_school(urn: str, name: str, establishment_type: str = "Community school") -> Institution:
    institution = make_institution(name=name, establishment_type=establishment_type)
    make_identifier(institution, "urn", urn)
    return institution


@pytest.fixture
def known_schools():
    """The schools the links file is about, as an Ofsted import would have left them."""
    return {
        "190001": make_school("190001", "Eastfield Academy", "Academy converter"),
        "190002": make_school("190002", "Westfield Primary School"),
        "190003": make_school("190003", "Northfield School"),
        "190004": make_school("190004", "Southfield Academy", "Academy sponsor led"),
        "190006": make_school("190006", "Oakfield School", "Foundation school"),
        "190010": make_school("190010", "Marsh Federation School"),
    }


def links() -> set[tuple[str, str, str, datetime.date]]:
    return {
        (
            link.predecessor.identifiers.get(scheme="urn").value,
            link.successor.identifiers.get(scheme="urn").value,
            link.kind,
            link.linked_on,
        )
        for link in LineageLink.objects.select_related("predecessor", "successor")
    }


def snapshot() -> dict:
    return {
        "institutions": sorted(
            Institution.objects.values_list(
                "pk", "name", "updated_at", "needs_recompute", "marked_dirty_at"
            )
        ),
        "links": sorted(
            LineageLink.objects.values_list("pk", "predecessor", "successor", "kind", "linked_on")
        ),
    }


def test_links_become_lineage_in_the_direction_and_kind_gias_gives(known_schools):
    report = import_gias_links(LINKS)

    assert links() == {
        ("110001", "190001", "academy_conversion", datetime.date(2015, 9, 1)),
        ("110002", "190002", "merger", datetime.date(2014, 4, 1)),
        ("110003", "190002", "merger", datetime.date(2014, 4, 1)),  # written 01-04-2014
        ("190003", "190013", "split", datetime.date(2017, 9, 1)),
        ("190003", "190014", "split", datetime.date(2017, 9, 1)),
        ("110004", "190004", "academy_conversion", datetime.date(2013, 9, 1)),  # 1/9/2013
        ("190010", "110010", "merger", datetime.date(2019, 9, 1)),
        ("110006", "190006", "rename", datetime.date(2012, 1, 1)),
        ("110007", "190006", "merger", datetime.date(2012, 1, 1)),
    }
    assert (report.created, report.unchanged) == (9, 1)


def test_a_link_listed_from_both_ends_is_recorded_once(known_schools):
    report = import_gias_links(LINKS)

    assert LineageLink.objects.filter(successor=known_schools["190001"]).count() == 1
    assert report.unchanged == 1  # row 3, the Successor row for the same link


def test_schools_named_only_as_links_are_created_with_the_link_name(known_schools):
    import_gias_links(LINKS)

    created = school("110001")
    assert (created.name, created.sector) == ("Eastfield Community School", "school")
    assert school("190013").name == "Northfield Upper School"
    assert {i.pk for i in known_schools["190001"].lineage()} == {
        known_schools["190001"].pk,
        created.pk,
    }


def test_importing_the_same_file_again_changes_nothing(known_schools):
    import_gias_links(LINKS)
    before = snapshot()

    report = import_gias_links(LINKS)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 10)
    assert snapshot() == before


def test_a_windows_1252_file_gives_the_same_links_and_names(known_schools):
    import_gias_links(LINKS)
    before = snapshot()

    report = import_gias_links(FIXTURES / "links_cp1252.csv")

    assert report.encoding == "windows-1252"
    assert report.unchanged == 10
    assert snapshot() == before
    assert school("110007").name == "Saint Thérèse’s School"


def test_rows_about_unknown_schools_and_links_that_are_not_lineage_are_skipped(known_schools):
    report = import_gias_links(LINKS)

    assert report.skipped == {
        "URN not in failwell (import its Ofsted data first)": 1,
        "LinkType 'Sixth Form Centre Link' is not a change of identity": 1,
    }
    assert not Institution.objects.by_identifier("urn", "199999").exists()
    assert not Institution.objects.by_identifier("urn", "190005").exists()


def test_bad_rows_are_rejected_with_row_number_and_field_and_the_rest_import(known_schools):
    report = import_gias_links(LINKS)

    assert [(r.row, r.field) for r in report.rejected] == [
        (12, "LinkType"),
        (13, "LinkEstablishedDate"),
        (14, "LinkEstablishedDate"),
        (15, "LinkURN"),
    ]
    assert "'Twinned' is not a link type" in report.rejected[0].reason
    assert not Institution.objects.by_identifier("urn", "110020").exists()
    assert LineageLink.objects.count() == 9


def test_a_plain_predecessor_link_keeps_the_kind_already_known():
    academy = make_school("190001", "Eastfield Academy", "Academy converter")
    old = make_school("110001", "Eastfield Community School")
    make_link(old, academy, kind="merger", linked_on=datetime.date(2015, 9, 1))
    data = (
        b"URN,LinkURN,LinkName,LinkType,LinkEstablishedDate\r\n"
        b"190001,110001,Eastfield Community School,Predecessor,01/09/2015\r\n"
    )

    report = import_gias_links(data)

    assert report.unchanged == 1
    assert LineageLink.objects.get().kind == "merger"


def test_a_specific_link_type_corrects_the_kind_and_date():
    academy = make_school("190001", "Eastfield Academy", "Academy converter")
    old = make_school("110001", "Eastfield Community School")
    make_link(old, academy, kind="academy_conversion", linked_on=datetime.date(2015, 1, 1))
    Institution.objects.update(needs_recompute=False)
    data = (
        b"URN,LinkURN,LinkName,LinkType,LinkEstablishedDate\r\n"
        b"190001,110001,Eastfield Community School,Predecessor - amalgamated,01/09/2015\r\n"
    )

    report = import_gias_links(data)

    assert report.updated == 1
    link = LineageLink.objects.get()
    assert (link.kind, link.linked_on) == ("merger", datetime.date(2015, 9, 1))
    assert Institution.objects.filter(needs_recompute=True).count() == 2


def test_a_link_the_other_way_round_is_never_added_so_lineage_cannot_loop():
    first = make_school("190001", "First School")
    second = make_school("190002", "Second School")
    make_link(first, second, kind="rename")
    data = (
        b"URN,LinkURN,LinkName,LinkType,LinkEstablishedDate\r\n"
        b"190001,190002,Second School,Predecessor,01/09/2015\r\n"
    )

    report = import_gias_links(data)

    assert report.unchanged == 1
    assert report.changes == {"links not made (the reverse link exists)": 1}
    assert LineageLink.objects.count() == 1


def test_a_dry_run_writes_nothing_and_reports_what_a_real_run_would(known_schools):
    before = snapshot()

    dry = import_gias_links(LINKS, dry_run=True)

    assert snapshot() == before
    assert {**dry.as_dict(), "dry_run": False} == import_gias_links(LINKS).as_dict()


def test_missing_columns_reject_the_whole_file_naming_them(known_schools):
    data = b"URN,LinkURN,LinkName\r\n190001,110001,Eastfield Community School\r\n"

    with pytest.raises(FileRejected) as rejected:
        import_gias_links(data)

    assert "'LinkType', 'LinkEstablishedDate'" in str(rejected.value)
    assert not LineageLink.objects.exists()


def test_the_command_reports_and_exits_zero_with_rejected_rows(known_schools):
    out, err = io.StringIO(), io.StringIO()

    call_command("import_gias_links", str(LINKS), stdout=out, stderr=err)

    output = out.getvalue()
    assert "Rows: 9 created, 0 updated, 1 unchanged, 2 skipped, 4 rejected." in output
    assert "Row 13 (URN 190001): LinkEstablishedDate: is blank" in output
    assert "16/16" in err.getvalue()


def test_the_command_fails_when_given_the_wrong_file():
    with pytest.raises(CommandError, match="rejected, nothing imported.*'LinkURN'"):
        call_command(
            "import_gias_links",
            str(Path(__file__).parent / "fixtures" / "ofsted" / "d2_current.csv"),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
