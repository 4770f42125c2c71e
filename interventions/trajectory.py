"""The recovery-trajectory method, version 1: DESIGN.md "Trajectory method, version 1".

A pure function of one institution's history (across its lineage) and an as-of
date: no database, no Django. The recompute pipeline builds a `History`, calls
`assess` (or `replay` for the status history) and stores the `Assessment`.
Failure episodes are found in interventions/episodes.py, the evidence signal in
interventions/evidence_signal.py, its statistics in interventions/signals.py; each
of those documents its own choices. The choices made here:

- Only facts dated on or before as_of count: inspections, intervention starts and
  ends (an intervention that ends later is still running at as_of), evidence,
  milestones due. Input order never matters: everything is sorted with tie-breaks
  on every field.
- A history with only ungraded inspections and no intervention is `unknown`: an
  inspection that graded nothing tells nobody whether the institution is failing.
- The grace window runs from the start of the episode's latest intervention up to,
  not including, the day its grace months later; with 0 months there is none.
  Inside it a concern signal or a worse band is still reported, worded as the
  expected dip, never as decline.
- Band at the start: the band of the latest inspection day on or before the day
  the episode began. With no inspection by then there is nothing to compare, so no
  band reads as worse or better.
- Milestones off track: among the milestones of the episode's interventions that
  are due on or before as_of, dropped ones left out (they no longer measure
  anything), at least half are `missed`. A due milestone still planned or in
  progress is late, not missed: the lead records a miss, the method does not guess
  it. None due: on track. A milestone's achieved date does not matter: only a miss
  counts against the plan, and a met milestone was never missed.
- After an episode, relapsing looks at the latest inspection day on or after the
  recovery date. A failing band then is not a relapse but a new episode (failing,
  or early recovery once an intervention starts), which the table checks first; so
  relapsing means a below-standard inspection or a concern signal.
- Sustained: consecutive inspection days at or above standard are counted back
  from the latest, from the recovery date on (same-day inspections count once). The
  24 months run from the recovery date or, after a below-standard inspection since
  then, from the next inspection at or above standard: a recovery that slipped has
  held only since it was regained.
- Reasons name the lineage member (inspection of Harris Academy Greenwich) only
  once facts of more than one member are dated on or before as_of.
- Reasons name only facts (dates of events, grades, values), never "n months ago",
  so one history gives the same reasons at every date until a fact or a time-only
  transition (a grace window ending, a recovery period completing) changes them.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from interventions import evidence_signal
from interventions.episodes import (
    AT_STANDARD,
    BAND_RANKS,
    Episode,
    InspectionDay,
    Timeline,
    milestone_key,
    succeeded_on,
)
from interventions.evidence_signal import Evidence, EvidenceSignal
from interventions.wording import format_date, lower_first

METHOD_VERSION = 1

# The values of institutions.models.TrajectoryStatus, as literals so this module
# imports without Django (tests/test_trajectory_rules.py checks they match).
UNKNOWN = "unknown"
FAILING = "failing"
EARLY_RECOVERY = "early_recovery"
DETERIORATING = "deteriorating"
IMPROVING = "improving"
STALLED = "stalled"
RELAPSING = "relapsing"
SUSTAINED = "sustained"
RECOVERED = "recovered"
NOT_FAILING = "not_failing"
STATUSES = (
    UNKNOWN,
    FAILING,
    EARLY_RECOVERY,
    DETERIORATING,
    IMPROVING,
    STALLED,
    RELAPSING,
    SUSTAINED,
    RECOVERED,
    NOT_FAILING,
)
BAND_WORDS = {band: band.replace("_", " ") for band in BAND_RANKS}


@dataclass(frozen=True)
class Thresholds:
    """The method's tunable numbers: defaults from DESIGN.md, bounds as MethodSettings.

    `baseline_max_points` is an addition that is off by default: DESIGN.md takes the
    XmR mean and limits from all the points before the reference date; a number
    here would use only that many of the latest (see evidence_signal.py).
    """

    recovery_months: int = 24
    recovery_inspections: int = 2
    baseline_points: int = 6
    trend_points: int = 5
    p_value: float = 0.10
    baseline_max_points: int | None = None

    def __post_init__(self) -> None:
        if self.recovery_months < 0:
            raise ValueError("recovery_months cannot be negative.")
        if self.recovery_inspections < 1:
            raise ValueError("recovery_inspections must be at least 1.")
        if self.baseline_points < 2:
            raise ValueError("baseline_points must be at least 2: XmR needs a moving range.")
        if self.baseline_max_points is not None and self.baseline_max_points < self.baseline_points:
            raise ValueError("baseline_max_points cannot be fewer than baseline_points.")
        if self.trend_points < 3:
            raise ValueError("trend_points must be at least 3 for a trend test.")
        if not 0 < self.p_value < 1:
            raise ValueError("p_value must be between 0 and 1.")


@dataclass(frozen=True)
class InspectionFact:
    inspected_on: datetime.date
    inspectorate: str  # display name, e.g. "Ofsted"
    band: str | None  # institutions.models.Band value, None if nothing graded
    grade: str  # words, e.g. "Inadequate" or "Safeguarding: Not met" or "Not graded"
    category_of_concern: str = ""  # display label, e.g. "Special measures", or ""
    institution: str = ""  # the lineage member's name


@dataclass(frozen=True)
class MilestoneFact:
    title: str
    due_on: datetime.date
    status: str  # planned / in_progress / met / missed / dropped
    achieved_on: datetime.date | None = None


@dataclass(frozen=True)
class InterventionFact:
    started_on: datetime.date
    type_name: str  # e.g. "Special measures"
    grace_months: int  # the intervention's own, or its type's default
    ended_on: datetime.date | None = None
    outcome: str = "ongoing"  # ongoing / succeeded / escalated / withdrawn / superseded
    institution: str = ""
    milestones: tuple[MilestoneFact, ...] = ()


@dataclass(frozen=True)
class IndicatorPoint:
    indicator: str  # slug
    name: str
    higher_is_better: bool
    observed_on: datetime.date
    value: float
    unit: str = ""


@dataclass(frozen=True)
class ObservationFact:
    observed_on: datetime.date
    direction: str  # positive / negative / neutral
    summary: str = ""


@dataclass(frozen=True)
class History:
    inspections: tuple[InspectionFact, ...] = ()
    interventions: tuple[InterventionFact, ...] = ()
    points: tuple[IndicatorPoint, ...] = ()
    observations: tuple[ObservationFact, ...] = ()


class Reason(NamedTuple):
    """A named tuple rather than a frozen dataclass: replaying England makes millions,
    and a frozen dataclass is several times slower to build."""

    rule: str  # e.g. "latest_inspection", "grace_window", "evidence_signal", "milestones"
    text: str  # a sentence a person can check, naming dates, grades and values

    def as_dict(self) -> dict:
        return {"rule": self.rule, "text": self.text}


@dataclass(frozen=True)
class Assessment:
    status: str  # an institutions.models.TrajectoryStatus value
    reasons: tuple[Reason, ...]
    as_of: datetime.date
    method_version: int = METHOD_VERSION


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb).

    The rule of interventions.models.add_months, which this module cannot import
    without the ORM; tests/test_trajectory_rules.py keeps the two in step.
    """
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


