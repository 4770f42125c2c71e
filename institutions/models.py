"""Institutions, their lineage, and the inspections that judge them.

Rating scales change over time, so grades are never compared directly: each grade
maps to a band, and bands are what the rest of failwell reasons about.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords


class Band(models.TextChoices):
    """Where a grade sits against the standard, the one way scales are compared."""

    FAILING = "failing", "Failing"
    BELOW_STANDARD = "below_standard", "Below standard"
    AT_STANDARD = "at_standard", "At standard"
    ABOVE_STANDARD = "above_standard", "Above standard"

    @property
    def rank(self) -> int:
        """0 for failing up to 3 for above standard, so bands can be compared."""
        return BAND_RANKS[self.value]


BAND_RANKS = {band.value: rank for rank, band in enumerate(Band)}


def lowest_band(bands) -> Band | None:
    bands = [Band(band) for band in bands]
    return min(bands, key=lambda band: band.rank) if bands else None


def headline_band(
    category_of_concern: str, overall_band: str | None, judgement_bands: list[str]
) -> Band | None:
    """The headline rule of DESIGN.md, shared by Inspection and the bulk history loader.

    A category of concern makes it failing whatever the grades; otherwise the overall
    grade's band; without one (report cards), the lowest band among the judgements.
    """
    if category_of_concern:
        return Band.FAILING
    if overall_band:
        return Band(overall_band)
    return lowest_band(judgement_bands)


def headline_words(
    overall_label: str | None, judgements: list[tuple[str, str, str]], band: Band | None
) -> str:
    """The headline as the inspectorate wrote it: the overall grade, or the first
    judgement (area name, grade label, band) in the headline band, in area order."""
    if overall_label:
        return overall_label
    for area_name, grade_label, grade_band in judgements:
        if grade_band == band:
            return f"{area_name}: {grade_label}"
    return band.label if band else "Not graded"


class Sector(models.TextChoices):
    SCHOOL = "school", "School"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    CHILDRENS_SERVICES = "childrens_services", "Children's services"
    NHS_TRUST = "nhs_trust", "NHS trust"
    POLICE_FORCE = "police_force", "Police force"
    PRISON = "prison", "Prison"
    OTHER = "other", "Other"


class TrajectoryStatus(models.TextChoices):
    """The recovery-trajectory statuses of DESIGN.md, in the order of its rule table.

    Defined here because the current status is kept on Institution for fast lists;
    the interventions app computes it.
    """

    UNKNOWN = "unknown", "Unknown"
    FAILING = "failing", "Failing"
    EARLY_RECOVERY = "early_recovery", "Early recovery"
    DETERIORATING = "deteriorating", "Deteriorating"
    IMPROVING = "improving", "Improving"
    STALLED = "stalled", "Stalled"
    RELAPSING = "relapsing", "Relapsing"
    SUSTAINED = "sustained", "Sustained recovery"
    RECOVERED = "recovered", "Recovered"
    NOT_FAILING = "not_failing", "Not failing"


# Sent inside a write's transaction with `institution_ids` whose trajectory may
# have changed. The receiver (interventions/dirty.py) sets the flags and queues the
# recomputes, so this app never depends on the one that computes trajectories.
institutions_marked_dirty = Signal()


# Institution fields written by the recompute pipeline and the dirty flag, never by
# a person: kept out of the audit trail (see Institution.history).
COMPUTED_FIELDS = [
    "status",
    "status_since",
    "status_version",
    "status_changed_at",
    "latest_inspection_on",
    "latest_inspectorate",
    "latest_headline_band",
    "latest_headline_grade",
    "needs_recompute",
    "marked_dirty_at",
    "updated_at",
]


class InstitutionQuerySet(models.QuerySet):
    def by_identifier(self, scheme: str, value: str) -> InstitutionQuerySet:
        return self.filter(identifiers__scheme=scheme, identifiers__value=value)

    def needing_recompute(self) -> InstitutionQuerySet:
        return self.filter(needs_recompute=True)

    def mark_dirty(self) -> list[int]:
        """Flag these institutions for a trajectory recompute; returns their ids.

        Call inside the transaction of the write, so the flag commits or rolls back
        with it. The interventions app, which computes trajectories, listens to
        `institutions_marked_dirty` and queues the recomputes for after the commit;
        the beat sweep finds the flags even if that queueing is lost.
        """
        ids = list(self.values_list("pk", flat=True))
        if ids:
            Institution.objects.filter(pk__in=ids).update(
                needs_recompute=True, marked_dirty_at=timezone.now()
            )
            institutions_marked_dirty.send(sender=Institution, institution_ids=ids)
        return ids


class Institution(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    sector = models.CharField(max_length=30, choices=Sector.choices)
    region = models.CharField(max_length=100, blank=True)
    local_authority = models.CharField(max_length=100, blank=True)
    phase = models.CharField(
        max_length=100, blank=True, help_text="For schools: Ofsted phase, e.g. Secondary."
    )
    establishment_type = models.CharField(
        max_length=100,
        blank=True,
        help_text="For schools: type of education, e.g. Academy converter.",
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        help_text="The body this institution answers to, such as its local authority.",
    )

    # The current trajectory, kept here so dashboards need no join to the history.
    status = models.CharField(
        max_length=20, choices=TrajectoryStatus.choices, default=TrajectoryStatus.UNKNOWN
    )
    status_since = models.DateField(null=True, blank=True)
    # Bumped on every status write; a recompute writes only if it still matches
    # the version it read, so a late task never overwrites a newer result.
    status_version = models.PositiveIntegerField(default=0)
    status_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="When failwell last stored a different status."
    )
    # The latest inspection across the lineage, written with the status so lists
    # need no join to inspections and judgements.
    latest_inspection_on = models.DateField(null=True, blank=True)
    latest_inspectorate = models.CharField(max_length=100, blank=True)
    latest_headline_band = models.CharField(max_length=20, choices=Band.choices, blank=True)
    latest_headline_grade = models.CharField(max_length=200, blank=True)
    needs_recompute = models.BooleanField(default=True)
    marked_dirty_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InstitutionQuerySet.as_manager()
    # The audit trail of what people and imports wrote. The computed trajectory
    # fields are left out: the recompute writes them with QuerySet.update, which
    # records nothing, and their history is TrajectoryAssessment's rows.
    history = HistoricalRecords(excluded_fields=COMPUTED_FIELDS)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sector__in=Sector.values), name="institution_sector_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=TrajectoryStatus.values), name="institution_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(latest_headline_band="") | Q(latest_headline_band__in=Band.values),
                name="institution_latest_band_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "name"], name="institution_status_name"),
            models.Index(fields=["sector", "region"], name="institution_sector_region"),
            models.Index(fields=["status_changed_at"], name="institution_status_changed"),
            models.Index(
                fields=["marked_dirty_at"],
                condition=Q(needs_recompute=True),
                name="institution_dirty",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("institution", args=[self.slug])

    def mark_dirty(self) -> None:
        """Flag this institution for a trajectory recompute (see InstitutionQuerySet)."""
        Institution.objects.filter(pk=self.pk).mark_dirty()
        self.needs_recompute = True

    def lineage(self) -> list[Institution]:
        """Every institution linked to this one through predecessors and successors.

        Includes this institution, so an academy that replaced a school that merged
        with another brings all three.
        """
        members = lineages([self.pk])[self.pk]
        if members == {self.pk}:  # most institutions: no need to read this one again
            return [self]
        return list(Institution.objects.filter(pk__in=members).order_by("created_at", "pk"))

    def predecessors(self) -> models.QuerySet[LineageLink]:
        return self.links_as_successor.select_related("predecessor")

    def successors(self) -> models.QuerySet[LineageLink]:
        return self.links_as_predecessor.select_related("successor")


def lineages(institution_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """Each institution's whole lineage (itself, predecessors and successors, transitively).

    One query per generation for the whole batch, however many institutions.
    """
    neighbours: dict[int, set[int]] = defaultdict(set)
    frontier = set(institution_ids)
    seen = set(frontier)
    while frontier:
        ids = list(frontier)
        marks = ", ".join(["%s"] * len(ids))
        # SQL rather than a queryset: the institution page asks this on every request,
        # and compiling the queryset cost 0.4 ms of Python, four times its SQL.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT predecessor_id, successor_id FROM institutions_lineagelink"
                f" WHERE predecessor_id IN ({marks}) OR successor_id IN ({marks})",
                ids + ids,
            )
            links = cursor.fetchall()
        found = set()
        for predecessor, successor in links:
            neighbours[predecessor].add(successor)
            neighbours[successor].add(predecessor)
            found |= {predecessor, successor}
        frontier = found - seen
        seen |= frontier

    result: dict[int, frozenset[int]] = {}
    for start in institution_ids:
        if start in result:
            continue
        component, stack = {start}, [start]
        while stack:
            for other in neighbours[stack.pop()] - component:
                component.add(other)
                stack.append(other)
        members = frozenset(component)
        for member in members:
            result[member] = members
    return result


class IdentifierScheme(models.TextChoices):
    URN = "urn", "URN"
    LAESTAB = "laestab", "LAESTAB"
    UKPRN = "ukprn", "UKPRN"
    ODS = "ods", "ODS code"
    GSS = "gss", "GSS code"
    OTHER = "other", "Other"


class Identifier(models.Model):
    """An official code for an institution within one scheme (a URN, an ODS code...)."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="identifiers"
    )
    scheme = models.CharField(max_length=20, choices=IdentifierScheme.choices)
    value = models.CharField(max_length=50)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scheme", "value"], name="identifier_unique_in_scheme"),
            models.CheckConstraint(
                condition=Q(scheme__in=IdentifierScheme.values), name="identifier_scheme_valid"
            ),
            models.CheckConstraint(condition=~Q(value=""), name="identifier_value_not_blank"),
        ]
        indexes = [models.Index(fields=["value"], name="identifier_value")]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.value}"


