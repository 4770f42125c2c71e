"""An institution's audit trail, and the History page that shows it.

django-simple-history keeps a shadow table per tracked model: one row per create,
change, retraction or delete, with who made it (the signed-in user, or nobody for
imports, management commands and workers: "the system") and when. The History page
lists every such row about one institution - the institution itself, its
identifiers, lineage links and lead assignments, its inspections and judgements,
interventions, milestones and evidence - newest first, each change as "field:
before -> after" in words.

A page costs the same number of queries however many changes it shows: one UNION
over the shadow tables picks the page (and one counts them all), one query per kind
fetches those rows together with the row just before each, and one per related
model names what the foreign keys point at.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import IntegerField, OuterRef, Q, Subquery, Value
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET

from failwell.access import get_institution_for_reader, is_administrator, is_officer, role_required
from institutions.models import (
    EvaluationArea,
    Identifier,
    Inspection,
    Inspectorate,
    Institution,
    Judgement,
    LeadAssignment,
    LineageLink,
)
from interventions.models import (
    Evidence,
    Indicator,
    Intervention,
    InterventionType,
    Milestone,
)

PAGE_SIZE = 25
SYSTEM = "the system"
NOT_SET = "not set"


@dataclass(frozen=True)
class Trail:
    """One tracked model: what its rows are called, and which belong to an institution."""

    kind: str
    model: type[models.Model]
    scope: Callable[[int], Q]

    @property
    def history(self) -> models.QuerySet:
        return self.model.history.all()


def _judgements_of(pk: int) -> Q:
    # Through the inspections' own history, so judgements of a deleted inspection stay.
    return Q(inspection_id__in=Inspection.history.filter(institution_id=pk).values("id"))


def _milestones_of(pk: int) -> Q:
    return Q(intervention_id__in=Intervention.history.filter(institution_id=pk).values("id"))


TRAILS = (
    Trail("Institution", Institution, lambda pk: Q(id=pk)),
    Trail("Identifier", Identifier, lambda pk: Q(institution_id=pk)),
    Trail("Lineage link", LineageLink, lambda pk: Q(predecessor_id=pk) | Q(successor_id=pk)),
    Trail("Lead assignment", LeadAssignment, lambda pk: Q(institution_id=pk)),
    Trail("Inspection", Inspection, lambda pk: Q(institution_id=pk)),
    Trail("Judgement", Judgement, _judgements_of),
    Trail("Intervention", Intervention, lambda pk: Q(institution_id=pk)),
    Trail("Milestone", Milestone, _milestones_of),
    Trail("Evidence", Evidence, lambda pk: Q(institution_id=pk)),
)


def changes_of(institution: Institution) -> models.QuerySet:
    """(history_date, history_id, trail index) of every history row about the
    institution, newest first: one query however many tables, so it pages in SQL."""
    parts = [
        trail.history.filter(trail.scope(institution.pk))
        .annotate(trail=Value(index, output_field=IntegerField()))
        .values_list("history_date", "history_id", "trail")
        .order_by()
        for index, trail in enumerate(TRAILS)
    ]
    return parts[0].union(*parts[1:], all=True).order_by("-history_date", "-trail", "-history_id")


# What a page shows ---------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class Change:
    """One history row as the page shows it."""

    when: datetime.datetime
    who: str
    action: str
    kind: str
    what: str
    reason: str = ""
    fields: list[FieldChange] = field(default_factory=list)


def page_of_changes(institution: Institution, number: str | int | None) -> Page:
    """One page of the institution's changes, as Change objects, newest first."""
    page = Paginator(changes_of(institution), PAGE_SIZE).get_page(number)
    page.object_list = _changes(list(page.object_list), institution)
    return page


