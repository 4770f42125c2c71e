"""Streaming CSV responses: rows go out as they are read, in constant memory.

A national list is tens of thousands of rows, so nothing here builds the file in
memory: the stdlib csv writer writes each row to a pseudo-buffer that hands the
line straight back, and StreamingHttpResponse sends it on.
"""

import csv
import itertools
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse

# Cells a spreadsheet would read as a formula. Names and summaries come from
# imported files and from people, so a leading one is neutralised with an
# apostrophe, as OWASP advises for CSV injection.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Excel opens a UTF-8 CSV as Windows-1252 unless the file starts with a byte order
# mark; officers open exports in Excel, and csv readers skip it with "utf-8-sig".
BYTE_ORDER_MARK = "\ufeff"


class _LineBuffer:
    """A file-like object whose write() returns the line instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def in_batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    """The rows in lists of `size`: an export reads what each batch needs besides
    (identifiers, leads) in one query per batch, so memory stays flat."""
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Each row as one CSV line, the first line preceded by a byte order mark."""
    writer = csv.writer(_LineBuffer())
    yield BYTE_ORDER_MARK
    for row in rows:
        yield writer.writerow([spreadsheet_safe(value) for value in row])


def streaming_csv_response(
    rows: Iterable[Sequence[object]], filename: str
) -> StreamingHttpResponse:
    """A download of `rows` (the header row first) as `filename`."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
