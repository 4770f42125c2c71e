"""Import of Ofsted's monthly management information on state-funded school inspections.

The CSV is read as Ofsted publishes it. Header names are matched through the
explicit tables below (whatever their case and spacing, nothing cleverer), and
each row becomes one school with up to three inspections:

- the latest full inspection: a report card (files since November 2025: one
  column per evaluation area, each with its "- date of grade") or, in older files,
  an inspection with "Overall effectiveness" and the key judgements of its day;
- the latest graded inspection under the previous framework ("Latest OEIF ...");
- the latest ungraded inspection, recorded with no grade (Ofsted's outcome words
  have no place on a rating scale).

Scales: report-card columns give `ofsted-report-card-2025`; overall-effectiveness
columns give `ofsted-overall-2012` from 1 September 2012 and `ofsted-overall-2005`
before. A report-card grade dated apart from the inspection start date was given
on another day (a later monitoring inspection, or an earlier one whose grade still
stands), so it is recorded as a report-card inspection on that day.

An inspection that "does not relate to the URN of the current school" belongs to
the URN it was made under: that predecessor school is created or updated, given
the inspection, and linked to the current school (an academy conversion when the
current school is an academy and the predecessor was not, else a rename; dated
with the school's open date, or failing that the inspection date).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from institutions.import_batch import BatchKeys, ImportBatch, import_rows
from institutions.imports import (
    NOTHING,
    CsvTable,
    FileRejected,
    ImportReport,
    ProgressCallback,
    RowProblem,
    Source,
    normalise_header,
    parse_uk_date,
    parse_urn,
    read_source,
    read_table,
    require_headers,
    text_value,
)
from institutions.models import (
    CategoryOfConcern,
    EvaluationArea,
    Grade,
    LineageKind,
    RatingScale,
)

REPORT_CARD = "ofsted-report-card-2025"
OVERALL_2012 = "ofsted-overall-2012"
OVERALL_2005 = "ofsted-overall-2005"
OVERALL_2012_STARTS = datetime.date(2012, 9, 1)

# School columns: field -> published spellings, preferred first.
SCHOOL_COLUMNS = {
    "urn": ("URN",),
    "laestab": ("LAESTAB",),
    "name": ("School name",),
    "phase": ("Ofsted phase",),
    "establishment_type": ("Type of education",),
    "open_date": ("School open date",),
    "region": ("Region", "Ofsted region"),
    "local_authority": ("Local authority",),
    "web_link": ("Web Link (opens in new window) [link address]", "Web link"),
}
REQUIRED = ["URN", "School name"]


@dataclass(frozen=True)
class InspectionColumns:
    """The published columns of one inspection a row holds, field -> spellings."""

    label: str
    start: tuple[str, ...]
    number: tuple[str, ...] = ()
    published: tuple[str, ...] = ()
    relates: tuple[str, ...] = ()
    urn_at: tuple[str, ...] = ()
    laestab_at: tuple[str, ...] = ()
    name_at: tuple[str, ...] = ()
    type_at: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    overall: tuple[str, ...] = ()
    # (area header, area slug, its "- date of grade" header or "")
    areas: tuple[tuple[str, str, str], ...] = ()
    report_card: bool = False


_LATEST_IDENTITY = {
    "start": ("Inspection start date",),
    "number": (
        "Inspection number of latest full inspection",
        "Inspection number",
        "Latest section 5 inspection number",
    ),
    "published": ("Publication date",),
    "relates": (
        "Does the latest full inspection relate to the URN of the current school?",
        "Does the section 5 inspection relate to the URN of the current school?",
    ),
    "urn_at": ("URN at time of latest full inspection", "URN at time of the section 5 inspection"),
    "laestab_at": (
        "LAESTAB at time of latest full inspection",
        "LAESTAB at time of the section 5 inspection",
    ),
    "name_at": (
        "School name at time of latest full inspection",
        "School name at time of the section 5 inspection",
    ),
    "type_at": (
        "School type at time of latest full inspection",
        "School type at time of the section 5 inspection",
    ),
    "category": ("Category of concern",),
}

LATEST_REPORT_CARD = InspectionColumns(
    label="latest full inspection",
    report_card=True,
    areas=(
        ("Safeguarding standards", "safeguarding", "Safeguarding standards - date of grade"),
        ("Inclusion", "inclusion", "Inclusion - date of grade"),
        (
            "Curriculum and teaching",
            "curriculum-and-teaching",
            "Curriculum and teaching - date of grade",
        ),
        ("Achievement", "achievement", "Achievement - date of grade"),
        (
            "Attendance and behaviour",
            "attendance-and-behaviour",
            "Attendance and behaviour - date of grade",
        ),
        (
            "Personal development and wellbeing",
            "personal-development-and-wellbeing",
            "Personal development and wellbeing - date of grade",
        ),
        ("Early years (where applicable)", "early-years", "Early years - date of grade"),
        ("Post-16 provision (where applicable)", "post-16", "Post-16 provision - date of grade"),
        (
            "Leadership and governance",
            "leadership-and-governance",
            "Leadership and governance - date of grade",
        ),
    ),
    **_LATEST_IDENTITY,
)

# Files before November 2025. The key judgements changed name with the framework:
# 2012-2015, 2015-2019 and 2019-2024 spellings all map onto the shipped areas.
LATEST_OVERALL = InspectionColumns(
    label="latest full inspection",
    overall=("Overall effectiveness",),
    areas=(
        ("Quality of education", "quality-of-education", ""),
        ("Behaviour and attitudes", "behaviour-and-attitudes", ""),
        ("Personal development", "personal-development", ""),
        ("Effectiveness of leadership and management", "leadership-and-management", ""),
        ("Leadership and management", "leadership-and-management", ""),
        ("Safeguarding is effective?", "safeguarding", ""),
        ("Early years provision (where applicable)", "early-years", ""),
        ("Sixth form provision (where applicable)", "sixth-form", ""),
        ("Outcomes for pupils", "outcomes-for-pupils", ""),
        ("Achievement of pupils", "outcomes-for-pupils", ""),
        ("Quality of teaching, learning and assessment", "quality-of-teaching", ""),
        ("Quality of teaching", "quality-of-teaching", ""),
        ("Behaviour and safety of pupils", "behaviour-and-safety", ""),
        (
            "Personal development, behaviour and welfare",
            "personal-development-behaviour-and-welfare",
            "",
        ),
    ),
    **_LATEST_IDENTITY,
)

LATEST_OEIF = InspectionColumns(
    label="latest OEIF graded inspection",
    start=("Inspection start date of latest OEIF graded inspection",),
    number=("Inspection number of latest OEIF graded inspection",),
    published=("Publication date of latest OEIF graded inspection",),
    relates=("Does the latest OEIF graded inspection relate to the URN of the current school?",),
    urn_at=("URN at time of latest OEIF graded inspection",),
    laestab_at=("LAESTAB at time of latest OEIF graded inspection",),
    name_at=("School name at time of latest OEIF graded inspection",),
    type_at=("School type at time of latest OEIF graded inspection",),
    category=("Latest OEIF category of concern",),
    overall=("Latest OEIF overall effectiveness",),
    areas=(
        ("Latest OEIF quality of education", "quality-of-education", ""),
        ("Latest OEIF behaviour and attitudes", "behaviour-and-attitudes", ""),
        ("Latest OEIF personal development", "personal-development", ""),
        ("Latest OEIF effectiveness of leadership and management", "leadership-and-management", ""),
        ("Latest OEIF  safeguarding is effective?", "safeguarding", ""),
        ("Latest OEIF early years provision (where applicable)", "early-years", ""),
        ("Latest OEIF sixth form provision (where applicable)", "sixth-form", ""),
    ),
)

LATEST_UNGRADED = InspectionColumns(
    label="latest ungraded inspection",
    start=("Date of latest ungraded inspection",),
    number=(
        "Latest ungraded inspection number",
        "Latest ungraded inspection number since last graded inspection",
    ),
    published=("Ungraded inspection publication date",),
    relates=("Does the ungraded inspection relate to the URN of the current school?",),
    urn_at=("URN at time of the ungraded inspection",),
    laestab_at=("LAESTAB at time of the ungraded inspection",),
    name_at=("School name at time of the ungraded inspection",),
    type_at=("School type at time of the ungraded inspection",),
)

CATEGORIES = {
    "special measures": CategoryOfConcern.SPECIAL_MEASURES,
    "serious weaknesses": CategoryOfConcern.SERIOUS_WEAKNESSES,
    "requires significant improvement": CategoryOfConcern.REQUIRES_SIGNIFICANT_IMPROVEMENT,
    "notice to improve": CategoryOfConcern.NOTICE_TO_IMPROVE,
}
NO_CATEGORY = NOTHING | {"none"}

_LAESTAB = re.compile(r"\d{3}/?\d{4}")


# The file's layout ---------------------------------------------------------


@dataclass
class Column:
    header: str
    index: int


@dataclass
class GroupLayout:
    """Where one inspection's columns sit in this file."""

    spec: InspectionColumns
    columns: dict[str, Column]
    # (area column, area slug, date column or None)
    areas: list[tuple[Column, str, Column | None]]


