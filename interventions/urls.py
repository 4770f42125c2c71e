"""The interventions app's pages and writes, included from failwell/urls.py at the root."""

from django.urls import path

from interventions import views

urlpatterns = [
    path("interventions/<int:pk>/", views.intervention, name="intervention"),
    path("interventions/<int:pk>/milestones/", views.add_milestone, name="add-milestone"),
    path("milestones/<int:pk>/status/", views.update_milestone, name="update-milestone"),
    path("evidence/<int:pk>/retract/", views.retract_evidence, name="retract-evidence"),
    path("evidence/<int:pk>/attachment/", views.evidence_attachment, name="evidence-attachment"),
]
