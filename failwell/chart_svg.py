"""The trajectory chart drawn as SVG markup, from the positions failwell.chart laid out.

Written in Python rather than a template: the chart is a hundred-odd marks, each
with its own positions and tooltip, and as template variables they cost the
institution page more Python time than all of its SQL takes. Every text is escaped
with html.escape (what django.utils.html.escape does, without its lazy-string check
per call); numbers are written as str() writes them, as the template did with
localisation off.

Presentation attributes, not style attributes, so a Content-Security-Policy
without 'unsafe-inline' allows it. role="img" with a title and a description; the
same data is in the tables under it (failwell/chart_tables.py), for
anyone who cannot see the picture.
"""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString

from failwell.chart import Chart
from failwell.chart_lanes import IndicatorPanel

# The hatching of grace windows, used by the headline panel, the bars and the legend.
DEFS = (
    "<defs>"
    '<pattern id="grace-hatch" width="8" height="8" patternUnits="userSpaceOnUse"'
    ' patternTransform="rotate(45)">'
    '<rect width="8" height="8" fill="#1d70b8" fill-opacity="0.10"/>'
    '<line x1="0" y1="0" x2="0" y2="8" stroke="#1d70b8" stroke-width="3" stroke-opacity="0.45"/>'
    "</pattern>"
    "</defs>"
)

OBSERVATION_FILLS = {"positive": "#0f7a52", "negative": "#ca3535"}


def draw(chart: Chart, institution_name: str) -> SafeString:
    """The whole <svg> element, lanes top to bottom as failwell/chart.py describes them."""
    title = f"Trajectory of {institution_name}"
    if chart.inspections or chart.interventions:
        title += f", {chart.start.year} to {chart.end.year}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="failwell-chart" width="{chart.width}"'
        f' height="{chart.height}" viewBox="0 0 {chart.width} {chart.height}" role="img"'
        ' aria-labelledby="chart-title chart-desc"'
        f' font-family="{escape(chart.font)}" font-size="13" fill="#0b0c0c">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(chart.summary)}</desc>',
        DEFS,
        *_status_lane(chart),
        *_lane_labels(chart),
        *_interventions(chart),
        *_time_axis(chart),
        *_headline(chart),
        *_milestones(chart),
        *_observations(chart),
        *_indicators(chart),
        *_legend(chart),
        "</svg>",
    ]
    return SafeString("\n".join(parts))


def _label(chart: Chart, y: float, text: str, bold: bool = True) -> str:
    """A label in the margin left of the plot, its right end at label_x."""
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{chart.label_x}" y="{y}" text-anchor="end" dominant-baseline="middle"{weight}>'
        f"{escape(text)}</text>"
    )


def _status_lane(chart: Chart) -> list[str]:
    top, lane, middle = chart.status_top, chart.lane, chart.status_middle
    parts = [
        _label(chart, middle, "Status"),
        f'<rect x="{chart.plot_left}" y="{top}" width="{chart.plot_width}" height="{lane}"'
        ' fill="#f3f2f1"/>',
    ]
    for segment in chart.statuses:
        label = ""
        if segment.show_label:
            label = (
                f'<text x="{segment.label_x}" y="{middle}" dominant-baseline="middle"'
                f' font-size="12" fill="{segment.text_colour}">{escape(segment.label)}</text>'
            )
        parts.append(
            f"<g><title>{escape(segment.tooltip)}</title>"
            f'<rect x="{segment.x}" y="{top}" width="{segment.width}" height="{lane}"'
            f' fill="{segment.fill}" stroke="#ffffff" stroke-width="1"/>'
            f'<path d="M{segment.x},{top} v{lane}" stroke="{segment.text_colour}"'
            f' stroke-width="2"/>{label}</g>'
        )
    if not chart.statuses:
        parts.append(
            f'<text x="{chart.plot_left}" y="{middle}" dominant-baseline="middle" font-size="12"'
            ' fill="#484949">No status history yet</text>'
        )
    return parts


def _lane_labels(chart: Chart) -> list[str]:
    """The headline band rows (best at the top), and the names of the lanes under them."""
    parts = []
    for row in chart.bands:
        if row.shaded:
            parts.append(
                f'<rect x="{chart.plot_left}" y="{row.y}" width="{chart.plot_width}"'
                f' height="{chart.band_row}" fill="#f3f2f1"/>'
            )
        parts.append(_label(chart, row.middle, row.label, bold=False))
    parts.append(_label(chart, chart.milestone_middle, "Milestones"))
    if chart.observation_middle:
        parts.append(_label(chart, chart.observation_middle, "Observations"))
    return parts