@dataclass
class Layout:
    school: dict[str, Column]
    groups: list[GroupLayout]
    used: set[str]


def _resolve(table: CsvTable, spellings: tuple[str, ...], used: set[str]) -> Column | None:
    header = table.first_present(spellings)
    if header is None:
        return None
    used.add(normalise_header(header))
    return Column(header, table.positions[normalise_header(header)])


def read_layout(table: CsvTable) -> Layout:
    """Match the file's headers to the tables above, or refuse the file saying what is missing."""
    require_headers(table, REQUIRED)
    used: set[str] = set()
    school = {
        name: column
        for name, spellings in SCHOOL_COLUMNS.items()
        if (column := _resolve(table, spellings, used))
    }
    report_card_headers = [h for h, _, _ in LATEST_REPORT_CARD.areas if table.has(h)]
    overall_headers = [
        h
        for h in [*LATEST_OVERALL.overall, *(h for h, _, _ in LATEST_OVERALL.areas)]
        if table.has(h)
    ]
    if report_card_headers and overall_headers:
        raise FileRejected(
            "The file mixes report-card columns ("
            + ", ".join(report_card_headers[:3])
            + ") with overall-effectiveness columns ("
            + ", ".join(overall_headers[:3])
            + ") for its latest full inspection; Ofsted never publishes both."
        )
    latest = LATEST_REPORT_CARD if report_card_headers else LATEST_OVERALL
    groups = []
    missing = []
    for spec in (latest, LATEST_OEIF, LATEST_UNGRADED):
        columns = {}
        for name in ("start", "number", "published", "relates", "urn_at", "laestab_at"):
            if column := _resolve(table, getattr(spec, name), used):
                columns[name] = column
        for name in ("name_at", "type_at", "category", "overall"):
            if column := _resolve(table, getattr(spec, name), used):
                columns[name] = column
        areas = []
        taken_slugs = set()
        for header, slug, date_header in spec.areas:
            if slug in taken_slugs or not table.has(header):
                continue
            taken_slugs.add(slug)
            area_column = _resolve(table, (header,), used)
            date_column = _resolve(table, (date_header,), used) if date_header else None
            areas.append((area_column, slug, date_column))
        if not columns and not areas:
            continue
        if "start" not in columns:
            missing.append(spec.start[0])
            continue
        groups.append(GroupLayout(spec, columns, areas))
    if missing:
        raise FileRejected(
            "Required columns are missing: "
            + ", ".join(f"'{header}'" for header in missing)
            + " (the file has other columns of that inspection but not its date)."
        )
    if not groups:
        raise FileRejected(
            "No inspection date column: expected one of "
            + ", ".join(
                f"'{spec.start[0]}'" for spec in (LATEST_OVERALL, LATEST_OEIF, LATEST_UNGRADED)
            )
            + ". Is this Ofsted's management information?"
        )
    return Layout(school, groups, used)


