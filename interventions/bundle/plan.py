"""Checking a whole bundle into a plan, before anything is written.

`build_plan` reads the reference data it needs from the database (scales, types,
indicators, the institutions the bundle may match), checks the whole file and
either returns a `Plan` that load.py can write without further checks, or raises
`BundleError` listing every problem, each named by its JSON path.
"""

from __future__ import annotations

import json
from typing import Any

from institutions.models import (
    Identifier,
    IdentifierScheme,
    Inspectorate,
    Institution,
    LineageKind,
    Sector,
)
from interventions.bundle.reader import FORMAT, BundleError, Checker, kind_of, max_length, one_of
from interventions.bundle.rows import check_evidence, check_inspection, check_intervention
from interventions.bundle.scales import ScaleSpec, check_scale, known_scales
from interventions.bundle.specs import CheckContext, InstitutionSpec, Plan
from interventions.models import (
    Indicator,
    Intervention,
    InterventionType,
    Milestone,
)

TOP_KEYS = {"format", "notes", "inspectorates", "indicators", "rating_scales", "institutions"}
INSTITUTION_KEYS = {
    "ref",
    "name",
    "sector",
    "region",
    "local_authority",
    "phase",
    "establishment_type",
    "parent",
    "identifiers",
    "successor_of",
    "inspections",
    "interventions",
    "evidence",
    "notes",
    "trajectory",
}


def build_plan(data: Any) -> Plan:
    """Check a parsed bundle against itself and the database; the plan, or BundleError."""
    check = Checker()
    top = check.object(data, "$", TOP_KEYS)
    if top is None:
        raise BundleError(check.errors)
    if top.get("format") != FORMAT:
        check.error(
            "format", f'{json.dumps(top.get("format"))} is not a known format; expected "{FORMAT}"'
        )
        raise BundleError(check.errors)
    if "notes" in top and not isinstance(top["notes"], str | list):
        check.error("notes", "expected a string or a list of strings")

    inspectorates: dict[str, str | None] = {}
    for path, item in check.items(top, "inspectorates", ""):
        if check.object(item, path, {"slug", "name"}, required=("slug",)) is None:
            continue
        slug = check.slug(item, "slug", path, max_length(Inspectorate, "slug"))
        name = check.text(item, "name", path, limit=max_length(Inspectorate, "name"), blank=False)
        if slug:
            inspectorates[slug] = name

    known_inspectorates = set(Inspectorate.objects.values_list("slug", flat=True))
    scales = known_scales()
    new_scales: list[ScaleSpec] = []
    unchanged_scales = 0
    for path, item in check.items(top, "rating_scales", ""):
        spec = check_scale(check, item, path)
        if spec is None:
            continue
        if spec.slug in scales and spec.slug not in {s.slug for s in new_scales}:
            if scales[spec.slug].definition() != spec.definition():
                check.error(
                    path,
                    f"scale {spec.slug} already exists with a different definition "
                    f"({scales[spec.slug].describe()}); a scale is never edited in place, "
                    "so give the changed scale a new slug",
                )
            unchanged_scales += 1
            continue
        if spec.slug in {s.slug for s in new_scales}:
            check.error(f"{path}.slug", f"scale {spec.slug} is defined twice")
            continue
        scales[spec.slug] = spec
        new_scales.append(spec)
        inspectorates.setdefault(spec.inspectorate, None)

    indicators = {i.slug: i for i in Indicator.objects.all()}
    indicator_specs: list[tuple[str, dict[str, Any]]] = []
    for path, item in check.items(top, "indicators", ""):
        spec = _check_indicator(check, item, path, indicators)
        if spec is not None:
            if spec[0] in {slug for slug, _ in indicator_specs}:
                check.error(f"{path}.slug", f"indicator {spec[0]} is defined twice")
                continue
            indicator_specs.append(spec)
    indicator_slugs = set(indicators) | {slug for slug, _ in indicator_specs}

    context = CheckContext(
        check=check,
        scales=scales,
        inspectorates=known_inspectorates | set(inspectorates),
        types=set(InterventionType.objects.values_list("slug", flat=True)),
        indicators=indicator_slugs,
    )
    institutions = _check_institutions(context, top)
    for spec in institutions:
        for inspection in spec.inspections:
            if inspection.inspectorate not in known_inspectorates:
                inspectorates.setdefault(inspection.inspectorate, None)
    if check.errors:
        raise BundleError(check.errors)
    return Plan(
        inspectorates=inspectorates,
        new_scales=new_scales,
        indicators=indicator_specs,
        institutions=institutions,
        unchanged_scales=unchanged_scales,
    )


