"""Rating scales as the bundle sees them: one shape for stored scales and new ones.

Checking grades against a plain description, rather than querying `grade_for` per
label, keeps a bundle of thousands of inspections to a fixed number of queries, and
lets a scale defined in the same file be used before it is written.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from institutions.models import Band, EvaluationArea, Grade, Inspectorate, RatingScale

if TYPE_CHECKING:
    from interventions.bundle.reader import Checker

SCALE_KEYS = {
    "slug",
    "inspectorate",
    "name",
    "effective_from",
    "effective_to",
    "has_overall_grade",
    "grades",
    "areas",
}


@dataclass
class AreaSpec:
    slug: str
    name: str
    grades: list[tuple[str, str]] = field(default_factory=list)  # its own (label, band)


@dataclass
class ScaleSpec:
    slug: str
    inspectorate: str
    name: str
    grades: list[tuple[str, str]]  # (label, band), best first, shared by every area
    areas: list[AreaSpec] = field(default_factory=list)
    has_overall_grade: bool = True
    effective_from: datetime.date | None = None
    effective_to: datetime.date | None = None

    @classmethod
    def from_model(cls, scale: RatingScale) -> ScaleSpec:
        """Needs the scale's inspectorate, areas and grades loaded (see known_scales)."""
        grades = sorted(scale.grades.all(), key=lambda g: g.position)
        areas = [
            AreaSpec(
                slug=area.slug,
                name=area.name,
                grades=[(g.label, g.band) for g in grades if g.area_id == area.pk],
            )
            for area in sorted(scale.areas.all(), key=lambda a: (a.position, a.pk))
        ]
        return cls(
            slug=scale.slug,
            inspectorate=scale.inspectorate.slug,
            name=scale.name,
            grades=[(g.label, g.band) for g in grades if g.area_id is None],
            areas=areas,
            has_overall_grade=scale.has_overall_grade,
            effective_from=scale.effective_from,
            effective_to=scale.effective_to,
        )

    def definition(self) -> tuple:
        """What must not change once ratings use a scale: labels (any case) and bands."""
        return (
            self.inspectorate,
            self.has_overall_grade,
            tuple((label.lower(), band) for label, band in self.grades),
            tuple(
                sorted(
                    (area.slug, tuple((label.lower(), band) for label, band in area.grades))
                    for area in self.areas
                )
            ),
        )

    def describe(self) -> str:
        text = f"inspectorate {self.inspectorate}; grades: {', '.join(self.labels())}"
        if self.areas:
            text += f"; areas: {', '.join(area.slug for area in self.areas)}"
        return text

    def area(self, slug: str) -> AreaSpec | None:
        return next((area for area in self.areas if area.slug == slug), None)

    def labels(self, area_slug: str | None = None) -> list[str]:
        area = self.area(area_slug) if area_slug else None
        return [label for label, _ in (area.grades if area and area.grades else self.grades)]

    def grade(self, label: str, area_slug: str | None = None) -> tuple[str | None, str] | None:
        """(area slug owning the grade or None, stored label) for a label in any case.

        An area with grades of its own (a report card's safeguarding: Met / Not met)
        takes only those; other areas and the overall grade take the shared grades.
        """
        area = self.area(area_slug) if area_slug else None
        if area is not None and area.grades:
            owner, grades = area.slug, area.grades
        else:
            owner, grades = None, self.grades
        wanted = label.strip().lower()
        for stored, _ in grades:
            if stored.lower() == wanted:
                return owner, stored
        return None


def known_scales() -> dict[str, ScaleSpec]:
    """Every stored scale, in three queries."""
    scales = RatingScale.objects.select_related("inspectorate").prefetch_related("grades", "areas")
    return {scale.slug: ScaleSpec.from_model(scale) for scale in scales}