class _Prepared:
    """A history sorted once, so replay can assess it at many dates cheaply."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.timeline = Timeline(history.inspections, history.interventions)

    @cached_property
    def evidence(self) -> Evidence:
        """Sorted only when asked for: never needed outside a failure episode."""
        return Evidence(self.history.points, self.history.observations)


class _Assessment:
    """One assessment in the making: the facts known on as_of and the reasons so far."""

    def __init__(self, prepared: _Prepared, as_of: datetime.date, thresholds: Thresholds):
        self.prepared = prepared
        self.timeline = prepared.timeline
        self.as_of = as_of
        self.thresholds = thresholds
        self.named = self.timeline.spans_lineage(as_of)
        self.days_known = self.timeline.days_until(as_of)
        self.reasons: list[Reason] = []

    def reason(self, rule: str, text: str) -> None:
        self.reasons.append(Reason(rule, text))

    def done(self, status: str) -> Assessment:
        return Assessment(status, tuple(self.reasons), self.as_of)

    # Words about facts.

    def inspection_words(self, inspection: InspectionFact, within: bool = False) -> str:
        """'Ofsted inspection 12 Mar 2010: Inadequate, special measures', or within a
        sentence 'Ofsted inspection 12 Mar 2010 (Inadequate, special measures)'."""
        who = f" of {inspection.institution} on" if self.named and inspection.institution else ""
        grade = inspection.grade
        if inspection.category_of_concern:
            grade += f", {lower_first(inspection.category_of_concern)}"
        said = f" ({grade})" if within else f": {grade}"
        on = format_date(inspection.inspected_on)
        return f"{inspection.inspectorate} inspection{who} {on}{said}"

    def day_words(self, day: InspectionDay) -> str:
        """An inspection day within a sentence, its worst judgement first."""
        return " and the ".join(
            self.inspection_words(i, within=True) for i in reversed(day.inspections)
        )

    def intervention_words(self, intervention: InterventionFact) -> str:
        who = f" at {intervention.institution}" if self.named and intervention.institution else ""
        return f"{intervention.type_name}{who} started {format_date(intervention.started_on)}"

    def add_signal(self, signal: EvidenceSignal) -> str:
        self.reasons.extend(Reason(rule, text) for rule, text in signal.findings)
        return signal.direction

    def signal(self, reference: datetime.date, in_grace: bool = False) -> EvidenceSignal:
        return self.prepared.evidence.signal(reference, self.as_of, self.thresholds, in_grace)

    # The status table, in DESIGN.md's order.

    def run(self) -> Assessment:
        timeline = self.timeline
        if self.days_known:
            latest = timeline.days[self.days_known - 1]
            for inspection in reversed(latest.inspections):
                self.reason("latest_inspection", f"Latest {self.inspection_words(inspection)}")

        first_episode_on = timeline.first_episode_on
        if first_episode_on is None or self.as_of < first_episode_on:
            # The common case, kept cheap: never in an episode.
            if self.days_known:
                self.reason("episode", "Never in a failure episode")
                return self.done(NOT_FAILING)
            ungraded = timeline.inspections[: timeline.inspections_until(self.as_of)]
            if ungraded:
                # DESIGN: unknown means no inspections at all. An inspection that
                # graded nothing found no failure either.
                self.reason(
                    "episode",
                    "Never in a failure episode; the "
                    f"{self.inspection_words(ungraded[-1], within=True)} graded nothing",
                )
                return self.done(NOT_FAILING)
            self.reason("no_data", "No inspection and no intervention recorded")
            return self.done(UNKNOWN)

        episode = timeline.last_episode(self.as_of)
        if episode.ended_on is None:
            return self.done(self.in_episode(episode))
        return self.done(self.after_episode(episode))

    def in_episode(self, episode: Episode) -> str:
        began = format_date(episode.began_on)
        causes = [
            f"the {self.day_words(day)}"
            for day in self.timeline.days[: self.days_known]
            if day.on == episode.began_on and day.band == "failing"
        ]
        causes += [
            f"the start of {i.type_name}"
            for i in episode.interventions
            if i.started_on == episode.began_on
        ]
        self.reason(
            "episode", f"In a failure episode since {began}, begun by {' and '.join(causes)}"
        )
        if not episode.interventions:
            self.reason("no_intervention", f"No intervention has started since {began}")
            return FAILING

        latest = episode.interventions[-1]
        grace_end = add_months(latest.started_on, latest.grace_months)
        window = f"{latest.grace_months}-month grace window of {self.intervention_words(latest)}"
        band_change, band_text = self.band_against_start(episode)
        if self.as_of < grace_end:
            self.reason(
                "grace_window",
                f"Inside the {window} (until {format_date(grace_end)}): a dip is expected",
            )
            if band_text:
                expected = "; a dip is expected inside the grace window" if band_change < 0 else ""
                self.reason("band_change", band_text + expected)
            self.add_signal(self.signal(latest.started_on, in_grace=True))
            return EARLY_RECOVERY

        self.reason("grace_window", f"The {window} ended {format_date(grace_end)}")
        if band_text:
            self.reason("band_change", band_text)
        signal = self.add_signal(self.signal(latest.started_on))
        off_track = self.milestones_off_track(episode)
        if signal == evidence_signal.CONCERN or band_change < 0:
            return DETERIORATING
        if (signal == evidence_signal.IMPROVING or band_change > 0) and not off_track:
            return IMPROVING
        return STALLED

    def band_against_start(self, episode: Episode) -> tuple[int, str]:
        """(+1 better, -1 worse, 0 same or unknown, words) for the latest headline band."""
        at_start = self.timeline.days_until(episode.began_on)
        if not at_start:
            return 0, ""
        start = self.timeline.days[at_start - 1]
        latest = self.timeline.days[self.days_known - 1]
        began = format_date(episode.began_on)
        if latest.rank == start.rank:
            band = BAND_WORDS[latest.band]
            return 0, f"Headline band unchanged since the episode began on {began}: {band}"
        change = 1 if latest.rank > start.rank else -1
        return change, (
            f"Headline band {'better' if change > 0 else 'worse'} than when the episode began on "
            f"{began} ({BAND_WORDS[start.band]}): {BAND_WORDS[latest.band]} at the "
            f"{self.day_words(latest)}"
        )

    def milestones_off_track(self, episode: Episode) -> bool:
        due = [
            milestone
            for intervention in episode.interventions
            for milestone in intervention.milestones
            if milestone.due_on <= self.as_of and milestone.status != "dropped"
        ]
        if not due:
            self.reason("milestones", "No milestones due so far")
            return False
        missed = sorted((m for m in due if m.status == "missed"), key=milestone_key)
        off_track = 2 * len(missed) >= len(due)
        text = (
            f"Milestones {'off track' if off_track else 'on track'}: "
            f"{len(missed)} of {len(due)} due missed"
        )
        if missed:
            text += (
                " (" + "; ".join(f"{m.title}, due {format_date(m.due_on)}" for m in missed) + ")"
            )
        self.reason("milestones", text)
        return off_track

    def after_episode(self, episode: Episode) -> str:
        recovered_on = episode.ended_on
        if episode.ended_by_day is not None:
            ended_by = f"the {self.day_words(episode.ended_by_day)}"
        else:
            ended_by = (
                f"{self.intervention_words(episode.ended_by_intervention)} "
                f"ending with outcome succeeded"
            )
        self.reason(
            "episode",
            f"Failure episode from {format_date(episode.began_on)} ended "
            f"{format_date(recovered_on)} by {ended_by}",
        )
        days_since = self.timeline.days[self.timeline.days_from(recovered_on) : self.days_known]
        below = bool(days_since) and days_since[-1].rank < AT_STANDARD
        if below:
            self.reason(
                "relapse",
                f"Below standard since the recovery on {format_date(recovered_on)}: "
                f"the {self.day_words(days_since[-1])}",
            )
        signal = self.signal(recovered_on)
        if below or signal.direction == evidence_signal.CONCERN:
            self.add_signal(signal)
            return RELAPSING

        run = 0
        while run < len(days_since) and days_since[-1 - run].rank >= AT_STANDARD:
            run += 1
        held_since = days_since[-run].on if 0 < run < len(days_since) else recovered_on
        held_until = add_months(held_since, self.thresholds.recovery_months)
        months = self.thresholds.recovery_months
        if run >= self.thresholds.recovery_inspections:
            listed = "; ".join(f"the {self.day_words(day)}" for day in days_since[-run:])
            self.reason(
                "sustained",
                f"{run} consecutive inspections at or above standard since the recovery: {listed}",
            )
            status = SUSTAINED
        elif self.as_of >= held_until:
            self.reason(
                "sustained",
                f"Recovery held for {months} months from {format_date(held_since)} "
                f"(on {format_date(held_until)})",
            )
            status = SUSTAINED
        else:
            self.reason(
                "recovery_period",
                f"Recovery since {format_date(held_since)} is sustained after {months} months "
                f"(on {format_date(held_until)}) or {self.thresholds.recovery_inspections} "
                f"consecutive inspections at or above standard ({run} so far)",
            )
            status = RECOVERED
        # The evidence comes after the verdict it supports.
        self.add_signal(signal)
        return status


def _check_date(value: object, name: str) -> None:
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise TypeError(f"{name} must be a date, not {type(value).__name__}.")


def assess(
    history: History, as_of: datetime.date, thresholds: Thresholds = Thresholds()
) -> Assessment:
    """The institution's trajectory status on as_of, with the reasons for it."""
    _check_date(as_of, "as_of")
    return _Assessment(_Prepared(history), as_of, thresholds).run()