# Rating scales, read once per import -----------------------------------------


class ScaleBook:
    """The three Ofsted school scales with their areas and grades, held in memory."""

    def __init__(self):
        slugs = [REPORT_CARD, OVERALL_2012, OVERALL_2005]
        scales = {
            scale.slug: scale
            for scale in RatingScale.objects.filter(slug__in=slugs).select_related("inspectorate")
        }
        missing = [slug for slug in slugs if slug not in scales]
        if missing:
            raise FileRejected(
                "The rating scales " + ", ".join(missing) + " are missing: run `migrate`."
            )
        self.scales = scales
        self.inspectorate = scales[OVERALL_2012].inspectorate
        self.areas: dict[tuple[int, str], EvaluationArea] = {
            (area.scale_id, area.slug): area
            for area in EvaluationArea.objects.filter(scale__in=scales.values())
        }
        # Grades serving the overall grade and most areas, best first; and the grades
        # an area has of its own (safeguarding's Met / Not met, Yes / No), which are
        # the only ones that area takes.
        self.general: dict[int, list[Grade]] = {scale.pk: [] for scale in scales.values()}
        self.own: dict[int, list[Grade]] = {}
        for grade in Grade.objects.filter(scale__in=scales.values()).order_by("position"):
            if grade.area_id is None:
                self.general[grade.scale_id].append(grade)
            else:
                self.own.setdefault(grade.area_id, []).append(grade)

    def scale_for(self, report_card: bool, inspected_on: datetime.date) -> RatingScale:
        if report_card:
            return self.scales[REPORT_CARD]
        if inspected_on >= OVERALL_2012_STARTS:
            return self.scales[OVERALL_2012]
        return self.scales[OVERALL_2005]

    def grade(
        self, scale: RatingScale, area: EvaluationArea | None, raw: str, header: str
    ) -> Grade | None:
        """The grade a cell gives: a number (1 best) or a label in any case; None for nothing."""
        value = " ".join(raw.split())
        if value.casefold() in NOTHING:
            return None
        choices = self.own.get(area.pk, []) if area else []
        numbered = not choices
        choices = choices or self.general[scale.pk]
        found = next((g for g in choices if g.label.casefold() == value.casefold()), None)
        if found is None and numbered and value.isdigit() and 1 <= int(value) <= len(choices):
            found = choices[int(value) - 1]
        if found is None:
            expected = " or ".join(grade.label for grade in choices)
            if numbered:
                expected = f"1-{len(choices)} or " + ", ".join(g.label for g in choices)
            raise RowProblem(
                header, f"'{value}' is not a grade on {scale.name}; expected {expected}."
            )
        return found