def _interventions(chart: Chart) -> list[str]:
    """Each intervention lightly shaded behind the headline band, its grace window
    hatched; then one named bar each in the intervention lane."""
    top, height = chart.headline_top, chart.headline_height
    parts = []
    for span in chart.interventions:
        parts.append(
            f'<rect x="{span.x}" y="{top}" width="{span.width}" height="{height}"'
            ' fill="#1d70b8" fill-opacity="0.07"/>'
            f'<rect x="{span.x}" y="{top}" width="{span.grace_width}" height="{height}"'
            ' fill="url(#grace-hatch)" fill-opacity="0.6"/>'
        )
    if chart.interventions:
        parts.append(_label(chart, chart.intervention_label_y, "Interventions"))
    bar = chart.bar_height
    for span in chart.interventions:
        parts.append(
            f"<g><title>{escape(span.tooltip)}</title>"
            f'<rect x="{span.x}" y="{span.bar_y}" width="{span.width}" height="{bar}"'
            ' fill="#d2e2f1" stroke="#1d70b8" stroke-width="1"/>'
            f'<rect x="{span.x}" y="{span.bar_y}" width="{span.grace_width}" height="{bar}"'
            ' fill="url(#grace-hatch)"/>'
            f'<text x="{span.label_x}" y="{span.label_y}" text-anchor="{span.label_anchor}"'
            ' dominant-baseline="middle" font-size="12" font-weight="bold" fill="#0f385c"'
            ' stroke="#ffffff" stroke-width="3" paint-order="stroke">'
            f"{escape(span.label)}</text></g>"
        )
    return parts


def _time_axis(chart: Chart) -> list[str]:
    """A line at each year's tick through every lane, and today's line."""
    parts = [
        f'<path d="M{tick.x},{chart.headline_top} V{chart.grid_bottom}" stroke="#b1b4b6"'
        ' stroke-width="1" stroke-dasharray="2 3"/>'
        f'<text x="{tick.x}" y="{chart.axis_y}" text-anchor="middle" font-size="12"'
        f' fill="#484949">{escape(tick.label)}</text>'
        for tick in chart.ticks
    ]
    if chart.today_x:
        parts.append(
            f'<path d="M{chart.today_x},{chart.status_top} V{chart.grid_bottom}" stroke="#0b0c0c"'
            ' stroke-width="1.5" stroke-dasharray="5 3"/>'
            f'<text x="{chart.today_x}" y="{chart.today_label_y}" text-anchor="end"'
            ' font-size="11" fill="#0b0c0c">Today&#160;</text>'
        )
    return parts


def _headline(chart: Chart) -> list[str]:
    """The headline band as a step line, a marker at each inspection (a small dashed
    ring at the top for an inspection that gave no grade)."""
    parts = []
    if chart.step_path:
        parts.append(
            f'<path d="{chart.step_path}" fill="none" stroke="#0b0c0c" stroke-width="3"'
            ' stroke-linejoin="round"/>'
            f'<path d="{chart.carried_path}" fill="none" stroke="#0b0c0c" stroke-width="2"'
            ' stroke-dasharray="6 5"/>'
        )
    for point in chart.inspections:
        tooltip = f"<title>{escape(point.tooltip)}</title>"
        if point.y:
            parts.append(
                f'<circle cx="{point.x}" cy="{point.y}" r="6" fill="#ffffff" stroke="#0b0c0c"'
                f' stroke-width="2.5">{tooltip}</circle>'
            )
        else:
            parts.append(
                f'<circle cx="{point.x}" cy="{chart.ungraded_y}" r="4" fill="#ffffff"'
                f' stroke="#484949" stroke-width="1.5" stroke-dasharray="2 1">{tooltip}</circle>'
            )
    return parts


def _milestones(chart: Chart) -> list[str]:
    """Met a filled circle, missed a cross, dropped a square, open a ring."""
    middle = chart.milestone_middle
    parts = []
    for mark in chart.milestones:
        if mark.shape == "met":
            shape = (
                f'<circle cx="{mark.x}" cy="{middle}" r="6" fill="#0f7a52" stroke="#ffffff"'
                ' stroke-width="1"/>'
            )
        elif mark.shape == "missed":
            shape = (
                f'<path d="{mark.path}" stroke="#ca3535" stroke-width="3" stroke-linecap="round"/>'
            )
        elif mark.shape == "dropped":
            shape = f'<path d="{mark.path}" fill="#ffffff" stroke="#484949" stroke-width="2"/>'
        else:
            shape = (
                f'<circle cx="{mark.x}" cy="{middle}" r="5" fill="#ffffff" stroke="#0b0c0c"'
                ' stroke-width="2"/>'
            )
        parts.append(f"<g><title>{escape(mark.tooltip)}</title>{shape}</g>")
    return parts


def _observations(chart: Chart) -> list[str]:
    """Positive points up, negative down, neutral a diamond."""
    if not chart.observation_middle:
        return []
    return [
        f"<g><title>{escape(mark.tooltip)}</title>"
        f'<path d="{mark.path}" fill="{OBSERVATION_FILLS.get(mark.direction, "#484949")}"/></g>'
        for mark in chart.observations
    ]


