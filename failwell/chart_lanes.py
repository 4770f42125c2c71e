"""The lanes of the trajectory chart (see failwell/chart.py): for each kind of mark,
what it shows and where it goes, in SVG user units on a shared time scale.

Each builder takes the LineageHistory and returns NamedTuples that
failwell/chart_svg.py draws and failwell/chart_tables.py lists. Their words (dates,
the tooltip of each mark) are written here, once each, the dates by one DateFormats
for the chart: a long history has hundreds of marks. (For as many, frozen dataclasses
took four times as long to make, and a date's language read per date as long again.)
"""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from django.utils.text import Truncator

from failwell.dates import DateFormats
from failwell.timeline import EvidenceRow, LineageHistory
from institutions.models import TrajectoryStatus
from interventions.models import Direction, MilestoneStatus
from interventions.wording import format_quantity

WIDTH = 960
PLOT_LEFT = 150
PLOT_RIGHT = WIDTH - 24
LABEL_X = PLOT_LEFT - 10
BAND_ROW = 34
LANE = 24
BAR = 20  # one intervention's row in the intervention lane
INDICATOR_HEIGHT = 80
CHAR_WIDTH = 7  # a 12-13px system font's average character, to fit labels
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

# Text and fill of each status: the colours of its GOV.UK tag on the same page.
STATUS_COLOURS = {
    TrajectoryStatus.UNKNOWN: ("#0b0c0c", "#cecece"),
    TrajectoryStatus.FAILING: ("#651b1b", "#f4d7d7"),
    TrajectoryStatus.EARLY_RECOVERY: ("#0f385c", "#d2e2f1"),
    TrajectoryStatus.DETERIORATING: ("#7a3c1c", "#fde4d7"),
    TrajectoryStatus.IMPROVING: ("#0b4144", "#d0e6e7"),
    TrajectoryStatus.STALLED: ("#7a3c1c", "#ffee80"),
    TrajectoryStatus.RELAPSING: ("#651b1b", "#f4d7d7"),
    TrajectoryStatus.SUSTAINED: ("#083d29", "#cfe4dc"),
    TrajectoryStatus.RECOVERED: ("#083d29", "#cfe4dc"),
    TrajectoryStatus.NOT_FAILING: ("#0b0c0c", "#cecece"),
}


class TimeScale:
    """Days from start to end across the plot, as x positions."""

    __slots__ = ("start", "end", "_days")

    def __init__(self, start: datetime.date, end: datetime.date):
        self.start = start
        self.end = end
        self._days = max((end - start).days, 1)

    def x(self, day: datetime.date) -> float:
        fraction = min(max((day - self.start).days / self._days, 0.0), 1.0)
        return round(PLOT_LEFT + fraction * (PLOT_RIGHT - PLOT_LEFT), 1)


def member_names(history: LineageHistory) -> dict[int, str]:
    """The name of each member of the lineage by id, empty for the page's institution:
    a mark names the member it is from when that is another."""
    own = history.institution.pk
    return {pk: "" if pk == own else member.name for pk, member in history.members.items()}


def text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def at_member(text: str, member: str) -> str:
    """A mark's words, naming the lineage member when it is not the page's institution."""
    return f"{text} ({member})" if member else text


# Status lane ---------------------------------------------------------------


class StatusSegment(NamedTuple):
    x: float
    width: float
    status: str
    label: str
    text_colour: str
    fill: str
    show_label: bool
    on: datetime.date
    on_text: str

    @property
    def label_x(self) -> float:
        return self.x + 5

    @property
    def tooltip(self) -> str:
        return f"{self.label} from {self.on_text}"


def status_segments(
    history: LineageHistory, scale: TimeScale, dates: DateFormats
) -> list[StatusSegment]:
    """One segment per status, from the day it began to the next change (or the end)."""
    changes = history.status_changes
    segments = []
    for index, assessment in enumerate(changes):
        x = scale.x(assessment.as_of)
        next_x = scale.x(changes[index + 1].as_of) if index + 1 < len(changes) else PLOT_RIGHT
        label = TrajectoryStatus(assessment.status).label
        text_colour, fill = STATUS_COLOURS[assessment.status]
        segments.append(
            StatusSegment(
                x=x,
                width=max(next_x - x, 2),
                status=assessment.status,
                label=label,
                text_colour=text_colour,
                fill=fill,
                show_label=next_x - x >= text_width(label) + 10,
                on=assessment.as_of,
                on_text=dates.short(assessment.as_of),
            )
        )
    return segments


