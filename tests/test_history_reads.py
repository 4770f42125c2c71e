"""failwell.history_reads with nothing to read: no statement is sent (an empty
`IN ()` is a syntax error on PostgreSQL), and nothing comes back."""

import pytest

from failwell import history_reads

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "read",
    [
        history_reads.inspection_rows,
        history_reads.interventions,
        history_reads.milestones,
        history_reads.lineage_evidence,
        history_reads.in_full,
    ],
)
def test_reading_for_no_ids_sends_no_query(read, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert not read([])
