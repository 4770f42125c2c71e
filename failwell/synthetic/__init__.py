"""England-sized synthetic histories, planned from a seed.

The planner decides what every synthetic institution's ten years look like - its
inspections, interventions, milestones and evidence - as plain dataclasses, with no
database access; the `generate_fixture` command writes the plans with bulk inserts.

Shapes follow what the trajectory method must cope with: most institutions never
fail; failures recover along a J-curve (worse for a few months after the
intervention starts, then better), stall, relapse after recovering, or deteriorate
until the intervention is escalated; about 2% of schools convert to academies under
a new URN, their history split between the two.

Everything is marked as synthetic: every name ends in "(synthetic)", URNs start at
900000, LAESTABs use local-authority numbers below 200, GSS codes start "E99" and
ODS codes "ZS", none of which real institutions use.

- vocabulary.py: names, places, indicators, milestone titles;
- rules.py: which scale, category of concern and intervention a date and sector get;
- plans.py: the dataclasses the planner fills;
- planner.py: the stories.
"""

from failwell.synthetic.planner import Planner
from failwell.synthetic.plans import InstitutionPlan, Size
from failwell.synthetic.vocabulary import INDICATORS, SYNTHETIC_MARK

__all__ = ["INDICATORS", "SYNTHETIC_MARK", "InstitutionPlan", "Planner", "Size"]