def _indicators(chart: Chart) -> list[str]:
    """One small panel per indicator on the same time axis, then the axis's years."""
    left, right = chart.plot_left, chart.plot_right
    parts = []
    for panel in chart.indicators:
        ticks = "".join(
            f'<path d="M{tick.x},{panel.top} V{panel.bottom}" stroke="#b1b4b6" stroke-width="1"'
            ' stroke-dasharray="2 3"/>'
            for tick in chart.ticks
        )
        target = ""
        if panel.target_y:
            target = (
                f'<path d="M{left},{panel.target_y} H{right}" stroke="#0f7a52" stroke-width="1.5"'
                ' stroke-dasharray="6 4"/>'
                f'<text x="{right}" y="{panel.target_label_y}" text-anchor="end" font-size="12"'
                f' fill="#0f7a52">{escape(panel.target_label)}</text>'
            )
        parts.append(
            "<g>"
            f'<text x="{left}" y="{panel.caption_y}" font-weight="bold">'
            f"{escape(panel.caption)}</text>"
            f'<path d="M{left},{panel.top} H{right} M{left},{panel.bottom} H{right}"'
            ' stroke="#b1b4b6" stroke-width="1"/>'
            f'<text x="{chart.label_x}" y="{panel.top}" text-anchor="end"'
            f' dominant-baseline="middle" font-size="12">{escape(panel.max_label)}</text>'
            f'<text x="{chart.label_x}" y="{panel.bottom}" text-anchor="end"'
            f' dominant-baseline="middle" font-size="12">{escape(panel.min_label)}</text>'
            f"{ticks}{target}"
            f'<path d="{panel.path}" fill="none" stroke="#1d70b8" stroke-width="2"/>'
            f"{_points(panel)}"
            "</g>"
        )
    if chart.indicators:
        parts.extend(
            f'<text x="{tick.x}" y="{chart.last_axis_y}" text-anchor="middle" font-size="12"'
            f' fill="#484949">{escape(tick.label)}</text>'
            for tick in chart.ticks
        )
    return parts


def _points(panel: IndicatorPanel) -> str:
    """A dot per value of an indicator, its date, value and lineage member as its tooltip."""
    return "".join(
        f'<circle cx="{point.x}" cy="{point.y}" r="3.5" fill="#1d70b8">'
        f"<title>{escape(point.tooltip)}</title></circle>"
        for point in panel.points
    )


def _swatch(kind: str, x: int, y: int) -> str:
    """The legend's picture of one kind of mark, drawn as the chart draws it."""
    if kind == "band":
        return (
            f'<path d="M{x},{y} h22" stroke="#0b0c0c" stroke-width="3"/>'
            f'<circle cx="{x + 11}" cy="{y}" r="5" fill="#ffffff" stroke="#0b0c0c"'
            ' stroke-width="2.5"/>'
        )
    if kind == "carried":
        return f'<path d="M{x},{y} h22" stroke="#0b0c0c" stroke-width="2" stroke-dasharray="6 5"/>'
    if kind == "intervention":
        return f'<rect x="{x}" y="{y - 7}" width="22" height="14" fill="#d2e2f1" stroke="#1d70b8"/>'
    if kind == "grace":
        return (
            f'<rect x="{x}" y="{y - 7}" width="22" height="14" fill="url(#grace-hatch)"'
            ' stroke="#1d70b8"/>'
        )
    if kind == "met":
        return f'<circle cx="{x + 11}" cy="{y}" r="6" fill="#0f7a52"/>'
    if kind == "missed":
        return (
            f'<path d="M{x + 6},{y - 5} l10,10 m0,-10 l-10,10" stroke="#ca3535" stroke-width="3"'
            ' stroke-linecap="round"/>'
        )
    if kind == "open":
        return (
            f'<circle cx="{x + 11}" cy="{y}" r="5" fill="#ffffff" stroke="#0b0c0c"'
            ' stroke-width="2"/>'
        )
    if kind == "dropped":
        return (
            f'<rect x="{x + 6}" y="{y - 5}" width="10" height="10" fill="#ffffff" stroke="#484949"'
            ' stroke-width="2"/>'
        )
    if kind == "positive":
        return f'<path d="M{x + 11},{y - 7} l7,12 h-14 z" fill="#0f7a52"/>'
    if kind == "negative":
        return f'<path d="M{x + 11},{y + 7} l7,-12 h-14 z" fill="#ca3535"/>'
    return ""


def _legend(chart: Chart) -> list[str]:
    return [
        '<g font-size="12">',
        *(
            f"{_swatch(item.kind, item.x, item.y)}"
            f'<text x="{item.text_x}" y="{item.y}" dominant-baseline="middle">'
            f"{escape(item.label)}</text>"
            for item in chart.legend
        ),
        "</g>",
    ]
