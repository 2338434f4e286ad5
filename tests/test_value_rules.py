"""The rules on claims' values, against a plain reading of what they say, row by row.

The rules (``rules.values``) are polars queries over every claim at once: joins, windows and a
self-join for the pairs. This property builds small tables in memory (ids that repeat, claims on
dates, periods, a vocabulary, numbers and text, valid values and invalid ones, every rank and
reason, rows and claims reported or not, as in a contribution on a package) and asserts that the
rules find exactly what a loop over the rows and claims finds, with the field's lexical form read
by ``model.dates`` and plain Python.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from nk_defections.check.rules.values import RULES, rank_of_reason
from nk_defections.findings import codes as C
from nk_defections.model.dates import DateError, parse_bounds
from nk_defections.model.package import CLAIMS

from .test_claim_rules import PACKAGE, _context

#: The columns the claims give values for, and the cells (and values) they may hold.
POOLS: dict[tuple[str, str], list[str | None]] = {
    ("people", "birth_date"): ["2019", "2019-04", "2019-04-05", "[2019..]", "[..2018]", "2020~"],
    ("people", "kind"): ["individual", "group", "grp"],
    ("people", "group_size_min"): ["2", "3", "0", "2.0", "x"],
    ("people", "name"): ["A", "B", "A "],
    ("events", "date"): ["2019", "2019/2020", "../2019-04", "2019-04", "2021", "x"],
    ("statistics", "value"): ["3", "3.0", "4", "x"],
}
TABLES = sorted({table for table, _ in POOLS})
IDS = ["per-00000001", "per-00000002", "evt-00000001", "sta-00000001", "sta-00000002"]
RANKS = [None, "normal", "preferred", "preferred", "deprecated", "bogus"]
REASONS = [None, "most_precise", "authoritative", "superseded", "withdrawn", "bogus"]
REASON_RANK = rank_of_reason(PACKAGE)


@st.composite
def tables(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    # Most claims are on one field of one record, so that they meet: agree, differ, rank.
    focus = draw(st.sampled_from([(table, column) for table, column in POOLS]))
    focus_id = draw(st.sampled_from([i for i in IDS if i.startswith(PACKAGE.prefixes[focus[0]])]))
    for table in TABLES:
        prefix = PACKAGE.prefixes[table]
        rows[table] = [
            {
                "id": draw(st.sampled_from([focus_id, *(i for i in IDS if i.startswith(prefix))])),
                **{
                    column: draw(st.sampled_from([*pool, None]))
                    for (t, column), pool in POOLS.items()
                    if t == table
                },
                "_report": draw(st.booleans()),
            }
            for _ in range(draw(st.integers(0, 3)))
        ]
    claims = []
    for i in range(draw(st.integers(0, 14))):
        record_id = draw(st.sampled_from([focus_id, focus_id, *IDS]))
        table = PACKAGE.table_of_prefix[record_id[:3]]
        columns = [column for t, column in POOLS if t == table]
        near = [focus[1]] * 3 if record_id == focus_id else []
        field = draw(st.sampled_from([*near, "*", *columns, None]))
        pool = POOLS.get((table, field), ["x"])
        claims.append(
            {
                "id": f"clm-{i:08d}",
                "record_id": record_id,
                "field": field,
                "source_id": "src-00000001",
                "paragraph": "1",
                "value": draw(st.sampled_from([*pool, None])),
                "claim_rank": draw(st.sampled_from(RANKS)),
                "rank_reason": draw(st.sampled_from(REASONS)),
                "_report": draw(st.booleans()),
            }
        )
    rows[CLAIMS] = claims
    return rows


def _number(text: str, integer: bool) -> int | float | None:
    if integer:
        return int(text) if re.fullmatch(r"-?[0-9]+", text) else None
    try:
        return float(text)
    except ValueError:
        return None


def valid(table: str, column: str, text: str | None, *, clean: bool = True) -> bool:
    """Whether *text* is a valid cell of the column, read plainly (and *clean* text)."""
    if text is None:
        return False
    field = PACKAGE.field(table, column)
    cons = field.get("constraints", {})
    dates = dict(PACKAGE.date_columns(table))
    if column in dates:
        try:
            parse_bounds(text, interval=dates[column])
        except DateError:
            return False
        return True
    if field["type"] in ("integer", "number"):
        number = _number(text, field["type"] == "integer")
        return (
            number is not None
            and cons.get("minimum", number) <= number
            and number <= cons.get("maximum", number)
        )
    if "enum" in cons:
        return text in cons["enum"]
    # and clean text (the pools' only fault of text is a trailing space)
    return cons.get("minLength", 0) <= len(text) <= cons.get("maxLength", len(text)) and (
        text == text.strip() or not clean
    )


def key(table: str, column: str, text: str) -> Any:
    """What two valid values of the column compare by: numbers as numbers, else the text."""
    kind = PACKAGE.field(table, column)["type"]
    return _number(text, kind == "integer") if kind in ("integer", "number") else text


def bounds(table: str, column: str, text: str) -> tuple[Any, Any]:
    found = parse_bounds(text, interval=dict(PACKAGE.date_columns(table))[column])
    return found.min, found.max


def is_date(table: str, column: str) -> bool:
    return column in dict(PACKAGE.date_columns(table))


def supports(table: str, column: str, value: str, cell: str) -> bool:
    if not is_date(table, column):
        return key(table, column, value) == key(table, column, cell)
    (vlo, vhi), (clo, chi) = bounds(table, column, value), bounds(table, column, cell)
    return (vlo is None or (clo is not None and clo >= vlo)) and (
        vhi is None or (chi is not None and chi <= vhi)
    )


def disagree(table: str, column: str, a: str, b: str) -> bool:
    if not is_date(table, column):
        return key(table, column, a) != key(table, column, b)
    (alo, ahi), (blo, bhi) = bounds(table, column, a), bounds(table, column, b)
    return (ahi is not None and blo is not None and ahi < blo) or (
        bhi is not None and alo is not None and bhi < alo
    )


def rank(claim: dict[str, Any]) -> str:
    return claim["claim_rank"] or "normal"


def model(rows: dict[str, list[dict[str, Any]]]) -> set[tuple[str, str, int, str]]:
    """What the rules say, read row by row: (code, file, line, field)."""
    found: set[tuple[str, str, int, str]] = set()
    claims = rows[CLAIMS]

    def at_claim(code: str, j: int, field: str) -> None:
        if claims[j]["_report"]:
            found.add((code, "claims.csv", j + 2, field))

    for j, c in enumerate(claims):
        if c["field"] not in (None, "*") and c["value"] is None:
            at_claim(C.CLAIM_MISSING_VALUE, j, "value")
        if c["field"] == "*" and c["value"] is not None:
            at_claim(C.CLAIM_ROW_VALUE, j, "value")
        if rank(c) in ("preferred", "deprecated") and c["rank_reason"] is None:
            at_claim(C.CLAIM_MISSING_RANK_REASON, j, "rank_reason")
        reason_rank = REASON_RANK.get(c["rank_reason"])
        if rank(c) in ("preferred", "normal", "deprecated") and reason_rank not in (None, rank(c)):
            at_claim(C.CLAIM_RANK_REASON, j, "rank_reason")

    def pairs(code: str, on: list[int], apart: Any, field: str) -> None:
        for j in on:
            if any(k != j and apart(j, k) and (k < j or not claims[k]["_report"]) for k in on):
                at_claim(code, j, field)

    for table in TABLES:
        prefix = PACKAGE.prefixes[table]
        for i, row in enumerate(rows[table]):
            if not row["id"].startswith(prefix):
                continue
            for column in [c for t, c in POOLS if t == table]:
                on = [
                    j
                    for j, c in enumerate(claims)
                    if c["record_id"] == row["id"] and c["field"] == column
                ]
                if not on:
                    continue
                cell = row[column]

                def ok(j: int, t: str = table, c: str = column) -> bool:
                    return valid(t, c, claims[j]["value"])

                for j in on:
                    value = claims[j]["value"]
                    if value is not None and not valid(table, column, value, clean=False):
                        at_claim(C.CLAIM_INVALID_VALUE, j, "value")

                def at_cell(
                    code: str, about: list[int], i: int = i, t: str = table, c: str = column
                ) -> None:
                    """At the row if it is reported, else at the claims *about* it."""
                    if rows[t][i]["_report"]:
                        found.add((code, f"{t}.csv", i + 2, c))
                    else:
                        for j in about:
                            at_claim(code, j, "value")

                kept = [j for j in on if rank(claims[j]) != "deprecated"]
                cell_ok = valid(table, column, cell)
                if (
                    cell_ok
                    and all(ok(j) for j in kept)
                    and not any(supports(table, column, claims[j]["value"], cell) for j in kept)
                ):
                    at_cell(C.CLAIM_UNSUPPORTED, on)
                preferred = [j for j in on if rank(claims[j]) == "preferred" and ok(j)]
                keys = {key(table, column, claims[j]["value"]) for j in preferred}

                def differ(j: int, k: int, t: str = table, c: str = column) -> bool:
                    return key(t, c, claims[j]["value"]) != key(t, c, claims[k]["value"])

                pairs(C.CLAIM_PREFERRED_CONFLICT, preferred, differ, "claim_rank")
                if cell_ok and len(keys) == 1 and key(table, column, cell) not in keys:
                    at_cell(C.CLAIM_PREFERRED_MISMATCH, preferred)
                if not preferred:

                    def apart(j: int, k: int, t: str = table, c: str = column) -> bool:
                        return disagree(t, c, claims[j]["value"], claims[k]["value"])

                    pairs(C.CLAIM_DISPUTED, [j for j in kept if ok(j)], apart, "value")
    return found


@given(tables())
def test_the_value_rules_find_what_their_definitions_say(rows: dict[str, list[dict[str, Any]]]):
    context = _context(rows)
    issues = [issue for rule in RULES for issue in rule(context)]
    assert {(i.code, i.file, i.row, i.field) for i in issues} == model(rows)
