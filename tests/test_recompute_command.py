import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from institutions.models import Institution
from tests.factories import make_inspection, make_institution

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("recompute_trajectories", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_command_recomputes_everyone_and_summarises_status_changes():
    failing = make_institution()
    make_inspection(failing, overall="Inadequate", on=datetime.date(2016, 3, 1))
    make_institution()
    Institution.objects.update(status="unknown", needs_recompute=True)

    output = run()

    assert "Recomputed 2 institutions; 1 changed." in output
    assert "Unknown -> Failing: 1" in output
    assert Institution.objects.get(pk=failing.pk).status == "failing"


def test_the_command_can_take_some_institutions_only():
    chosen, other = make_institution(), make_institution()
    make_inspection(chosen, overall="Good")
    make_inspection(other, overall="Good")
    Institution.objects.update(status="unknown")
    run("--institution", chosen.slug)
    assert Institution.objects.get(pk=chosen.pk).status == "not_failing"
    assert Institution.objects.get(pk=other.pk).status == "unknown"


def test_an_unknown_slug_is_an_error_naming_it():
    with pytest.raises(CommandError, match="no-such-school"):
        run("--institution", "no-such-school")


def test_as_of_cannot_be_queued():
    with pytest.raises(CommandError, match="--as-of"):
        run("--queue", "--as-of", "2020-01-01")
