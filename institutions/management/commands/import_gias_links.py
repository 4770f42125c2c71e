from institutions.gias_links import import_gias_links
from institutions.management.import_command import EXIT_CODES, ImportCommand


class Command(ImportCommand):
    help = (
        "Import a GIAS establishment links CSV (URN, LinkURN, LinkName, LinkType, "
        "LinkEstablishedDate) into lineage links between schools failwell holds; rows "
        "for other schools and links that are not a change of identity are skipped. "
        "Running the same file again changes nothing." + EXIT_CODES
    )

    def handle(self, *args, **options) -> None:
        self.run_import(import_gias_links, options)
