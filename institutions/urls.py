"""The institutions app's pages: importing published files. Included from failwell/urls.py."""

from django.urls import path

from institutions import views

urlpatterns = [
    path("imports/", views.upload, name="import-upload"),
    path("imports/<int:pk>/", views.import_run, name="import-run"),
    path("imports/<int:pk>/rejections.csv", views.rejections_csv, name="import-rejections"),
    path("imports/<int:pk>/queue/", views.queue_again, name="import-queue-again"),
]
