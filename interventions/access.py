"""Access helpers for the interventions app's objects: fetch with what the page
needs, 404 if it doesn't exist, 403 unless the user leads its institution now."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from failwell.access import can_write_for
from interventions.models import Evidence, Intervention, Milestone


def get_intervention_for_writer(request: HttpRequest, pk: int) -> Intervention:
    intervention = get_object_or_404(
        Intervention.objects.select_related("institution", "type", "lead"), pk=pk
    )
    if not can_write_for(request.user, intervention.institution):
        raise PermissionDenied("You are not a lead for this institution.")
    return intervention


def get_milestone_for_writer(request: HttpRequest, pk: int) -> Milestone:
    milestone = get_object_or_404(
        Milestone.objects.select_related("intervention__institution", "intervention__type"),
        pk=pk,
    )
    if not can_write_for(request.user, milestone.intervention.institution):
        raise PermissionDenied("You are not a lead for this institution.")
    return milestone


def get_evidence_for_writer(request: HttpRequest, pk: int) -> Evidence:
    evidence = get_object_or_404(Evidence.objects.select_related("institution", "indicator"), pk=pk)
    if not can_write_for(request.user, evidence.institution):
        raise PermissionDenied("You are not a lead for this institution.")
    return evidence
