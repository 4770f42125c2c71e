"""Forms turnaround leads use: log evidence, add a milestone, change a milestone's status,
retract evidence. Each states its rules as error messages a person can act on."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from failwell.widgets import DateInputs
from institutions.models import Institution
from interventions.attachments import attachment_type, safe_filename
from interventions.models import (
    Direction,
    Evidence,
    Indicator,
    Intervention,
    Milestone,
    MilestoneStatus,
)
from interventions.wording import format_date

EARLIEST_DATE = datetime.date(1900, 1, 1)


def date_field(label: str, *, required: bool = True, hint: str = "") -> forms.DateField:
    """A GOV.UK date input (day, month, year boxes) with GOV.UK-style messages."""
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInputs(),
        help_text=hint or "For example, 27 3 2024",
        error_messages={
            "required": f"Enter the {label.lower()}",
            "invalid": f"The {label.lower()} must be a real date, for example 27 3 2024",
        },
    )


def check_plausible(day: datetime.date | None, label: str) -> None:
    if day is not None and day < EARLIEST_DATE:
        raise forms.ValidationError(f"The {label.lower()} must be after 1 January 1900")


class InterventionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, intervention: Intervention) -> str:
        return f"{intervention.type} from {format_date(intervention.started_on)}"


class MilestoneChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, milestone: Milestone) -> str:
        due = format_date(milestone.due_on)
        return f"{milestone.title} ({milestone.intervention.type}, due {due})"


class ModelRulesInOurWords(forms.ModelForm):
    """A ModelForm whose clean() checks some of the model's rules itself, in the words
    of the page (which fields are shown, which type was chosen).

    The model's clean() and check constraints state the same rules generically, and
    would repeat each error, sometimes beside a field the page has hidden; so the
    model's errors on the fields in `rules_checked_here`, and its constraints' bare
    "Constraint ... is violated", are dropped. The rules still hold: a form's clean()
    refuses everything they would (tests/test_log_evidence.py, test_milestones.py).
    """

    rules_checked_here: frozenset[str] = frozenset()

    def _update_errors(self, errors: ValidationError) -> None:
        if hasattr(errors, "error_dict"):
            constraints = {
                constraint.get_violation_error_message()
                for constraint in self._meta.model._meta.constraints
            }
            kept = {}
            for field, messages in errors.error_dict.items():
                if field in self.rules_checked_here:
                    continue
                messages = [m for m in messages if m.message not in constraints]
                if messages:
                    kept[field] = messages
            if not kept:
                return
            errors = ValidationError(kept)
        super()._update_errors(errors)


class EvidenceForm(ModelRulesInOurWords):
    """An indicator value or a qualitative observation, about one institution.

    The page shows two forms, one per type, each sending `evidence_type` and only its
    own fields (no conditionally revealed questions, whose hidden fields browsers
    still send). So anything of the other type in a post is a mistake, and refused.
    Each form gets ids of its own (`value_summary`, `observation_summary`) since
    both are on the page; the names are the same.
    """

    VALUE = "value"
    OBSERVATION = "observation"
    TYPES = {VALUE: "an indicator value", OBSERVATION: "an observation"}
    rules_checked_here = frozenset({"indicator", "value", "direction"})

    evidence_type = forms.ChoiceField(
        label="Type of evidence",
        choices=list(TYPES.items()),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Say whether this is an indicator value or an observation",
            "invalid_choice": "Say whether this is an indicator value or an observation",
        },
    )
    observed_on = date_field(
        "Date observed", hint="When it was measured or seen. For example, 27 3 2024"
    )
    indicator = forms.ModelChoiceField(
        queryset=Indicator.objects.all(),
        required=False,
        empty_label="Choose an indicator",
        error_messages={"invalid_choice": "Choose one of the indicators in the list"},
    )
    value = forms.FloatField(
        required=False,
        label="Value",
        error_messages={"invalid": "The value must be a number, like 12 or 4.5"},
    )
    direction = forms.ChoiceField(
        required=False,
        label="Is this a sign of improvement?",
        choices=[
            (Direction.POSITIVE, "Positive: a sign of improvement"),
            (Direction.NEGATIVE, "Negative: a sign of decline"),
            (Direction.NEUTRAL, "Neutral: neither"),
        ],
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose positive, negative or neutral"},
    )
    summary = forms.CharField(
        required=False,
        label="Summary",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was measured or seen, and where it came from.",
    )
    intervention = InterventionChoiceField(
        queryset=Intervention.objects.none(),
        required=False,
        label="Intervention (optional)",
        empty_label="Not linked to an intervention",
        error_messages={"invalid_choice": "Choose one of this institution's interventions"},
    )
    milestone = MilestoneChoiceField(
        queryset=Milestone.objects.none(),
        required=False,
        label="Milestone (optional)",
        empty_label="Not linked to a milestone",
        error_messages={"invalid_choice": "Choose one of this institution's milestones"},
    )
    attachment = forms.FileField(
        required=False,
        label="Attachment (optional)",
        help_text="A document that backs this up, smaller than 10 MB: a PDF, PNG, JPEG, "
        "plain text (.txt), CSV, Word (.docx) or Excel (.xlsx) file.",
        error_messages={"empty": "The chosen file is empty"},
    )

    class Meta:
        model = Evidence
        fields = [
            "evidence_type",
            "indicator",
            "value",
            "direction",
            "summary",
            "observed_on",
            "intervention",
            "milestone",
            "attachment",
        ]

    def __init__(
        self, *args, institution: Institution, logged_by, evidence_type: str = "", **kwargs
    ) -> None:
        """`evidence_type` picks which of the page's two forms this is: its ids, its
        hidden type. A bound form takes it from the post, so give that."""
        self.kind = evidence_type if evidence_type in self.TYPES else self.VALUE
        kwargs.setdefault("instance", Evidence(institution=institution, logged_by=logged_by))
        kwargs.setdefault("auto_id", f"{self.kind}_%s")
        kwargs.setdefault("initial", {"evidence_type": self.kind})
        super().__init__(*args, **kwargs)
        self.institution = institution
        # Only this institution's interventions and milestones can be chosen, so a
        # posted id from elsewhere is an invalid choice, never a cross-link.
        self.fields["intervention"].queryset = Intervention.objects.filter(
            institution=institution
        ).select_related("type")
        self.fields["milestone"].queryset = Milestone.objects.filter(
            intervention__institution=institution
        ).select_related("intervention__type")

    def clean_observed_on(self) -> datetime.date:
        observed_on = self.cleaned_data["observed_on"]
        check_plausible(observed_on, "Date observed")
        if observed_on > timezone.localdate():
            raise forms.ValidationError(
                "The date observed must be today or in the past: evidence records "
                "what has already been measured or seen"
            )
        return observed_on

    def clean_attachment(self):
        """Checked by its content (interventions/attachments.py); then named after the
        type found, so the stored file's ending is that type's, and the name it came
        with is kept for the download."""
        attachment = self.cleaned_data.get("attachment")
        if not attachment:
            return attachment
        kind = attachment_type(attachment, attachment.name)
        self.instance.attachment_name = safe_filename(attachment.name, kind)
        attachment.name = f"attachment{kind.extension}"
        return attachment

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("evidence_type")
        if kind == self.VALUE:
            # Each mistake is reported on a field this type's form shows.
            if data.get("direction"):
                self.add_error(
                    "indicator",
                    "An indicator value has no direction: log the observation on its own",
                )
                return data
            if data.get("indicator") is None and "indicator" not in self.errors:
                self.add_error("indicator", "Choose the indicator this value measures")
            if data.get("value") is None and "value" not in self.errors:
                self.add_error("value", "Enter the value measured")
        elif kind == self.OBSERVATION:
            if data.get("indicator") is not None or data.get("value") is not None:
                self.add_error(
                    "direction",
                    "An observation has no indicator or value: log the value on its own",
                )
                return data
            if not data.get("direction") and "direction" not in self.errors:
                self.add_error(
                    "direction", "Choose whether the observation is positive, negative or neutral"
                )
            if not data.get("summary", "").strip():
                self.add_error("summary", "Describe what you observed")
        # A milestone says which intervention it belongs to; fill that in for the
        # person rather than asking twice. A different intervention is an error
        # (the model's clean names it).
        milestone = data.get("milestone")
        if (
            milestone is not None
            and data.get("intervention") is None
            and "intervention" not in self.errors
        ):
            data["intervention"] = milestone.intervention
        return data


class RetractEvidenceForm(forms.Form):
    reason = forms.CharField(
        label="Why are you retracting this evidence?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="It stays in the history, struck through, with this reason.",
        error_messages={
            "required": "Enter why you are retracting this evidence",
            "max_length": "The reason must be 2000 characters or fewer",
        },
    )

    def __init__(self, *args, evidence: Evidence, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.evidence = evidence

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Enter why you are retracting this evidence")
        return reason

    def clean(self) -> dict:
        data = super().clean()
        if self.evidence.is_retracted:
            raise forms.ValidationError(
                "This evidence was already retracted on "
                f"{format_date(timezone.localtime(self.evidence.retracted_at).date())}: "
                f"“{self.evidence.retraction_reason}”"
            )
        return data


class MilestoneForm(forms.ModelForm):
    """A new milestone of an intervention; it starts as planned."""

    title = forms.CharField(
        label="Milestone",
        max_length=200,
        help_text="What will be done, for example “New behaviour policy in every classroom”.",
        error_messages={
            "required": "Enter what the milestone is",
            "max_length": "The milestone must be 200 characters or fewer",
        },
    )
    due_on = date_field("Due date")
    notes = forms.CharField(
        required=False, label="Notes (optional)", widget=forms.Textarea(attrs={"rows": 2})
    )

    class Meta:
        model = Milestone
        fields = ["title", "due_on", "notes"]

    def __init__(self, *args, intervention: Intervention, **kwargs) -> None:
        kwargs.setdefault("instance", Milestone(intervention=intervention))
        super().__init__(*args, **kwargs)

    def clean_due_on(self) -> datetime.date:
        due_on = self.cleaned_data["due_on"]
        check_plausible(due_on, "Due date")
        return due_on


class MilestoneStatusForm(ModelRulesInOurWords):
    """Change a milestone's status. Met needs the date it was met; no other status has one."""

    rules_checked_here = frozenset({"achieved_on"})

    status = forms.ChoiceField(
        label="Status",
        choices=MilestoneStatus.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the milestone's status",
            "invalid_choice": "Choose planned, in progress, met, missed or dropped",
        },
    )
    achieved_on = date_field("Date met", required=False)

    class Meta:
        model = Milestone
        fields = ["status", "achieved_on"]

    def clean_achieved_on(self) -> datetime.date | None:
        achieved_on = self.cleaned_data["achieved_on"]
        check_plausible(achieved_on, "Date met")
        if achieved_on is not None and achieved_on > timezone.localdate():
            raise forms.ValidationError("The date met must be today or in the past")
        return achieved_on

    def clean(self) -> dict:
        data = super().clean()
        status, achieved_on = data.get("status"), data.get("achieved_on")
        if "achieved_on" in self.errors:
            return data
        if status == MilestoneStatus.MET and achieved_on is None:
            self.add_error("achieved_on", "Enter the date the milestone was met")
        elif status and status != MilestoneStatus.MET and achieved_on is not None:
            self.add_error(
                "achieved_on",
                "Only a met milestone has a date met: clear the date, or choose met",
            )
        return data


def status_form_prefix(milestone: Milestone) -> str:
    """Each milestone's form gets its own field names and ids: many share one page."""
    return f"milestone-{milestone.pk}"


def attach_status_forms(milestones: list[Milestone]) -> None:
    """Give each milestone an unbound status form as `status_form`, for its row."""
    for milestone in milestones:
        milestone.status_form = MilestoneStatusForm(
            instance=milestone, prefix=status_form_prefix(milestone)
        )
