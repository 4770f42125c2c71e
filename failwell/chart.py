"""The institution page's trajectory chart, laid out on the server as plain data.

`trajectory_chart(history, today)` turns a LineageHistory into positions in SVG user
units; failwell/chart_svg.py only draws them, and the "chart data as a table" under
it (failwell/chart_tables.py) reads the very same objects, so the picture and the
tables always agree. No JavaScript and no charting library: the
page must work without scripts, and an SVG with a title, a description and the
data as tables is accessible.

Layout, top to bottom, every panel on one time axis across the lineage:
  status lane        the status history as coloured segments, a mark at each change
  headline panel     the headline band of each inspection as a step line over the four
                     bands; interventions lightly shaded behind it, grace windows hatched
  intervention lane  one bar per intervention, named, its grace window hatched
  milestone lane     a mark per milestone: met, missed, dropped or still open
  observation lane   qualitative evidence: positive, negative or neutral
  indicator panels   one small chart per indicator, with its target if it has one
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from failwell.chart_lanes import (
    BAND_ROW,
    BAR,
    CHAR_WIDTH,
    FONT,
    LABEL_X,
    LANE,
    PLOT_LEFT,
    PLOT_RIGHT,
    WIDTH,
    IndicatorPanel,
    InspectionPoint,
    InterventionSpan,
    MilestoneMark,
    ObservationMark,
    StatusSegment,
    TimeScale,
    indicator_panels,
    inspection_points,
    intervention_spans,
    milestone_marks,
    observation_marks,
    status_segments,
    step_paths,
)
from failwell.dates import DateFormats
from failwell.timeline import LineageHistory
from institutions.models import Band


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class BandRow:
    label: str
    y: float  # top of the row
    middle: float
    shaded: bool


@dataclass(frozen=True)
class LegendItem:
    kind: str  # which swatch failwell/chart_svg.py draws
    label: str
    x: int
    y: int

    @property
    def text_x(self) -> int:
        return self.x + 30


@dataclass
class Chart:
    start: datetime.date
    end: datetime.date
    height: float
    status_top: float
    headline_top: float
    headline_bottom: float
    intervention_top: float
    milestone_middle: float
    observation_middle: float | None
    axis_y: float
    ticks: list[Tick]
    bands: list[BandRow]
    today_x: float | None
    step_path: str  # the headline band from the first graded inspection to the last
    carried_path: str  # the last band carried forward to today, drawn dashed
    inspections: list[InspectionPoint]
    interventions: list[InterventionSpan]
    milestones: list[MilestoneMark]
    observations: list[ObservationMark]
    statuses: list[StatusSegment]
    indicators: list[IndicatorPanel]
    legend: list[LegendItem]
    summary: str = ""
    width: int = WIDTH
    plot_left: int = PLOT_LEFT
    plot_right: int = PLOT_RIGHT
    label_x: int = LABEL_X
    font: str = FONT
    lane: int = LANE
    band_row: int = BAND_ROW

    @property
    def is_empty(self) -> bool:
        return not (
            self.inspections
            or self.interventions
            or self.milestones
            or self.observations
            or self.indicators
        )

    @property
    def plot_width(self) -> int:
        return PLOT_RIGHT - PLOT_LEFT

    @property
    def status_middle(self) -> float:
        return self.status_top + LANE / 2

    @property
    def headline_height(self) -> float:
        return self.headline_bottom - self.headline_top

    @property
    def intervention_label_y(self) -> float:
        return self.intervention_top + BAR / 2

    @property
    def grid_bottom(self) -> float:
        return self.axis_y - 14

    @property
    def today_label_y(self) -> float:
        return self.headline_top - 4

    @property
    def ungraded_y(self) -> float:
        return self.headline_top + 7

    @property
    def bar_height(self) -> int:
        return BAR - 4

    @property
    def last_axis_y(self) -> float | None:
        return self.indicators[-1].axis_label_y if self.indicators else None


def _time_scale(history: LineageHistory, today: datetime.date) -> TimeScale:
    days = history.dates()
    days += [intervention.grace_window_ends_on for intervention in history.interventions]
    if not days:
        return TimeScale(today - datetime.timedelta(days=365), today)
    first, last = min(days), max([*days, today])
    margin = datetime.timedelta(days=max(30, (last - first).days // 40))
    return TimeScale(first - margin, last + margin)


def _ticks(scale: TimeScale) -> list[Tick]:
    """A label at each new year, every 1, 2 or 5 years so that they never crowd."""
    years = scale.end.year - scale.start.year
    step = 1 if years <= 12 else 2 if years <= 24 else 5
    first = scale.start.year + 1
    first += (-first) % step
    return [
        Tick(scale.x(datetime.date(year, 1, 1)), str(year))
        for year in range(first, scale.end.year + 1, step)
    ]


def _legend(top: float, has_interventions: bool, has_observations: bool) -> list[LegendItem]:
    """The legend's items in rows that wrap at the plot's right edge."""
    wanted = [("band", "Headline band at an inspection"), ("carried", "Latest band, no newer one")]
    if has_interventions:
        wanted += [("intervention", "Intervention"), ("grace", "Grace window")]
    wanted += [("met", "Milestone met"), ("missed", "Missed"), ("open", "Open")]
    wanted += [("dropped", "Dropped")]
    if has_observations:
        wanted += [("positive", "Positive observation"), ("negative", "Negative")]
    # Whole numbers, so that the swatches' offsets (x + 11, y - 7) are written as such.
    items, x, y = [], PLOT_LEFT, round(top)
    for kind, label in wanted:
        width = 30 + len(label) * CHAR_WIDTH + 18
        if x + width > PLOT_RIGHT and x > PLOT_LEFT:
            x, y = PLOT_LEFT, y + 22
        items.append(LegendItem(kind, label, x, y))
        x += width
    return items


def trajectory_chart(history: LineageHistory, today: datetime.date) -> Chart:
    """Lay out the chart of this lineage's history, up to today or its last date.

    Works down the page: each lane starts where the one above it ended.
    """
    scale = _time_scale(history, today)
    dates = DateFormats()
    status_top = 8.0
    headline_top = status_top + LANE + 14
    bands = [
        BandRow(band.label, top, top + BAND_ROW / 2, shaded=index % 2 == 0)
        for index, band in enumerate(reversed(list(Band)))  # best band at the top
        for top in [headline_top + index * BAND_ROW]
    ]
    headline_bottom = headline_top + 4 * BAND_ROW
    intervention_top = headline_bottom + 8
    milestone_middle = intervention_top + BAR * len(history.interventions) + 4 + LANE / 2
    observation_middle = milestone_middle + LANE
    observations = observation_marks(history, scale, observation_middle, dates)
    axis_y = (observation_middle if observations else milestone_middle) + LANE / 2 + 18

    band_middle = {row.label: row.middle for row in bands}
    inspections = inspection_points(history, scale, band_middle, dates)
    step_path, carried_path = step_paths(inspections, scale, today)
    interventions = intervention_spans(history, scale, intervention_top, today, dates)
    indicators = indicator_panels(history, scale, axis_y + 10, dates)
    # Under the last indicator panel its years, then the legend.
    bottom = indicators[-1].axis_label_y + 8 if indicators else axis_y + 10
    legend = _legend(bottom + 16, bool(interventions), bool(observations))

    chart = Chart(
        start=scale.start,
        end=scale.end,
        height=legend[-1].y + 20,
        status_top=status_top,
        headline_top=headline_top,
        headline_bottom=headline_bottom,
        intervention_top=intervention_top,
        milestone_middle=milestone_middle,
        observation_middle=observation_middle if observations else None,
        axis_y=axis_y,
        ticks=_ticks(scale),
        bands=bands,
        today_x=scale.x(today) if scale.start <= today <= scale.end else None,
        step_path=step_path,
        carried_path=carried_path,
        inspections=inspections,
        interventions=interventions,
        milestones=milestone_marks(history, scale, milestone_middle, dates),
        observations=observations,
        statuses=status_segments(history, scale, dates),
        indicators=indicators,
        legend=legend,
    )
    chart.summary = describe(chart, history, dates)
    return chart


def describe(chart: Chart, history: LineageHistory, dates: DateFormats) -> str:
    """The chart in a few sentences, for its <desc>: what a sighted reader takes in first."""
    if chart.is_empty:
        return "Nothing to chart yet: no inspections, interventions, milestones or evidence."
    members = len(history.members)
    where = "one institution" if members == 1 else f"the {members} institutions of the lineage"
    sentences = [f"From {dates.short(chart.start)} to {dates.short(chart.end)}, for {where}."]
    graded = [point for point in chart.inspections if point.y is not None]
    if graded:
        path = ", then ".join(f"{p.band.lower()} ({p.on.year})" for p in graded[-6:])
        sentences.append(f"Headline band: {path}.")
    if chart.interventions:
        names = "; ".join(
            f"{span.label} from {span.started_on.year}, grace window to {span.grace_ends_text}"
            for span in chart.interventions
        )
        sentences.append(f"Interventions: {names}.")
    if chart.milestones:
        met = sum(1 for mark in chart.milestones if mark.shape == "met")
        missed = sum(1 for mark in chart.milestones if mark.shape == "missed")
        sentences.append(f"Milestones: {len(chart.milestones)}, {met} met, {missed} missed.")
    if chart.statuses:
        latest = chart.statuses[-1]
        sentences.append(f"Status since {latest.on_text}: {latest.label.lower()}.")
    for panel in chart.indicators:
        first, last = panel.points[0], panel.points[-1]
        sentences.append(
            f"{panel.name}: {first.value} on {first.on_text}, {last.value} on {last.on_text}."
        )
    sentences.append("The same data is in the tables under the chart.")
    return " ".join(sentences)
