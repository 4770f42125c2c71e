"""What the published-CSV imports share: reading the file, the report they return,
and the words and dates that mean "nothing here".

A file is read whole before anything is written, so a file that cannot be used at
all (not text, not CSV, empty, missing a required column) is refused with nothing
written: `FileRejected`. Rows are then checked one by one; a bad row becomes a
`RowRejection` in the `ImportReport` and the good rows import.

Row numbers count the header as row 1, as a spreadsheet shows the file.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

ProgressCallback = Callable[[int, int], None]
"""Called as progress(rows_done, rows_total) at the start and after every batch."""

# Values Ofsted writes where there is nothing: no grade, no category, no date.
NOTHING = frozenset({"", "null", "9", "not judged", "not applicable", "n/a", "na"})

_UK_DATE = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})")
_URN = re.compile(r"\d{5,8}")


class FileRejected(Exception):
    """The file as a whole cannot be imported. Nothing was written."""


class RowProblem(Exception):
    """One row cannot be imported, because of the value in `field` (a published header)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class RowRejection:
    row: int  # 1-based, the header is row 1
    reason: str
    field: str = ""
    urn: str = ""

    def __str__(self) -> str:
        where = f"Row {self.row}" + (f" (URN {self.urn})" if self.urn else "")
        return f"{where}: {self.field + ': ' if self.field else ''}{self.reason}"

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "urn": self.urn, "reason": self.reason}


@dataclass
class ImportReport:
    """What an import did, row by row, for the command's summary and the upload page.

    Every data row lands in exactly one of created (its main institution is new),
    updated (something it holds was added or changed), unchanged, skipped (a row
    the import deliberately leaves alone, with the reason) or rejected.
    """

    source: str
    filename: str = ""
    encoding: str = ""
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter = field(default_factory=Counter)
    rejected: list[RowRejection] = field(default_factory=list)
    changes: Counter = field(default_factory=Counter)
    ignored_headers: list[str] = field(default_factory=list)

    @property
    def skipped_count(self) -> int:
        return sum(self.skipped.values())

    @property
    def changed_anything(self) -> bool:
        return bool(self.created or self.updated)

    def summary_lines(self) -> list[str]:
        lines = [
            f"{self.source}: {self.filename or 'uploaded file'} "
            f"({self.encoding}, {self.rows} data rows)",
        ]
        if self.dry_run:
            lines.append("Dry run: nothing was saved.")
        lines.append(
            f"Rows: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped_count} skipped, {len(self.rejected)} rejected."
        )
        if self.changes:
            lines.append(
                "Changes: " + ", ".join(f"{n} {what}" for what, n in sorted(self.changes.items()))
            )
        for reason, n in sorted(self.skipped.items()):
            lines.append(f"Skipped {n} rows: {reason}")
        if self.ignored_headers:
            lines.append("Columns not used: " + ", ".join(self.ignored_headers))
        return lines

    def as_dict(self) -> dict:
        """Plain data, for storing with a background task's result."""
        return {
            "source": self.source,
            "filename": self.filename,
            "encoding": self.encoding,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": dict(self.skipped),
            "rejected": [rejection.as_dict() for rejection in self.rejected],
            "changes": dict(self.changes),
            "ignored_headers": list(self.ignored_headers),
        }


Source = bytes | str | Path | BinaryIO


def read_source(source: Source) -> tuple[bytes, str]:
    """The file's bytes and a name for the report, from a path, bytes or an open binary file."""
    if isinstance(source, bytes):
        return source, ""
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            return path.read_bytes(), path.name
        except OSError as error:
            raise FileRejected(f"Cannot read {path}: {error.strerror or error}.") from None
    data = source.read()
    if isinstance(data, str):
        raise FileRejected("The file was opened as text; open it in binary mode ('rb').")
    return data, Path(getattr(source, "name", "") or "").name