def _check_indicator(
    check: Checker, item: Any, path: str, existing: dict[str, Indicator]
) -> tuple[str, dict[str, Any]] | None:
    keys = {"slug", "name", "unit", "higher_is_better", "target"}
    if check.object(item, path, keys, required=("slug", "name")) is None:
        return None
    slug = check.slug(item, "slug", path, max_length(Indicator, "slug"))
    values: dict[str, Any] = {}
    check.given(
        item, values, "name", check.text(item, "name", path, limit=max_length(Indicator, "name"))
    )
    unit = check.text(item, "unit", path, limit=max_length(Indicator, "unit"))
    check.given(item, values, "unit", unit, empty="")
    higher = check.boolean(item, "higher_is_better", path)
    check.given(item, values, "higher_is_better", higher, empty=True)
    check.given(item, values, "target", check.number(item, "target", path))
    if slug is None:
        return None
    stored = existing.get(slug)
    flipped = "higher_is_better" in values and stored is not None
    if flipped and values["higher_is_better"] != stored.higher_is_better:
        check.error(
            f"{path}.higher_is_better",
            f"indicator {slug} already exists with higher_is_better "
            f"{json.dumps(stored.higher_is_better)}; an import cannot reverse what "
            "counts as better (an administrator can, in the admin)",
        )
    return slug, values


def _check_institutions(context: CheckContext, top: dict) -> list[InstitutionSpec]:
    check = context.check
    entries = []
    for path, item in check.items(top, "institutions", ""):
        if check.object(item, path, INSTITUTION_KEYS, required=("ref", "name", "sector")):
            entries.append((path, item))

    refs = [item.get("ref") for _, item in entries if isinstance(item.get("ref"), str)]
    by_slug = {i.slug: i for i in Institution.objects.filter(slug__in=refs)}
    wanted = {
        (scheme, value)
        for _, item in entries
        if isinstance(item.get("identifiers"), dict)
        for scheme, value in _identifier_pairs(item["identifiers"])
    }
    by_identifier = {
        (identifier.scheme, identifier.value): identifier.institution
        for identifier in Identifier.objects.filter(
            value__in={value for _, value in wanted}
        ).select_related("institution")
    }

    checked: list[tuple[InstitutionSpec, dict]] = []
    seen_refs: dict[str, str] = {}
    matched: dict[int, str] = {}
    for path, item in entries:
        spec = _check_institution(check, item, path, by_slug, by_identifier)
        if spec is None:
            continue
        if spec.ref in seen_refs:
            check.error(f"{path}.ref", f'ref "{spec.ref}" is already used by {seen_refs[spec.ref]}')
            continue
        seen_refs[spec.ref] = path
        if spec.existing is not None:
            if spec.existing.pk in matched:
                check.error(
                    path,
                    f'matches the same stored institution ("{spec.existing.slug}") as '
                    f"{matched[spec.existing.pk]}",
                )
                continue
            matched[spec.existing.pk] = path
        checked.append((spec, item))

    named = {ref for spec, _ in checked for ref in spec.named_refs} - set(seen_refs)
    known_refs = set(seen_refs) | set(
        Institution.objects.filter(slug__in=named).values_list("slug", flat=True)
    )
    stored_interventions = _stored_interventions([spec for spec, _ in checked])
    for spec, item in checked:
        path = spec.path
        _check_lineage(check, item, path, spec, known_refs)
        seen: dict[tuple, str] = {}
        for ipath, inspection in check.items(item, "inspections", path):
            found = check_inspection(context, inspection, ipath)
            if found and _first_listing(check, seen, found, ipath, "inspection"):
                spec.inspections.append(found)
        for ipath, intervention in check.items(item, "interventions", path):
            found = check_intervention(context, intervention, ipath)
            if found and _first_listing(check, seen, found, ipath, "intervention"):
                spec.interventions.append(found)
        links = {i.key: {m.title for m in i.milestones} for i in spec.interventions}
        for key, titles in stored_interventions.get(spec.ref, {}).items():
            links.setdefault(key, set()).update(titles)
        for epath, evidence in check.items(item, "evidence", path):
            found = check_evidence(context, evidence, epath, links)
            if found and _first_listing(check, seen, found, epath, "evidence"):
                spec.evidence.append(found)
    return [spec for spec, _ in checked]


def _first_listing(check: Checker, seen: dict[tuple, str], found, path: str, noun: str) -> bool:
    """False (and an error) if the entry already lists this row: a second copy of it
    could not be matched to one stored row, and import would stop being idempotent."""
    identity = (noun, *found.identity)
    if identity in seen:
        check.error(path, f"the same {noun} as {seen[identity]}")
        return False
    seen[identity] = path
    return True


