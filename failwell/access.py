"""Who may see and change what: roles, and the institution-level helpers (STYLE.md item 3).

The helpers for interventions, milestones and evidence are in interventions/access.py.

Officers and administrators read everything; a turnaround lead reads everything
and writes interventions, milestones and evidence only for institutions assigned
to them now. Anyone signed in without a role sees nothing but a refusal.
Writers get 404 for objects that don't exist and 403 for ones they may not change.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from failwell import sql_reads
from failwell.roles import ADMINISTRATOR, OVERSIGHT_OFFICER, ROLES, TURNAROUND_LEAD
from institutions.models import Institution, LeadAssignment


def roles_of(user) -> set[str]:
    """The user's role names, read once per request and cached on the user."""
    if not user.is_authenticated:
        return set()
    if not hasattr(user, "_failwell_roles"):
        with connection.cursor() as cursor:
            cursor.execute(roles_sql(), [user.pk, *ROLES])
            user._failwell_roles = {name for (name,) in cursor.fetchall()}
    return user._failwell_roles


@functools.cache
def roles_sql() -> str:
    """What `user.groups.filter(name__in=ROLES)` asks, written once: every signed-in
    request asks it, and through the ORM it cost four times the Python time of this."""
    quote = connection.ops.quote_name
    membership = get_user_model().groups.through._meta
    member = quote(membership.get_field("user").column)
    group = quote(membership.get_field("group").column)
    group_pk = quote(Group._meta.pk.column)
    names = ", ".join(["%s"] * len(ROLES))
    return (
        f"SELECT g.name FROM {quote(Group._meta.db_table)} g"
        f" JOIN {quote(membership.db_table)} m ON m.{group} = g.{group_pk}"
        f" WHERE m.{member} = %s AND g.name IN ({names})"
    )


def is_officer(user) -> bool:
    return OVERSIGHT_OFFICER in roles_of(user)


def is_lead(user) -> bool:
    return TURNAROUND_LEAD in roles_of(user)


def is_administrator(user) -> bool:
    return user.is_superuser or ADMINISTRATOR in roles_of(user)


def can_read(user) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(roles_of(user)))


def role_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and holding one of the three roles; otherwise the login page or 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not can_read(request.user):
            raise PermissionDenied("Your account has no failwell role yet.")
        return view(request, *args, **kwargs)

    return wrapper


def current_on(on: datetime.date, prefix: str = "") -> Q:
    """A lead assignment that is current on a day: started, and not ended before it.
    `prefix` reaches assignments through a relation, e.g. "lead_assignments__"."""
    return Q(**{f"{prefix}starts_on__lte": on}) & (
        Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": on})
    )


def current_assignments(on: datetime.date | None = None) -> QuerySet[LeadAssignment]:
    return LeadAssignment.objects.filter(current_on(on or timezone.localdate()))


def writable_institutions(user) -> QuerySet[Institution]:
    """Institutions this user may log interventions, milestones and evidence for."""
    if user.is_superuser:
        return Institution.objects.all()
    if not is_lead(user):
        return Institution.objects.none()
    return Institution.objects.filter(
        pk__in=current_assignments().filter(lead=user).values("institution_id")
    )


def can_write_for(user, institution: Institution) -> bool:
    return writable_institutions(user).filter(pk=institution.pk).exists()


def get_institution_for_reader(request: HttpRequest, slug: str) -> Institution:
    """The institution with this slug and its parent, in one query; 404 for none.

    Every institution view reads this first, the status poll every 2 seconds, so
    it is `select_related("parent")` and `get_object_or_404` in SQL written once:
    the ORM took 0.87 ms of Python to compile and read it, this 0.16 ms
    (failwell/sql_reads.py)."""
    with connection.cursor() as cursor:
        cursor.execute(institution_sql(), [slug])
        row = cursor.fetchone()
    if row is None:
        raise Http404("No Institution matches the given query.")
    width = len(Institution._meta.concrete_fields)
    institution = sql_reads.instance(Institution, row[:width])
    parent = None if row[width] is None else sql_reads.instance(Institution, row[width:])
    Institution.parent.field.set_cached_value(institution, parent)
    return institution


@functools.cache
def institution_sql() -> str:
    """An institution by slug, with its parent's columns after its own (NULLs for none)."""
    quote = connection.ops.quote_name
    meta = Institution._meta
    table = quote(meta.db_table)
    return (
        f"SELECT {sql_reads.columns(Institution, 'institution')},"
        f" {sql_reads.columns(Institution, 'parent')}"
        f" FROM {table} institution"
        f" LEFT JOIN {table} parent"
        f" ON parent.{quote(meta.pk.column)} = institution.{quote(meta.get_field('parent').column)}"
        f" WHERE institution.{quote(meta.get_field('slug').column)} = %s"
    )


def get_institution_for_writer(request: HttpRequest, slug: str) -> Institution:
    institution = get_institution_for_reader(request, slug)
    if not can_write_for(request.user, institution):
        raise PermissionDenied("You are not a lead for this institution.")
    return institution
