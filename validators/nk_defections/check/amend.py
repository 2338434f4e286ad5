"""Applies a contribution's amendments to the package's rows, in memory, before the rules run.

A contribution is checked as the package would be after it: each amendment (set a field,
re-rank a claim, merge two records, retire one) changes the package's frames in the order
written, and the rules then run on the result. A row an amendment changes is marked
``_report`` and located at the amendment (its file and line), so that what the rules find
wrong with it points there; so is every redirect a merge or a retirement writes. What is wrong
with an amendment itself (an unknown record or field, a merge across tables…) is a *fault*,
which :func:`nk_defections.check.rules.amendments.check_amendments` reports.

What each op does:

* ``set``: the cell ``field`` of ``record_id`` becomes ``value`` (empty: the cell is emptied).
* ``rerank``: the claim ``record_id`` takes ``claim_rank`` and ``rank_reason``.
* ``merge``: ``record_id`` is merged into ``into`` (same table): every row whose reference
  (a parent key, a foreign key, a claim's ``record_id``, a redirect's ``new_id``) names it
  names ``into`` instead; an empty cell of ``into`` takes the merged record's value; the row
  goes, and its id goes to redirects with ``new_id`` = ``into``.
* ``retire``: the row goes, with the claims about it; its id (and theirs) go to redirects with
  no ``new_id``. Any other row that still refers to it, once every amendment is applied, is a
  fault (``amend.retire-orphans``): retire it too, or point it elsewhere with ``set``.

Then every reference of the contribution's own rows to a merged id is taken to the record that
stands for it now (a warning, ``ref.redirected``); a reference to a retired one is left for the
reference rule to refuse (``ref.retired``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from nk_defections.findings import codes as C
from nk_defections.model.frames import CSV, FILE, LINE, POINTER, REPORT
from nk_defections.model.hints import nearest
from nk_defections.model.ids import derived
from nk_defections.model.package import AMENDMENTS, CLAIM_KEY, CLAIMS, REDIRECTS, Package
from nk_defections.read.contribution import VALID

#: The columns of the faults frame beyond the location: the code, the field and the message.
CODE, FIELD, MESSAGE = "_code", "_field", "_message"
#: Which fields each op takes besides ``op`` and ``record_id``: (required, optional).
OP_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "set": (("field",), ("value",)),
    "rerank": (("claim_rank",), ("rank_reason",)),
    "merge": (("into", "reason"), ()),
    "retire": (("reason",), ()),
}
#: Rows an orphan finding names at most.
SHOWN = 5

Row = dict[str, Any]


@dataclass
class Applied:
    """The package's rows after a contribution's amendments, and what was wrong with them."""

    #: Every table of the package as the amendments leave it (the contribution's rows apart).
    frames: dict[str, pl.DataFrame]
    #: The contribution's own rows, their references to merged ids taken to the survivors.
    contributed: dict[str, pl.DataFrame]
    #: One row per fault: its location, ``id``, ``_code``, ``_field``, ``_message``.
    faults: pl.DataFrame
    #: Per table, the ids of the rows the amendments changed (retired ones aside).
    amended: dict[str, set[str]] = field(default_factory=dict)
    #: The ids retired, each with the record it was merged into (None: retired outright).
    retired: dict[str, str | None] = field(default_factory=dict)

    #: The tables rows were removed from.
    removed_from: set[str] = field(default_factory=set)

    @property
    def changed(self) -> set[str]:
        """The tables whose rows the amendments changed, added or removed."""
        tables = {table for table, ids in self.amended.items() if ids} | self.removed_from
        return tables | ({REDIRECTS} if self.retired else set())


def _faults_frame(rows: list[Row]) -> pl.DataFrame:
    schema = {
        FILE: pl.String,
        LINE: pl.Int64,
        POINTER: pl.String,
        "id": pl.String,
        CODE: pl.String,
        FIELD: pl.String,
        MESSAGE: pl.String,
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    return frame.with_columns(pl.lit(True).alias(REPORT))


class _Amender:
    """The package's frames as amended so far, and the faults found."""

    def __init__(self, package: Package, frames: dict[str, pl.DataFrame]) -> None:
        self.package = package
        self.frames = dict(frames)
        self.faults: list[Row] = []
        self.amended: dict[str, set[str]] = {}
        self.retired: dict[str, str | None] = {}
        self.removed_from: set[str] = set()
        #: Every redirect, old id -> new id (None: retired), the package's and those added.
        self.redirects: dict[str, str | None] = {}
        if REDIRECTS in self.frames:
            old, new = self.frames[REDIRECTS]["old_id"], self.frames[REDIRECTS]["new_id"]
            self.redirects = dict(zip(old.to_list(), new.to_list(), strict=True))
        #: (retired id, the amendment) of each retirement, checked for orphans at the end.
        self.retirements: list[tuple[str, Row]] = []
        #: Rows to mark ``_report`` where they are, by table and id, and claims by record_id:
        #: marked once at the end (:meth:`mark`), not once per amendment.
        self.marked: dict[str, set[str]] = {}
        self.claims_marked: set[str] = set()

    # -- faults ---------------------------------------------------------------------------------

    def fault(self, amendment: Row, code: str, field: str | None, message: str) -> None:
        self.faults.append(
            {
                FILE: amendment[FILE],
                LINE: amendment[LINE],
                POINTER: amendment[POINTER],
                "id": amendment.get("record_id"),
                CODE: code,
                FIELD: field,
                MESSAGE: message,
            }
        )

    # -- looking records up ---------------------------------------------------------------------

    def table_of(self, record_id: str) -> str | None:
        table = self.package.table_of_prefix.get(record_id.split("-", 1)[0])
        return table if table in self.frames and table != REDIRECTS else None

    def row(self, table: str, record_id: str) -> Row | None:
        found = self.frames[table].filter(pl.col("id") == record_id)
        return found.row(0, named=True) if found.height else None

    def current(self, record_id: str) -> tuple[str, bool]:
        """The id *record_id* stands for now, and whether it was retired on the way."""
        seen = set()
        while record_id in self.redirects and record_id not in seen:
            seen.add(record_id)
            new = self.redirects[record_id]
            if new is None:
                return record_id, True
            record_id = new
        return record_id, False

    def resolve(self, amendment: Row, column: str) -> tuple[str, str, Row] | None:
        """The table, current id and row of the record *column* of *amendment* names.

        None, with a fault, where there is none: an unknown or retired id.
        """
        given = amendment[column]
        record_id, retired = self.current(given)
        if retired:
            self.fault(
                amendment,
                C.AMEND_RETIRED_RECORD,
                column,
                f"{given} was retired ({self._why(record_id)}); a retired record cannot be "
                "amended or merged into",
            )
            return None
        if record_id != given:
            self.fault(
                amendment,
                C.REF_REDIRECTED,
                column,
                f"{given} was merged into {record_id}: the amendment applies to {record_id}",
            )
        table = self.table_of(record_id)
        row = self.row(table, record_id) if table is not None else None
        if table is None or row is None:
            where = f"no row of {table}" if table else "no table of the package"
            self.fault(
                amendment,
                C.AMEND_UNKNOWN_RECORD,
                column,
                f"{column} {given!r} names {where} in the package"
                + (
                    "; a record this contribution adds is written as it should be, not amended"
                    if table
                    else ""
                ),
            )
            return None
        return table, record_id, row

    def _why(self, record_id: str) -> str:
        frame = self.frames.get(REDIRECTS)
        if frame is None:
            return "no reason recorded"
        found = frame.filter(pl.col("old_id") == record_id)
        if not found.height:
            return "no reason recorded"
        reason, version = found.row(0, named=True)["reason"], found.row(0, named=True)["version"]
        return f"after version {version}: {reason}"

    # -- changing rows --------------------------------------------------------------------------

    def change(
        self, table: str, where: pl.Expr, values: dict[str, Any], amendment: Row | None
    ) -> None:
        """Set *values* in the rows of *table* where *where* holds; locate them at *amendment*.

        Without an amendment, the rows are only marked ``_report`` (left where they are).
        """
        frame = self.frames[table]
        hit = where.fill_null(False)
        updates = [
            pl.when(hit).then(pl.lit(value, dtype=pl.String)).otherwise(pl.col(name)).alias(name)
            for name, value in values.items()
        ]
        updates.append((pl.col(REPORT) | hit).alias(REPORT))
        if amendment is not None:
            # Located at the amendment, checked cell by cell as a CSV row is.
            updates += [
                pl.when(hit).then(pl.lit(amendment[FILE])).otherwise(pl.col(FILE)).alias(FILE),
                pl.when(hit)
                .then(pl.lit(amendment[LINE], dtype=pl.Int64))
                .otherwise(pl.col(LINE))
                .alias(LINE),
                pl.when(hit)
                .then(pl.lit(None, dtype=pl.String))
                .otherwise(pl.col(POINTER))
                .alias(POINTER),
                (pl.col(CSV) | hit).alias(CSV),
            ]
            ids = frame.filter(hit)["id"].to_list()
            if ids:
                self.amended.setdefault(table, set()).update(ids)
        self.frames[table] = frame.with_columns(updates)

    def remove(
        self, table: str, record_id: str, new: str | None, reason: str, amendment: Row
    ) -> None:
        """Drop the row *record_id* of *table* and redirect its id to *new* (None: retired)."""
        self.frames[table] = self.frames[table].filter(pl.col("id") != record_id)
        self.removed_from.add(table)
        self.amended.get(table, set()).discard(record_id)
        self.retired[record_id] = new
        self.redirects[record_id] = new
        redirect = {
            "id": derived(self.package.prefixes[REDIRECTS], record_id),
            "old_id": record_id,
            "new_id": new,
            "reason": reason,
            "version": self.package.version,
        }
        frame = self.frames[REDIRECTS]
        row = {name: redirect.get(name) for name in self.package.field_names(REDIRECTS)}
        added = pl.DataFrame(
            [
                {
                    **row,
                    FILE: amendment[FILE],
                    LINE: amendment[LINE],
                    POINTER: None,
                    CSV: True,
                    REPORT: True,
                }
            ],
            schema=frame.schema,
            orient="row",
        )
        self.frames[REDIRECTS] = pl.concat([frame, added])

    def near(self, table: str, row: Row) -> None:
        """Mark for findings, where they are, the records *row* refers to and the claims about it.

        What an amendment changes may break a rule on a row it leaves as it is: a person whose
        one preferred name is retired, a record whose claim is re-ranked or moved away, the
        claims of a cell that changed. Sources aside: a claim's source is checked by its text.
        """
        for column in self.package.reference_columns(table):
            value = row.get(column)
            if not isinstance(value, str):
                continue
            target = self.table_of(value)
            if target is not None and target != "sources":
                self.marked.setdefault(target, set()).add(value)
        if table != CLAIMS:
            self.claims_marked.add(row["id"])

    def mark(self) -> None:
        """Mark the rows :meth:`near` named (those still there), once every amendment is applied."""
        for table, ids in self.marked.items():
            self.change(table, pl.col("id").is_in(list(ids)), {}, None)
        if self.claims_marked and CLAIMS in self.frames:
            self.change(CLAIMS, pl.col(CLAIM_KEY).is_in(list(self.claims_marked)), {}, None)

    def referring(self, record_id: str, table: str) -> Iterator[tuple[str, str]]:
        """``(table, column)`` of each reference column that may name a row of *table*."""
        for other in self.package.resources:
            if other not in self.frames:
                continue
            for column in self.package.reference_columns(other):
                if table in self.package.reference_targets(other, column):
                    yield other, column

    # -- the ops --------------------------------------------------------------------------------

    def apply(self, amendment: Row) -> None:
        op = amendment["op"]
        required, optional = OP_FIELDS[op]
        missing = [name for name in required if amendment.get(name) is None]
        extra = [
            name
            for name in self.package.field_names(AMENDMENTS)
            if name not in ("op", "record_id", *required, *optional)
            and amendment.get(name) is not None
        ]
        for name in missing:
            self.fault(amendment, C.AMEND_OP_FIELDS, name, f"a {op} amendment needs {name!r}")
        for name in extra:
            owner = next((o for o, (r, p) in OP_FIELDS.items() if name in (*r, *p)), None)
            self.fault(
                amendment,
                C.AMEND_OP_FIELDS,
                name,
                f"{name!r} is not a field of a {op} amendment"
                + (f" (it is {owner}'s)" if owner else ""),
            )
        if missing or extra:
            return
        getattr(self, f"_{op}")(amendment)

    def _set(self, amendment: Row) -> None:
        resolved = self.resolve(amendment, "record_id")
        if resolved is None:
            return
        table, record_id, row = resolved
        name = amendment["field"]
        names = self.package.field_names(table)
        if name == "id":
            self.fault(
                amendment,
                C.AMEND_FIXED_FIELD,
                "field",
                f"an id is never changed: merge {record_id} into another record, or retire it",
            )
            return
        if name not in names:
            owners = [t for t in self.package.resources if name in self.package.field_names(t)]
            hint = nearest(name, names)
            self.fault(
                amendment,
                C.AMEND_UNKNOWN_FIELD,
                "field",
                f"{table} has no field {name!r}"
                + (f" (a field of {', '.join(owners)})" if owners else "")
                + (f"; did you mean {hint!r}?" if hint else f"; its fields: {', '.join(names)}"),
            )
            return
        value = amendment["value"]
        if value is not None and self.package.reference_targets(table, name):
            current, retired = self.current(value)
            if current != value and not retired:
                self.fault(
                    amendment,
                    C.REF_REDIRECTED,
                    "value",
                    f"{value} was merged into {current}: {name} is set to {current}",
                )
                value = current
        self.near(table, row)  # what the row referred to before
        self.change(table, pl.col("id") == record_id, {name: value}, amendment)
        self.near(table, {**row, name: value})

    def _rerank(self, amendment: Row) -> None:
        resolved = self.resolve(amendment, "record_id")
        if resolved is None:
            return
        table, record_id, row = resolved
        if table != CLAIMS:
            self.fault(
                amendment,
                C.AMEND_WRONG_TABLE,
                "record_id",
                f"rerank re-ranks a claim; {record_id} is a row of {table} (set a field instead)",
            )
            return
        values = {"claim_rank": amendment["claim_rank"], "rank_reason": amendment["rank_reason"]}
        self.change(CLAIMS, pl.col("id") == record_id, values, amendment)
        self.near(CLAIMS, row)
        # Which claim is preferred concerns every claim of the record.
        self.claims_marked.add(row[CLAIM_KEY])

    def _merge(self, amendment: Row) -> None:
        resolved = self.resolve(amendment, "record_id")
        if resolved is None:
            return
        table, old, old_row = resolved
        if table == CLAIMS:
            self.fault(
                amendment,
                C.AMEND_WRONG_TABLE,
                "record_id",
                f"{old} is a claim: two claims are never merged; deprecate one (rerank) or "
                "retire it",
            )
            return
        target = self.resolve(amendment, "into")
        if target is None:
            return
        into_table, new, new_row = target
        if into_table != table or new == old:
            self.fault(
                amendment,
                C.AMEND_MERGE_MISMATCH,
                "into",
                f"{old} cannot be merged into itself"
                if new == old
                else f"{old} is a row of {table} and {new} of {into_table}: only records of one "
                "table are merged",
            )
            return
        # The survivor keeps its own values and takes the merged record's where it has none.
        filled = {
            name: value
            for name, value in old_row.items()
            if name in self.package.field_names(table)
            and name != "id"
            and value is not None
            and new_row.get(name) is None
        }
        self.near(table, old_row)
        self.change(table, pl.col("id") == new, filled, amendment)
        for other, column in self.referring(old, table):
            self.change(other, pl.col(column) == old, {column: new}, amendment)
        self.remove(table, old, new, amendment["reason"], amendment)

    def _retire(self, amendment: Row) -> None:
        resolved = self.resolve(amendment, "record_id")
        if resolved is None:
            return
        table, record_id, row = resolved
        reason = amendment["reason"]
        self.near(table, row)
        self.remove(table, record_id, None, reason, amendment)
        if table != CLAIMS and CLAIMS in self.frames:
            # A claim about a record that is not there says nothing: it goes with it.
            about = self.frames[CLAIMS].filter(pl.col(CLAIM_KEY) == record_id)["id"].to_list()
            for claim_id in about:
                self.remove(
                    CLAIMS, claim_id, None, f"a claim about {record_id}: {reason}", amendment
                )
        self.retirements.append((record_id, amendment))

    # -- once every amendment is applied --------------------------------------------------------

    def check_orphans(self) -> None:
        for record_id, amendment in self.retirements:
            table = self.package.table_of_prefix[record_id.split("-", 1)[0]]
            found = []
            for other, column in self.referring(record_id, table):
                if other == REDIRECTS:
                    continue
                ids = self.frames[other].filter(pl.col(column) == record_id)["id"].to_list()
                found += [f"{i} ({other}.{column})" for i in ids]
            if found:
                more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
                self.fault(
                    amendment,
                    C.AMEND_RETIRE_ORPHANS,
                    "record_id",
                    f"{record_id} is retired but {', '.join(found[:SHOWN])}{more} still refer to "
                    "it: retire them too, or point them elsewhere (set), in the same contribution",
                )

    def redirect_contributed(self, contributed: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        """Take the contribution's references to merged ids to the records standing for them."""
        moved = {
            old: self.current(old)[0] for old, new in self.redirects.items() if new is not None
        }
        if not moved:
            return contributed
        out = dict(contributed)
        for table, frame in contributed.items():
            for column in self.package.reference_columns(table):
                if not self.package.reference_targets(table, column):
                    continue
                hit = frame.filter(pl.col(column).is_in(list(moved)))
                for row in hit.iter_rows(named=True):
                    self.faults.append(
                        {
                            FILE: row[FILE],
                            LINE: row[LINE],
                            POINTER: row[POINTER],
                            "id": row["id"],
                            CODE: C.REF_REDIRECTED,
                            FIELD: column,
                            MESSAGE: f"{column} {row[column]!r} was merged into "
                            f"{moved[row[column]]}: the reference is taken there",
                        }
                    )
                if hit.height:
                    frame = frame.with_columns(pl.col(column).replace(moved))
            out[table] = frame
        return out


def apply_amendments(
    package: Package,
    frames: dict[str, pl.DataFrame],
    amendments: pl.DataFrame | None,
    contributed: dict[str, pl.DataFrame],
) -> Applied:
    """Apply *amendments* (as read, in order) to the package's *frames*; see the module's text.

    Amendments that failed their JSON Schema (``_valid`` false) are skipped: they are already
    findings. *contributed* are the contribution's own rows, whose references to merged ids are
    taken to the records that stand for them now.

    Examples
    --------
    >>> from nk_defections.model.package import load_package_descriptor
    >>> from nk_defections.read.package import read_package_frames
    >>> package = load_package_descriptor()
    >>> frames, _ = read_package_frames(package, report=False)
    >>> apply_amendments(package, frames, None, {}).faults.height
    0
    """
    amender = _Amender(package, frames)
    if amendments is not None:
        for amendment in amendments.iter_rows(named=True):
            if amendment[VALID] and amendment["op"] in OP_FIELDS:
                amender.apply(amendment)
        amender.check_orphans()
        amender.mark()
    contributed = amender.redirect_contributed(contributed)
    return Applied(
        amender.frames,
        contributed,
        _faults_frame(amender.faults),
        amender.amended,
        amender.retired,
        amender.removed_from,
    )
