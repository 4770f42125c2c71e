"""Interventions in failing institutions, their milestones, the evidence staff log,
and the trajectory assessments computed from all of it."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from institutions.models import Institution, TrajectoryStatus
from interventions.attachments import evidence_upload_to, validate_attachment
from interventions.wording import format_quantity


class InterventionType(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    grace_months = models.PositiveSmallIntegerField(
        help_text="How long after it starts a dip in performance is expected, not decline."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Intensity(models.TextChoices):
    MONITORING = "monitoring", "Monitoring"
    DIRECTED = "directed", "Directed"
    TAKEOVER = "takeover", "Takeover"


class Outcome(models.TextChoices):
    ONGOING = "ongoing", "Ongoing"
    SUCCEEDED = "succeeded", "Succeeded"
    ESCALATED = "escalated", "Escalated"
    WITHDRAWN = "withdrawn", "Withdrawn"
    SUPERSEDED = "superseded", "Superseded"


class Intervention(models.Model):
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="interventions"
    )
    type = models.ForeignKey(InterventionType, on_delete=models.PROTECT, related_name="+")
    intensity = models.CharField(
        max_length=20, choices=Intensity.choices, default=Intensity.MONITORING
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_interventions",
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.ONGOING)
    objectives = models.TextField(blank=True)
    grace_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Leave blank to use the intervention type's default."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="intervention_ends_after_start",
            ),
            # An ongoing intervention has no end; one with an outcome has ended.
            models.CheckConstraint(
                condition=Q(outcome=Outcome.ONGOING, ended_on__isnull=True)
                | (~Q(outcome=Outcome.ONGOING) & Q(ended_on__isnull=False)),
                name="intervention_outcome_matches_end",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="intervention_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(intensity__in=Intensity.values), name="intervention_intensity_valid"
            ),
            # The target of evidence's composite foreign key (institution, intervention).
            models.UniqueConstraint(fields=["institution", "id"], name="intervention_inst_id"),
        ]
        indexes = [models.Index(fields=["institution", "started_on"], name="intervention_per_inst")]

    def __str__(self) -> str:
        return f"{self.type} at {self.institution} from {self.started_on:%d %b %Y}"

    def get_absolute_url(self) -> str:
        return reverse("intervention", args=[self.pk])

    @property
    def effective_grace_months(self) -> int:
        return self.grace_months if self.grace_months is not None else self.type.grace_months

    @property
    def grace_window_ends_on(self) -> datetime.date:
        return add_months(self.started_on, self.effective_grace_months)

    def clean(self) -> None:
        """An end after the start, and an outcome exactly when there is an end."""
        errors = {}
        if self.ended_on and self.started_on and self.ended_on < self.started_on:
            errors["ended_on"] = "An intervention cannot end before it starts."
        elif self.ended_on and self.outcome == Outcome.ONGOING:
            errors["outcome"] = (
                "An intervention that has ended needs its outcome: succeeded, escalated, "
                "withdrawn or superseded."
            )
        elif (
            not self.ended_on and self.outcome in Outcome.values and self.outcome != Outcome.ONGOING
        ):
            errors["ended_on"] = (
                f"Give the date it ended, or set the outcome back to ongoing "
                f"(it is {Outcome(self.outcome).label.lower()})."
            )
        if errors:
            raise ValidationError(errors)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    MET = "met", "Met"
    MISSED = "missed", "Missed"
    DROPPED = "dropped", "Dropped"


class Milestone(models.Model):
    intervention = models.ForeignKey(
        Intervention, on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField(max_length=200)
    due_on = models.DateField()
    status = models.CharField(
        max_length=20, choices=MilestoneStatus.choices, default=MilestoneStatus.PLANNED
    )
    achieved_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # updated_at is left out: the history row's own date says when.
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MilestoneStatus.values), name="milestone_status_valid"
            ),
            # Only a met milestone has an achieved date, and a met one always has.
            models.CheckConstraint(
                condition=Q(status=MilestoneStatus.MET, achieved_on__isnull=False)
                | (~Q(status=MilestoneStatus.MET) & Q(achieved_on__isnull=True)),
                name="milestone_achieved_only_when_met",
            ),
            # The target of evidence's composite foreign key (intervention, milestone).
            models.UniqueConstraint(fields=["intervention", "id"], name="milestone_intv_id"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.status == MilestoneStatus.MET and self.achieved_on is None:
            raise ValidationError({"achieved_on": "Give the date the milestone was met."})
        if self.status != MilestoneStatus.MET and self.achieved_on is not None:
            raise ValidationError(
                {
                    "achieved_on": "Only a met milestone has an achieved date: "
                    "clear the date or set the status to met."
                }
            )


class Indicator(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    unit = models.CharField(max_length=30, blank=True)
    higher_is_better = models.BooleanField(default=True)
    target = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Direction(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"


# Direction.choices builds its list anew at each call; a timeline names fifty.
DIRECTION_LABELS = dict(Direction.choices)


class EvidenceQuerySet(models.QuerySet):
    def current(self) -> EvidenceQuerySet:
        """Evidence that has not been retracted: what the trajectory method reads."""
        return self.filter(retracted_at__isnull=True)


def evidence_words(
    indicator_name: str | None, value: float | None, unit: str | None, direction: str
) -> str:
    """What a piece of evidence says, in a few words: "Attendance: 91.5%", or
    "Positive observation"."""
    if indicator_name is not None:
        quantity = "" if value is None else format_quantity(value, unit or "")
        return f"{indicator_name}: {quantity}"
    return f"{DIRECTION_LABELS.get(direction, direction)} observation"


class Evidence(models.Model):
    """An indicator value or a qualitative observation about an institution.

    Never deleted: a mistaken entry is retracted with a reason and stays in the
    history, so what an overseer once saw can always be explained.
    """

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="evidence")
    intervention = models.ForeignKey(
        Intervention, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    observed_on = models.DateField()
    indicator = models.ForeignKey(
        Indicator, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    value = models.FloatField(null=True, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    summary = models.TextField(blank=True)
    # Stored under a random name; checked by content, served only by the app (attachments.py).
    attachment = models.FileField(
        upload_to=evidence_upload_to, blank=True, validators=[validate_attachment]
    )
    attachment_name = models.CharField(
        max_length=255, blank=True, help_text="The name the attachment was uploaded with."
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="logged_evidence",
        help_text="Empty when the system logged it (an import).",
    )
    logged_at = models.DateTimeField(default=timezone.now)
    retracted_at = models.DateTimeField(null=True, blank=True)
    retracted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="retracted_evidence",
    )
    retraction_reason = models.TextField(blank=True)

    objects = EvidenceQuerySet.as_manager()
    # A retraction is a change like any other: its row shows the before and after.
    history = HistoricalRecords()

    class Meta:
        ordering = ["-observed_on", "-pk"]
        verbose_name_plural = "evidence"
        constraints = [
            # Either a value of an indicator, or an observation with a direction.
            models.CheckConstraint(
                condition=Q(indicator__isnull=False, value__isnull=False, direction="")
                | Q(indicator__isnull=True, value__isnull=True, direction__in=Direction.values),
                name="evidence_value_or_observation",
            ),
            models.CheckConstraint(
                condition=Q(milestone__isnull=True) | Q(intervention__isnull=False),
                name="evidence_milestone_needs_intervention",
            ),
            # Retracted means when, and why, both or neither.
            models.CheckConstraint(
                condition=Q(retracted_at__isnull=True, retraction_reason="")
                | (Q(retracted_at__isnull=False) & ~Q(retraction_reason="")),
                name="evidence_retraction_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["institution", "observed_on"], name="evidence_per_inst"),
        ]

    def __str__(self) -> str:
        if self.indicator_id:
            return f"{self.indicator}: {self.value:g} on {self.observed_on}"
        return f"{self.get_direction_display()} observation on {self.observed_on}"

    def clean(self) -> None:
        """Either an indicator value or an observation's direction, and links that agree.

        The intervention must be at the same institution and the milestone part of
        that intervention; PostgreSQL enforces this with composite foreign keys, so
        on SQLite this is the only guard.
        """
        errors = {}
        measured = self.indicator_id is not None or self.value is not None
        if self.indicator_id is not None and self.value is None:
            errors["value"] = "Give the value measured for this indicator."
        elif self.value is not None and self.indicator_id is None:
            errors["indicator"] = "Choose the indicator this value measures."
        if measured and self.direction:
            errors["direction"] = (
                "An indicator value has no direction: log the observation as separate evidence."
            )
        elif not measured and not self.direction:
            errors["direction"] = (
                "Give either an indicator and its value, or the direction of this observation."
            )
        intervention = self.intervention if self.intervention_id is not None else None
        if (
            intervention is not None
            and self.institution_id is not None
            and intervention.institution_id != self.institution_id
        ):
            errors["intervention"] = (
                f"That intervention is at {intervention.institution}, not at {self.institution}."
            )
        if self.milestone_id is not None:
            if intervention is None:
                errors["milestone"] = "Choose the intervention this milestone belongs to as well."
            elif self.milestone.intervention_id != intervention.pk:
                errors["milestone"] = (
                    f"“{self.milestone}” is a milestone of another intervention "
                    f"({self.milestone.intervention})."
                )
        if errors:
            raise ValidationError(errors)

    @property
    def is_retracted(self) -> bool:
        return self.retracted_at is not None

    def retract(self, by, reason: str) -> None:
        """Withdraw this evidence from the trajectory, keeping it and saying why.

        The row is locked and re-read first, so two people retracting at once get
        one retraction and one clear refusal, not two overwriting each other.
        """
        if not reason.strip():
            raise ValueError("Give a reason for retracting this evidence.")
        with transaction.atomic():
            if self.pk is not None:
                self.retracted_at = (
                    Evidence.objects.select_for_update()
                    .values_list("retracted_at", flat=True)
                    .get(pk=self.pk)
                )
            if self.is_retracted:
                raise ValueError("This evidence has already been retracted.")
            self._save_retraction(by, reason)

    def _save_retraction(self, by, reason: str) -> None:
        self.retracted_at = timezone.now()
        self.retracted_by = by
        self.retraction_reason = reason.strip()
        # The audit trail names whoever retracted, also outside a request (a command).
        self._history_user = by
        try:
            self.save(update_fields=["retracted_at", "retracted_by", "retraction_reason"])
        finally:
            del self._history_user

    def delete(self, *args, **kwargs):
        raise PermissionError("Evidence is never deleted; retract it with a reason instead.")


class TrajectoryAssessment(models.Model):
    """One point of an institution's status history.

    A row is written only when the status or its reasons change, so the rows are
    the history itself.
    """

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="assessments"
    )
    as_of = models.DateField()
    status = models.CharField(max_length=20, choices=TrajectoryStatus.choices)
    reasons = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    method_version = models.PositiveSmallIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-as_of", "-computed_at", "-pk"]
        indexes = [
            models.Index(
                fields=["institution", "-as_of", "-computed_at"], name="assessment_latest"
            ),
            models.Index(fields=["status", "as_of"], name="assessment_status_as_of"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=TrajectoryStatus.values), name="assessment_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution}: {self.get_status_display()} as of {self.as_of}"


class MethodSettings(models.Model):
    """The trajectory method's thresholds, which administrators may change.

    One row. Changing it marks every institution for recompute, since any status
    may depend on a threshold. Grace months live on each intervention type and
    intervention instead.
    """

    recovery_months = models.PositiveSmallIntegerField(
        default=24, help_text="A recovery that has held this long is sustained."
    )
    recovery_inspections = models.PositiveSmallIntegerField(
        default=2,
        help_text="Or this many consecutive inspections at or above standard, counting "
        "the one that ended the failure episode.",
    )
    baseline_points = models.PositiveSmallIntegerField(
        default=6, help_text="Indicator points before the reference date needed for XmR limits."
    )
    trend_points = models.PositiveSmallIntegerField(
        default=5, help_text="Without a baseline, points after it needed for a trend test."
    )
    p_value = models.FloatField(
        default=0.10, help_text="A trend is a signal when its Kendall tau p-value is below this."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "trajectory method settings"
        verbose_name_plural = "trajectory method settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(p_value__gt=0) & Q(p_value__lt=1), name="method_settings_p_value"
            ),
            models.CheckConstraint(
                condition=Q(baseline_points__gte=2) & Q(trend_points__gte=3),
                name="method_settings_enough_points",
            ),
        ]

    def __str__(self) -> str:
        return "Trajectory method settings"

    @classmethod
    def current(cls) -> MethodSettings:
        return cls.objects.order_by("pk").first() or cls()