def identifier_text(value: Any) -> str | None:
    """An identifier as stored: a string, or a whole number written without quotes
    (URNs often are); None for anything else or blank."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _identifier_pairs(identifiers: dict) -> list[tuple[str, str]]:
    pairs = []
    for scheme, value in identifiers.items():
        for one in value if isinstance(value, list) else [value]:
            text = identifier_text(one)
            if text is not None:
                pairs.append((scheme, text))
    return pairs


def _check_institution(check, item, path, by_slug, by_identifier) -> InstitutionSpec | None:
    ref = check.slug(item, "ref", path, max_length(Institution, "slug"))
    values: dict[str, Any] = {}
    name = check.text(item, "name", path, limit=max_length(Institution, "name"), blank=False)
    check.given(item, values, "name", name)
    check.given(item, values, "sector", check.choice(item, "sector", path, Sector, "a sector"))
    for key in ("region", "local_authority", "phase", "establishment_type"):
        check.given(
            item, values, key, check.text(item, key, path, limit=max_length(Institution, key)), ""
        )

    identifiers: list[tuple[str, str]] = []
    raw = item.get("identifiers")
    if raw is not None and not isinstance(raw, dict):
        check.error(
            f"{path}.identifiers", f"expected an object of scheme: value, got {kind_of(raw)}"
        )
    elif raw:
        limit = max_length(Identifier, "value")
        for scheme, value in raw.items():
            ipath = f"{path}.identifiers.{scheme}"
            if scheme not in IdentifierScheme.values:
                check.error(
                    ipath, f"unknown identifier scheme (one of: {one_of(IdentifierScheme.values)})"
                )
                continue
            texts = [
                identifier_text(one) for one in (value if isinstance(value, list) else [value])
            ]
            if not texts or any(text is None or len(text) > limit for text in texts):
                check.error(
                    ipath,
                    f"expected a non-blank string, or a list of them, each at most {limit} long",
                )
            else:
                identifiers.extend((scheme, text) for text in texts)
    if ref is None:
        return None

    candidates = {}
    for pair in identifiers:
        if pair in by_identifier:
            candidates[by_identifier[pair].pk] = (by_identifier[pair], pair)
    if len(candidates) > 1:
        found = "; ".join(f"{s} {v} is {i.slug}" for i, (s, v) in candidates.values())
        check.error(f"{path}.identifiers", f"identify different stored institutions: {found}")
        return None
    existing = next(iter(candidates.values()))[0] if candidates else by_slug.get(ref)
    if candidates and ref in by_slug and by_slug[ref].pk != existing.pk:
        check.error(
            f"{path}.ref",
            f'"{ref}" is the slug of a stored institution, but the identifiers match '
            f"another ({existing.slug})",
        )
        return None
    spec = InstitutionSpec(
        path=path, ref=ref, values=values, identifiers=identifiers, existing=existing
    )
    raw_links = item.get("successor_of")
    spec.named_refs = {
        link["ref"]
        for link in (raw_links if isinstance(raw_links, list) else [])
        if isinstance(link, dict) and isinstance(link.get("ref"), str)
    } | ({item["parent"]} if isinstance(item.get("parent"), str) else set())
    if "parent" in item:
        spec.parent_given = True
        spec.parent = check.slug(item, "parent", path) if item["parent"] is not None else None
    return spec


def _check_lineage(check, item, path, spec: InstitutionSpec, known_refs: set[str]) -> None:
    if spec.parent and spec.parent not in known_refs:
        check.error(
            f"{path}.parent", f'no institution with ref "{spec.parent}" in this bundle or stored'
        )
    if spec.parent == spec.ref:
        check.error(f"{path}.parent", "an institution cannot be its own parent")
    seen = set()
    for lpath, link in check.items(item, "successor_of", path):
        if check.object(link, lpath, {"ref", "kind", "on"}, required=("ref", "kind", "on")) is None:
            continue
        ref = check.slug(link, "ref", lpath)
        kind = check.choice(link, "kind", lpath, LineageKind, "a lineage kind")
        on = check.date(link, "on", lpath)
        if ref is not None and ref == spec.ref:
            check.error(f"{lpath}.ref", "an institution cannot succeed itself")
        elif ref is not None and ref not in known_refs:
            check.error(f"{lpath}.ref", f'no institution with ref "{ref}" in this bundle or stored')
        elif ref in seen:
            check.error(f"{lpath}.ref", f'"{ref}" is listed twice')
        elif ref and kind and on:
            seen.add(ref)
            spec.links.append((ref, kind, on))


def _stored_interventions(specs: list[InstitutionSpec]) -> dict[str, dict[tuple, set[str]]]:
    """The stored interventions (and milestone titles) of institutions the bundle matched."""
    by_pk = {spec.existing.pk: spec.ref for spec in specs if spec.existing is not None}
    found: dict[str, dict[tuple, set[str]]] = {}
    for institution_id, type_slug, started_on in Intervention.objects.filter(
        institution_id__in=by_pk
    ).values_list("institution_id", "type__slug", "started_on"):
        found.setdefault(by_pk[institution_id], {})[(type_slug, started_on)] = set()
    for institution_id, type_slug, started_on, title in Milestone.objects.filter(
        intervention__institution_id__in=by_pk
    ).values_list(
        "intervention__institution_id",
        "intervention__type__slug",
        "intervention__started_on",
        "title",
    ):
        found[by_pk[institution_id]][(type_slug, started_on)].add(title)
    return found