# Headline panel ------------------------------------------------------------


class InspectionPoint(NamedTuple):
    x: float
    y: float | None  # None when the inspection gave no grade
    on: datetime.date
    on_text: str
    member: str  # the lineage member, when not the page's institution
    inspectorate: str
    grade: str
    band: str  # the band in words, or "Not graded"
    concern: str

    @property
    def description(self) -> str:
        text = f"{self.on_text}: {self.inspectorate}, {self.grade} ({self.band.lower()})"
        return f"{text}, {self.concern.lower()}" if self.concern else text

    @property
    def tooltip(self) -> str:
        return at_member(self.description, self.member)


def inspection_points(
    history: LineageHistory, scale: TimeScale, band_middle: dict[str, float], dates: DateFormats
) -> list[InspectionPoint]:
    members = member_names(history)
    points = []
    for inspection in history.inspections:
        band = inspection.headline_band
        points.append(
            InspectionPoint(
                x=scale.x(inspection.inspected_on),
                y=band_middle[band.label] if band else None,
                on=inspection.inspected_on,
                on_text=dates.short(inspection.inspected_on),
                member=members[inspection.institution_id],
                inspectorate=inspection.inspectorate,
                grade=inspection.headline_label,
                band=band.label if band else "Not graded",
                concern=inspection.category_of_concern_label,
            )
        )
    return points


def step_paths(
    points: list[InspectionPoint], scale: TimeScale, today: datetime.date
) -> tuple[str, str]:
    """The headline band as a step line through the graded inspections, and the last
    band carried forward to today (drawn dashed: no inspection has confirmed it since)."""
    graded = [point for point in points if point.y is not None]
    if not graded:
        return "", ""
    steps = " ".join(f"H{point.x} V{point.y}" for point in graded[1:])
    last = graded[-1]
    return (
        f"M{graded[0].x},{graded[0].y} {steps}".strip(),
        f"M{last.x},{last.y} H{scale.x(max(today, last.on))}",
    )


# Intervention lane ---------------------------------------------------------


class InterventionSpan(NamedTuple):
    x: float
    width: float
    grace_width: float
    bar_y: float  # top of its bar in the intervention lane
    label: str
    label_x: float
    label_anchor: str  # "start", or "end" when the bar is too near the right edge
    started_on: datetime.date
    started_text: str
    ended_text: str  # empty while it is ongoing
    grace_ends_text: str
    outcome: str
    member: str
    url: str

    @property
    def label_y(self) -> float:
        return self.bar_y + BAR / 2

    @property
    def state(self) -> str:
        """Ongoing, or when it ended and how, for the table."""
        if self.ended_text:
            return f"Ended {self.ended_text}, {self.outcome.lower()}"
        return "Ongoing"

    @property
    def tooltip(self) -> str:
        if self.ended_text:
            period = f"from {self.started_text} to {self.ended_text} ({self.outcome.lower()})"
        else:
            period = f"from {self.started_text}, ongoing"
        return f"{self.label}: {period}; grace window to {self.grace_ends_text}"


def intervention_spans(
    history: LineageHistory,
    scale: TimeScale,
    top: float,
    today: datetime.date,
    dates: DateFormats,
) -> list[InterventionSpan]:
    """One bar per intervention, one under the other, named at its start."""
    members = member_names(history)
    spans = []
    for index, intervention in enumerate(history.interventions):
        x = scale.x(intervention.started_on)
        end_x = scale.x(intervention.ended_on or max(today, intervention.started_on))
        label = intervention.type.name
        member = members[intervention.institution_id]
        if member:
            label = f"{label} ({member})"
        fits_right = x + 4 + text_width(label) <= PLOT_RIGHT
        spans.append(
            InterventionSpan(
                x=x,
                width=max(end_x - x, 2),
                grace_width=max(scale.x(intervention.grace_window_ends_on) - x, 2),
                bar_y=top + index * BAR,
                label=label,
                label_x=x + 4 if fits_right else PLOT_RIGHT - 4,
                label_anchor="start" if fits_right else "end",
                started_on=intervention.started_on,
                started_text=dates.short(intervention.started_on),
                ended_text=dates.short(intervention.ended_on) if intervention.ended_on else "",
                grace_ends_text=dates.short(intervention.grace_window_ends_on),
                outcome=intervention.get_outcome_display(),
                member=member,
                url=intervention.get_absolute_url(),
            )
        )
    return spans


