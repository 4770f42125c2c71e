from django.apps import AppConfig


class FailwellConfig(AppConfig):
    """The project package as an app, for the pages that span both apps and shared commands."""

    name = "failwell"
