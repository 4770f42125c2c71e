"""Import a failwell bundle (JSON) from a file or standard input, all or nothing."""

import sys

from django.core.management.base import BaseCommand, CommandError

from interventions.bundle import BundleError, import_bundle, parse_json


class Command(BaseCommand):
    help = (
        'Import a failwell bundle ("format": "failwell.bundle/1"). Idempotent: rows are '
        "matched by their natural keys, so importing the same file twice changes nothing. "
        "All or nothing: a file with any error writes nothing and lists every error."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help='The bundle, or "-" for standard input.')

    def handle(self, *args, file: str, **options):
        text = read_text(file)
        try:
            summary = import_bundle(parse_json(text))
        except BundleError as error:
            count = len(error.errors)
            listing = "\n".join(f"  {line}" for line in error.errors)
            raise CommandError(
                f"{file}: nothing imported; {count} error{'s' if count != 1 else ''}:\n{listing}"
            ) from None
        self.stdout.write(summary.table())
        self.stdout.write(
            f"{len(summary.dirty)} institution{'s' if len(summary.dirty) != 1 else ''} "
            "queued for recompute."
        )


def read_text(file: str) -> str:
    """The file's text (UTF-8, a byte-order mark allowed), or a CommandError saying why not."""
    try:
        if file == "-":
            return sys.stdin.buffer.read().decode("utf-8-sig")
        with open(file, encoding="utf-8-sig") as handle:
            return handle.read()
    except OSError as error:
        raise CommandError(f"Cannot read {file}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise CommandError(
            f"{file} is not UTF-8 text (byte {error.start}): a bundle is UTF-8 JSON."
        ) from None