def decode(data: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (a byte order mark is dropped), else Windows-1252.

    UTF-8 is tried strictly first because any file that decodes as UTF-8 is almost
    certainly UTF-8, while Windows-1252 accepts nearly any bytes.
    """
    if not data.strip():
        raise FileRejected("The file is empty.")
    if b"\x00" in data[:4096]:
        raise FileRejected(
            "This is not a CSV file (it holds binary data: a spreadsheet? Save it as CSV)."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as error:
        raise FileRejected(
            f"The file is neither UTF-8 nor Windows-1252 text (byte {error.start})."
        ) from None


def normalise_header(header: str) -> str:
    """Headers match whatever their case and spacing ('Latest OEIF  safeguarding' has two)."""
    return " ".join(header.split()).casefold()


@dataclass
class CsvTable:
    """A decoded CSV file: its headers, a way to read its rows, and how many there are."""

    text: str
    encoding: str
    headers: list[str]
    total: int
    positions: dict[str, int]  # normalised header -> column index

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, values) for each data row; blank lines are skipped, still counted."""
        reader = csv.reader(io.StringIO(self.text, newline=""), strict=True)
        next(reader)
        for number, values in enumerate(reader, start=2):
            if any(value.strip() for value in values):
                yield number, values

    def has(self, header: str) -> bool:
        return normalise_header(header) in self.positions

    def first_present(self, headers: tuple[str, ...]) -> str | None:
        """The first of these published spellings that the file has."""
        return next((header for header in headers if self.has(header)), None)


def read_table(data: bytes) -> CsvTable:
    """Decode and parse the whole file once, so a broken file is refused before any write."""
    text, encoding = decode(data)
    try:
        # Strict, so a stray or unclosed quote refuses the file rather than
        # swallowing every row after it into one field.
        records = csv.reader(io.StringIO(text, newline=""), strict=True)
        headers = next(records, None)
        total = sum(1 for values in records if any(value.strip() for value in values))
    except csv.Error as error:
        raise FileRejected(f"This is not a readable CSV file: {error}.") from None
    if not headers or not any(header.strip() for header in headers):
        raise FileRejected("The file has no header row.")
    positions: dict[str, int] = {}
    duplicates = []
    for index, header in enumerate(headers):
        key = normalise_header(header)
        if not key:
            continue
        if key in positions:
            duplicates.append(header.strip())
        positions[key] = index
    if duplicates:
        raise FileRejected("The header row repeats: " + ", ".join(sorted(set(duplicates))) + ".")
    if total == 0:
        raise FileRejected("The file has a header row but no data rows.")
    return CsvTable(text, encoding, [h.strip() for h in headers], total, positions)


def require_headers(table: CsvTable, required: list[str]) -> None:
    missing = [header for header in required if not table.has(header)]
    if missing:
        raise FileRejected(
            "Required columns are missing: "
            + ", ".join(f"'{header}'" for header in missing)
            + ". Is this the right file?"
        )


def is_nothing(value: str) -> bool:
    return value.strip().casefold() in NOTHING


def parse_uk_date(value: str, field: str) -> datetime.date | None:
    """dd/mm/yyyy (or d/m/yyyy, or with dashes as GIAS writes them); blank or NULL is None."""
    value = value.strip()
    if is_nothing(value) and value != "9":
        return None
    match = _UK_DATE.fullmatch(value)
    if match is None:
        raise RowProblem(field, f"'{value}' is not a date in dd/mm/yyyy form.")
    day, month, year = (int(part) for part in match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise RowProblem(field, f"'{value}' is not a real date.") from None


def parse_urn(value: str, field: str, *, required: bool = True) -> str:
    """A URN as digits, or '' when it may be blank and is."""
    value = value.strip()
    if is_nothing(value) and value != "9":
        if required:
            raise RowProblem(field, "is blank; every row needs one.")
        return ""
    if not _URN.fullmatch(value):
        raise RowProblem(field, f"'{value}' is not a URN (5 to 8 digits).")
    return value


def text_value(value: str, field: str, max_length: int) -> str:
    """A trimmed text value, '' for NULL, refused if it cannot fit its column."""
    value = " ".join(value.split())
    if value.casefold() in {"null", "n/a"}:
        return ""
    if len(value) > max_length:
        raise RowProblem(field, f"is longer than {max_length} characters.")
    return value
