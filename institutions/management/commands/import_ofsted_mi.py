from institutions.management.import_command import EXIT_CODES, ImportCommand
from institutions.ofsted_mi import import_ofsted_mi


class Command(ImportCommand):
    help = (
        "Import Ofsted's monthly management information on state-funded school "
        "inspections (CSV as published: UTF-8 or Windows-1252; current report-card "
        "files and older 'Overall effectiveness' files). Creates or updates schools by "
        "URN, their inspections and judgements, and predecessor links; running the same "
        "file again changes nothing." + EXIT_CODES
    )

    def handle(self, *args, **options) -> None:
        self.run_import(import_ofsted_mi, options)
