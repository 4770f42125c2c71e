"""Which writes make a status stale, and the institutions they make stale.

Connected to model signals (in apps.py) so that every save and delete - a form,
the admin, the shell - flags the institution inside the write's transaction.
Bulk paths (imports) bypass signals and call services.mark_dirty themselves.
"""

from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from institutions.models import (
    Grade,
    Inspection,
    Institution,
    Judgement,
    LineageLink,
    RatingScale,
    institutions_marked_dirty,
)
from interventions import services
from interventions.models import (
    Evidence,
    Indicator,
    Intervention,
    InterventionType,
    MethodSettings,
    Milestone,
)


def _flag_quietly(institutions) -> None:
    """Flag many institutions without queueing a task each: the sweep takes them."""
    institutions.update(needs_recompute=True, marked_dirty_at=timezone.now())


def inspection_changed(sender, instance: Inspection, **kwargs) -> None:
    services.mark_dirty([instance.institution_id])


def judgement_changed(sender, instance: Judgement, **kwargs) -> None:
    # On a cascade the inspection may already be gone; its own signal flags it.
    services.mark_dirty(
        Inspection.objects.filter(pk=instance.inspection_id).values_list(
            "institution_id", flat=True
        )
    )


def lineage_changed(sender, instance: LineageLink, **kwargs) -> None:
    services.mark_dirty([instance.predecessor_id, instance.successor_id])


def intervention_changed(sender, instance: Intervention, **kwargs) -> None:
    services.mark_dirty([instance.institution_id])


def milestone_changed(sender, instance: Milestone, **kwargs) -> None:
    services.mark_dirty(
        Intervention.objects.filter(pk=instance.intervention_id).values_list(
            "institution_id", flat=True
        )
    )


def evidence_changed(sender, instance: Evidence, **kwargs) -> None:
    services.mark_dirty([instance.institution_id])


def scale_changed(sender, instance, **kwargs) -> None:
    scale_id = instance.pk if isinstance(instance, RatingScale) else instance.scale_id
    _flag_quietly(Institution.objects.filter(inspections__scale_id=scale_id))


def intervention_type_changed(sender, instance: InterventionType, **kwargs) -> None:
    _flag_quietly(Institution.objects.filter(interventions__type=instance))


def indicator_changed(sender, instance: Indicator, **kwargs) -> None:
    _flag_quietly(Institution.objects.filter(evidence__indicator=instance))


def institutions_flagged(sender, institution_ids: list[int], **kwargs) -> None:
    """Institution.mark_dirty from the institutions app (imports): queue recomputes."""
    services.mark_dirty(institution_ids)


def method_settings_changed(sender, instance: MethodSettings, **kwargs) -> None:
    services.mark_all_dirty()


RECEIVERS = [
    (Inspection, inspection_changed),
    (Judgement, judgement_changed),
    (LineageLink, lineage_changed),
    (Intervention, intervention_changed),
    (Milestone, milestone_changed),
    (Evidence, evidence_changed),
    (RatingScale, scale_changed),
    (Grade, scale_changed),
    (InterventionType, intervention_type_changed),
    (Indicator, indicator_changed),
    (MethodSettings, method_settings_changed),
]


def connect() -> None:
    institutions_marked_dirty.connect(institutions_flagged, dispatch_uid="dirty-institutions")
    for model, receiver in RECEIVERS:
        post_save.connect(receiver, sender=model, dispatch_uid=f"dirty-{model.__name__}-save")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"dirty-{model.__name__}-del")
