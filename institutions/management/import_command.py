"""What the two CSV import commands share: arguments, the progress bar, the report."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from institutions.imports import FileRejected, ImportReport

EXIT_CODES = """
Exit status: 0 when the file was read, even if some rows were rejected (each is
listed with its row number, counting the header as row 1, and the column at fault;
the other rows are imported); 1 when the file is rejected as a whole (not CSV,
empty, or missing a required column), in which case nothing is written.
"""


class ImportCommand(BaseCommand):
    """A command that runs one import function on one file."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file, as published.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and report everything, then roll back: nothing is saved.",
        )
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Rows written together (default 500)."
        )

    def run_import(self, importer, options) -> ImportReport:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        # tqdm redraws its line with carriage returns, which Django's OutputWrapper
        # would break with newlines, so it writes to the stream underneath.
        stream = getattr(self.stderr, "_out", self.stderr)
        bars: list[tqdm] = []

        def progress(done: int, total: int) -> None:
            if not bars:
                bars.append(
                    tqdm(
                        total=total,
                        unit=" rows",
                        file=stream,
                        disable=options["verbosity"] == 0,
                    )
                )
            bars[0].update(done - bars[0].n)

        try:
            report = importer(
                options["file"],
                dry_run=options["dry_run"],
                progress=progress,
                batch_size=options["batch_size"],
            )
        except FileRejected as error:
            raise CommandError(f"{options['file']}: rejected, nothing imported. {error}") from None
        finally:
            for bar in bars:
                bar.close()
        for line in report.summary_lines():
            self.stdout.write(line)
        if report.rejected:
            self.stdout.write("Rejected rows (row 1 is the header):")
            for rejection in report.rejected:
                self.stdout.write(f"  {rejection}")
        return report