class LineageKind(models.TextChoices):
    ACADEMY_CONVERSION = "academy_conversion", "Academy conversion"
    MERGER = "merger", "Merger"
    SPLIT = "split", "Split"
    RENAME = "rename", "Rename"


class LineageLink(models.Model):
    """A predecessor became (part of) a successor, so history follows the new identity."""

    predecessor = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="links_as_predecessor"
    )
    successor = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="links_as_successor"
    )
    kind = models.CharField(max_length=30, choices=LineageKind.choices)
    linked_on = models.DateField()

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["predecessor", "successor"], name="lineage_link_unique_pair"
            ),
            models.CheckConstraint(
                condition=~Q(predecessor=models.F("successor")), name="lineage_link_not_self"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=LineageKind.values), name="lineage_link_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor} ({self.get_kind_display()})"

    def clean(self) -> None:
        # Both fields carry the error: an inline shows only the one it lets you pick.
        if self.predecessor_id is not None and self.predecessor_id == self.successor_id:
            raise ValidationError(
                {
                    "predecessor": "An institution cannot be its own predecessor.",
                    "successor": "An institution cannot be its own successor.",
                }
            )


class Inspectorate(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RatingScale(models.Model):
    """A versioned set of grades an inspectorate uses over a period.

    Once inspections use a scale it is never edited in place: `new_version` copies
    it, so past ratings keep the meaning they were given.
    """

    inspectorate = models.ForeignKey(
        Inspectorate, on_delete=models.PROTECT, related_name="rating_scales"
    )
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=150)
    version = models.PositiveSmallIntegerField(default=1)
    previous_version = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_version",
    )
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    has_overall_grade = models.BooleanField(
        default=True, help_text="Report cards grade evaluation areas only, with no overall grade."
    )

    class Meta:
        ordering = ["inspectorate__name", "effective_from", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="rating_scale_ends_after_start",
            ),
            # The target of inspection's composite foreign key (inspectorate, scale).
            models.UniqueConstraint(fields=["inspectorate", "id"], name="rating_scale_insp_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})" if self.version > 1 else self.name

    def is_in_use(self) -> bool:
        return self.inspections.exists()

    def clean(self) -> None:
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValidationError(
                {"effective_to": "A scale cannot stop being used before it starts."}
            )

    def next_version_slug(self) -> str:
        """The slug `new_version` gives the copy when none is chosen: `...-v2`, `...-v3`."""
        return f"{re.sub(r'-v[0-9]+$', '', self.slug)}-v{self.version + 1}"

    @transaction.atomic
    def new_version(self, effective_from: datetime.date, slug: str = "") -> RatingScale:
        """Copy this scale, its areas and grades into the next version and close this one.

        The copy starts on `effective_from`; this version ends the day before.
        """
        successor = RatingScale.objects.create(
            inspectorate=self.inspectorate,
            slug=slug or self.next_version_slug(),
            name=self.name,
            version=self.version + 1,
            previous_version=self,
            effective_from=effective_from,
            has_overall_grade=self.has_overall_grade,
        )
        new_areas = {}
        for area in self.areas.all():
            new_areas[area.pk] = EvaluationArea.objects.create(
                scale=successor, slug=area.slug, name=area.name, position=area.position
            )
        Grade.objects.bulk_create(
            Grade(
                scale=successor,
                area=new_areas.get(grade.area_id),
                label=grade.label,
                band=grade.band,
                position=grade.position,
            )
            for grade in self.grades.all()
        )
        self.effective_to = effective_from - datetime.timedelta(days=1)
        self.save(update_fields=["effective_to"])
        return successor

    def grade_for(self, label: str, area: EvaluationArea | None = None) -> Grade | None:
        """The grade with this label (any case) usable for the area or the overall grade."""
        grades = self.grades.filter(label__iexact=label.strip())
        if area is not None:
            own = grades.filter(area=area).first()
            if own is not None:
                return own
        return grades.filter(area__isnull=True).first()


class EvaluationArea(models.Model):
    """A separately graded part of an inspection, e.g. a report card's 'Achievement'."""

    scale = models.ForeignKey(RatingScale, on_delete=models.CASCADE, related_name="areas")
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=150)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scale", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["scale", "slug"], name="evaluation_area_unique_slug"),
            # The target of judgement's composite foreign key (scale, area).
            models.UniqueConstraint(fields=["scale", "id"], name="evaluation_area_scale_id"),
        ]

    def __str__(self) -> str:
        return self.name