# Rows ------------------------------------------------------------------------


@dataclass
class Predecessor:
    urn: str
    laestab: str
    name: str
    school_type: str
    name_header: str


@dataclass
class InspectionRecord:
    label: str
    scale: RatingScale
    inspected_on: datetime.date
    reference: str = ""
    published_on: datetime.date | None = None
    overall: Grade | None = None
    category: str = ""
    judgements: dict[int, Grade] = field(default_factory=dict)
    predecessor: Predecessor | None = None

    @property
    def graded(self) -> bool:
        return bool(self.overall or self.judgements)


@dataclass
class SchoolRecord:
    urn: str
    name: str
    laestab: str
    details: dict[str, str]
    open_date: datetime.date | None
    web_link: str
    inspections: list[InspectionRecord]


class OfstedMiImport:
    """One import of one file: the layout, the scales, and the LAESTABs claimed so far."""

    def __init__(self, table: CsvTable):
        self.table = table
        self.layout = read_layout(table)
        self.book = ScaleBook()
        # LAESTAB -> (URN, row) of the school this file gave it to, so two schools in
        # one file cannot take it from each other on every run.
        self.claims: dict[str, tuple[str, int]] = {}

    def ignored_headers(self) -> list[str]:
        return [
            header
            for header in self.table.headers
            if header and normalise_header(header) not in self.layout.used
        ]

    def parse(self, number: int, values: list[str]) -> tuple[SchoolRecord, BatchKeys]:
        if len(values) != len(self.table.headers):
            raise RowProblem(
                "", f"has {len(values)} fields where the header has {len(self.table.headers)}."
            )

        def cell(column: Column | None) -> str:
            return values[column.index] if column else ""

        school = self.layout.school
        urn = parse_urn(cell(school["urn"]), "URN")
        name = text_value(cell(school["name"]), "School name", 200)
        if not name:
            raise RowProblem("School name", "is blank; every row needs one.")
        details = {
            key: text_value(cell(school.get(key)), school[key].header, 100)
            for key in ("phase", "establishment_type", "region", "local_authority")
            if key in school
        }
        laestab = self._laestab(cell(school.get("laestab")), "LAESTAB")
        open_date = (
            parse_uk_date(cell(school["open_date"]), school["open_date"].header)
            if "open_date" in school
            else None
        )
        web_link = cell(school.get("web_link")).strip()
        if not web_link.startswith(("http://", "https://")) or len(web_link) > 200:
            web_link = ""
        inspections: list[InspectionRecord] = []
        for group in self.layout.groups:
            inspections.extend(self._inspections(group, cell, urn))
        inspections = self._once_each(inspections)
        record = SchoolRecord(urn, name, laestab, details, open_date, web_link, inspections)
        keys = BatchKeys(urns={urn}, laestabs={laestab} - {""})
        for inspection in inspections:
            keys.references.add(inspection.reference)
            if inspection.predecessor:
                keys.urns.add(inspection.predecessor.urn)
                keys.laestabs.add(inspection.predecessor.laestab)
        keys.laestabs.discard("")
        return record, keys

    @staticmethod
    def _laestab(raw: str, header: str) -> str:
        value = raw.strip()
        if value.casefold() in NOTHING:
            return ""
        if not _LAESTAB.fullmatch(value):
            raise RowProblem(header, f"'{value}' is not a LAESTAB (7 digits).")
        return value.replace("/", "")

    def _inspections(self, group: GroupLayout, cell, urn: str) -> list[InspectionRecord]:
        spec, columns = group.spec, group.columns
        start_column = columns["start"]
        inspected_on = parse_uk_date(cell(start_column), start_column.header)
        number_column = columns.get("number")
        reference = cell(number_column).strip()
        if reference.casefold() in NOTHING:
            reference = ""
        if len(reference) > 50:
            raise RowProblem(number_column.header, "is longer than 50 characters.")
        grade_cells = [columns.get("overall"), *(area for area, _, _ in group.areas)]
        has_grades = any(
            column and cell(column).strip().casefold() not in NOTHING for column in grade_cells
        )
        if inspected_on is None:
            if reference or has_grades:
                raise RowProblem(
                    start_column.header,
                    f"is blank, but the row has a {spec.label} "
                    + (f"(number {reference})." if reference else "with grades."),
                )
            return []
        published_column = columns.get("published")
        published_on = (
            parse_uk_date(cell(published_column), published_column.header)
            if published_column
            else None
        )
        if published_on and published_on < inspected_on:
            raise RowProblem(
                published_column.header,
                f"{published_on:%d/%m/%Y} is before the inspection start date "
                f"{inspected_on:%d/%m/%Y}.",
            )
        scale = self.book.scale_for(spec.report_card, inspected_on)
        overall_column = columns.get("overall")
        overall = (
            self.book.grade(scale, None, cell(overall_column), overall_column.header)
            if overall_column and scale.has_overall_grade
            else None
        )
        category_column = columns.get("category")
        category = self._category(cell(category_column), category_column)
        by_date: dict[datetime.date, dict[int, Grade]] = {inspected_on: {}}
        for area_column, slug, date_column in group.areas:
            raw = cell(area_column)
            if raw.strip().casefold() in NOTHING:
                continue
            area = self.book.areas.get((scale.pk, slug))
            if area is None:
                raise RowProblem(
                    area_column.header,
                    f"'{raw.strip()}' is given, but an inspection on "
                    f"{inspected_on:%d/%m/%Y} ({scale.name}) has no such judgement.",
                )
            grade = self.book.grade(scale, area, raw, area_column.header)
            graded_on = (
                parse_uk_date(cell(date_column), date_column.header) if date_column else None
            )
            by_date.setdefault(graded_on or inspected_on, {})[area.pk] = grade
        predecessor = self._predecessor(group, cell, urn)
        records = [
            InspectionRecord(
                label=spec.label,
                scale=scale,
                inspected_on=inspected_on,
                reference=reference,
                published_on=published_on,
                overall=overall,
                category=category,
                judgements=by_date.pop(inspected_on),
                predecessor=predecessor,
            )
        ]
        for graded_on, judgements in sorted(by_date.items()):
            records.append(
                InspectionRecord(
                    label=f"{spec.label} (grades dated {graded_on:%d/%m/%Y})",
                    scale=scale,
                    inspected_on=graded_on,
                    judgements=judgements,
                    predecessor=predecessor,
                )
            )
        return records

    @staticmethod
    def _category(raw: str, column: Column | None) -> str:
        value = " ".join(raw.split()).casefold()
        if value in NO_CATEGORY:
            return ""
        if value not in CATEGORIES:
            raise RowProblem(
                column.header,
                f"'{raw.strip()}' is not a category of concern; expected one of "
                + ", ".join(label.capitalize() for label in CATEGORIES)
                + ", or blank.",
            )
        return CATEGORIES[value]

    def _predecessor(self, group: GroupLayout, cell, urn: str) -> Predecessor | None:
        columns = group.columns
        relates_column = columns.get("relates")
        relates = cell(relates_column).strip().casefold()
        if relates in NOTHING:
            relates = ""
        elif relates not in {"yes", "no"}:
            raise RowProblem(relates_column.header, f"'{cell(relates_column)}' is not Yes or No.")
        urn_column = columns.get("urn_at")
        urn_at = ""
        if urn_column:
            urn_at = parse_urn(cell(urn_column), urn_column.header, required=False)
        if not urn_at or urn_at == urn:
            if relates == "no":
                raise RowProblem(
                    urn_column.header if urn_column else relates_column.header,
                    f"the {group.spec.label} does not relate to this URN, "
                    "but no other URN is given.",
                )
            return None
        if relates == "yes":
            raise RowProblem(
                relates_column.header,
                f"says Yes, but the URN at the time was {urn_at}, not {urn}.",
            )
        name_column = columns.get("name_at")
        type_column = columns.get("type_at")
        laestab_column = columns.get("laestab_at")
        return Predecessor(
            urn=urn_at,
            laestab=self._laestab(cell(laestab_column), laestab_column.header)
            if laestab_column
            else "",
            name=text_value(cell(name_column), name_column.header, 200) if name_column else "",
            school_type=text_value(cell(type_column), type_column.header, 100)
            if type_column
            else "",
            name_header=name_column.header if name_column else urn_column.header,
        )

    @staticmethod
    def _once_each(inspections: list[InspectionRecord]) -> list[InspectionRecord]:
        """An inspection number listed by two of a row's inspections is imported once,
        from the one that grades it (the first, if both or neither do)."""
        kept: list[InspectionRecord] = []
        for inspection in inspections:
            twin = next(
                (k for k in kept if inspection.reference and k.reference == inspection.reference),
                None,
            )
            if twin is None:
                kept.append(inspection)
            elif inspection.graded and not twin.graded:
                kept[kept.index(twin)] = inspection
        return kept

    def apply(self, batch: ImportBatch, number: int, record: SchoolRecord) -> None:
        # Checks first: the row changes nothing until it is known to be good.
        if record.laestab:
            claim = self.claims.get(record.laestab)
            if claim and claim[0] != record.urn:
                raise RowProblem(
                    "LAESTAB",
                    f"{record.laestab} is also given to URN {claim[0]} on row {claim[1]}.",
                )
        for inspection in record.inspections:
            found = batch.inspection_numbered(inspection.reference)
            if found is not None and found.scale_id != inspection.scale.pk:
                raise RowProblem(
                    "",
                    f"inspection {inspection.reference} is already recorded on another "
                    f"rating scale than {inspection.scale.name}.",
                )
            predecessor = inspection.predecessor
            if predecessor and not predecessor.name and batch.school(predecessor.urn) is None:
                raise RowProblem(
                    predecessor.name_header,
                    f"is blank, so the school with URN {predecessor.urn} cannot be created.",
                )

        if record.laestab:
            self.claims[record.laestab] = (record.urn, number)
        school = batch.upsert_school(
            record.urn, name=record.name, details=record.details, main=True
        )
        if record.laestab:
            batch.give_laestab(school, record.laestab, take=True)
        for inspection in record.inspections:
            target = school
            predecessor = inspection.predecessor
            if predecessor:
                target = batch.upsert_school(
                    predecessor.urn,
                    name=predecessor.name,
                    details={"establishment_type": predecessor.school_type},
                    # The predecessor stood where the school stands now.
                    on_create={
                        key: record.details.get(key, "")
                        for key in ("phase", "region", "local_authority")
                    },
                )
                if predecessor.laestab:
                    batch.give_laestab(target, predecessor.laestab, take=False)
                batch.link(
                    target,
                    school,
                    lineage_kind(record.details.get("establishment_type", ""), predecessor),
                    record.open_date or inspection.inspected_on,
                    kind_is_known=False,
                    date_is_known=record.open_date is not None,
                )
            batch.upsert_inspection(
                target,
                scale=inspection.scale,
                inspected_on=inspection.inspected_on,
                reference=inspection.reference,
                published_on=inspection.published_on,
                overall=inspection.overall,
                category=inspection.category,
                report_url=record.web_link if target is school else "",
                judgements=inspection.judgements,
            )
        return None