# Milestone and observation lanes -------------------------------------------


class MilestoneMark(NamedTuple):
    x: float
    shape: str  # "met", "missed", "dropped" or "open"
    path: str  # the outline of a cross (missed) or a square (dropped)
    title: str
    due_text: str
    status: str
    achieved_text: str  # empty unless it was met
    member: str

    @property
    def state(self) -> str:
        """Its status, and the day it was met if it was, for the table."""
        if self.achieved_text:
            return f"{self.status}, {self.achieved_text}"
        return self.status

    @property
    def description(self) -> str:
        when = f"met {self.achieved_text}" if self.achieved_text else self.status.lower()
        return f"Milestone “{self.title}”, due {self.due_text}: {when}"

    @property
    def tooltip(self) -> str:
        return at_member(self.description, self.member)


def _milestone_path(shape: str, x: float, middle: float) -> str:
    if shape == "missed":
        return f"M{x - 5},{middle - 5} l10,10 m0,-10 l-10,10"
    return f"M{x - 5},{middle - 5} h10 v10 h-10 z"


def milestone_marks(
    history: LineageHistory, scale: TimeScale, middle: float, dates: DateFormats
) -> list[MilestoneMark]:
    """A mark per milestone: on the day it was met, otherwise on its due date."""
    members = member_names(history)
    marks = []
    for milestone in history.milestones:
        met = milestone.status == MilestoneStatus.MET and milestone.achieved_on
        shape = {
            MilestoneStatus.MET: "met",
            MilestoneStatus.MISSED: "missed",
            MilestoneStatus.DROPPED: "dropped",
        }.get(milestone.status, "open")
        x = scale.x(milestone.achieved_on if met else milestone.due_on)
        marks.append(
            MilestoneMark(
                x=x,
                shape=shape,
                path=_milestone_path(shape, x, middle),
                title=milestone.title,
                due_text=dates.short(milestone.due_on),
                status=milestone.get_status_display(),
                achieved_text=dates.short(milestone.achieved_on) if milestone.achieved_on else "",
                member=members[milestone.intervention.institution_id],
            )
        )
    return marks


class ObservationMark(NamedTuple):
    x: float
    direction: str
    path: str  # a triangle up (positive) or down (negative), or a diamond (neutral)
    label: str
    on_text: str
    summary: str
    member: str

    @property
    def tooltip(self) -> str:
        # Cut as the truncatechars filter would: a tooltip is a glance, the table has more.
        summary = glance(self.summary, 120)
        return at_member(f"{self.label} observation, {self.on_text}: {summary}", self.member)

    @property
    def summary_cell(self) -> str:
        return at_member(Truncator(self.summary).words(30, truncate=" …"), self.member)


def glance(text: str, length: int) -> str:
    """Truncator(text).chars(length) without its walk over every character of a text
    it leaves whole (20 µs an observation, 0.3 ms for the longest page's sixteen):
    a text of no more characters than that at all comes back NFC-normalised, uncut."""
    text = unicodedata.normalize("NFC", text)
    return text if len(text) <= length else Truncator(text).chars(length)


def _observation_path(direction: str, x: float, middle: float) -> str:
    if direction == Direction.POSITIVE:
        return f"M{x},{middle - 7} l7,12 h-14 z"
    if direction == Direction.NEGATIVE:
        return f"M{x},{middle + 7} l7,-12 h-14 z"
    return f"M{x},{middle - 6} l6,6 l-6,6 l-6,-6 z"


