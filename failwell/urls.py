from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from failwell import audit, bundle_download, dashboard, exports, health, institution_page, views

urlpatterns = [
    # One sign-in page for the whole site: the admin's own login sends people to it,
    # keeping ?next=.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path(
        "institutions/<slug:slug>/history/",
        audit.institution_history,
        name="institution-history",
    ),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("", dashboard.dashboard, name="dashboard"),
    path("export/institutions.csv", dashboard.export, name="dashboard-export"),
    path("export/", exports.export_options, name="export-options"),
    path("export/inspections.csv", exports.export_inspections, name="export-inspections"),
    path("export/interventions.csv", exports.export_interventions, name="export-interventions"),
    path("export/milestones.csv", exports.export_milestones, name="export-milestones"),
    path("export/evidence.csv", exports.export_evidence, name="export-evidence"),
    path(
        "institutions/<slug:slug>/bundle.json",
        bundle_download.institution_bundle,
        name="institution-bundle",
    ),
    path("institutions/<slug:slug>/", institution_page.institution, name="institution"),
    path("institutions/<slug:slug>/status/", institution_page.status, name="institution-status"),
    path(
        "institutions/<slug:slug>/timeline/",
        institution_page.timeline,
        name="institution-timeline",
    ),
    path("institutions/<slug:slug>/evidence/", institution_page.log_evidence, name="log-evidence"),
    path("", include("interventions.urls")),
    path("", include("institutions.urls")),
]