def _change_dates(
    prepared: _Prepared, until: datetime.date, thresholds: Thresholds
) -> list[datetime.date]:
    timeline = prepared.timeline
    dates = set(timeline.inspection_dates) | prepared.evidence.dates()
    for intervention in timeline.interventions:
        dates.add(intervention.started_on)
        dates.add(add_months(intervention.started_on, intervention.grace_months))
        if intervention.ended_on is not None:
            dates.add(intervention.ended_on)
        recovered_on = succeeded_on(intervention)
        if recovered_on is not None:
            dates.add(add_months(recovered_on, thresholds.recovery_months))
        for milestone in intervention.milestones:
            dates.add(milestone.due_on)
            if milestone.achieved_on is not None:
                dates.add(milestone.achieved_on)
    # A recovery is held from its recovery date or from a later inspection day.
    dates.update(add_months(day, thresholds.recovery_months) for day in timeline.day_dates)
    days = sorted(day for day in dates if day <= until)
    # Before the first failure episode the status and reasons depend on the
    # inspections so far alone (run's first branch), so no other date there can
    # change them. The first date stays: it is the status history's first row.
    first_episode_on = timeline.first_episode_on
    inspected = set(timeline.inspection_dates)
    return days[:1] + [
        day
        for day in days[1:]
        if day in inspected or (first_episode_on is not None and day >= first_episode_on)
    ]


