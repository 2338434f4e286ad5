"""The claim rules and the record_id references, against a plain model of what they say.

The rules share one join of the claims with every table's ids (``rules.claims.named``). This
property builds small tables in memory where ids repeat within and across tables, carry another
table's prefix or none, fields are unknown, empty or missing, and only some rows are reported,
and asserts that the rules find exactly what a row-by-row reading of their definitions finds.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from nk_defections.check.rules import Context
from nk_defections.check.rules.claims import RULES as CLAIM_RULES
from nk_defections.check.rules.claims import evidence_columns
from nk_defections.check.rules.references import check_references
from nk_defections.findings import codes as C
from nk_defections.model.package import CLAIMS, load_package_descriptor

from .conftest import ROOT

PACKAGE = load_package_descriptor(ROOT)
TABLES = ("sources", "people", "events", "event_participants")
#: A few ids per table, so that they repeat; some with another table's prefix, or none.
IDS = [
    "src-00000001",
    "src-00000002",
    "per-00000001",
    "per-00000002",
    "evt-00000001",
    "evt-00000002",
    "evt-0000000x",
    "ptc-00000001",
    "ptc-00000002",
    "per-00000009",
    "evtx0000001",
    "xyz-00000001",
    "evt",
]


def _value(column: str) -> st.SearchStrategy[str | None]:
    if column == "paragraphs":
        return st.sampled_from(["3", "10", "x", None])
    return st.sampled_from(["1999", "x", None])


@st.composite
def tables(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in TABLES:
        columns = PACKAGE.field_names(table)
        rows[table] = [
            {
                **{column: draw(_value(column)) for column in columns},
                "id": draw(st.sampled_from([*IDS, None])),
                "_report": draw(st.booleans()),
            }
            for _ in range(draw(st.integers(0, 6)))
        ]
    fields = sorted({column for table in TABLES for column in PACKAGE.field_names(table)})
    rows[CLAIMS] = [
        {
            "id": f"clm-{i:08d}",
            "record_id": draw(st.sampled_from([*IDS, None])),
            "field": draw(st.sampled_from(["*", "*", *fields, "bogus", None])),
            "source_id": draw(
                st.sampled_from(["src-00000001", "src-00000002", "src-00000009", None])
            ),
            "paragraph": draw(st.sampled_from(["1", "3", "11", "x", None])),
            "original_text": draw(st.sampled_from(["in 2016", None])),
            "claim_rank": draw(st.sampled_from([None, "normal", "deprecated"])),
            "_report": draw(st.booleans()),
        }
        for i in range(draw(st.integers(0, 12)))
    ]
    return rows


def _context(rows: dict[str, list[dict[str, Any]]]) -> Context:
    frames = {}
    for table in PACKAGE.resources:
        columns = PACKAGE.field_names(table)
        records = rows.get(table, [])
        frames[table] = pl.DataFrame(
            {
                **{column: [r.get(column) for r in records] for column in columns},
                "_file": [f"{table}.csv"] * len(records),
                "_line": list(range(2, len(records) + 2)),
                "_pointer": [None] * len(records),
                "_csv": [True] * len(records),
                "_report": [r["_report"] for r in records],
            },
            schema={
                **{c: pl.String for c in columns},
                "_file": pl.String,
                "_line": pl.Int64,
                "_pointer": pl.String,
                "_csv": pl.Boolean,
                "_report": pl.Boolean,
            },
        )
    return Context(PACKAGE, frames)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def model(rows: dict[str, list[dict[str, Any]]]) -> set[tuple[str, str, int, str]]:
    """What the rules say, read row by row: (code, file, line, field)."""
    found = set()
    claims = rows[CLAIMS]
    prefixes = PACKAGE.prefixes
    table_of = PACKAGE.table_of_prefix

    def at(table: str, i: int) -> tuple[str, int]:
        return f"{table}.csv", i + 2

    def claimed(record_id: str, field: str) -> bool:
        return any(c["record_id"] == record_id and c["field"] == field for c in claims)

    for table in TABLES:
        if not PACKAGE.is_claimed(table) or not any(r["_report"] for r in rows[table]):
            continue
        needed = evidence_columns(PACKAGE, table)[0]
        for i, r in enumerate(rows[table]):
            if not r["_report"] or r["id"] is None:
                continue
            if not claimed(r["id"], "*"):
                found.add((C.CLAIM_MISSING_ROW, *at(table, i), "id"))
            for column in needed:
                if r.get(column) is not None and not claimed(r["id"], column):
                    found.add((C.CLAIM_MISSING_FIELD, *at(table, i), column))
    if not any(c["_report"] for c in claims):
        return found
    paragraphs = {}
    for s in rows["sources"]:
        if s["id"] is not None:  # a null never joins
            paragraphs.setdefault(s["id"], _int(s["paragraphs"]))
    targets = PACKAGE.reference_targets(CLAIMS, "record_id")
    for i, c in enumerate(claims):
        if not c["_report"]:
            continue
        where = at(CLAIMS, i)
        if c["source_id"] in paragraphs and None not in (
            _int(c["paragraph"]),
            paragraphs[c["source_id"]],
        ):
            if _int(c["paragraph"]) > paragraphs[c["source_id"]]:
                found.add((C.CLAIM_PARAGRAPH, *where, "paragraph"))
        record_id = c["record_id"] or ""
        for target in targets:
            if record_id.startswith(f"{prefixes[target]}-") and not any(
                r["id"] == record_id for r in rows.get(target, [])
            ):
                found.add((C.REF_UNKNOWN[target], *where, "record_id"))
        table = table_of.get(record_id[:3])
        if c["field"] in (None, "*") or table in (None, CLAIMS):
            continue
        columns = PACKAGE.field_names(table)
        if c["field"] not in columns:
            found.add((C.CLAIM_UNKNOWN_FIELD, *where, "field"))
            continue
        if c["field"] in evidence_columns(PACKAGE, table)[1] and c["original_text"] is None:
            found.add((C.CLAIM_MISSING_TEXT, *where, "original_text"))
        if c["claim_rank"] != "deprecated" and any(
            r["id"] == record_id and r.get(c["field"]) is None for r in rows.get(table, [])
        ):
            found.add((C.CLAIM_EMPTY_FIELD, *where, "field"))
    return found


RECORD_ID_CODES = {C.REF_UNKNOWN[t] for t in PACKAGE.reference_targets(CLAIMS, "record_id")}


@given(tables())
def test_the_claim_rules_find_what_their_definitions_say(rows: dict[str, list[dict[str, Any]]]):
    context = _context(rows)
    issues = [issue for rule in CLAIM_RULES for issue in rule(context)]
    issues += [
        i for i in check_references(context) if i.field == "record_id" and i.code in RECORD_ID_CODES
    ]
    assert {(i.code, i.file, i.row, i.field) for i in issues} == model(rows)
