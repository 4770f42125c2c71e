"""Time the trajectory method on two typical histories, without Django or a database.

    uv run python bench/trajectory_timing.py

Prints microseconds per assess() and per replay() for an institution never in a
failure episode and for a J-curve with 3 indicators x 20 points; the recompute
pipeline's budget is 22,000 institutions in 30 s on one core, database included.
"""

import datetime
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from interventions.trajectory import (  # noqa: E402
    History,
    IndicatorPoint,
    InspectionFact,
    InterventionFact,
    MilestoneFact,
    assess,
    change_dates,
    replay,
)

D = datetime.date


def monthly(slug, name, higher_is_better, values, start=None):
    start = start or D(2009, 4, 1)
    points = []
    for n, value in enumerate(values):
        month_index = start.month - 1 + n
        on = D(start.year + month_index // 12, month_index % 12 + 1, 1)
        points.append(IndicatorPoint(slug, name, higher_is_better, on, value, "%"))
    return points


NEVER_FAILING = History(
    inspections=(
        InspectionFact(D(2009, 5, 1), "Ofsted", "at_standard", "Good"),
        InspectionFact(D(2013, 6, 1), "Ofsted", "below_standard", "Requires improvement"),
        InspectionFact(D(2016, 2, 1), "Ofsted", "at_standard", "Good"),
    )
)

# Special measures in Mar 2010; 11 points before it, a dip, then recovery; RI, Good, Good.
J_CURVE = History(
    inspections=(
        InspectionFact(D(2010, 3, 12), "Ofsted", "failing", "Inadequate", "Special measures"),
        InspectionFact(D(2011, 11, 15), "Ofsted", "below_standard", "Requires improvement"),
        InspectionFact(D(2013, 5, 1), "Ofsted", "at_standard", "Good"),
        InspectionFact(D(2015, 3, 2), "Ofsted", "at_standard", "Good"),
    ),
    interventions=(
        InterventionFact(
            D(2010, 3, 12),
            "Special measures",
            18,
            milestones=(
                MilestoneFact("Appoint head", D(2010, 9, 1), "met", D(2010, 8, 20)),
                MilestoneFact("Behaviour policy", D(2011, 1, 31), "missed"),
            ),
        ),
    ),
    points=tuple(
        monthly(
            "exclusions", "Exclusion rate", False, [4, 5] * 5 + [4.5, 7, 8, 9, 8, 6, 5, 4, 3, 2]
        )
        + monthly("attendance", "Attendance", True, [91, 92] * 5 + [91.5, 90, 91, 92, 93] * 2)
        + monthly("results", "Results", True, [40, 42] * 5 + [41, 43, 45, 46, 48, 50] + [51] * 4)
    ),
)


def microseconds(call, number):
    best = min(timeit.repeat(call, number=number, repeat=5))
    return best / number * 1e6


def main() -> None:
    as_of = D(2016, 6, 1)
    for label, history in (("never failing", NEVER_FAILING), ("J-curve, 3 x 20 points", J_CURVE)):
        dates = change_dates(history, as_of)
        print(
            f"{label:>24}: assess {microseconds(lambda h=history: assess(h, as_of), 2000):7.1f} us;"
            f" replay {microseconds(lambda h=history: replay(h, as_of), 50):8.1f} us"
            f" over {len(dates)} change dates ({len(replay(history, as_of))} rows kept);"
            f" status {assess(history, as_of).status}"
        )
    mid = D(2011, 12, 1)
    print(
        f"{'J-curve mid-episode':>24}: assess "
        f"{microseconds(lambda: assess(J_CURVE, mid), 2000):7.1f} us;"
        f" status {assess(J_CURVE, mid).status} on {mid}"
    )


if __name__ == "__main__":
    main()
