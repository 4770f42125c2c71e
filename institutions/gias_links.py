"""Import of the GIAS (Get Information about Schools) establishment links CSV into lineage.

Each row says how the establishment `LinkURN` relates to the establishment `URN`:
"Predecessor" means LinkURN is URN's predecessor, "Successor" its successor, and so
on through the table below. Both schools usually list the link, so the file holds
most links twice, once from each end; the second is reported unchanged.

Only schools failwell already knows (by URN) get links: GIAS lists every
establishment in England, and importing Ofsted's data first brings in the ones
that matter. A LinkURN not yet known is created with its LinkName.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from institutions.import_batch import BatchKeys, ImportBatch, import_rows
from institutions.imports import (
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
from institutions.models import Institution, LineageKind

PREDECESSOR = "predecessor"  # LinkURN came before URN
SUCCESSOR = "successor"  # LinkURN came after URN

# GIAS LinkType -> (which side LinkURN is on, kind). A kind of None means GIAS does
# not say (a plain "Predecessor" is most often an academy conversion, but can be a
# re-registration): see `inferred_kind`. GIAS codes the "Merged - ..." types, like
# "Successor", on the successor side: LinkURN is the school that carried on.
LINK_TYPES: dict[str, tuple[str, str | None]] = {
    "predecessor": (PREDECESSOR, None),
    "successor": (SUCCESSOR, None),
    "predecessor - amalgamated": (PREDECESSOR, LineageKind.MERGER),
    "successor - amalgamated": (SUCCESSOR, LineageKind.MERGER),
    "predecessor - merged": (PREDECESSOR, LineageKind.MERGER),
    "successor - merged": (SUCCESSOR, LineageKind.MERGER),
    "result of amalgamation": (SUCCESSOR, LineageKind.MERGER),
    "merged - expansion of school capacity": (SUCCESSOR, LineageKind.MERGER),
    "merged - change in age range": (SUCCESSOR, LineageKind.MERGER),
    "merged - expansion in school capacity and changer in age range": (
        SUCCESSOR,
        LineageKind.MERGER,
    ),
    "predecessor - split school": (PREDECESSOR, LineageKind.SPLIT),
    "successor - split school": (SUCCESSOR, LineageKind.SPLIT),
}

# Links GIAS keeps that say nothing about one school becoming another.
NOT_LINEAGE = {
    "sixth form centre link",
    "sixth form centre school",
    "children's centre link",
    "other",
    "not applicable",
    "closure",
    "expansion",
}

REQUIRED = ["URN", "LinkURN", "LinkName", "LinkType", "LinkEstablishedDate"]


@dataclass
class LinkRecord:
    urn: str
    link_urn: str
    link_name: str
    side: str
    kind: str | None
    linked_on: datetime.date
    skip: str = ""


def inferred_kind(predecessor: Institution, successor: Institution) -> str:
    """For a plain Predecessor/Successor link: an academy conversion when the successor
    is an academy and the predecessor was not (as far as failwell knows), else a rename."""

    def academy(institution: Institution) -> bool:
        words = institution.establishment_type.casefold()
        return "academy" in words or "converter" in words

    if academy(successor) and not academy(predecessor):
        return LineageKind.ACADEMY_CONVERSION
    return LineageKind.RENAME


class GiasLinksImport:
    def __init__(self, columns: dict[str, int], width: int):
        self.columns = columns
        self.width = width

    def parse(self, number: int, values: list[str]) -> tuple[LinkRecord, BatchKeys]:
        if len(values) != self.width:
            raise RowProblem("", f"has {len(values)} fields where the header has {self.width}.")

        def cell(header: str) -> str:
            index = self.columns.get(header)
            return values[index] if index is not None else ""

        urn = parse_urn(cell("URN"), "URN")
        link_urn = parse_urn(cell("LinkURN"), "LinkURN")
        link_type = " ".join(cell("LinkType").split())
        link_name = text_value(cell("LinkName"), "LinkName", 200)
        keys = BatchKeys(urns={urn, link_urn})
        if link_type.casefold() in NOT_LINEAGE:
            record = LinkRecord(urn, link_urn, link_name, "", None, datetime.date.min)
            record.skip = f"LinkType '{link_type}' is not a change of identity"
            return record, BatchKeys()
        if link_type.casefold() not in LINK_TYPES:
            raise RowProblem(
                "LinkType",
                f"'{link_type}' is not a link type failwell knows; expected one of "
                "Predecessor, Successor, Predecessor - amalgamated, Successor - amalgamated, "
                "Predecessor - Split School, Successor - Split School, Merged - ...",
            )
        if urn == link_urn:
            raise RowProblem("LinkURN", f"is the row's own URN {urn}.")
        linked_on = parse_uk_date(cell("LinkEstablishedDate"), "LinkEstablishedDate")
        if linked_on is None:
            raise RowProblem("LinkEstablishedDate", "is blank; a lineage link needs its date.")
        side, kind = LINK_TYPES[link_type.casefold()]
        return LinkRecord(urn, link_urn, link_name, side, kind, linked_on), keys

    def apply(self, batch: ImportBatch, number: int, record: LinkRecord) -> str | None:
        if record.skip:
            return record.skip
        school = batch.school(record.urn)
        if school is None:
            return "URN not in failwell (import its Ofsted data first)"
        if batch.school(record.link_urn) is None and not record.link_name:
            raise RowProblem(
                "LinkName",
                f"is blank, so the school with LinkURN {record.link_urn} cannot be created.",
            )
        linked = batch.upsert_school(record.link_urn, name=record.link_name)
        if record.side == PREDECESSOR:
            predecessor, successor = linked, school
        else:
            predecessor, successor = school, linked
        made = batch.link(
            predecessor,
            successor,
            record.kind or inferred_kind(predecessor, successor),
            record.linked_on,
            kind_is_known=record.kind is not None,
        )
        if made == "created":
            batch.count_row_as_created()
        return None


def import_gias_links(
    source: Source,
    *,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    batch_size: int = 500,
) -> ImportReport:
    """Import a GIAS links CSV into lineage; see the module doc.

    Raises FileRejected, with nothing written, when the file cannot be used at all.
    Rows about schools failwell does not hold, or links that are not a change of
    identity (sixth-form centre links...), are skipped with the reason.
    """
    data, filename = read_source(source)
    table = read_table(data)
    require_headers(table, REQUIRED)
    columns = {header: table.positions[normalise_header(header)] for header in REQUIRED}
    used = {normalise_header(header) for header in columns}
    report = ImportReport(
        source="GIAS links",
        filename=filename,
        encoding=table.encoding,
        dry_run=dry_run,
        rows=table.total,
        ignored_headers=[h for h in table.headers if h and normalise_header(h) not in used],
    )
    run = GiasLinksImport(columns, len(table.headers))
    return import_rows(
        table,
        report,
        parse=run.parse,
        apply=run.apply,
        urn_column=columns["URN"],
        dry_run=dry_run,
        progress=progress,
        batch_size=batch_size,
    )
