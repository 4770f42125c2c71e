"""Admin for institutions, their lineage, inspectorates, rating scales and inspections.

A rating scale that inspections use is shown read-only, grades and areas included:
past ratings must keep the meaning they were given, so a change makes a new
version (`RatingScale.new_version`) through the "Create new version" page.
Institutions, lineage links, lead assignments and inspections show their audit
trail under "History" (django-simple-history), with who changed what.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminDateWidget, AdminURLFieldWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    EvaluationArea,
    Grade,
    Identifier,
    ImportRun,
    Inspection,
    Inspectorate,
    Institution,
    Judgement,
    LeadAssignment,
    LineageLink,
    RatingScale,
)


class GradeChoiceField(forms.ModelChoiceField):
    """Grades named with their scale, since "Good" exists on many scales."""

    def label_from_instance(self, grade: Grade) -> str:
        area = f" ({grade.area.name} only)" if grade.area_id else ""
        return f"{grade.scale}: {grade.label}{area}"


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, area: EvaluationArea) -> str:
        return f"{area.scale}: {area.name}"


# Institutions ---------------------------------------------------------------


class IdentifierInline(admin.TabularInline):
    model = Identifier
    extra = 1


class PredecessorInline(admin.TabularInline):
    """Links in which this institution is the successor: where it came from."""

    model = LineageLink
    fk_name = "successor"
    fields = ["predecessor", "kind", "linked_on"]
    autocomplete_fields = ["predecessor"]
    extra = 0
    verbose_name = "predecessor"
    verbose_name_plural = "predecessors (what this institution replaced)"


class SuccessorInline(admin.TabularInline):
    """Links in which this institution is the predecessor: what it became."""

    model = LineageLink
    fk_name = "predecessor"
    fields = ["successor", "kind", "linked_on"]
    autocomplete_fields = ["successor"]
    extra = 0
    verbose_name = "successor"
    verbose_name_plural = "successors (what replaced this institution)"


class LeadAssignmentInline(admin.TabularInline):
    model = LeadAssignment
    fields = ["lead", "starts_on", "ends_on"]
    autocomplete_fields = ["lead"]
    extra = 0


@admin.register(Institution)
class InstitutionAdmin(SimpleHistoryAdmin):
    list_display = ["name", "sector", "region", "local_authority", "status", "status_since"]
    list_filter = ["sector", "region", "status", "needs_recompute"]
    search_fields = ["name", "slug", "local_authority", "identifiers__value"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    inlines = [IdentifierInline, PredecessorInline, SuccessorInline, LeadAssignmentInline]
    # The trajectory is computed by the workers, never typed in.
    readonly_fields = [
        "status",
        "status_since",
        "status_version",
        "needs_recompute",
        "marked_dirty_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "sector",
                    "region",
                    "local_authority",
                    "phase",
                    "establishment_type",
                    "parent",
                ]
            },
        ),
        (
            "Trajectory (computed)",
            {
                "classes": ["collapse"],
                "fields": [
                    "status",
                    "status_since",
                    "status_version",
                    "needs_recompute",
                    "marked_dirty_at",
                    "created_at",
                    "updated_at",
                ],
            },
        ),
    ]
    actions = ["mark_for_recompute"]

    @admin.action(description="Recompute the trajectory of the selected institutions")
    def mark_for_recompute(self, request: HttpRequest, queryset: QuerySet[Institution]) -> None:
        for institution in queryset:
            institution.mark_dirty()
        self.message_user(
            request, f"{len(queryset)} institutions will have their trajectory recomputed."
        )


@admin.register(LineageLink)
class LineageLinkAdmin(SimpleHistoryAdmin):
    list_display = ["predecessor", "successor", "kind", "linked_on"]
    list_filter = ["kind"]
    list_select_related = ["predecessor", "successor"]
    search_fields = [
        "predecessor__name",
        "successor__name",
        "predecessor__identifiers__value",
        "successor__identifiers__value",
    ]
    autocomplete_fields = ["predecessor", "successor"]
    date_hierarchy = "linked_on"


@admin.register(LeadAssignment)
class LeadAssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["lead", "institution", "starts_on", "ends_on"]
    list_filter = ["institution__sector"]
    list_select_related = ["lead", "institution"]
    search_fields = ["institution__name", "lead__username", "lead__first_name", "lead__last_name"]
    autocomplete_fields = ["institution", "lead"]
    date_hierarchy = "starts_on"


# Inspectorates and rating scales ---------------------------------------------


@admin.register(Inspectorate)
class InspectorateAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


def scale_in_use(request: HttpRequest, scale: RatingScale | None) -> bool:
    """Whether inspections use the scale, asked once per request however often the
    form, its inlines and their permission checks want to know."""
    if scale is None or scale.pk is None:
        return False
    cache = request.__dict__.setdefault("_failwell_scales_in_use", {})
    if scale.pk not in cache:
        cache[scale.pk] = scale.is_in_use()
    return cache[scale.pk]


def inspections(scale: RatingScale) -> str:
    count = scale.inspections.count()
    return f"{count} inspection{'' if count == 1 else 's'}"


class FrozenWhenInUseInline(admin.TabularInline):
    """Grades and areas of a scale in use can be seen, never added, changed or deleted."""

    extra = 1  # a blank row, so a grade can be added without JavaScript

    def has_add_permission(self, request: HttpRequest, obj: RatingScale | None = None) -> bool:
        return not scale_in_use(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: RatingScale | None = None) -> bool:
        return not scale_in_use(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: RatingScale | None = None) -> bool:
        return not scale_in_use(request, obj) and super().has_delete_permission(request, obj)


class EvaluationAreaInline(FrozenWhenInUseInline):
    model = EvaluationArea
    fields = ["position", "name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class GradeFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        """Two new grades with the same label (in any case) would break the database's
        case-insensitive uniqueness, which the per-form checks cannot see."""
        super().clean()
        seen = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            label = (form.cleaned_data.get("label") or "").strip().lower()
            area = form.cleaned_data.get("area")
            key = (label, area.pk if area else None)
            if label and key in seen:
                form.add_error("label", "This scale already has a grade with this label.")
            seen.add(key)


class GradeInline(FrozenWhenInUseInline):
    model = Grade
    formset = GradeFormSet
    fields = ["position", "label", "band", "area"]

    def get_formset(self, request: HttpRequest, obj: RatingScale | None = None, **kwargs):
        # Inline instances are made per request, so keeping the scale here is safe.
        self.scale = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "area":
            # Only this scale's areas; a new scale has none until it is saved.
            scale = getattr(self, "scale", None)
            kwargs["queryset"] = EvaluationArea.objects.filter(
                scale_id=scale.pk if scale is not None else None
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class NewVersionForm(forms.Form):
    effective_from = forms.DateField(
        widget=AdminDateWidget,
        help_text="The day the new version starts; the current one ends the day before.",
    )
    slug = forms.SlugField(max_length=80)

    def __init__(self, *args, scale: RatingScale, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scale = scale
        self.fields["slug"].initial = scale.next_version_slug()

    def clean_effective_from(self):
        day = self.cleaned_data["effective_from"]
        start = self.scale.effective_from
        if start is not None and day <= start:
            raise ValidationError(
                f"The new version must start after {self.scale} did "
                f"({date_format(start, 'j F Y')})."
            )
        return day

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if RatingScale.objects.filter(slug=slug).exists():
            raise ValidationError(f"A scale with the slug “{slug}” already exists.")
        return slug


@admin.register(RatingScale)
class RatingScaleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "inspectorate",
        "version",
        "effective_from",
        "effective_to",
        "has_overall_grade",
        "grade_labels",
        "in_use",
    ]
    list_filter = ["inspectorate", "has_overall_grade"]
    list_select_related = ["inspectorate"]
    search_fields = ["name", "slug", "grades__label"]
    fields = [
        "inspectorate",
        "name",
        "slug",
        "version",
        "previous_version",
        "effective_from",
        "effective_to",
        "has_overall_grade",
    ]
    inlines = [EvaluationAreaInline, GradeInline]
    actions = ["create_new_version"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RatingScale]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                used=Exists(Inspection.objects.filter(scale=OuterRef("pk"))),
            )
            .prefetch_related("grades")
        )

    @admin.display(boolean=True, description="In use", ordering="used")
    def in_use(self, scale: RatingScale) -> bool:
        return scale.used

    @admin.display(description="Grades, best first")
    def grade_labels(self, scale: RatingScale) -> str:
        return ", ".join(grade.label for grade in scale.grades.all() if grade.area_id is None)

    def get_readonly_fields(self, request: HttpRequest, obj: RatingScale | None = None):
        if scale_in_use(request, obj):
            return self.fields
        # Versions are made by "Create new version", never typed in.
        return ["version", "previous_version"]

    def has_delete_permission(self, request: HttpRequest, obj: RatingScale | None = None) -> bool:
        return not scale_in_use(request, obj) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        if change and scale_in_use(request, obj):
            return  # Every field is read-only: there is nothing to write.
        super().save_model(request, obj, form, change)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        scale = self.get_object(request, unquote(object_id))
        in_use = scale_in_use(request, scale)
        extra_context = {
            **(extra_context or {}),
            "scale_in_use": in_use,
            # Nothing on the page can change, so no button pretends it can save.
            "show_save": not in_use,
            "show_save_and_continue": not in_use,
            "show_save_and_add_another": not in_use,
            "inspection_count": scale.inspections.count() if scale is not None else 0,
            "next_version": RatingScale.objects.filter(previous_version=scale).first()
            if scale is not None
            else None,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        """Say why a scale in use cannot go, rather than a bare 403 or a ProtectedError."""
        scale = self.get_object(request, unquote(object_id))
        if scale is not None and scale_in_use(request, scale):
            self.message_user(
                request,
                f"{scale} cannot be deleted: it is used by {inspections(scale)}. "
                "To change it, create a new version.",
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse("admin:institutions_ratingscale_change", args=[scale.pk])
            )
        return super().delete_view(request, object_id, extra_context)

    def get_deleted_objects(self, objs, request: HttpRequest):
        """Name the scales in use as what blocks a bulk delete, with the way forward,
        instead of the generic "no permission" the per-object check would give."""
        in_use = [s for s in objs if scale_in_use(request, s)]
        if in_use:
            protected = [
                f"{s}: used by {inspections(s)}; create a new version instead" for s in in_use
            ]
            return [], {}, set(), protected
        return super().get_deleted_objects(objs, request)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/new-version/",
                self.admin_site.admin_view(self.new_version_view),
                name="institutions_ratingscale_new_version",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Create a new version of the selected scale")
    def create_new_version(
        self, request: HttpRequest, queryset: QuerySet[RatingScale]
    ) -> HttpResponse | None:
        if len(queryset) != 1:
            self.message_user(
                request, "Choose exactly one scale to make a new version of.", messages.WARNING
            )
            return None
        return HttpResponseRedirect(
            reverse("admin:institutions_ratingscale_new_version", args=[queryset[0].pk])
        )

    def new_version_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask for the new version's start date, then copy the scale with new_version."""
        scale = self.get_object(request, unquote(object_id))
        if scale is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not (self.has_add_permission(request) and self.has_view_permission(request, scale)):
            raise PermissionDenied
        newer = RatingScale.objects.filter(previous_version=scale).first()
        if newer is not None:
            self.message_user(
                request,
                f"{scale} already has a newer version, {newer}: make a new version of that one.",
                messages.WARNING,
            )
            return HttpResponseRedirect(
                reverse("admin:institutions_ratingscale_change", args=[newer.pk])
            )
        form = NewVersionForm(request.POST or None, scale=scale)
        if request.method == "POST" and form.is_valid():
            try:
                successor = scale.new_version(
                    form.cleaned_data["effective_from"], slug=form.cleaned_data["slug"]
                )
            except IntegrityError:
                # Someone made a version (or took the slug) since the checks above.
                form.add_error(None, "Another version was just created; reload and try again.")
            else:
                self.log_addition(request, successor, [{"added": {}}])
                self.log_change(request, scale, [{"changed": {"fields": ["Effective to"]}}])
                self.message_user(
                    request,
                    f"Created {successor}, from {date_format(successor.effective_from, 'j F Y')}. "
                    f"{scale} now ends on {date_format(scale.effective_to, 'j F Y')}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:institutions_ratingscale_change", args=[successor.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"New version of {scale}",
            "opts": self.opts,
            "original": scale,
            "form": form,
            "media": self.media + form.media,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/institutions/ratingscale/new_version.html", context)


# Inspections ------------------------------------------------------------------


class JudgementInline(admin.TabularInline):
    model = Judgement
    fields = ["area", "grade"]
    extra = 1

    def get_formset(self, request: HttpRequest, obj: Inspection | None = None, **kwargs):
        # Inline instances are made per request, so keeping the inspection here is safe.
        self.inspection = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        """Offer only the inspection's scale when showing it; a submitted choice from
        another scale still reaches Judgement.clean, whose message says what is wrong."""
        inspection = getattr(self, "inspection", None)
        scale_id = inspection.scale_id if inspection is not None else None
        if db_field.name == "grade":
            grades = Grade.objects.select_related("scale", "area")
            if scale_id and request.method == "GET":
                grades = grades.filter(scale_id=scale_id)
            kwargs.update(queryset=grades, form_class=GradeChoiceField)
        elif db_field.name == "area":
            areas = EvaluationArea.objects.select_related("scale")
            if scale_id and request.method == "GET":
                areas = areas.filter(scale_id=scale_id)
            kwargs.update(queryset=areas, form_class=AreaChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def https_by_default(db_field: models.Field, **kwargs) -> forms.Field | None:
    """Form fields as usual, with a report link typed without a scheme read as https."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class InspectionForm(forms.ModelForm):
    class Meta:
        model = Inspection
        formfield_callback = https_by_default
        fields = [
            "institution",
            "inspectorate",
            "scale",
            "inspected_on",
            "published_on",
            "reference",
            "report_url",
            "overall_grade",
            "category_of_concern",
        ]
        field_classes = {"overall_grade": GradeChoiceField}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "overall_grade" not in self.fields:
            return
        grades = Grade.objects.filter(area__isnull=True).select_related("scale", "area")
        if not self.is_bound and self.instance.scale_id:
            # Offer only the inspection's own scale, and nothing for a report card.
            grades = grades.filter(scale_id=self.instance.scale_id)
            if not self.instance.scale.has_overall_grade:
                grades = grades.none()
        self.fields["overall_grade"].queryset = grades


@admin.register(Inspection)
class InspectionAdmin(SimpleHistoryAdmin):
    form = InspectionForm
    list_display = [
        "inspected_on",
        "institution",
        "inspectorate",
        "scale",
        "overall_grade",
        "category_of_concern",
        "headline",
        "published_on",
    ]
    list_display_links = ["inspected_on", "institution"]
    list_filter = ["inspectorate", "scale", "category_of_concern", "overall_grade__band"]
    search_fields = ["institution__name", "institution__identifiers__value", "reference"]
    autocomplete_fields = ["institution"]
    date_hierarchy = "inspected_on"
    inlines = [JudgementInline]
    formfield_overrides = {
        models.URLField: {"widget": AdminURLFieldWidget, "assume_scheme": "https"}
    }

    def get_queryset(self, request: HttpRequest) -> QuerySet[Inspection]:
        return super().get_queryset(request).with_grades().select_related("institution")

    @admin.display(description="Headline")
    def headline(self, inspection: Inspection):
        band = inspection.headline_band
        if band is None:
            return "-"
        return format_html("{} <small>({})</small>", inspection.headline_label, band.label)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Uploads and their reports, to look at: files are uploaded, and run, from the
    import page (/imports/), never made or edited here."""

    list_display = ["created_at", "filename", "kind", "dry_run", "status", "uploaded_by"]
    list_filter = ["kind", "status", "dry_run"]
    list_select_related = ["uploaded_by"]
    search_fields = ["filename"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def view_on_site(self, run: ImportRun) -> str:
        return run.get_absolute_url()
