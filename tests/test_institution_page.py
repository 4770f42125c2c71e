"""The institution page: identity, lineage, status and why, the chart and its tables,
one timeline across the lineage, and its htmx partials."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from institutions.models import Institution
from tests.factories import (
    make_assessment,
    make_evidence,
    make_identifier,
    make_indicator,
    make_inspection,
    make_institution,
    make_intervention,
    make_link,
    make_milestone,
    make_user,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def page(client, user, institution, query="", **headers):
    client.force_login(user)
    return client.get(f"/institutions/{institution.slug}/{query}", **headers)


def words(html: str) -> str:
    """The text of some HTML with tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def timeline_of(response) -> str:
    html = response.content.decode()
    return html[html.index('<div id="timeline"') :]


def test_anyone_signed_out_is_sent_to_sign_in(client, institution):
    response = client.get("/institutions/eltham/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/institutions/eltham/"


@pytest.mark.parametrize("persona", ["officer", "lead", "other_lead", "administrator"])
def test_every_role_reads_the_page(client, institution, persona, request):
    response = page(client, request.getfixturevalue(persona), institution)
    assert response.status_code == 200
    assert "<title>Eltham Foundation School - failwell</title>" in response.content.decode()


def test_an_unknown_institution_is_not_found(client, officer):
    client.force_login(officer)
    assert client.get("/institutions/no-such-school/").status_code == 404


def test_the_page_shows_identity_parent_and_identifiers(client, officer):
    council = make_institution(name="Greenwich Council", slug="greenwich", sector="local_authority")
    school = make_institution(
        name="Eltham Foundation School",
        slug="eltham",
        region="London",
        local_authority="Greenwich",
        phase="Secondary",
        parent=council,
    )
    make_identifier(school, "urn", "100182")
    text = words(page(client, officer, school).content.decode())
    assert "School, London" in text
    assert "Sector School (Secondary)" in text
    assert "Local authority Greenwich" in text
    assert "Identifiers URN 100182" in text
    assert "Answers to Greenwich Council" in text


def test_lineage_links_both_ways_with_kind_and_date(client, officer):
    old = make_institution(name="Eltham Foundation School", slug="eltham")
    new = make_institution(name="Harris Academy Greenwich", slug="harris")
    make_link(old, new, kind="academy_conversion", linked_on=datetime.date(2011, 9, 1))

    old_html = page(client, officer, old).content.decode()
    assert (
        '<a class="govuk-link" href="/institutions/harris/">Harris Academy Greenwich</a>'
        in old_html
    )
    assert "Became Harris Academy Greenwich Academy conversion, 1 September 2011" in words(old_html)
    new_text = words(page(client, officer, new).content.decode())
    assert "Came from Eltham Foundation School Academy conversion, 1 September 2011" in new_text


def test_the_status_shows_its_reasons_since_when_and_the_method_version(client, officer):
    school = make_institution(
        slug="eltham", status="early_recovery", status_since=datetime.date(2010, 3, 10)
    )
    Institution.objects.filter(pk=school.pk).update(needs_recompute=False)
    make_assessment(
        school,
        as_of=datetime.date(2010, 3, 10),
        status="early_recovery",
        reasons=[
            {"rule": "latest_inspection", "text": "Latest Ofsted inspection 10 Mar 2010"},
            {"rule": "grace_window", "text": "Inside the grace window until 10 Mar 2011"},
        ],
        method_version=1,
    )
    html = page(client, officer, school).content.decode()
    status = html[html.index('id="institution-status"') : html.index('id="status-announcement"')]
    assert '<strong class="govuk-tag ">Early recovery</strong>' in status
    assert "since 10 March 2010" in status
    assert "<li>Latest Ofsted inspection 10 Mar 2010</li>" in status
    assert "<li>Inside the grace window until 10 Mar 2011</li>" in status
    assert "trajectory method version 1" in status
    assert "Recomputing" not in status and "every 2s" not in status


def test_the_timeline_and_chart_show_changes_of_status_and_the_status_its_latest_reasons(
    client, officer
):
    """An assessment is also written when only the reasons change: the timeline and the
    chart's status lane show each change once, the status area the latest reasons."""
    school = make_institution(slug="eltham", status="improving")
    make_inspection(school, overall="Inadequate", on=datetime.date(2011, 12, 1))
    for as_of, status, text in [
        (datetime.date(2012, 1, 1), "failing", "Special measures"),
        (datetime.date(2012, 6, 1), "failing", "Still in special measures"),
        (datetime.date(2013, 1, 1), "improving", "Two better terms"),
        (datetime.date(2013, 6, 1), "improving", "Three better terms"),
    ]:
        make_assessment(school, as_of=as_of, status=status, reasons=[{"text": text}])
    response = page(client, officer, school, "?kind=status")
    timeline = words(timeline_of(response))
    assert timeline.count("Status: ") == 2
    assert "Status: Improving 1 January 2013 Two better terms" in timeline
    assert "Status: Failing 1 January 2012 Special measures" in timeline
    assert "Still in special measures" not in timeline and "Three better terms" not in timeline
    html = response.content.decode()
    status = html[html.index('id="institution-status"') : html.index('id="status-announcement"')]
    assert "<li>Three better terms</li>" in status
    assert re.findall(r"<title>((?:Failing|Improving) from [^<]*)</title>", html) == [
        "Failing from 1 Jan 2012",
        "Improving from 1 Jan 2013",
    ]


def test_a_pending_recompute_says_so_and_polls(client, officer, institution):
    Institution.objects.filter(pk=institution.pk).update(needs_recompute=True, status_version=4)
    html = page(client, officer, institution).content.decode()
    assert "Recomputing the status…" in html
    assert 'hx-get="/institutions/eltham/status/?since=4"' in html
    assert 'hx-trigger="every 2s, history-changed from:body"' in html


def test_the_chart_is_an_accessible_svg_with_the_same_data_as_tables(client, officer, institution):
    make_inspection(
        institution,
        scale_slug="ofsted-overall-2005",
        overall="Inadequate",
        on=datetime.date(2010, 3, 10),
        category_of_concern="special_measures",
    )
    make_inspection(institution, overall="Good", on=datetime.date(2013, 5, 1))
    intervention = make_intervention(institution, started_on=datetime.date(2010, 3, 10))
    make_milestone(
        intervention,
        title="New behaviour policy",
        due_on=datetime.date(2010, 9, 1),
        status="met",
        achieved_on=datetime.date(2010, 8, 20),
    )
    exclusions = make_indicator(name="Fixed-term exclusion rate", unit="%", higher_is_better=False)
    make_evidence(
        institution, indicator=exclusions, value=14.2, observed_on=datetime.date(2010, 7, 1)
    )
    make_assessment(institution, as_of=datetime.date(2010, 3, 10), status="early_recovery")

    html = page(client, officer, institution).content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in svg
    assert '<title id="chart-title">Trajectory of Eltham Foundation School, ' in svg
    description = re.search(r'<desc id="chart-desc">(.*?)</desc>', svg, re.S).group(1)
    assert "Headline band: failing (2010), then at standard (2013)." in description
    assert "Special measures from 2010" in description
    assert "Fixed-term exclusion rate: 14.2% on 1 Jul 2010" in description
    assert "Fixed-term exclusion rate (%), lower is better" in svg
    assert svg.count("<circle") >= 3  # two inspections and the met milestone
    assert 'fill="url(#grace-hatch)"' in svg

    tables = words(html[html.index("Chart data as a table") :])
    assert "10 Mar 2010 Ofsted: Inadequate (special measures) Failing" in tables
    assert "1 May 2013 Ofsted: Good At standard" in tables
    assert "Special measures Ongoing 10 Mar 2010" in tables
    assert "New behaviour policy 1 Sep 2010 Met, 20 Aug 2010" in tables
    assert "1 Jul 2010 14.2%" in tables
    assert "10 Mar 2010 Early recovery" in tables


def test_each_chart_mark_names_its_date_and_lineage_member_and_long_observations_are_cut(
    client, officer
):
    # A member named with markup: every tooltip and cell that names it escapes it.
    old = make_institution(name="Eltham & <i>Foundation</i>", slug="eltham")
    escaped = "Eltham &amp; &lt;i&gt;Foundation&lt;/i&gt;"
    new = make_institution(name="Harris Academy Greenwich", slug="harris")
    make_link(old, new)
    intervention = make_intervention(
        old,
        started_on=datetime.date(2010, 3, 10),
        ended_on=datetime.date(2012, 8, 31),
        outcome="superseded",
    )
    make_milestone(intervention, title="Attendance plan", due_on=datetime.date(2011, 1, 1))
    attendance = make_indicator(name="Attendance", unit="%")
    make_evidence(old, indicator=attendance, value=91.5, observed_on=datetime.date(2011, 2, 3))
    summary = " ".join(f"word{n}" for n in range(40))
    make_evidence(new, direction="negative", summary=summary, observed_on=datetime.date(2013, 4, 5))
    make_assessment(new, as_of=datetime.date(2013, 8, 31), status="improving")

    html = page(client, officer, new).content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    tooltips = re.findall(r"<title>(.*?)</title>", svg)
    assert "Improving from 31 Aug 2013" in tooltips
    assert (
        f"Special measures ({escaped}): from 10 Mar 2010 to 31 Aug 2012 "
        "(superseded); grace window to 10 Sep 2011" in tooltips
    )
    assert f"Milestone “Attendance plan”, due 1 Jan 2011: planned ({escaped})" in tooltips
    assert f"3 Feb 2011: 91.5% ({escaped})" in tooltips
    # A tooltip keeps 120 characters of the summary, the table 30 words.
    cut = summary[:119] + "…"
    assert f"Negative observation, 5 Apr 2013: {cut}" in tooltips

    assert "<i>" not in html

    tables = words(html[html.index("Chart data as a table") :])
    assert f"Special measures ({escaped}) Ended 31 Aug 2012, superseded" in tables
    assert f"Attendance plan ({escaped}) 1 Jan 2011 Planned" in tables
    assert f"3 Feb 2011 ({escaped}) 91.5%" in tables
    thirty = " ".join(f"word{n}" for n in range(30))
    assert f"5 Apr 2013 Negative {thirty} …" in tables


def test_with_nothing_recorded_the_page_says_so(client, officer, institution):
    text = words(page(client, officer, institution).content.decode())
    assert "Nothing to chart yet" in text
    assert "No interventions are recorded." in text
    assert "No predecessors or successors are recorded." in text
    assert "Nothing is recorded yet: no inspections, interventions, milestones, evidence" in text


def test_the_timeline_covers_the_whole_lineage_newest_first_naming_other_members(client, officer):
    old = make_institution(name="Eltham Foundation School", slug="eltham")
    new = make_institution(name="Harris Academy Greenwich", slug="harris")
    make_link(old, new)
    make_inspection(
        old,
        overall="Inadequate",
        on=datetime.date(2010, 3, 10),
        category_of_concern="special_measures",
        report_url="https://reports.example.org/100182",
    )
    intervention = make_intervention(
        new,
        type_slug="academy-conversion",
        started_on=datetime.date(2011, 9, 1),
        ended_on=datetime.date(2013, 8, 31),
        outcome="succeeded",
    )
    make_milestone(intervention, title="Two new heads in post", due_on=datetime.date(2012, 1, 1))
    make_evidence(
        new,
        direction="positive",
        summary="Calmer corridors",
        observed_on=datetime.date(2012, 6, 1),
    )
    make_assessment(new, as_of=datetime.date(2013, 8, 31), status="recovered")

    html = page(client, officer, new).content.decode()
    timeline = html[html.index('<div id="timeline"') :]
    titles = [
        words(t) for t in re.findall(r'<h3 class="moj-timeline__title">(.*?)</h3>', timeline, re.S)
    ]
    assert titles == [
        "Status: Recovered",
        "Academy conversion ended: succeeded",
        "Positive observation",
        "Milestone due: Two new heads in post",
        "Academy conversion started",
        "Ofsted inspection: Inadequate",
    ]
    # The predecessor's inspection is named as such; the page's own entries are not.
    inspection = timeline[timeline.index("Ofsted inspection: Inadequate") :]
    assert '<p class="moj-timeline__byline">at Eltham Foundation School</p>' in inspection
    assert "category of concern: <strong>special measures</strong>" in inspection
    assert 'href="https://reports.example.org/100182"' in inspection
    assert "at Harris Academy Greenwich" not in timeline


def test_retracted_evidence_stays_in_the_timeline_struck_through_with_its_reason(
    client, officer, institution, lead
):
    evidence = make_evidence(institution, direction="negative", summary="Police called twice")
    evidence.retract(lead, "Logged against the wrong school")
    html = page(client, officer, institution).content.decode()
    item = html[html.index(f'id="evidence-{evidence.pk}"') :]
    assert "<del>Negative observation</del>" in item
    assert "<del>Police called twice</del>" in item
    assert "Retracted" in item and "Logged against the wrong school" in item


def test_an_evidence_item_says_who_logged_it_where_what_for_and_who_retracted_it(
    client, officer, institution
):
    school = make_institution(slug="old-eltham", name="Eltham Old School")
    make_link(school, institution)
    special_measures = make_intervention(school)
    milestone = make_milestone(special_measures, title="New head in post")
    jo = make_user(first_name="Jo", last_name="Whitfield")
    nameless = make_user(username="sam.r")
    logged = make_evidence(
        school,
        direction="positive",
        summary="Calmer corridors\nand fewer exclusions",
        intervention=special_measures,
        milestone=milestone,
        logged_by=jo,
        attachment_name="visit notes.pdf",
        attachment="evidence/abc.pdf",
    )
    imported = make_evidence(institution, direction="neutral", summary="Termly return")
    imported.retract(nameless, "A duplicate")
    timeline = timeline_of(page(client, officer, institution))
    html = timeline.split(f'id="evidence-{logged.pk}">')[1].split("Logged ")[0]
    item = words(html)
    assert item.startswith("Positive observation by Jo Whitfield, at Eltham Old School 1 March")
    assert "Calmer corridors<br>and fewer exclusions" in html
    assert (
        f'For <a class="govuk-link" href="/interventions/{special_measures.pk}/">Special measures'
        "</a>, milestone “New head in post”"
    ) in html
    assert "Attachment: visit notes.pdf (evidence from 1 March 2015)" in item
    assert f'href="/evidence/{logged.pk}/attachment/" download' in html
    retracted = words(timeline.split(f'id="evidence-{imported.pk}">')[1])
    assert retracted.startswith("Retracted: Neutral observation by an import 1 March 2015")
    assert ": A duplicate" in retracted and "by sam.r: A duplicate" in retracted


def test_an_intervention_in_the_timeline_names_its_lead(client, officer, institution):
    lena = make_user(username="llead", first_name="Lena", last_name="Lead")
    make_intervention(institution, lead=lena)
    make_intervention(institution, started_on=datetime.date(2016, 1, 1))  # no lead
    timeline = words(timeline_of(page(client, officer, institution)))
    assert "led by Lena Lead." in timeline
    assert timeline.count("led by") == 1


def test_the_timeline_filters_by_kind_without_javascript(client, officer, institution):
    make_inspection(institution, on=datetime.date(2014, 1, 1))
    make_evidence(institution, summary="Calmer corridors")
    html = page(client, officer, institution, "?kind=inspection").content.decode()
    timeline = html[html.index('<div id="timeline"') :]
    assert "Ofsted inspection: Good" in timeline
    assert "Calmer corridors" not in timeline
    assert "(inspections only)" in timeline
    assert 'id="kind-inspection" name="kind" type="checkbox" value="inspection" checked' in html
    assert 'id="kind-evidence" name="kind" type="checkbox" value="evidence">' in html


def test_unknown_kinds_are_ignored_and_none_means_everything(client, officer, institution):
    make_evidence(institution, summary="Calmer corridors")
    html = page(client, officer, institution, "?kind=gossip").content.decode()
    assert "Calmer corridors" in html


def test_the_timeline_partial_swaps_in_and_pushes_the_pages_own_url(client, officer, institution):
    make_inspection(institution, on=datetime.date(2014, 1, 1))
    make_evidence(institution, summary="Calmer corridors")
    client.force_login(officer)
    response = client.get(
        "/institutions/eltham/timeline/?kind=evidence", HTTP_HX_TRIGGER="timeline-filters", **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="timeline"')
    assert "<html" not in html
    assert "Calmer corridors" in html and "Ofsted inspection" not in html
    assert response["HX-Push-Url"] == "/institutions/eltham/?kind=evidence"


def test_the_timeline_refreshing_itself_does_not_move_the_address_bar(client, officer, institution):
    client.force_login(officer)
    response = client.get("/institutions/eltham/timeline/", HTTP_HX_TRIGGER="timeline", **HTMX)
    assert response.status_code == 200
    assert "HX-Push-Url" not in response


def test_the_timeline_partial_without_htmx_is_the_page(client, officer, institution):
    client.force_login(officer)
    response = client.get("/institutions/eltham/timeline/?kind=evidence")
    assert response.status_code == 302
    assert response["Location"] == "/institutions/eltham/?kind=evidence#timeline"


def test_a_long_timeline_is_paged(client, officer, institution):
    for day in range(1, 56):
        make_evidence(
            institution,
            summary=f"Visit {day}",
            observed_on=datetime.date(2015, 1, 1) + datetime.timedelta(days=day),
        )
    first = timeline_of(page(client, officer, institution))
    assert "Entries 1 to 50 of 55" in first
    assert "Visit 55<" in first and "Visit 5<" not in first
    second = timeline_of(page(client, officer, institution, "?page=2"))
    assert "Entries 51 to 55 of 55" in second and "Visit 5<" in second


def test_the_status_partial_polls_only_while_a_recompute_is_pending(client, officer, institution):
    client.force_login(officer)
    Institution.objects.filter(pk=institution.pk).update(needs_recompute=True, status_version=7)
    pending = client.get("/institutions/eltham/status/", **HTMX)
    assert pending.status_code == 200
    assert 'hx-trigger="every 2s, history-changed from:body"' in pending.content.decode()
    assert 'hx-get="/institutions/eltham/status/?since=7"' in pending.content.decode()

    Institution.objects.filter(pk=institution.pk).update(
        needs_recompute=False, status="improving", status_version=8
    )
    done = client.get("/institutions/eltham/status/?since=7", **HTMX)
    html = done.content.decode()
    assert done.status_code == 200
    assert "every 2s" not in html
    assert 'hx-trigger="history-changed from:body"' in html
    assert "Improving" in html
    # A poll's answer also tells screen readers, through the page's live region.
    assert '<div id="status-announcement" hx-swap-oob="innerHTML">' in html


def test_a_poll_with_nothing_new_gets_no_content_so_nothing_is_swapped(
    client, officer, institution
):
    client.force_login(officer)
    Institution.objects.filter(pk=institution.pk).update(needs_recompute=True, status_version=7)
    response = client.get("/institutions/eltham/status/?since=7", **HTMX)
    assert response.status_code == 204
    assert response.content == b""


def transaction_statements(client, method: str, url: str, **kwargs) -> list[str]:
    """The statements that open or close a transaction (a savepoint, inside a test's own)."""
    with CaptureQueriesContext(connection) as queries:
        getattr(client, method)(url, **kwargs)
    opening = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "COMMIT")
    return [query["sql"] for query in queries if query["sql"].startswith(opening)]


def test_the_page_and_its_partials_only_read_so_open_no_transaction(client, lead, institution):
    client.force_login(lead)
    assert transaction_statements(client, "get", "/institutions/eltham/") == []
    for partial in ("status", "timeline"):
        url = f"/institutions/eltham/{partial}/"
        assert transaction_statements(client, "get", url, **HTMX) == []
    # Logging evidence writes, and stays one transaction with the dirty flag it sets.
    posted = {"evidence_type": "observation", "direction": "positive", "summary": "Calm"}
    posted |= {"observed_on_0": "1", "observed_on_1": "3", "observed_on_2": "2015"}
    assert transaction_statements(client, "post", "/institutions/eltham/evidence/", data=posted)


def test_the_status_partial_without_htmx_is_the_page(client, officer, institution):
    client.force_login(officer)
    response = client.get("/institutions/eltham/status/")
    assert response.status_code == 302
    assert response["Location"] == "/institutions/eltham/"


def test_partials_need_a_signed_in_user(client, institution):
    for url in ("/institutions/eltham/status/", "/institutions/eltham/timeline/"):
        assert client.get(url, **HTMX).status_code == 302


def test_the_assigned_lead_sees_the_logging_and_retract_forms(client, lead, institution):
    make_evidence(institution, summary="Calmer corridors")
    html = page(client, lead, institution).content.decode()
    assert 'action="/institutions/eltham/evidence/"' in html
    assert "Retract<span" in html


@pytest.mark.parametrize("persona", ["officer", "other_lead", "administrator"])
def test_who_may_not_write_is_offered_no_form(client, institution, persona, request):
    intervention = make_intervention(institution)
    make_milestone(intervention)
    make_evidence(institution, summary="Calmer corridors")
    html = page(client, request.getfixturevalue(persona), institution).content.decode()
    main = html[html.index("<main") :]
    assert "Log evidence" not in main and "/institutions/eltham/evidence/" not in main
    assert "/retract/" not in main and "Retract evidence" not in main
    assert "Change status" not in main
    assert 'method="post"' not in main


def test_retract_is_offered_only_for_lineage_members_the_lead_writes_for(client, lead, institution):
    successor = make_institution(name="Harris Academy Greenwich", slug="harris")
    make_link(institution, successor)
    mine = make_evidence(institution, summary="Mine")
    theirs = make_evidence(successor, summary="Theirs")
    html = page(client, lead, institution).content.decode()
    assert f'action="/evidence/{mine.pk}/retract/"' in html
    assert f'action="/evidence/{theirs.pk}/retract/"' not in html


def history_of(institution, size: int) -> None:
    """A lineage of two with `size` of each kind of entry, for counting queries."""
    successor = Institution.objects.get(slug="harris")
    intervention = make_intervention(institution, started_on=datetime.date(2010, 1, 1))
    indicator = make_indicator()
    for n in range(size):
        day = datetime.date(2010, 1, 1) + datetime.timedelta(days=30 * n)
        make_inspection(
            institution if n % 2 else successor,
            on=day,
            judgements={"leadership-and-management": "Good"},
        )
        make_milestone(intervention, due_on=day, status="met", achieved_on=day)
        make_evidence(successor, indicator=indicator, value=n, observed_on=day)
        make_evidence(
            institution,
            direction="positive",
            summary="seen",
            intervention=intervention,
            observed_on=day,
        )
        make_assessment(institution, as_of=day, status="improving" if n % 2 else "stalled")


def count_page_queries(client, user, institution) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/institutions/{institution.slug}/")
    assert response.status_code == 200
    return len(queries)


def test_the_page_uses_the_same_number_of_queries_for_1_or_200_entries(
    client, lead, institution, django_assert_num_queries
):
    make_link(institution, make_institution(name="Harris Academy Greenwich", slug="harris"))
    history_of(institution, 1)
    small = count_page_queries(client, lead, institution)

    history_of(institution, 40)  # 40 of each kind, over 200 timeline entries
    client.force_login(lead)
    with django_assert_num_queries(small):
        response = client.get("/institutions/eltham/")
    assert "Entries 1 to 50 of" in response.content.decode()  # more than one page


def test_a_reader_uses_the_same_number_of_queries_however_long_the_history(
    client, officer, institution, django_assert_num_queries
):
    make_link(institution, make_institution(name="Harris Academy Greenwich", slug="harris"))
    history_of(institution, 1)
    small = count_page_queries(client, officer, institution)
    history_of(institution, 40)
    client.force_login(officer)
    with django_assert_num_queries(small):
        client.get("/institutions/eltham/")
