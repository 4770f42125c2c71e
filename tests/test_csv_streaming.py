"""The institutions CSV export streams: rows are read from the database batch by batch
as the response is sent, and go out a line at a time, so a national export never
holds the whole file (or every row) in memory. docs/BENCHMARKS.md shows the peak
memory staying flat from a thousand rows to every school in England."""

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from failwell import dashboard
from tests.test_dashboard import make_many

pytestmark = pytest.mark.django_db

URL = "/export/institutions.csv"
BATCH = 10


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(dashboard, "EXPORT_BATCH", BATCH)


def reads(queries, table: str) -> int:
    """How many of the captured queries read from this table."""
    return sum(
        f'FROM "{table}"' in query["sql"] and query["sql"].startswith("SELECT")
        for query in queries.captured_queries
    )


def test_the_response_is_streamed_and_reads_no_row_before_it_is_sent(officer_client, small_batches):
    make_many(35)
    with CaptureQueriesContext(connection) as queries:
        response = officer_client.get(URL)
    assert isinstance(response, StreamingHttpResponse)
    assert not hasattr(response, "content")
    assert reads(queries, "institutions_identifier") == 0
    assert not any('"latest_headline_grade"' in q["sql"] for q in queries.captured_queries)


def test_rows_are_read_one_batch_at_a_time_as_the_file_is_consumed(officer_client, small_batches):
    make_many(35)
    chunks = iter(officer_client.get(URL).streaming_content)
    with CaptureQueriesContext(connection) as queries:
        opening = [next(chunks) for _ in range(3)]  # byte order mark, header, first row
    # One read of the institutions, and the identifiers and leads of the first batch only.
    assert reads(queries, "institutions_identifier") == 1
    assert reads(queries, "institutions_leadassignment") == 1
    assert opening[2].startswith(b"Bulk 0000,")

    with CaptureQueriesContext(connection) as queries:
        rest = list(chunks)
    assert reads(queries, "institutions_identifier") == 3  # batches 2, 3 and 4 of 35 rows
    assert reads(queries, "institutions_institution") == 0  # still the first read's cursor
    assert len(rest) == 34


def test_each_chunk_is_one_line_so_the_file_is_never_built_whole(officer_client):
    make_many(60)
    chunks = list(officer_client.get(URL).streaming_content)
    assert len(chunks) == 1 + 1 + 60  # byte order mark, header, a chunk per institution
    assert max(len(chunk) for chunk in chunks) < 400
    assert all(chunk.count(b"\n") == 1 for chunk in chunks[1:])
