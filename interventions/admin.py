"""Admin for intervention types, interventions, milestones, indicators, evidence and
the computed trajectory assessments.

Evidence is never deleted, here either: the admin has no delete permission for it,
and "Retract" asks for a reason and calls `Evidence.retract`, so the entry stays in
the history with why it no longer counts. Trajectory assessments are written only
by the recompute pipeline and are shown read-only. Interventions, milestones and
evidence show their audit trail under "History" (django-simple-history).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from simple_history.admin import SimpleHistoryAdmin

from .attachments import safe_filename
from .models import (
    Evidence,
    Indicator,
    Intervention,
    InterventionType,
    MethodSettings,
    Milestone,
    TrajectoryAssessment,
)


@admin.register(InterventionType)
class InterventionTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "grace_months"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class MilestoneInline(admin.TabularInline):
    model = Milestone
    fields = ["title", "due_on", "status", "achieved_on", "notes"]
    extra = 1


@admin.register(Intervention)
class InterventionAdmin(SimpleHistoryAdmin):
    list_display = [
        "institution",
        "type",
        "intensity",
        "lead",
        "started_on",
        "ended_on",
        "outcome",
        "grace_window_ends_on",
    ]
    list_display_links = ["institution", "type"]
    list_filter = ["outcome", "intensity", "type", "institution__sector"]
    search_fields = ["institution__name", "institution__identifiers__value", "objectives"]
    autocomplete_fields = ["institution", "lead"]
    date_hierarchy = "started_on"
    inlines = [MilestoneInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Intervention]:
        # Also what the autocomplete of evidence uses, whose labels name both.
        return super().get_queryset(request).select_related("institution", "type", "lead")

    @admin.display(description="Grace window ends")
    def grace_window_ends_on(self, intervention: Intervention):
        return intervention.grace_window_ends_on


@admin.register(Milestone)
class MilestoneAdmin(SimpleHistoryAdmin):
    list_display = ["title", "intervention", "due_on", "status", "achieved_on"]
    list_filter = ["status", "intervention__type"]
    search_fields = ["title", "intervention__institution__name"]
    autocomplete_fields = ["intervention"]
    date_hierarchy = "due_on"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Milestone]:
        return (
            super()
            .get_queryset(request)
            .select_related("intervention__institution", "intervention__type")
        )


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "unit", "higher_is_better", "target"]
    list_filter = ["higher_is_better"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class RetractedFilter(admin.SimpleListFilter):
    title = "retracted"
    parameter_name = "retracted"

    def lookups(self, request, model_admin):
        return [("no", "Current"), ("yes", "Retracted")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(retracted_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(retracted_at__isnull=False)
        return queryset


class RetractionForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why this evidence should no longer count. It stays in the history.",
        error_messages={"required": "Give a reason for retracting this evidence."},
    )

    def clean_reason(self) -> str:
        return self.cleaned_data["reason"].strip()


@admin.register(Evidence)
class EvidenceAdmin(SimpleHistoryAdmin):
    list_display = [
        "observed_on",
        "institution",
        "what",
        "short_summary",
        "logged_by",
        "logged_at",
        "is_retracted",
    ]
    list_display_links = ["observed_on", "institution"]
    list_filter = [RetractedFilter, "direction", "indicator", "institution__sector"]
    list_select_related = ["institution", "indicator", "logged_by"]
    search_fields = ["institution__name", "institution__identifiers__value", "summary"]
    autocomplete_fields = ["institution", "intervention", "milestone"]
    date_hierarchy = "observed_on"
    actions = ["retract_selected"]
    fields = [
        "institution",
        "intervention",
        "milestone",
        "observed_on",
        "indicator",
        "value",
        "direction",
        "summary",
        "attachment",
        "logged_by",
        "logged_at",
        "retracted_at",
        "retracted_by",
        "retraction_reason",
    ]
    always_read_only = ["logged_by", "logged_at", "retracted_at", "retracted_by"]

    def get_fields(self, request: HttpRequest, obj: Evidence | None = None):
        # MEDIA_ROOT is not served: logged evidence links its attachment to the app's
        # download instead of the stored (random, unreachable) path.
        if obj is not None:
            return ["attachment_download" if f == "attachment" else f for f in self.fields]
        return self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Evidence | None = None):
        # Logged evidence is history: a correction is a retraction plus a new entry.
        if obj is not None:
            return self.get_fields(request, obj)
        return [*self.always_read_only, "retraction_reason"]

    def has_delete_permission(self, request: HttpRequest, obj: Evidence | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj: Evidence, form, change) -> None:
        # Only new evidence is written: logged evidence is never rewritten in place.
        if not change:
            obj.logged_by = request.user
            if obj.attachment and not obj.attachment_name:
                # Before saving, the file still has the name it was uploaded with.
                obj.attachment_name = safe_filename(obj.attachment.name)
            super().save_model(request, obj, form, change)

    @admin.display(description="Evidence")
    def what(self, evidence: Evidence) -> str:
        if evidence.indicator_id:
            unit = evidence.indicator.unit
            return f"{evidence.indicator}: {evidence.value:g}{unit if unit == '%' else ''}"
        return evidence.get_direction_display()

    @admin.display(description="Attachment")
    def attachment_download(self, evidence: Evidence) -> str:
        """A link to the download, named as uploaded (the stored name is random)."""
        if not evidence.attachment:
            return "-"
        name = evidence.attachment_name or f"evidence-{evidence.pk}"
        return format_html(
            '<a href="{}">{}</a>', reverse("evidence-attachment", args=[evidence.pk]), name
        )

    @admin.display(description="Summary")
    def short_summary(self, evidence: Evidence) -> str:
        return Truncator(evidence.summary).chars(80)

    @admin.display(boolean=True, description="Retracted", ordering="retracted_at")
    def is_retracted(self, evidence: Evidence) -> bool:
        return evidence.is_retracted

    def get_urls(self):
        return [
            path(
                "<path:object_id>/retract/",
                self.admin_site.admin_view(self.retract_view),
                name="interventions_evidence_retract",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        evidence = self.get_object(request, unquote(object_id))
        extra_context = {
            **(extra_context or {}),
            "can_retract": evidence is not None
            and not evidence.is_retracted
            and self.has_change_permission(request, evidence),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def retract_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Retract one piece of evidence, from the button on its change page."""
        evidence = self.get_object(request, unquote(object_id))
        if evidence is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, evidence):
            raise PermissionDenied
        change_url = reverse("admin:interventions_evidence_change", args=[evidence.pk])
        if evidence.is_retracted:
            self.message_user(request, "This evidence is already retracted.", messages.WARNING)
            return HttpResponseRedirect(change_url)
        form = RetractionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            evidence.retract(request.user, form.cleaned_data["reason"])
            self.log_change(request, evidence, f"Retracted: {evidence.retraction_reason}")
            self.message_user(request, f"Retracted “{evidence}”.", messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        return self._render_retraction(request, form, [evidence])

    @admin.action(description="Retract the selected evidence", permissions=["change"])
    def retract_selected(
        self, request: HttpRequest, queryset: QuerySet[Evidence]
    ) -> HttpResponse | None:
        """Ask for one reason, then retract every selected entry not retracted yet."""
        current = list(queryset.current().select_related("institution", "indicator"))
        if not current:
            self.message_user(
                request, "The selected evidence is already retracted.", messages.WARNING
            )
            return None
        form = RetractionForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            for evidence in current:
                evidence.retract(request.user, form.cleaned_data["reason"])
                self.log_change(request, evidence, f"Retracted: {evidence.retraction_reason}")
            skipped = len(queryset) - len(current)
            note = f" ({skipped} already retracted, left as they were)" if skipped else ""
            self.message_user(
                request, f"Retracted {len(current)} evidence entries{note}.", messages.SUCCESS
            )
            return None
        return self._render_retraction(request, form, current, action="retract_selected")

    def _render_retraction(
        self, request: HttpRequest, form: RetractionForm, evidence: list[Evidence], action=""
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Retract evidence",
            "opts": self.opts,
            "form": form,
            "evidence_list": evidence,
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/interventions/evidence/retract.html", context)


@admin.register(TrajectoryAssessment)
class TrajectoryAssessmentAdmin(admin.ModelAdmin):
    """The status history, written only by the recompute pipeline."""

    list_display = ["institution", "as_of", "status", "method_version", "computed_at"]
    list_filter = ["status", "method_version"]
    list_select_related = ["institution"]
    search_fields = ["institution__name", "institution__identifiers__value"]
    date_hierarchy = "as_of"
    fields = ["institution", "as_of", "status", "reason_list", "method_version", "computed_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="Reasons")
    def reason_list(self, assessment: TrajectoryAssessment):
        return format_html_join(
            "", "<li>{}</li>", ((_reason_words(reason),) for reason in assessment.reasons or [])
        )


def _reason_words(reason) -> str:
    """A stored reason as a person reads it: its own words if it has them."""
    if isinstance(reason, dict):
        for key in ("text", "summary", "message", "description"):
            if reason.get(key):
                return str(reason[key])
        return json.dumps(reason, sort_keys=True, default=str)
    return str(reason)


@admin.register(MethodSettings)
class MethodSettingsAdmin(admin.ModelAdmin):
    """The trajectory thresholds: one row, changed in place, never deleted."""

    list_display = [
        "__str__",
        "recovery_months",
        "recovery_inspections",
        "baseline_points",
        "trend_points",
        "p_value",
        "updated_at",
    ]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not MethodSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
