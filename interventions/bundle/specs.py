"""The plan a checked bundle becomes: plain rows with natural keys, ready to write."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from institutions.models import Institution
from interventions.bundle.reader import Checker
from interventions.bundle.scales import ScaleSpec


@dataclass
class InspectionSpec:
    inspectorate: str
    scale: str
    inspected_on: datetime.date
    # Grades as (area slug of the grade or None for a shared grade, label as stored).
    overall: tuple[str | None, str] | None
    judgements: dict[str, tuple[str | None, str]] | None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return (self.inspectorate, self.scale, self.inspected_on)

    identity = key


@dataclass
class MilestoneSpec:
    title: str
    values: dict[str, Any]


@dataclass
class InterventionSpec:
    type: str
    started_on: datetime.date
    values: dict[str, Any]
    milestones: list[MilestoneSpec]

    @property
    def key(self) -> tuple:
        return (self.type, self.started_on)

    identity = key


@dataclass
class EvidenceSpec:
    observed_on: datetime.date
    indicator: str | None
    value: float | None
    direction: str
    summary: str
    link_given: bool = False
    intervention: tuple[str, datetime.date] | None = None
    milestone: str | None = None
    retracted: tuple[datetime.datetime, str] | None = None

    @property
    def key(self) -> tuple:
        return (self.observed_on, self.indicator, self.direction, self.summary)

    @property
    def identity(self) -> tuple:
        """Rows of one key differ by value or retraction after a correction."""
        return (*self.key, self.value, self.retracted)


@dataclass
class InstitutionSpec:
    path: str
    ref: str
    values: dict[str, Any]
    identifiers: list[tuple[str, str]]
    existing: Institution | None
    named_refs: set[str] = field(default_factory=set)
    parent_given: bool = False
    parent: str | None = None
    links: list[tuple[str, str, datetime.date]] = field(default_factory=list)
    inspections: list[InspectionSpec] = field(default_factory=list)
    interventions: list[InterventionSpec] = field(default_factory=list)
    evidence: list[EvidenceSpec] = field(default_factory=list)


@dataclass
class Plan:
    inspectorates: dict[str, str | None]  # slug: name given (None: derive one)
    new_scales: list[ScaleSpec]
    indicators: list[tuple[str, dict[str, Any]]]
    institutions: list[InstitutionSpec]
    unchanged_scales: int = 0  # scales the bundle defines exactly as stored


@dataclass
class CheckContext:
    check: Checker
    scales: dict[str, ScaleSpec]
    inspectorates: set[str]
    types: set[str]
    indicators: set[str]