def lineage_kind(current_type: str, predecessor: Predecessor) -> str:
    """Academy conversion when the school is now an academy and was not; else a rename."""

    def academy(school_type: str) -> bool:
        words = school_type.casefold()
        return "academy" in words or "converter" in words

    if academy(current_type) and not academy(predecessor.school_type):
        return LineageKind.ACADEMY_CONVERSION
    return LineageKind.RENAME


def import_ofsted_mi(
    source: Source,
    *,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    batch_size: int = 500,
) -> ImportReport:
    """Import an Ofsted school-inspections management-information CSV; see the module doc.

    Raises FileRejected, with nothing written, when the file cannot be used at all.
    Otherwise returns the report: bad rows are rejected with their row number (the
    header is row 1) and the column at fault, and the good rows import. Running the
    same file again reports every row unchanged and writes nothing.
    """
    data, filename = read_source(source)
    table = read_table(data)
    run = OfstedMiImport(table)
    report = ImportReport(
        source="Ofsted management information",
        filename=filename,
        encoding=table.encoding,
        dry_run=dry_run,
        rows=table.total,
        ignored_headers=run.ignored_headers(),
    )
    return import_rows(
        table,
        report,
        parse=run.parse,
        apply=run.apply,
        urn_column=run.layout.school["urn"].index,
        inspectorate=run.book.inspectorate,
        dry_run=dry_run,
        progress=progress,
        batch_size=batch_size,
    )
