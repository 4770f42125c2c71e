from django.apps import AppConfig


class InterventionsConfig(AppConfig):
    name = "interventions"

    def ready(self) -> None:
        # Every save and delete that can change a status flags its institution.
        from interventions import dirty

        dirty.connect()
