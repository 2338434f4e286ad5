"""Nested JSON records and flat table rows, and the one pair of functions between them.

A JSON record carries its children nested (a person its ``names``; an event its
``participants``, ``links`` and ``motives``) and, except sources and claims, its ``claims``. A
nested child omits its parent key. :func:`flatten` and :func:`nest` are inverse: a property
test proves that nothing is lost either way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from nk_defections.findings.issues import escape_pointer
from nk_defections.model.package import Package

Row = dict[str, Any]


def flatten(
    package: Package, table: str, record: Row, pointer: str = ""
) -> Iterator[tuple[str, Row, str]]:
    """Yield ``(table, row, pointer)`` for a nested record and, recursively, its children.

    Examples
    --------
    >>> rec = {"id": "per-aaaaaaaa", "name": "X", "names": [{"id": "nam-aaaaaaaa", "name": "X"}]}
    >>> from nk_defections.model.package import load_package_descriptor
    >>> [(t, r) for t, r, _ in flatten(load_package_descriptor(), "people", rec)]  # doctest: +NORMALIZE_WHITESPACE
    [('people', {'id': 'per-aaaaaaaa', 'name': 'X'}),
     ('person_names', {'id': 'nam-aaaaaaaa', 'name': 'X', 'person_id': 'per-aaaaaaaa'})]
    """
    nested = package.children(table)
    row = {k: v for k, v in record.items() if k not in nested}
    yield table, row, pointer
    for prop, (child, key) in nested.items():
        items = record.get(prop)
        if not isinstance(items, list):
            continue
        base = f"{pointer}{escape_pointer([prop])}"  # an index needs no escaping
        for i, item in enumerate(items):
            if isinstance(item, dict):
                child_record = {**item, key: record.get("id")}
                yield from flatten(package, child, child_record, f"{base}/{i}")


def nest(package: Package, rows: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """Fold flat rows into nested records: the inverse of :func:`flatten`.

    Children whose parent is absent stay at top level with their parent key, as in a
    contribution that adds a name to a person already in the package. Order is kept.
    """
    prefix_table = package.table_of_prefix
    # Copy rows so that the caller's dicts are untouched.
    records = {t: [dict(r) for r in rows.get(t, [])] for t in package.resources}
    by_id = {t: {r.get("id"): r for r in records[t]} for t in package.resources}
    out: dict[str, list[Row]] = {t: [] for t in package.resources}
    for table in package.resources:
        key = package.parent_key(table)
        homes = dict(package.nested_in(table))  # parent table -> property
        for row in records[table]:
            parent = None
            if key is not None:
                target = prefix_table.get(str(row.get(key, ""))[:3])
                if target in homes:
                    parent = by_id[target].get(row[key])
            if parent is None:
                out[table].append(row)
                continue
            # Nest the row itself (already our copy), not a copy of it: claims about a child
            # (a participant's role) reach it whether they are nested before or after it.
            del row[key]
            parent.setdefault(homes[target], []).append(row)
    return {t: v for t, v in out.items() if v}


#: The lexical forms the column-wise checks read as numbers (polars' casts): ASCII digits, an
#: optional sign, no spaces, no underscores. Python's int() and float() also take " 5", "1_000",
#: "٣", "NaN" and "1e309", which would make a cell the Table Schema rejects valid JSON.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def typed_value(field: dict[str, Any], cell: str | None) -> Any:
    """Convert a CSV cell to its JSON value per the Table Schema field (None when empty).

    A cell that is not a number of the field's type stays a string, for the JSON Schema to
    report as the wrong type.

    Examples
    --------
    >>> number = {"name": "value", "type": "number"}
    >>> typed_value(number, "12"), typed_value(number, "0.5"), typed_value(number, "NaN")
    (12, 0.5, 'NaN')
    """
    if cell is None or cell == "":
        return None
    if field["type"] == "integer":
        return int(cell) if _INTEGER.fullmatch(cell) else cell
    if field["type"] == "number":
        if _INTEGER.fullmatch(cell):
            return int(cell)  # exact, however large: a float would round it
        if not _NUMBER.fullmatch(cell) or not math.isfinite(number := float(cell)):
            return cell
        return number
    return cell


def cell_text(value: Any) -> str:
    """Convert a JSON value to its CSV cell (empty for missing)."""
    if value is None:
        return ""
    if isinstance(value, bool):  # not used by the model, but never write "True"
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # 0.0 stays "0.0", -0.0 "-0.0": typed_value reads back the same float
    return str(value)


def typed_rows(
    package: Package, table: str, rows: Iterable[dict[str, str | None]]
) -> Iterator[Row]:
    """Typed JSON rows (missing values dropped) from string rows of *table*."""
    fields = {f["name"]: f for f in package.fields(table)}
    for row in rows:
        out = {}
        for name, field in fields.items():
            value = typed_value(field, row.get(name))
            if value is not None:
                out[name] = value
        yield out