class Grade(models.Model):
    """One grade of a scale, best first by position, with the band it maps to.

    A grade with an area is used only for that area (a report card's safeguarding
    is Met / Not met); a grade without one serves the overall grade and every
    other area.
    """

    scale = models.ForeignKey(RatingScale, on_delete=models.CASCADE, related_name="grades")
    area = models.ForeignKey(
        EvaluationArea, null=True, blank=True, on_delete=models.CASCADE, related_name="own_grades"
    )
    label = models.CharField(max_length=60)
    band = models.CharField(max_length=20, choices=Band.choices)
    position = models.PositiveSmallIntegerField(help_text="1 is the best grade.")

    class Meta:
        ordering = ["scale", "area", "position"]
        constraints = [
            models.UniqueConstraint(
                Lower("label"), "scale", "area", name="grade_label_unique_in_scale"
            ),
            # Grades shared by all areas: Postgres treats NULL areas as distinct.
            models.UniqueConstraint(
                Lower("label"),
                "scale",
                condition=Q(area__isnull=True),
                name="grade_label_unique_overall",
            ),
            # The target of composite foreign keys (scale, grade) from inspections
            # and judgements, so a grade from another scale can never be stored.
            models.UniqueConstraint(fields=["scale", "id"], name="grade_scale_id"),
            models.CheckConstraint(condition=Q(band__in=Band.values), name="grade_band_valid"),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        # The database checks this with a composite foreign key, on PostgreSQL only.
        if self.area_id is not None and self.area.scale_id != self.scale_id:
            raise ValidationError({"area": f"{self.area} is an area of {self.area.scale}."})


class CategoryOfConcern(models.TextChoices):
    SPECIAL_MEASURES = "special_measures", "Special measures"
    SERIOUS_WEAKNESSES = "serious_weaknesses", "Serious weaknesses"
    REQUIRES_SIGNIFICANT_IMPROVEMENT = (
        "requires_significant_improvement",
        "Requires significant improvement",
    )
    NOTICE_TO_IMPROVE = "notice_to_improve", "Notice to improve"


class InspectionQuerySet(models.QuerySet):
    def with_grades(self) -> InspectionQuerySet:
        """Everything headline_band reads, in two queries however many rows: the
        judgements come with their grade and area joined, not prefetched in two more."""
        judgements = Judgement.objects.select_related("grade", "area")
        return self.select_related("inspectorate", "scale", "overall_grade").prefetch_related(
            models.Prefetch("judgements", queryset=judgements)
        )


class Inspection(models.Model):
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="inspections"
    )
    inspectorate = models.ForeignKey(
        Inspectorate, on_delete=models.PROTECT, related_name="inspections"
    )
    scale = models.ForeignKey(RatingScale, on_delete=models.PROTECT, related_name="inspections")
    inspected_on = models.DateField()
    published_on = models.DateField(null=True, blank=True)
    report_url = models.URLField(blank=True)
    reference = models.CharField(
        max_length=50, blank=True, help_text="The inspectorate's inspection number."
    )
    overall_grade = models.ForeignKey(
        Grade, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category_of_concern = models.CharField(
        max_length=40, choices=CategoryOfConcern.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InspectionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-inspected_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(published_on__isnull=True)
                | Q(published_on__gte=models.F("inspected_on")),
                name="inspection_published_after_inspected",
            ),
            models.CheckConstraint(
                condition=Q(category_of_concern="")
                | Q(category_of_concern__in=CategoryOfConcern.values),
                name="inspection_category_valid",
            ),
            models.UniqueConstraint(fields=["id", "scale"], name="inspection_id_scale"),
        ]
        indexes = [
            # Latest inspection per institution.
            models.Index(
                fields=["institution", "-inspected_on"], name="inspection_latest_per_inst"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.inspectorate} inspection of {self.institution}, {self.inspected_on:%d %b %Y}"

    @property
    def headline_band(self) -> Band | None:
        """The band this inspection stands for, or None when nothing was graded.

        A category of concern makes it failing whatever the grades. Otherwise the
        overall grade's band; a report card has no overall grade, so the lowest band
        among its judgements (safeguarding 'Not met' is failing).
        """
        return headline_band(
            self.category_of_concern,
            self.overall_grade.band if self.overall_grade is not None else None,
            [judgement.grade.band for judgement in self.judgements.all()],
        )

    @property
    def headline_label(self) -> str:
        """The words for the headline: the overall grade, or the grade behind the band."""
        return headline_words(
            self.overall_grade.label if self.overall_grade is not None else None,
            [(j.area.name, j.grade.label, j.grade.band) for j in self.judgements.all()],
            self.headline_band,
        )

    def clean(self) -> None:
        """Refuse, as field errors, what the database would refuse or misread.

        The composite foreign keys that stop a grade from another scale exist on
        PostgreSQL only, so on the embedded SQLite default this is the only guard.
        """
        errors = {}
        if self.published_on and self.inspected_on and self.published_on < self.inspected_on:
            errors["published_on"] = "A report cannot be published before the inspection."
        scale = self.scale if self.scale_id is not None else None
        if (
            scale is not None
            and self.inspectorate_id
            and scale.inspectorate_id != self.inspectorate_id
        ):
            errors["scale"] = (
                f"{scale} is a scale of {scale.inspectorate}, not of {self.inspectorate}."
            )
        elif scale is not None and self.pk is not None and self._scale_changed_under_judgements():
            errors["scale"] = (
                "This inspection has judgements on its current scale: delete them and save "
                "before changing the scale."
            )
        grade = self.overall_grade if self.overall_grade_id is not None else None
        if grade is not None and scale is not None:
            if grade.scale_id != scale.pk:
                errors["overall_grade"] = f"“{grade}” is a grade of {grade.scale}, not of {scale}."
            elif grade.area_id is not None:
                errors["overall_grade"] = (
                    f"“{grade}” grades {grade.area} only; choose an overall grade."
                )
            elif not scale.has_overall_grade:
                errors["overall_grade"] = (
                    f"{scale} has no overall grade: leave it empty and grade the areas."
                )
        if errors:
            raise ValidationError(errors)

    def _scale_changed_under_judgements(self) -> bool:
        saved_scale = Inspection.objects.filter(pk=self.pk).values_list("scale_id", flat=True)
        return saved_scale.first() not in (None, self.scale_id) and self.judgements.exists()


class Judgement(models.Model):
    """The grade an inspection gave one evaluation area of its scale."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="judgements")
    # Copied from the inspection so the database can check, with composite foreign
    # keys, that the area and the grade both belong to the inspection's scale.
    scale = models.ForeignKey(RatingScale, on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey(EvaluationArea, on_delete=models.PROTECT, related_name="judgements")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["area__position"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "area"], name="judgement_one_per_area"),
        ]

    def __str__(self) -> str:
        return f"{self.area}: {self.grade}"

    def save(self, *args, **kwargs) -> None:
        if self.scale_id is None and self.inspection_id is not None:
            self.scale_id = self.inspection.scale_id
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """The area and the grade must both come from the inspection's scale.

        Reads the scale from the inspection, which in an admin inline may not be
        saved yet. A grade kept for one area (safeguarding's Met / Not met) fits only
        that area, and an area with grades of its own takes only those.
        """
        inspection_field = Judgement._meta.get_field("inspection")
        if self.inspection_id is not None or inspection_field.is_cached(self):
            scale_id = self.inspection.scale_id
        else:
            scale_id = self.scale_id
        area = self.area if self.area_id is not None else None
        grade = self.grade if self.grade_id is not None else None
        if scale_id is None:
            return
        errors = {}
        if area is not None and area.scale_id != scale_id:
            errors["area"] = f"{area} is an area of {area.scale}, not of this inspection's scale."
        if grade is not None and grade.scale_id != scale_id:
            errors["grade"] = (
                f"“{grade}” is a grade of {grade.scale}, not of this inspection's scale."
            )
        elif grade is not None and area is not None and "area" not in errors:
            if grade.area_id is not None and grade.area_id != area.pk:
                errors["grade"] = f"“{grade}” is a grade for {grade.area} only."
            elif grade.area_id is None and area.own_grades.exists():
                labels = ", ".join(area.own_grades.values_list("label", flat=True))
                errors["grade"] = f"{area} is graded {labels}."
        if errors:
            raise ValidationError(errors)


class LeadAssignment(models.Model):
    """A turnaround lead's responsibility for an institution over a period."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="lead_assignments"
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lead_assignments"
    )
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="lead_assignment_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["institution", "lead", "starts_on"], name="lead_assignment_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead} leads {self.institution} from {self.starts_on}"

    def clean(self) -> None:
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "An assignment cannot end before it starts."})


