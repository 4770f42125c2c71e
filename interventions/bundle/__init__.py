"""The failwell bundle (`"format": "failwell.bundle/1"`): a whole history as JSON.

Used to exchange data between bodies, to load the demo data and to write test
cases. The format is DESIGN.md's ("Data in and out"); the decisions it leaves open:

- An institution's `ref` is its slug. Import matches an institution first by any
  of its `identifiers` (scheme and value), then by slug == ref; it never changes
  the slug of an institution it matched, so URLs stay stable. Export writes the
  slug as the ref. `successor_of` and `parent` name refs in the same bundle or
  slugs already in the database.
- Rows are matched by their natural keys: inspections by (institution,
  inspectorate, scale, date), interventions by (institution, type, started_on),
  milestones by (intervention, title), evidence by (institution, observed_on,
  indicator or direction, summary). A matched row takes the values the bundle
  gives; keys the bundle leaves out keep their stored values. Rows the bundle does
  not mention are left alone, except an inspection's judgements, which are
  replaced by the bundle's when it lists them.
- Evidence is never deleted or edited: an indicator value that differs from the
  stored one retracts the stored row ("corrected by import") and adds the new one.
  Retracted evidence travels as `"retracted": {"at": ISO datetime, "reason": ...}`;
  import never un-retracts.
- Scales already in the database must match the bundle's definition (grades,
  bands, areas); a scale is never edited in place. Unknown inspectorates are
  created. An indicator's `higher_is_better` cannot be flipped by an import.
- Top-level `notes` (and an institution's `notes`) are for people and ignored;
  an institution's `trajectory` is written by export and ignored on import.
- A file is all or nothing: everything is checked first and every problem
  reported with its JSON path; only a clean file is written, in one transaction.
"""

from interventions.bundle.export import export_bundle
from interventions.bundle.load import ImportSummary, import_bundle
from interventions.bundle.reader import FORMAT, BundleError, parse_json

__all__ = [
    "FORMAT",
    "BundleError",
    "ImportSummary",
    "export_bundle",
    "import_bundle",
    "parse_json",
]