def _grade_list(check: Checker, obj: dict, path: str, required: bool) -> list[tuple[str, str]]:
    grades: list[tuple[str, str]] = []
    for gpath, grade in check.items(obj, "grades", path):
        if check.object(grade, gpath, {"label", "band"}, required=("label", "band")) is None:
            continue
        label = check.text(grade, "label", gpath, limit=60, blank=False)
        band = check.choice(grade, "band", gpath, Band, "a band")
        if label and label.lower() in {existing.lower() for existing, _ in grades}:
            check.error(f"{gpath}.label", f'"{label}" is listed twice')
        elif label and band:
            grades.append((label, band))
    if required and not grades and isinstance(obj.get("grades"), list | type(None)):
        check.error(f"{path}.grades", "a scale needs at least one grade")
    return grades


def check_scale(check: Checker, item: Any, path: str) -> ScaleSpec | None:
    """A rating_scales entry as a ScaleSpec, or None with the errors recorded."""
    if check.object(item, path, SCALE_KEYS, required=("slug", "inspectorate", "name")) is None:
        return None
    slug = check.slug(item, "slug", path, 80)
    inspectorate = check.slug(item, "inspectorate", path, 50)
    name = check.text(item, "name", path, limit=150, blank=False)
    has_overall = check.boolean(item, "has_overall_grade", path)
    effective_from = check.date(item, "effective_from", path)
    effective_to = check.date(item, "effective_to", path)
    if effective_from and effective_to and effective_to < effective_from:
        check.error(f"{path}.effective_to", f"{effective_to} is before {effective_from}")
    areas: list[AreaSpec] = []
    for apath, area in check.items(item, "areas", path):
        if check.object(area, apath, {"slug", "name", "grades"}, required=("slug", "name")) is None:
            continue
        area_slug = check.slug(area, "slug", apath, 80)
        area_name = check.text(area, "name", apath, limit=150, blank=False)
        own = _grade_list(check, area, apath, required=False)
        if area_slug in {a.slug for a in areas}:
            check.error(f"{apath}.slug", f'area "{area_slug}" is listed twice')
        elif area_slug and area_name:
            areas.append(AreaSpec(slug=area_slug, name=area_name, grades=own))
    grades = _grade_list(check, item, path, required=True)
    if None in (slug, inspectorate, name):
        return None
    return ScaleSpec(
        slug=slug,
        inspectorate=inspectorate,
        name=name,
        grades=grades,
        areas=areas,
        has_overall_grade=True if has_overall is None else has_overall,
        effective_from=effective_from,
        effective_to=effective_to,
    )


def create_scale(spec: ScaleSpec, inspectorate: Inspectorate) -> RatingScale:
    """Write a new scale with its areas and grades."""
    scale = RatingScale.objects.create(
        inspectorate=inspectorate,
        slug=spec.slug,
        name=spec.name,
        effective_from=spec.effective_from,
        effective_to=spec.effective_to,
        has_overall_grade=spec.has_overall_grade,
    )
    Grade.objects.bulk_create(
        Grade(scale=scale, label=label, band=band, position=position)
        for position, (label, band) in enumerate(spec.grades, start=1)
    )
    for position, area_spec in enumerate(spec.areas, start=1):
        area = EvaluationArea.objects.create(
            scale=scale, slug=area_spec.slug, name=area_spec.name, position=position
        )
        Grade.objects.bulk_create(
            Grade(scale=scale, area=area, label=label, band=band, position=position)
            for position, (label, band) in enumerate(area_spec.grades, start=1)
        )
    return scale


def scale_as_dict(spec: ScaleSpec) -> dict[str, Any]:
    """The bundle entry for a scale, as export writes it."""
    entry: dict[str, Any] = {
        "slug": spec.slug,
        "inspectorate": spec.inspectorate,
        "name": spec.name,
    }
    if not spec.has_overall_grade:
        entry["has_overall_grade"] = False
    if spec.effective_from:
        entry["effective_from"] = spec.effective_from.isoformat()
    if spec.effective_to:
        entry["effective_to"] = spec.effective_to.isoformat()
    entry["grades"] = [{"label": label, "band": band} for label, band in spec.grades]
    if spec.areas:
        entry["areas"] = []
        for area in spec.areas:
            area_entry: dict[str, Any] = {"slug": area.slug, "name": area.name}
            if area.grades:
                area_entry["grades"] = [{"label": lbl, "band": b} for lbl, b in area.grades]
            entry["areas"].append(area_entry)
    return entry