class ImportKind(models.TextChoices):
    """The published files an administrator can upload (see institutions/tasks.py)."""

    OFSTED_MI = "ofsted_mi", "Ofsted management information (school inspections)"
    GIAS_LINKS = "gias_links", "GIAS links (predecessors and successors)"


# How long the import task may run (tasks.py sets its time limits from this). A run
# still "running" after that lost its worker (killed, out of memory) and never will
# finish; the page says so rather than poll for ever.
IMPORT_TIME_LIMIT = datetime.timedelta(minutes=30)


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


def import_upload_path(run: ImportRun, filename: str) -> str:
    """Under imports/, named by a random id: the uploaded name is kept only in the row,
    so nothing a person typed becomes a path. MEDIA_ROOT is never served by failwell."""
    return f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.csv"


class ImportRunQuerySet(models.QuerySet):
    def claim(self, pk: int) -> bool:
        """Move a queued run to running; False if it is not queued any more.

        The conditional update is what makes the import task idempotent: of two
        deliveries of the same task, only the one whose update changes a row runs it.
        """
        return bool(
            self.filter(pk=pk, status=ImportStatus.QUEUED).update(
                status=ImportStatus.RUNNING, started_at=timezone.now()
            )
        )


class ImportRun(models.Model):
    """One uploaded file and what importing it did, written by the import task.

    The task claims it (queued -> running), writes rows done / total as it goes,
    then stores the report (ImportReport.as_dict()) and finishes, or fails with a
    message. Every write after the claim is conditional on the status still being
    running, so a late or duplicate task never overwrites a finished run.
    """

    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    file = models.FileField(upload_to=import_upload_path, max_length=200)
    filename = models.CharField(max_length=255, help_text="The name the file was uploaded with.")
    dry_run = models.BooleanField(
        default=False, help_text="Checked and reported, then rolled back: nothing saved."
    )
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    report = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_runs"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ImportKind.values), name="import_run_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values), name="import_run_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.filename} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("import-run", args=[self.pk])

    @property
    def is_lost(self) -> bool:
        """Running for longer than the task may run: its worker died without a word."""
        return (
            self.status == ImportStatus.RUNNING
            and self.started_at is not None
            and self.started_at < timezone.now() - IMPORT_TIME_LIMIT - datetime.timedelta(minutes=5)
        )

    @property
    def is_active(self) -> bool:
        """Queued or running (and not lost): the progress page keeps polling."""
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING) and not self.is_lost

    @property
    def progress_key(self) -> str:
        """Changes whenever the progress page would say something new."""
        return "lost" if self.is_lost else f"{self.status}-{self.rows_done}"

    @property
    def rejections(self) -> list[dict]:
        return (self.report or {}).get("rejected", [])

    def _while_running(self) -> models.QuerySet:
        return ImportRun.objects.filter(pk=self.pk, status=ImportStatus.RUNNING)

    def record_progress(self, done: int, total: int) -> None:
        """One cheap UPDATE, no model save: the task calls it every few hundred rows."""
        self._while_running().update(rows_done=done, rows_total=total)

    def finish(self, report: dict) -> bool:
        """Store the report and mark the run finished; False if it was not running."""
        rows = report.get("rows", 0)
        return bool(
            self._while_running().update(
                status=ImportStatus.FINISHED,
                report=report,
                rows_done=rows,
                rows_total=rows,
                finished_at=timezone.now(),
            )
        )

    def fail(self, message: str) -> bool:
        """Mark the run failed with a message for the administrator."""
        return bool(
            self._while_running().update(
                status=ImportStatus.FAILED, error=message, finished_at=timezone.now()
            )
        )