def observation_marks(
    history: LineageHistory, scale: TimeScale, middle: float, dates: DateFormats
) -> list[ObservationMark]:
    """Qualitative evidence that still counts (retracted evidence is left out)."""
    members = member_names(history)
    marks = []
    for item in history.evidence:
        if not item.direction or item.is_retracted:
            continue
        x = scale.x(item.observed_on)
        marks.append(
            ObservationMark(
                x=x,
                direction=item.direction,
                path=_observation_path(item.direction, x, middle),
                label=Direction(item.direction).label,
                on_text=dates.short(item.observed_on),
                summary=item.summary,
                member=members[item.institution_id],
            )
        )
    return marks


# Indicator panels ------------------------------------------------------------


class IndicatorPoint(NamedTuple):
    x: float
    y: float
    on: datetime.date
    on_text: str  # written once: the tooltip and the table both show it
    value: str
    member: str

    @property
    def tooltip(self) -> str:
        return at_member(f"{self.on_text}: {self.value}", self.member)

    @property
    def date_cell(self) -> str:
        return at_member(self.on_text, self.member)


@dataclass
class IndicatorPanel:
    name: str
    caption: str
    top: float
    bottom: float
    points: list[IndicatorPoint]
    max_label: str
    min_label: str
    target_y: float | None = None
    target_label: str = ""

    @property
    def path(self) -> str:
        return " ".join(f"{'L' if i else 'M'}{p.x},{p.y}" for i, p in enumerate(self.points))

    @property
    def caption_y(self) -> float:
        return self.top - 8

    @property
    def axis_label_y(self) -> float:
        return self.bottom + 18

    @property
    def target_label_y(self) -> float:
        return (self.target_y or 0) - 4


def indicator_panels(
    history: LineageHistory, scale: TimeScale, top: float, dates: DateFormats
) -> list[IndicatorPanel]:
    """One panel per indicator with current values, alphabetically, from `top` down."""
    by_indicator: dict[int, list[EvidenceRow]] = {}
    for item in history.evidence:
        if item.indicator_id is not None and not item.is_retracted:
            by_indicator.setdefault(item.indicator_id, []).append(item)
    # Each day's position and words once: indicators are logged on the same days.
    days = {row.observed_on for rows in by_indicator.values() for row in rows}
    on_texts = {day: dates.short(day) for day in days}
    xs = {day: scale.x(day) for day in days}
    members = member_names(history)
    panels = []
    for rows in sorted(by_indicator.values(), key=lambda rows: rows[0].indicator_name):
        top += 30  # room for the caption
        panels.append(_indicator_panel(rows, top, xs, on_texts, members))
        top += INDICATOR_HEIGHT + 4
    return panels


def _indicator_panel(
    rows: list[EvidenceRow],
    top: float,
    xs: dict[datetime.date, float],
    on_texts: dict[datetime.date, str],
    members: dict[int, str],
) -> IndicatorPanel:
    """One indicator's values as a line, scaled to its own range (and its target)."""
    first = rows[0]
    name, unit, target = first.indicator_name, first.indicator_unit, first.indicator_target
    values = [row.value for row in rows]
    if target is not None:
        values.append(target)
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.1

    def value_y(value: float) -> float:
        return round(top + (high + pad - value) / (high - low + 2 * pad) * INDICATOR_HEIGHT, 1)

    # Each value's height and words once: an indicator's values repeat (a long
    # history's 116 attendance figures are 42 values).
    ys = {value: value_y(value) for value in values}
    texts = {value: format_quantity(value, unit) for value in ys}
    better = "higher is better" if first.higher_is_better else "lower is better"
    unit_words = f" ({unit})" if unit else ""
    panel = IndicatorPanel(
        name=name,
        caption=f"{name}{unit_words}, {better}",
        top=top,
        bottom=top + INDICATOR_HEIGHT,
        points=[
            IndicatorPoint(
                x=xs[row.observed_on],
                y=ys[row.value],
                on=row.observed_on,
                on_text=on_texts[row.observed_on],
                value=texts[row.value],
                member=members[row.institution_id],
            )
            for row in rows
        ],
        max_label=format_quantity(high, unit),
        min_label=format_quantity(low, unit),
    )
    if target is not None:
        panel.target_y = value_y(target)
        panel.target_label = f"Target {format_quantity(target, unit)}"
    return panel
