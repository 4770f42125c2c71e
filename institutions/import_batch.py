"""Writing an import's rows a batch at a time, in bulk, with each row all-or-nothing.

A batch loads in a handful of queries everything its rows may touch (institutions
by URN, LAESTABs, inspections and their judgements, lineage links); each row then
changes those objects in memory, and `flush` writes the lot with bulk statements
inside one savepoint. If a flush fails, `import_rows` rolls the savepoint back and
runs the batch again one row per savepoint, so a row the database refuses costs
only that row and a half-row is never written.

Rows are checked before they change anything (a `RowProblem` from a row that has
already changed something would leave the batch half-applied, so it sends the batch
down the one-row-at-a-time path, where the bad row's changes are never flushed).
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from institutions.imports import (
    CsvTable,
    ImportReport,
    ProgressCallback,
    RowProblem,
    RowRejection,
)
from institutions.models import (
    Grade,
    Identifier,
    IdentifierScheme,
    Inspection,
    Inspectorate,
    Institution,
    Judgement,
    LineageLink,
    RatingScale,
    Sector,
)

SCHOOL_FIELDS = ["name", "sector", "phase", "establishment_type", "region", "local_authority"]
INSPECTION_FIELDS = [
    "institution",
    "inspected_on",
    "published_on",
    "reference",
    "overall_grade",
    "category_of_concern",
    "report_url",
]


def _key(obj) -> int:
    """A saved object's pk; an unsaved one's identity (negative, so never a pk)."""
    return obj.pk if obj.pk is not None else -id(obj)


@dataclass
class BatchKeys:
    """What a batch of rows may touch, so it can be loaded in a few queries."""

    urns: set[str] = field(default_factory=set)
    laestabs: set[str] = field(default_factory=set)
    references: set[str] = field(default_factory=set)


class ImportBatch:
    """The institutions, identifiers, inspections and links of one batch of rows."""

    def __init__(self, inspectorate: Inspectorate | None = None):
        self.inspectorate = inspectorate
        self.counts: Counter = Counter()
        self._by_urn: dict[str, Institution] = {}
        self._laestab: dict[str, Identifier] = {}
        self._inspections_of: dict[int, list[Inspection]] = defaultdict(list)
        self._by_reference: dict[str, Inspection] = {}
        # inspection key -> area id -> (pk, grade id) as loaded, or a Judgement once touched
        self._judgements: dict[int, dict[int, tuple | Judgement]] = defaultdict(dict)
        self._links: dict[tuple[int, int], LineageLink] = {}
        self._new: dict[type, list] = defaultdict(list)
        self._changed: dict[type, dict[int, object]] = defaultdict(dict)
        self._dirty: dict[int, Institution | None] = {}
        self._row_created = False
        self._row_changed = False
        self._row_main: Institution | None = None

    # Loading --------------------------------------------------------------

    def load(self, keys: BatchKeys) -> None:
        institutions: dict[int, Institution] = {}
        for identifier in Identifier.objects.filter(
            scheme=IdentifierScheme.URN, value__in=keys.urns
        ).select_related("institution"):
            institution = institutions.setdefault(identifier.institution_id, identifier.institution)
            self._by_urn[identifier.value] = institution
        ids = list(institutions)
        if keys.laestabs:
            for identifier in Identifier.objects.filter(
                scheme=IdentifierScheme.LAESTAB, value__in=keys.laestabs
            ):
                self._laestab[identifier.value] = identifier
        if self.inspectorate is not None and (ids or keys.references):
            ofsted = Inspection.objects.filter(inspectorate=self.inspectorate)
            inspections = list(ofsted.filter(institution_id__in=ids))
            # Numbers not found on these schools may sit on another (a predecessor, or a
            # school the file used to give them to): one more query, only for those.
            unseen = keys.references - {""} - {inspection.reference for inspection in inspections}
            if unseen:
                inspections += ofsted.filter(reference__in=unseen).exclude(institution_id__in=ids)
            for inspection in inspections:
                if inspection.institution_id in institutions:
                    inspection.institution = institutions[inspection.institution_id]
                self._inspections_of[inspection.institution_id].append(inspection)
                if inspection.reference:
                    self._by_reference[inspection.reference] = inspection
            # Judgements are the most numerous rows and rarely change: plain tuples,
            # and a model instance only for one that does.
            for pk, inspection_id, area_id, grade_id in Judgement.objects.filter(
                inspection_id__in=[inspection.pk for inspection in inspections]
            ).values_list("pk", "inspection_id", "area_id", "grade_id"):
                self._judgements[inspection_id][area_id] = (pk, grade_id)
        if ids:
            for link in LineageLink.objects.filter(
                Q(predecessor_id__in=ids) | Q(successor_id__in=ids)
            ):
                self._links[(link.predecessor_id, link.successor_id)] = link

    # Rows -----------------------------------------------------------------

    def begin_row(self) -> None:
        self._row_created = self._row_changed = False
        self._row_main = None

    def end_row(self) -> str:
        """'created', 'updated' or 'unchanged'; a row that changed anything dirties its school."""
        if self._row_changed and self._row_main is not None:
            self._touch(self._row_main)
        if self._row_created:
            return "created"
        return "updated" if self._row_changed else "unchanged"

    def count_row_as_created(self) -> None:
        """For imports whose rows are links rather than schools: the row made something new."""
        self._row_created = True

    @property
    def row_changed(self) -> bool:
        return self._row_changed

    def _touch(self, *institutions: Institution) -> None:
        self._row_changed = True
        for institution in institutions:
            self._dirty[_key(institution)] = institution

    def _mark_changed(self, obj) -> None:
        if obj.pk is not None:
            self._changed[type(obj)][obj.pk] = obj

    # Institutions and identifiers ----------------------------------------

    def school(self, urn: str) -> Institution | None:
        return self._by_urn.get(urn)

    def upsert_school(
        self,
        urn: str,
        *,
        name: str = "",
        details: dict[str, str] | None = None,
        on_create: dict[str, str] | None = None,
        main: bool = False,
    ) -> Institution:
        """The school with this URN, created or brought up to date with the non-blank values.

        `details` are kept up to date; `on_create` only fill a new school. A blank value
        never clears one already held: a file that omits something does not unsay it.
        """
        details = {key: value for key, value in (details or {}).items() if value}
        institution = self._by_urn.get(urn)
        if institution is None:
            if not name:
                raise RowProblem("", f"URN {urn} is not known and the row gives it no name.")
            extra = {key: value for key, value in (on_create or {}).items() if value}
            institution = Institution(name=name, sector=Sector.SCHOOL, **{**extra, **details})
            institution._import_urn = urn
            self._new[Institution].append(institution)
            self._new[Identifier].append(
                Identifier(institution=institution, scheme=IdentifierScheme.URN, value=urn)
            )
            self._by_urn[urn] = institution
            self.counts["institutions created"] += 1
            self._touch(institution)
            if main:
                self._row_created = True
        else:
            wanted = {"sector": Sector.SCHOOL, **details}
            if name:
                wanted["name"] = name
            changed = [key for key, value in wanted.items() if getattr(institution, key) != value]
            if changed:
                for key in changed:
                    setattr(institution, key, wanted[key])
                if institution.pk is not None:
                    self._mark_changed(institution)
                    self.counts["institutions updated"] += 1
                self._touch(institution)
        if main:
            self._row_main = institution
        return institution

    def give_laestab(self, institution: Institution, value: str, *, take: bool) -> None:
        """Record the LAESTAB; `take` moves it from another institution that holds it.

        The current school in a file takes its LAESTAB; a predecessor only gets one
        nobody holds. Old LAESTABs stay, as a school may have had several.
        """
        identifier = self._laestab.get(value)
        if identifier is None:
            identifier = Identifier(
                institution=institution, scheme=IdentifierScheme.LAESTAB, value=value
            )
            self._new[Identifier].append(identifier)
            self._laestab[value] = identifier
            self.counts["LAESTABs added"] += 1
            self._touch()
            return
        holder = identifier.institution if identifier.institution_id is None else None
        if holder is institution or (
            institution.pk is not None and identifier.institution_id == institution.pk
        ):
            return
        if take:
            identifier.institution = institution
            self._mark_changed(identifier)
            self.counts["LAESTABs moved"] += 1
            self._touch()

    # Inspections ---------------------------------------------------------

    def inspection_numbered(self, reference: str) -> Inspection | None:
        return self._by_reference.get(reference) if reference else None

    def find_inspection(
        self,
        institution: Institution,
        reference: str,
        inspected_on: datetime.date,
        scale: RatingScale,
    ) -> Inspection | None:
        """By the inspection number; else by institution, date and scale (and no other number)."""
        if reference and reference in self._by_reference:
            return self._by_reference[reference]
        for inspection in self._inspections_of[_key(institution)]:
            if (
                inspection.inspected_on == inspected_on
                and inspection.scale_id == scale.pk
                and (not reference or not inspection.reference)
            ):
                return inspection
        return None

    def upsert_inspection(
        self,
        institution: Institution,
        *,
        scale: RatingScale,
        inspected_on: datetime.date,
        reference: str = "",
        published_on: datetime.date | None = None,
        overall: Grade | None = None,
        category: str = "",
        report_url: str = "",
        judgements: dict[int, Grade] | None = None,
    ) -> Inspection:
        """Add or bring up to date one inspection and its judgements (area id -> grade).

        Values the file gives replace the stored ones; values it leaves blank never
        clear them, and judgements it omits stay: a monthly file shows only the
        latest grades, so an omission is no evidence that an earlier grade was wrong.
        """
        inspection = self.find_inspection(institution, reference, inspected_on, scale)
        if inspection is None:
            inspection = Inspection(
                institution=institution,
                inspectorate=scale.inspectorate,
                scale=scale,
                inspected_on=inspected_on,
                published_on=published_on,
                reference=reference,
                overall_grade=overall,
                category_of_concern=category,
                report_url=report_url,
            )
            self._new[Inspection].append(inspection)
            self._inspections_of[_key(institution)].append(inspection)
            if reference:
                self._by_reference[reference] = inspection
            self.counts["inspections created"] += 1
            self._touch(institution)
        else:
            if scale.pk != inspection.scale_id:
                raise RowProblem(
                    "", f"inspection {reference} is already recorded on another rating scale."
                )
            changed = False
            if inspection.institution_id != institution.pk or (
                institution.pk is None and inspection.institution is not institution
            ):
                old = inspection.institution_id
                old_key = old if old is not None else -id(inspection.institution)
                self._inspections_of[old_key].remove(inspection)
                inspection.institution = institution
                self._inspections_of[_key(institution)].append(inspection)
                if old is not None:
                    self._dirty[old] = None
                changed = True
            wanted = {
                "inspected_on": inspected_on,
                "published_on": published_on,
                "reference": reference,
                "overall_grade_id": overall.pk if overall else None,
                "category_of_concern": category,
                "report_url": report_url,
            }
            for attname, value in wanted.items():
                if value and getattr(inspection, attname) != value:
                    setattr(inspection, attname, value)
                    changed = True
            if reference:
                self._by_reference[reference] = inspection
            if changed:
                self._mark_changed(inspection)
                self.counts["inspections updated"] += 1
                self._touch(institution)
        held = self._judgements[_key(inspection)]
        for area_id, grade in (judgements or {}).items():
            judgement = held.get(area_id)
            if judgement is None:
                judgement = Judgement(
                    inspection=inspection, scale_id=scale.pk, area_id=area_id, grade=grade
                )
                held[area_id] = judgement
                self._new[Judgement].append(judgement)
                self.counts["judgements created"] += 1
                self._touch(institution)
                continue
            if isinstance(judgement, tuple):
                if judgement[1] == grade.pk:
                    continue
                judgement = Judgement(
                    pk=judgement[0],
                    inspection_id=inspection.pk,
                    scale_id=inspection.scale_id,
                    area_id=area_id,
                    grade_id=judgement[1],
                )
                held[area_id] = judgement
            if judgement.grade_id != grade.pk:
                judgement.grade = grade
                self._mark_changed(judgement)
                self.counts["judgements updated"] += 1
                self._touch(institution)
        return inspection

    # Lineage -------------------------------------------------------------

    def link(
        self,
        predecessor: Institution,
        successor: Institution,
        kind: str,
        linked_on: datetime.date,
        *,
        kind_is_known: bool = True,
        date_is_known: bool = True,
    ) -> str:
        """Record that the predecessor became (part of) the successor.

        A kind or date the file only implies (`..._is_known=False`) fills a new link
        but never overwrites what an existing link says. A link the other way round
        already recorded wins: lineage never loops. Returns 'created', 'updated',
        'unchanged' or 'refused' (the reverse link exists).
        """
        if predecessor is successor:
            return "unchanged"
        pair = (_key(predecessor), _key(successor))
        link = self._links.get(pair)
        if link is None:
            if (pair[1], pair[0]) in self._links:
                self.counts["links not made (the reverse link exists)"] += 1
                return "refused"
            link = LineageLink(
                predecessor=predecessor, successor=successor, kind=kind, linked_on=linked_on
            )
            self._links[pair] = link
            self._new[LineageLink].append(link)
            self.counts["lineage links created"] += 1
            self._touch(predecessor, successor)
            return "created"
        changed = False
        if kind_is_known and link.kind != kind:
            link.kind = kind
            changed = True
        if date_is_known and link.linked_on != linked_on:
            link.linked_on = linked_on
            changed = True
        if changed:
            self._mark_changed(link)
            self.counts["lineage links updated"] += 1
            self._touch(predecessor, successor)
            return "updated"
        return "unchanged"

    # Writing -------------------------------------------------------------

    def flush(self) -> None:
        """Write every change of the batch in bulk (call inside a savepoint).

        Through django-simple-history's bulk helpers, so each created or changed row
        also gets its audit-trail row (bulk statements send no signals).
        """
        now = timezone.now()
        new_institutions = self._new[Institution]
        self._give_slugs(new_institutions)
        bulk_create_with_history(new_institutions, Institution)
        changed_institutions = list(self._changed[Institution].values())
        for institution in changed_institutions:
            institution.updated_at = now
        bulk_update_with_history(changed_institutions, Institution, [*SCHOOL_FIELDS, "updated_at"])

        self._create(Identifier, "institution")
        bulk_update_with_history(
            self._resync(self._changed[Identifier].values(), "institution"),
            Identifier,
            ["institution"],
        )
        self._create(Inspection, "institution")
        bulk_update_with_history(
            self._resync(self._changed[Inspection].values(), "institution"),
            Inspection,
            INSPECTION_FIELDS,
        )
        self._create(Judgement, "inspection")
        bulk_update_with_history(list(self._changed[Judgement].values()), Judgement, ["grade"])
        self._create(LineageLink, "predecessor", "successor")
        bulk_update_with_history(
            list(self._changed[LineageLink].values()), LineageLink, ["kind", "linked_on"]
        )

        dirty = {pk for pk in self._dirty if pk > 0} | {
            institution.pk for institution in self._dirty.values() if institution is not None
        }
        if dirty:
            # One statement for the flags; the recomputes are queued after commit.
            Institution.objects.filter(pk__in=dirty).mark_dirty()
        self.counts["institutions marked for recompute"] += len(dirty)
        if connection.vendor == "postgresql":
            # Foreign keys are checked at commit; check them now, inside the savepoint,
            # so a bad row surfaces here where it can be isolated.
            connection.check_constraints()

    def _create(self, model, *relations: str) -> None:
        bulk_create_with_history(self._resync(self._new[model], *relations), model)

    @staticmethod
    def _resync(objects: Iterable, *relations: str) -> list:
        """Copy the pks of related objects saved earlier in this flush onto the foreign keys."""
        objects = list(objects)
        for obj in objects:
            for relation in relations:
                field = obj._meta.get_field(relation)
                if field.is_cached(obj):
                    setattr(obj, field.attname, field.get_cached_value(obj).pk)
        return objects

    @staticmethod
    def _give_slugs(institutions: list[Institution]) -> None:
        """name-urn slugs, with a number added in the rare case one is taken."""
        if not institutions:
            return
        for institution in institutions:
            base = slugify(institution.name)[:180].strip("-") or "school"
            institution.slug = f"{base}-{institution._import_urn}"
        wanted = {institution.slug for institution in institutions}
        taken = set(Institution.objects.filter(slug__in=wanted).values_list("slug", flat=True))
        for institution in institutions:
            if institution.slug in taken:
                base = institution.slug
                institution.slug = next(
                    f"{base}-{n}"
                    for n in itertools.count(2)
                    if not Institution.objects.filter(slug=f"{base}-{n}").exists()
                    and f"{base}-{n}" not in taken
                )
            taken.add(institution.slug)


@dataclass
class ParsedRow:
    number: int
    record: object
    keys: BatchKeys


RowParser = Callable[[int, list[str]], tuple[object, BatchKeys]]
RowApplier = Callable[[ImportBatch, int, object], str | None]


class _HalfApplied(Exception):
    """A row failed its checks after it had changed the batch: redo the batch row by row."""


def import_rows(
    table: CsvTable,
    report: ImportReport,
    *,
    parse: RowParser,
    apply: RowApplier,
    urn_column: int,
    inspectorate: Inspectorate | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    batch_size: int = 500,
) -> ImportReport:
    """Run every row of the table through parse and apply, a batch at a time.

    `parse(row number, values)` checks a row without the database and returns its
    record and the keys to load, or raises RowProblem. `apply(batch, row number,
    record)` makes the row's changes in the batch (checking first, raising
    RowProblem before it changes anything) and returns a reason to skip the row, or
    None. Each batch commits on its own unless this is a dry run, which runs the
    whole file in one transaction and rolls it back, so the report is the same.
    """
    total = table.total
    done = 0
    if progress:
        progress(0, total)
    outer = transaction.atomic() if dry_run else contextlib.nullcontext()
    with outer:
        rows = table.rows()
        while chunk := list(itertools.islice(rows, batch_size)):
            parsed = []
            for number, values in chunk:
                try:
                    record, keys = parse(number, values)
                except RowProblem as problem:
                    urn = values[urn_column].strip() if urn_column < len(values) else ""
                    report.rejected.append(
                        RowRejection(
                            number, problem.reason, problem.field, urn if urn.isdigit() else ""
                        )
                    )
                    continue
                parsed.append(ParsedRow(number, record, keys))
            try:
                with transaction.atomic():
                    _apply_and_flush(parsed, report, apply, inspectorate, whole_batch=True)
            except (IntegrityError, DataError, _HalfApplied):
                for row in parsed:
                    try:
                        with transaction.atomic():
                            _apply_and_flush([row], report, apply, inspectorate, whole_batch=False)
                    except (IntegrityError, DataError) as error:
                        report.rejected.append(
                            RowRejection(
                                row.number,
                                f"the database refused it: {str(error).strip().splitlines()[0]}",
                                urn=getattr(row.record, "urn", ""),
                            )
                        )
            done += len(chunk)
            if progress:
                progress(done, total)
        if dry_run:
            transaction.set_rollback(True)
    report.rejected.sort(key=lambda rejection: rejection.row)
    return report


def _apply_and_flush(
    rows: list[ParsedRow],
    report: ImportReport,
    apply: RowApplier,
    inspectorate: Inspectorate | None,
    *,
    whole_batch: bool,
) -> None:
    """Apply the rows to one batch and write it; the report changes only once written."""
    batch = ImportBatch(inspectorate)
    keys = BatchKeys()
    for row in rows:
        keys.urns |= row.keys.urns
        keys.laestabs |= row.keys.laestabs
        keys.references |= row.keys.references
    batch.load(keys)
    outcomes: list[tuple[ParsedRow, str]] = []
    rejections: list[RowRejection] = []
    for row in rows:
        batch.begin_row()
        try:
            skipped = apply(batch, row.number, row.record)
        except RowProblem as problem:
            if batch.row_changed:
                if whole_batch:
                    raise _HalfApplied from problem
                # A lone row: drop its batch unwritten.
                rejections.append(_rejection(row, problem))
                report.rejected.extend(rejections)
                return
            rejections.append(_rejection(row, problem))
            continue
        outcome = batch.end_row()
        outcomes.append((row, f"skipped:{skipped}" if skipped else outcome))
    batch.flush()
    report.rejected.extend(rejections)
    for _, outcome in outcomes:
        if outcome.startswith("skipped:"):
            report.skipped[outcome.removeprefix("skipped:")] += 1
        else:
            setattr(report, outcome, getattr(report, outcome) + 1)
    report.changes.update({what: n for what, n in batch.counts.items() if n})


def _rejection(row: ParsedRow, problem: RowProblem) -> RowRejection:
    return RowRejection(row.number, problem.reason, problem.field, getattr(row.record, "urn", ""))