def change_dates(
    history: History, until: datetime.date, thresholds: Thresholds = Thresholds()
) -> list[datetime.date]:
    """Sorted distinct dates <= until at which the status may change: every inspection
    date, intervention start/end, evidence date, and the time-only transitions (grace-window
    ends, the day the recovery period completes). Before the first failure episode only
    inspection dates (and the first date of all) can change it, so only they are listed."""
    _check_date(until, "until")
    return _change_dates(_Prepared(history), until, thresholds)


def replay(
    history: History,
    until: datetime.date,
    thresholds: Thresholds = Thresholds(),
    after: datetime.date | None = None,
) -> list[Assessment]:
    """assess() at each change date; keep an Assessment only when status or reasons differ
    from the previous kept one. The result is the institution's status history.

    A history with nothing dated by `until` gives one `unknown` assessment as of
    `until`, so every institution's status history has at least one row. With
    `after`, only the change dates after it are assessed (and the list may be
    empty): for carrying a stored history forward when only time has passed.
    """
    _check_date(until, "until")
    prepared = _Prepared(history)
    days = _change_dates(prepared, until, thresholds)
    if after is not None:
        days = [day for day in days if day > after]
    elif not days:
        days = [until]
    kept: list[Assessment] = []
    for day in days:
        assessment = _Assessment(prepared, day, thresholds).run()
        if kept and (kept[-1].status, kept[-1].reasons) == (
            assessment.status,
            assessment.reasons,
        ):
            continue
        kept.append(assessment)
    return kept