def _changes(picked: list[tuple], institution: Institution) -> list[Change]:
    wanted: dict[int, list[int]] = defaultdict(list)
    for _, history_id, index in picked:
        wanted[index].append(history_id)
    records: dict[tuple[int, int], object] = {}
    previous: dict[tuple[int, int], object] = {}
    for index, ids in wanted.items():
        rows = _with_previous_rows(TRAILS[index], ids)
        by_object: dict[int, list] = defaultdict(list)
        for row in rows:
            by_object[row.id].append(row)
        for row in rows:
            if row.history_id in ids:
                records[(index, row.history_id)] = row
                earlier = [r for r in by_object[row.id] if r.history_id < row.history_id]
                if earlier:
                    previous[(index, row.history_id)] = max(earlier, key=lambda r: r.history_id)
    names = ObjectNames.for_records([*records.values(), *previous.values()])
    return [
        _describe(
            TRAILS[index], records[(index, pk)], previous.get((index, pk)), names, institution
        )
        for _, pk, index in picked
    ]


def _with_previous_rows(trail: Trail, ids: list[int]) -> list:
    """The history rows `ids` and, for each, the row before it of the same object.

    One query: the previous row's id is found by a correlated subquery.
    """
    history = trail.history
    previous_id = Subquery(
        history.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        .order_by("-history_id")
        .values("history_id")[:1]
    )
    previous_ids = history.filter(history_id__in=ids).annotate(previous=previous_id)
    return list(
        history.filter(Q(history_id__in=ids) | Q(history_id__in=previous_ids.values("previous")))
        .select_related("history_user")
        .order_by("history_id")
    )


# Naming the objects foreign keys point at -----------------------------------------


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def _inspection_name(inspection: Inspection) -> str:
    return f"{inspection.inspectorate.name} inspection of {_day(inspection.inspected_on)}"


def _intervention_name(intervention: Intervention) -> str:
    return f"{intervention.type.name} from {_day(intervention.started_on)}"


# How to name each related model, and what to load with it to do so without a query
# per object.
NAMERS: dict[type[models.Model], tuple[Callable[[models.Model], str], tuple[str, ...]]] = {
    Inspection: (_inspection_name, ("inspectorate",)),
    Intervention: (_intervention_name, ("type",)),
}


class ObjectNames:
    """Names of the objects that history rows point at, loaded one query per model."""

    def __init__(self, objects: dict[tuple[type, int], str]) -> None:
        self.objects = objects

    @classmethod
    def for_records(cls, records: Iterable) -> ObjectNames:
        wanted: dict[type, set[int]] = defaultdict(set)
        for record in records:
            for model_field in _foreign_keys(type(record)):
                value = getattr(record, model_field.attname)
                if value is not None:
                    wanted[_target(model_field)].add(value)
        names = {}
        for model, pks in wanted.items():
            namer, related = NAMERS.get(model, (_plain_name, ()))
            for obj in model._default_manager.select_related(*related).filter(pk__in=pks):
                names[(model, obj.pk)] = namer(obj)
        return cls(names)

    def name(self, model: type, pk: int | None) -> str:
        if pk is None:
            return NOT_SET
        return self.objects.get((model, pk), f"{model._meta.verbose_name} {pk} (deleted)")


def _plain_name(obj: models.Model) -> str:
    if isinstance(obj, get_user_model()):
        return _person(obj)
    return str(obj)


def _foreign_keys(history_model) -> list[models.ForeignKey]:
    return [
        f
        for f in history_model._meta.fields
        if isinstance(f, models.ForeignKey) and not f.name.startswith("history_")
    ]


def _target(model_field: models.ForeignKey) -> type[models.Model]:
    return model_field.remote_field.model


def _points_at(model_field: models.Field, model: type[models.Model]) -> bool:
    return isinstance(model_field, models.ForeignKey) and _target(model_field) is model


# Words ---------------------------------------------------------------------------


def _day(day: datetime.date | None) -> str:
    return date_format(day, "j M Y") if day else NOT_SET


