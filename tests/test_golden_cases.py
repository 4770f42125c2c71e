"""Golden cases: whole histories as failwell bundles, each with the status and reasons
DESIGN.md's trajectory method gives them, worked out by hand.

A case is `tests/cases/NAME.json` (a bundle, importable on its own with
`manage.py import_bundle`) and `tests/cases/NAME.expected.json`:

    {"shows": "what the case is about",
     "checks": [{"institution": "ref", "as_of": "yyyy-mm-dd", "status": "...",
                 "reasons": [{"rule": "grace_window", "phrases": ["...", "..."]}],
                 "absent": ["words no reason may contain"],
                 "xfail": "why the method is wrong here (optional)"}]}

The expectations live beside the bundle rather than inside it because the bundle
format refuses unknown top-level keys. Each check imports the bundle through the
real import command, recomputes through the real pipeline at its as_of, and
checks what was stored; `export_bundle --as-of` must then give the same
trajectory. tests/cases/README.md says why each expected status is right.
"""

from __future__ import annotations

import datetime
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command

from institutions.models import Institution, TrajectoryStatus
from interventions import services
from interventions.models import TrajectoryAssessment

CASES_DIR = Path(__file__).parent / "cases"
EXPECTED_SUFFIX = ".expected.json"
CASE_KEYS = {"shows", "checks"}
CHECK_KEYS = {"institution", "as_of", "status", "reasons", "absent", "xfail"}
REASON_KEYS = {"rule", "phrases"}
CASES_PER_STATUS = 2


@dataclass(frozen=True)
class Check:
    case: str
    bundle: Path
    institution: str
    as_of: datetime.date
    status: str
    reasons: tuple[tuple[str, tuple[str, ...]], ...]
    absent: tuple[str, ...]
    xfail: str | None

    @property
    def id(self) -> str:
        return f"{self.case}:{self.institution}@{self.as_of.isoformat()}"


def _keys(value: dict, allowed: set[str], required: set[str], where: str) -> None:
    """A malformed expectation file fails with its name and key, not a KeyError."""
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object")
    unknown, missing = set(value) - allowed, required - set(value)
    if unknown or missing:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")


def case_names() -> list[str]:
    return sorted(path.name.removesuffix(EXPECTED_SUFFIX) for path in expectation_files())


def expectation_files() -> list[Path]:
    return sorted(CASES_DIR.glob(f"*{EXPECTED_SUFFIX}"))


def bundle_files() -> list[Path]:
    return sorted(p for p in CASES_DIR.glob("*.json") if not p.name.endswith(EXPECTED_SUFFIX))


def load_checks(name: str) -> list[Check]:
    where = f"tests/cases/{name}{EXPECTED_SUFFIX}"
    expected = json.loads((CASES_DIR / f"{name}{EXPECTED_SUFFIX}").read_text(encoding="utf-8"))
    _keys(expected, CASE_KEYS, CASE_KEYS, where)
    checks = []
    for index, item in enumerate(expected["checks"]):
        at = f"{where} checks[{index}]"
        _keys(item, CHECK_KEYS, {"institution", "as_of", "status", "reasons"}, at)
        if item["status"] not in TrajectoryStatus.values:
            raise ValueError(f"{at}: unknown status {item['status']!r}")
        reasons = []
        for number, reason in enumerate(item["reasons"]):
            _keys(reason, REASON_KEYS, REASON_KEYS, f"{at} reasons[{number}]")
            reasons.append((reason["rule"], tuple(reason["phrases"])))
        checks.append(
            Check(
                case=name,
                bundle=CASES_DIR / f"{name}.json",
                institution=item["institution"],
                as_of=datetime.date.fromisoformat(item["as_of"]),
                status=item["status"],
                reasons=tuple(reasons),
                absent=tuple(item.get("absent", ())),
                xfail=item.get("xfail"),
            )
        )
    return checks


def check_params() -> list:
    params = []
    for name in case_names():
        for check in load_checks(name):
            marks = [pytest.mark.xfail(strict=True, reason=check.xfail)] if check.xfail else []
            params.append(pytest.param(check, id=check.id, marks=marks))
    return params


def import_case(bundle: Path) -> None:
    call_command("import_bundle", str(bundle), stdout=io.StringIO())


def exported_trajectory(slug: str, as_of: datetime.date) -> dict:
    out = io.StringIO()
    call_command("export_bundle", as_of=as_of.isoformat(), institution=[slug], stdout=out)
    entries = json.loads(out.getvalue())["institutions"]
    return next(entry for entry in entries if entry["ref"] == slug)["trajectory"]


def listing(reasons: list[dict]) -> str:
    return "\n".join(f"  [{r['rule']}] {r['text']}" for r in reasons)


@pytest.mark.django_db
@pytest.mark.parametrize("check", check_params())
def test_the_golden_case_gets_its_expected_status_and_reasons(check: Check):
    import_case(check.bundle)
    institution = Institution.objects.get(slug=check.institution)

    services.recompute(institution.pk, check.as_of)

    institution.refresh_from_db()
    latest = TrajectoryAssessment.objects.filter(institution=institution).latest("as_of", "pk")
    reasons = latest.reasons
    assert (institution.status, latest.status) == (check.status, check.status), (
        f"{check.id}: stored {institution.status}, expected {check.status}; reasons:\n"
        + listing(reasons)
    )
    for rule, phrases in check.reasons:
        assert any(
            r["rule"] == rule and all(phrase in r["text"] for phrase in phrases) for r in reasons
        ), f"{check.id}: no [{rule}] reason containing {list(phrases)}; reasons:\n" + listing(
            reasons
        )
    for phrase in check.absent:
        assert not any(phrase in r["text"] for r in reasons), (
            f"{check.id}: {phrase!r} should appear in no reason; reasons:\n" + listing(reasons)
        )

    assert exported_trajectory(check.institution, check.as_of) == {
        "status": latest.status,
        "as_of": check.as_of.isoformat(),
        "method_version": latest.method_version,
        "reasons": reasons,
    }


def test_every_case_has_a_bundle_and_expectations():
    bundles = {path.name.removesuffix(".json") for path in bundle_files()}
    assert bundles == set(case_names())


@pytest.mark.parametrize("name", case_names())
def test_every_case_bundle_marks_its_figures_as_illustrative_or_sourced(name: str):
    bundle = json.loads((CASES_DIR / f"{name}.json").read_text(encoding="utf-8"))
    notes = bundle.get("notes")
    text = " ".join(notes) if isinstance(notes, list) else notes or ""
    assert "illustrative" in text.lower(), f"{name}.json: its notes must say what is illustrative"


def test_every_status_has_at_least_two_golden_cases():
    cases_by_status: dict[str, set[str]] = {status: set() for status in TrajectoryStatus.values}
    for name in case_names():
        for check in load_checks(name):
            if not check.xfail:  # a case the method still gets wrong shows nothing yet
                cases_by_status[check.status].add(name)
    thin = {
        status: sorted(names)
        for status, names in cases_by_status.items()
        if len(names) < CASES_PER_STATUS
    }
    assert not thin, f"statuses with fewer than {CASES_PER_STATUS} golden cases: {thin}"


def test_the_readme_explains_every_case():
    readme = (CASES_DIR / "README.md").read_text(encoding="utf-8")
    missing = [name for name in case_names() if f"`{name}`" not in readme]
    assert not missing, f"tests/cases/README.md does not explain: {missing}"
