"""The planner: every synthetic institution's history, from a seed.

Each institution draws from its own random generator, seeded with the run's seed
and the institution's key, so the same seed always gives the same data.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator

from django.utils.text import slugify

from failwell.synthetic.plans import (
    InstitutionPlan,
    Size,
    proportions,
)
from failwell.synthetic.rules import (
    FAILURE_RATES,
    FIRST_URN,
    STORIES,
)
from failwell.synthetic.stories import Histories
from failwell.synthetic.vocabulary import (
    INDICATORS,
    MAINTAINED_TYPES,
    NHS_REGIONS,
    PHASES,
    PLACE_ENDS,
    PLACE_STARTS,
    REGIONS,
    SCHOOL_FEATURES,
    SYNTHETIC_MARK,
)
from interventions.models import add_months


class Planner:
    """Plans every synthetic institution for one seed, size and period."""

    def __init__(
        self,
        seed: int,
        size: Size,
        end: datetime.date,
        years: int,
        higher_is_better: dict[str, bool] | None = None,
    ) -> None:
        self.seed = seed
        self.size = size
        self.histories = Histories(
            add_months(end, -12 * years),
            end,
            higher_is_better or {spec.slug: spec.higher_is_better for spec in INDICATORS},
        )
        rng = random.Random(f"{seed}:places")
        places = [a + b for a in PLACE_STARTS for b in PLACE_ENDS]
        rng.shuffle(places)
        self.places = places

    def rng(self, key: str) -> random.Random:
        return random.Random(f"{self.seed}:{key}")

    def plans(self) -> Iterator[InstitutionPlan]:
        """Councils with their children's services, then trusts, then schools.

        A parent or predecessor always comes before the institutions that name it.
        """
        yield from self._councils()
        yield from self._trusts()
        yield from self._schools()

    # Sectors ---------------------------------------------------------------

    def _failing(self, sector: str, count: int) -> dict[int, str]:
        """Which of `count` institutions fail, and the story each one follows."""
        rng = self.rng(f"failing:{sector}")
        failing = max(1, round(count * FAILURE_RATES[sector])) if count else 0
        chosen = sorted(rng.sample(range(count), failing))
        return dict(zip(chosen, proportions(rng, failing, STORIES), strict=True))

    def _councils(self) -> Iterator[InstitutionPlan]:
        council_stories = self._failing("local_authority", self.size.councils)
        children_stories = self._failing("childrens_services", self.size.councils)
        for index in range(self.size.councils):
            place = self.places[index]
            rng = self.rng(f"council:{index}")
            kind = rng.choice(["Borough Council", "County Council", "City Council", "Council"])
            number = index + 1
            council = InstitutionPlan(
                key=f"council:{index}",
                name=f"{place} {kind}{SYNTHETIC_MARK}",
                slug=f"{slugify(place)}-{slugify(kind)}-synthetic-{number:03d}",
                sector="local_authority",
                region=REGIONS[index % len(REGIONS)],
                identifiers=[("gss", f"E99{number:06d}")],
                local_authority=place,
            )
            self.histories.history(council, rng, council_stories.get(index))
            yield council
            children = InstitutionPlan(
                key=f"children:{index}",
                name=f"{place} Children's Services{SYNTHETIC_MARK}",
                slug=f"{slugify(place)}-childrens-services-synthetic-{number:03d}",
                sector="childrens_services",
                region=council.region,
                identifiers=[("other", f"SYN-CS-{number:03d}")],
                local_authority=place,
                parent_key=council.key,
            )
            self.histories.history(children, self.rng(children.key), children_stories.get(index))
            yield children

    def _trusts(self) -> Iterator[InstitutionPlan]:
        stories = self._failing("nhs_trust", self.size.trusts)
        for index in range(self.size.trusts):
            rng = self.rng(f"trust:{index}")
            place = self.places[(index * 7 + 3) % len(self.places)]
            other = self.places[(index * 13 + 5) % len(self.places)]
            name = rng.choice(
                [
                    f"{place} Hospitals NHS Foundation Trust",
                    f"{place} and {other} NHS Trust",
                    f"{place} Teaching Hospitals NHS Foundation Trust",
                    f"{place} Community Health NHS Trust",
                    f"{place} Mental Health NHS Foundation Trust",
                ]
            )
            code = f"ZS{index + 1:03d}"
            trust = InstitutionPlan(
                key=f"trust:{index}",
                name=name + SYNTHETIC_MARK,
                slug=f"{slugify(name)}-synthetic-{code.lower()}",
                sector="nhs_trust",
                region=NHS_REGIONS[index % len(NHS_REGIONS)],
                identifiers=[("ods", code)],
            )
            self.histories.history(trust, rng, stories.get(index))
            yield trust

    def _schools(self) -> Iterator[InstitutionPlan]:
        conversions = self.size.conversions
        sites = self.size.schools - conversions
        if sites <= 0:
            return
        # Half the conversions are sponsored academies replacing a failing school,
        # the rest good schools converting by choice.
        rng = self.rng("conversions")
        converting = sorted(rng.sample(range(sites), conversions))
        sponsored = set(converting[: (conversions + 1) // 2]) if conversions else set()
        others = sorted(set(range(sites)) - set(converting))
        stories = self._failing("school", len(others))
        story_of = {others[position]: story for position, story in stories.items()}
        estab_counters: dict[int, int] = {}
        successor_urn = FIRST_URN + sites

        def laestab(council: int) -> str:
            serial = estab_counters.get(council, 0)
            estab_counters[council] = serial + 1
            return f"{council + 1:03d}{2000 + serial:04d}"

        for index in range(sites):
            rng = self.rng(f"school:{index}")
            council = index % max(1, self.size.councils)
            place = self.places[council] if self.size.councils else "Nowhere"
            phase, word = _phase(rng)
            feature = rng.choice(SCHOOL_FEATURES)
            district = rng.choice(self.places)
            urn = FIRST_URN + index
            name = f"{district} {feature} {word}"
            school = InstitutionPlan(
                key=f"school:{index}",
                name=name + SYNTHETIC_MARK,
                slug=f"{slugify(name)}-synthetic-{urn}",
                sector="school",
                region=REGIONS[council % len(REGIONS)],
                identifiers=[("urn", str(urn)), ("laestab", laestab(council))],
                local_authority=place,
                phase=phase,
                establishment_type=rng.choice(MAINTAINED_TYPES),
                early_years=phase in ("Primary", "Nursery", "All-through"),
                sixth_form=phase == "All-through" or (phase == "Secondary" and rng.random() < 0.5),
            )
            if index not in converting:
                self.histories.history(school, rng, story_of.get(index))
                yield school
                continue
            academy_name = (
                f"{district} {feature} {'Academy' if phase != 'Primary' else 'Primary Academy'}"
            )
            academy = InstitutionPlan(
                key=f"academy:{index}",
                name=academy_name + SYNTHETIC_MARK,
                slug=f"{slugify(academy_name)}-synthetic-{successor_urn}",
                sector="school",
                region=school.region,
                identifiers=[("urn", str(successor_urn)), ("laestab", laestab(council))],
                local_authority=place,
                phase=phase,
                establishment_type="Academy sponsor led"
                if index in sponsored
                else "Academy converter",
                predecessor_key=school.key,
                early_years=school.early_years,
                sixth_form=school.sixth_form,
            )
            successor_urn += 1
            if index in sponsored:
                self.histories.sponsored_conversion(school, academy, rng)
            else:
                self.histories.converter(school, academy, rng)
            yield school
            yield academy


def _phase(rng: random.Random) -> tuple[str, str]:
    roll, total = rng.random(), 0.0
    for phase, share, word in PHASES:
        total += share
        if roll < total:
            return phase, word
    return PHASES[0][0], PHASES[0][2]