def _value_words(model_field: models.Field, value, names: ObjectNames) -> str:
    if isinstance(model_field, models.ForeignKey):
        return names.name(_target(model_field), value)
    if value is None or value == "":
        return NOT_SET
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "j M Y, H:i")
    if isinstance(value, datetime.date):
        return _day(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# Evidence's file is stored under a random name nobody chose (interventions/
# attachments.py); the name it was uploaded with is what a person knows it by.
LABELS = {"attachment_name": "Attachment"}


def _label(model_field: models.Field) -> str:
    if model_field.name in LABELS:
        return LABELS[model_field.name]
    return str(model_field.verbose_name)[:1].upper() + str(model_field.verbose_name)[1:]


def _shown_fields(record) -> list[models.Field]:
    """The fields a person set, in the model's order: not the row's own id, nor a
    file's stored path (random, and served only through the app)."""
    return [
        f
        for f in record.tracked_fields
        if f.editable
        and f.name != "id"
        and not f.name.startswith("history_")
        and not isinstance(f, models.FileField)
    ]


def _field_changes(
    record, previous, names: ObjectNames, institution: Institution
) -> list[FieldChange]:
    shown = _shown_fields(record)
    if previous is None:
        # Created (or first seen): what it was created with, less the institution
        # whose page this is.
        return [
            FieldChange(_label(f), "", _value_words(f, getattr(record, f.attname), names))
            for f in shown
            if getattr(record, f.attname) not in (None, "")
            and not (_points_at(f, Institution) and getattr(record, f.attname) == institution.pk)
        ]
    changed = set(record.diff_against(previous).changed_fields)
    return [
        FieldChange(
            _label(f),
            _value_words(f, getattr(previous, f.attname), names),
            _value_words(f, getattr(record, f.attname), names),
        )
        for f in shown
        if f.name in changed or f.attname in changed
    ]


ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}


def _what(trail: Trail, record, names: ObjectNames) -> str:
    """The object a row is about, in the words the rest of failwell uses."""
    if trail.model is Institution:
        return record.name
    if trail.model is Identifier:
        return f"{record.get_scheme_display()} {record.value}"
    if trail.model is LineageLink:
        return (
            f"{names.name(Institution, record.predecessor_id)} became "
            f"{names.name(Institution, record.successor_id)} ({record.get_kind_display()})"
        )
    if trail.model is LeadAssignment:
        return f"{names.name(get_user_model(), record.lead_id)} as lead"
    if trail.model is Inspection:
        return f"{names.name(Inspectorate, record.inspectorate_id)} inspection of " + _day(
            record.inspected_on
        )
    if trail.model is Judgement:
        return (
            f"{names.name(EvaluationArea, record.area_id)}, "
            f"{names.name(Inspection, record.inspection_id)}"
        )
    if trail.model is Intervention:
        return f"{names.name(InterventionType, record.type_id)} from {_day(record.started_on)}"
    if trail.model is Milestone:
        return f"{record.title} ({names.name(Intervention, record.intervention_id)})"
    if record.indicator_id is not None:
        return (
            f"{names.name(Indicator, record.indicator_id)}: {record.value:g} "
            f"on {_day(record.observed_on)}"
        )
    return f"{record.get_direction_display()} observation on {_day(record.observed_on)}"


def _action(trail: Trail, record, previous) -> str:
    if (
        trail.model is Evidence
        and record.history_type == "~"
        and record.retracted_at is not None
        and (previous is None or previous.retracted_at is None)
    ):
        return "Retracted"
    return ACTIONS.get(record.history_type, "Changed")


def _describe(
    trail: Trail, record, previous, names: ObjectNames, institution: Institution
) -> Change:
    return Change(
        when=record.history_date,
        who=_person(record.history_user) if record.history_user else SYSTEM,
        action=_action(trail, record, previous),
        kind=trail.kind,
        what=_what(trail, record, names),
        reason=record.history_change_reason or "",
        fields=[]
        if record.history_type == "-"
        else _field_changes(record, previous, names, institution),
    )


# The page ------------------------------------------------------------------------


def can_see_history(user) -> bool:
    """DESIGN.md: a History view per institution for officers and administrators."""
    return is_officer(user) or is_administrator(user)


@require_GET
@role_required
def institution_history(request: HttpRequest, slug: str) -> HttpResponse:
    if not can_see_history(request.user):
        raise PermissionDenied(
            "The history of changes is for oversight officers and administrators."
        )
    institution = get_institution_for_reader(request, slug)
    page = page_of_changes(institution, request.GET.get("page"))
    return render(
        request,
        "failwell/history.html",
        {"institution": institution, "page_obj": page, "changes": page.object_list},
    )
