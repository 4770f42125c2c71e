"""The trajectory chart's data as tables, under the chart for anyone who cannot see it.

They read the same failwell.chart.Chart objects that failwell/chart_svg.py draws,
so the picture and the tables cannot disagree. Written in Python for the same
reason as the picture: a long history is hundreds of rows. Every text is escaped
with html.escape (what django.utils.html.escape does).
"""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString

from failwell.chart import Chart
from failwell.chart_lanes import IndicatorPanel


def tables(chart: Chart, institution_name: str, lineage_size: int) -> SafeString:
    """A table per lane that has marks, then one per indicator, then a note on what
    is left out. `lineage_size`: with more than one member, each inspection says where."""
    parts = []
    if chart.statuses:
        parts.append(
            _table(
                "Status history",
                ["From", "Status"],
                ([segment.on_text, segment.label] for segment in chart.statuses),
            )
        )
    if chart.inspections:
        rows = []
        for point in chart.inspections:
            inspection = escape(f"{point.inspectorate}: {point.grade}")
            if point.concern:
                inspection += f" ({escape(point.concern.lower())})"
            if lineage_size > 1:
                where = escape(point.member or institution_name)
                inspection += f'<br><span class="govuk-body-s">{where}</span>'
            rows.append([point.on_text, SafeString(inspection), point.band])
        parts.append(
            _table(
                "Headline band at each inspection",
                ["Date", "Inspection", "Headline band"],
                rows,
            )
        )
    if chart.interventions:
        rows = [
            [
                SafeString(
                    f'<a class="govuk-link" href="{escape(span.url)}">{escape(span.label)}</a>'
                    f'<br><span class="govuk-body-s">{escape(span.state)}</span>'
                ),
                span.started_text,
                span.grace_ends_text,
            ]
            for span in chart.interventions
        ]
        parts.append(
            _table(
                "Interventions and grace windows",
                ["Intervention", "Started", "Grace window until"],
                rows,
            )
        )
    if chart.milestones:
        parts.append(
            _table(
                "Milestones",
                ["Milestone", "Due", "Status"],
                (
                    [f"{mark.title} ({mark.member})" if mark.member else mark.title]
                    + [mark.due_text, mark.state]
                    for mark in chart.milestones
                ),
            )
        )
    if chart.observations:
        parts.append(
            _table(
                "Observations",
                ["Date", "Direction", "Summary"],
                ([mark.on_text, mark.label, mark.summary_cell] for mark in chart.observations),
            )
        )
    for panel in chart.indicators:
        caption = panel.caption
        if panel.target_label:
            caption += f"; {panel.target_label.lower()}"
        parts.append(
            f"{_table_start(caption)}"
            '<thead class="govuk-table__head"><tr class="govuk-table__row">'
            '<th scope="col" class="govuk-table__header">Date</th>'
            '<th scope="col" class="govuk-table__header govuk-table__header--numeric">Value</th>'
            "</tr></thead>"
            f'<tbody class="govuk-table__body">{_indicator_rows(panel)}</tbody></table>'
        )
    parts.append(
        '<p class="govuk-body-s">Retracted evidence is left out of the chart and these tables;'
        " the timeline shows it, struck through.</p>"
    )
    return SafeString("\n".join(parts))


def _indicator_rows(panel: IndicatorPanel) -> str:
    """A row per value of an indicator: the date (and lineage member), the value."""
    return "".join(
        '<tr class="govuk-table__row">'
        f'<td class="govuk-table__cell">{escape(point.date_cell)}</td>'
        '<td class="govuk-table__cell govuk-table__cell--numeric">'
        f"{escape(point.value)}</td></tr>"
        for point in panel.points
    )


def _cell(cell: str) -> str:
    return cell if isinstance(cell, SafeString) else escape(cell)


def _table_start(caption: str) -> str:
    return (
        '<table class="govuk-table govuk-table--small-text-until-tablet">'
        '<caption class="govuk-table__caption govuk-table__caption--s">'
        f"{escape(caption)}</caption>"
    )


def _table(caption: str, headers: list[str], rows) -> str:
    """A GOV.UK table; each cell is text, or markup already when a SafeString."""
    head = "".join(f'<th scope="col" class="govuk-table__header">{escape(h)}</th>' for h in headers)
    body = "".join(
        '<tr class="govuk-table__row">'
        + "".join(f'<td class="govuk-table__cell">{_cell(cell)}</td>' for cell in row)
        + "</tr>"
        for row in rows
    )
    return (
        f"{_table_start(caption)}"
        f'<thead class="govuk-table__head"><tr class="govuk-table__row">{head}</tr></thead>'
        f'<tbody class="govuk-table__body">{body}</tbody></table>'
    )
