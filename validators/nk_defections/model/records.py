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
    """Yield ``(table, row, pointer)`` for a nested record and, depth first, its children.

    A child's row is the nested record without its own nested arrays, with its parent key set
    to its parent's id.

    Examples
    --------
    >>> rec = {"id": "per-aaaaaaaa", "name": "X", "names": [{"id": "nam-aaaaaaaa", "name": "X"}]}
    >>> from nk_defections.model.package import load_package_descriptor
    >>> [(t, r) for t, r, _ in flatten(load_package_descriptor(), "people", rec)]  # doctest: +NORMALIZE_WHITESPACE
    [('people', {'id': 'per-aaaaaaaa', 'name': 'X'}),
     ('person_names', {'id': 'nam-aaaaaaaa', 'name': 'X', 'person_id': 'per-aaaaaaaa'})]
    """
    # One generator walking a stack, not one per nested record: a JSON contribution's every row
    # comes through here, and each level of ``yield from`` would pass every row of its subtree on.
    nested_of: dict[str, list[tuple[str, str, str, str]]] = {}
    stack: list[tuple[str, Row, str, str | None, Any]] = [(table, record, pointer, None, None)]
    while stack:
        table, record, pointer, key, parent_id = stack.pop()
        if table not in nested_of:
            # (property, its pointer step, child table, parent key) of each nested array: found
            # once per table of the record, not once per row.
            nested_of[table] = [
                (prop, escape_pointer([prop]), child, child_key)
                for prop, (child, child_key) in package.children(table).items()
            ]
        nested = nested_of[table]
        row = record.copy()  # then without its nested arrays: faster than a filtered copy
        for prop, _, _, _ in nested:
            row.pop(prop, None)
        if key is not None:
            row[key] = parent_id
        yield table, row, pointer
        if not nested:  # a claim, most rows: nothing below it
            continue
        children = []
        for prop, step, child, child_key in nested:
            items = record.get(prop)
            if isinstance(items, list):
                base = f"{pointer}{step}/"  # an index needs no escaping
                record_id = record.get("id")
                children += [
                    (child, item, f"{base}{i}", child_key, record_id)
                    for i, item in enumerate(items)
                    if isinstance(item, dict)
                ]
        stack += reversed(children)


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
            target = prefix_table.get(str(row.get(key, ""))[:3]) if key is not None else None
            parent = by_id[target].get(row[key]) if key is not None and target in homes else None
            if key is None or target is None or parent is None:
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


_NUMERIC = frozenset({"integer", "number"})


def cell(field: dict[str, Any], value: Any) -> str | None:
    """Convert a JSON value of *field* to its CSV cell: the inverse of :func:`typed_value`.

    None where the value has no cell: missing, of the wrong type for the field, a boolean, an
    object or an array (the JSON Schema check reports those). Only the exact types JSON parsing
    makes have a cell; a subclass of them (the strict reader's markers of NaN, out-of-range
    numbers and lone surrogates, :mod:`nk_defections.read.json`) has none. A float keeps the
    text that reads back as the same value (0.0 stays "0.0", as from a spreadsheet, so that JSON
    and CSV contributions merge alike), except that an integral float in an integer field is
    the integer's text: 3.0 is an integer in JSON.

    Examples
    --------
    >>> integer, number = {"name": "n", "type": "integer"}, {"name": "x", "type": "number"}
    >>> cell(integer, 3.0), cell(number, 3.0), cell(number, -0.0), cell(number, 12)
    ('3', '3.0', '-0.0', '12')
    >>> cell({"name": "s", "type": "string"}, 12), cell(integer, True), cell(integer, None)
    (None, None, None)
    >>> cell({"name": "d_min", "type": "date"}, "2024-07-16"), cell(number, "12")
    ('2024-07-16', None)
    """
    # Dispatched on the exact type, the commonest first: this runs once per cell of every JSON
    # row read, and bool (an int) and the markers (str subclasses) fall through to None.
    kind = type(value)
    if kind is str:  # text, or the lexical form of a date (a release's derived bounds)
        return None if field["type"] in _NUMERIC else value
    if kind is int:
        return None if field["type"] == "string" else str(value)
    if kind is float:
        if field["type"] == "string":
            return None
        if field["type"] == "integer" and value.is_integer():
            return str(int(value))
        return repr(value)  # -0.0 stays "-0.0": typed_value reads back the same float
    return None


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
