"""CODEBOOK.md: every table and field of a release, generated from its descriptor and its rows."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from nk_defections.model.dates import QUALIFIER_MEANINGS, SHAPES
from nk_defections.model.package import CLAIMS, Package
from nk_defections.read.bundle import source_view


def _cell(text: Any) -> str:
    return str(text).replace("\n", " ").replace("|", "\\|")


def _first_sentence(text: str) -> str:
    head, dot, _rest = text.partition(". ")
    return head + dot.strip()


def _json_place(package: Package, table: str) -> str:
    homes = package.nested_in(table)
    if table == CLAIMS:
        unclaimed = [t for t in package.resources if t != CLAIMS and not package.is_claimed(t)]
        return "nested under `claims` in the records of every other table but " + ", ".join(
            unclaimed
        )
    if homes:
        return " and ".join(
            f"nested under `{prop}` in `json/{parent}.json`" for parent, prop in homes
        )
    return f"`json/{table}.json`"


def _kind(package: Package, table: str, field: dict[str, Any]) -> str:
    """The field's type as a reader needs it: the Table Schema type, refined by its pattern."""
    name = field["name"]
    dates = dict(package.date_columns(table))
    if name not in package.field_names(table):
        return "date (derived, ISO)" if field["type"] == "date" else "string (derived: kind)"
    if name in dates:
        return "string (EDTF period)" if dates[name] else "string (EDTF date)"
    if name in package.country_columns(table):
        return "string (ISO 3166-1 alpha-3)"
    if field.get("constraints", {}).get("enum"):
        return "string (vocabulary)"
    if name != "id" and name in package.reference_columns(table):
        targets = package.reference_targets(table, name)
        return f"string (id of {' or '.join(targets)})" if targets else "string (id)"
    return str(field["type"])


def _table_section(package: Package, resource: dict[str, Any], frame: pl.DataFrame) -> list[str]:
    table = resource["name"]
    lines = [f"## {table}", "", _cell(resource.get("description", "")), ""]
    primary = resource["schema"].get("primaryKey", [])
    primary = [primary] if isinstance(primary, str) else primary
    lines += [
        f"- **Rows:** {frame.height}",
        f"- **Files:** `{resource['path']}`, `parquet/{table}.parquet`; JSON: {_json_place(package, table)}",
        f"- **Primary key:** {', '.join(f'`{k}`' for k in primary)}",
    ]
    keys = package.foreign_keys(table)
    if keys:
        lines.append(
            "- **References:** " + ", ".join(f"`{column}` → {target}" for column, target in keys)
        )
    lines += ["", "| field | type | required | non-empty | description |", "|---|---|---|---:|---|"]
    vocabularies = []
    for field in resource["schema"]["fields"]:
        name = field["name"]
        constraints = field.get("constraints", {})
        required = "yes" if constraints.get("required") else ""
        filled = frame[name].count() if name in frame.columns else 0
        lines.append(
            f"| `{name}` | {_kind(package, table, field)} | {required} | {filled} of {frame.height} "
            f"| {_cell(field.get('description', ''))} |"
        )
        if constraints.get("enum"):
            vocabularies.append((name, constraints["enum"]))
    for name, values in vocabularies:
        counts = (
            dict(frame[name].cast(pl.String).value_counts().iter_rows())
            if name in frame.columns
            else {}
        )
        if name not in package.field_names(table):
            # a derived kind: the kinds found here; all of them are under Dates, once
            values = [value for value in values if counts.get(value)]
        lines += ["", f"`{name}` vocabulary:", "", "| value | rows |", "|---|---:|"]
        lines += [f"| `{value}` | {counts.get(value, 0)} |" for value in values]
        lines.append(f"| *(empty)* | {counts.get(None, 0)} |")
    for name, by, patterns in package.patterns_by(table):
        lines += ["", f"`{name}` pattern, by `{by}`:", "", f"| `{by}` | pattern |", "|---|---|"]
        lines += [f"| `{choice}` | `{_cell(pattern)}` |" for choice, pattern in patterns.items()]
    return [*lines, ""]


def render_codebook(descriptor: Mapping[str, Any], frames: Mapping[str, pl.DataFrame]) -> str:
    """The codebook of a release descriptor and its typed tables, as Markdown.

    Parameters
    ----------
    descriptor
        A release descriptor: tables with their derived ``<date>_min``/``<date>_max`` fields.
    frames
        The typed rows of every table, as :func:`nk_defections.load_table` returns them.

    Examples
    --------
    >>> from nk_defections import load_package
    >>> from nk_defections.model.package import load_package_descriptor
    >>> text = render_codebook(load_package_descriptor().descriptor, load_package())
    >>> "| `kind` | string (vocabulary) | yes | 15 of 15 |" in text
    True
    """
    package = Package(Path("."), source_view(dict(descriptor)))
    licenses = ", ".join(str(item.get("name", "")) for item in descriptor.get("licenses", []))
    lines = [
        f"# {descriptor.get('title', descriptor.get('name'))} {descriptor.get('version', '')}: codebook",
        "",
        _cell(descriptor.get("description", "")),
        "",
        f"Generated from `datapackage.json` by `nk-defections build`. Data licence: {licenses}.",
        "Every table is a CSV (`data/`), a typed Parquet file (`parquet/`) and part of the JSON records",
        "(`json/`, children nested in their parents) and a table of `sqlite/nk-defections.db`.",
        "Every EDTF date field is followed by three derived fields, `<field>_min`, `<field>_max`",
        "and `<field>_kind` (see [Dates](#dates)). Counts are of rows with a value (non-empty) and,",
        "for each vocabulary, of rows with each value.",
        "",
        "| table | rows | what a row is |",
        "|---|---:|---|",
    ]
    lines += [
        f"| [{name}](#{name}) | {frames[name].height} | {_cell(_first_sentence(resource.get('description', '')))} |"
        for name, resource in package.resources.items()
    ]
    lines.append("")
    lines += _dates_section()
    for resource in descriptor["resources"]:
        if resource["name"] in package.resources:
            lines += _table_section(package, resource, frames[resource["name"]])
    return "\n".join(lines).rstrip("\n") + "\n"


def _dates_section() -> list[str]:
    """What the derived date fields mean, and how to filter on them when a bound is open."""
    lines = [
        "## Dates",
        "",
        "Every date is an EDTF value of honest precision (`2023-11`, `[..2024-07-16]`, `2013`,",
        "`../2024-07-16`), followed by `<field>_min` and `<field>_max`, the earliest and latest day",
        "it can mean (ISO dates), and `<field>_kind`, what those two days mean:",
        "",
        "| kind | what the value is, and what its bounds mean |",
        "|---|---|",
    ]
    lines += [f"| `{kind}` | {_cell(meaning)} |" for kind, meaning in SHAPES.items()]
    lines += [
        "",
        "A qualified value adds a suffix to its kind: "
        + "; ".join(f"`_{suffix}`, {meaning}" for suffix, meaning in QUALIFIER_MEANINGS.items())
        + ". Its bounds are those of the value as stated: they do not widen for the qualifier, so",
        "`date_kind = 'year'` keeps the certain years and `date_kind LIKE 'year%'` the others too.",
        "",
        "An empty `_min` or `_max` is an **open** bound, not a missing one: the value is bounded on",
        "that side by nothing the sources say (kinds `open_start`, `open_end`, `span_open_start`,",
        "`span_open_end`). A comparison with an empty value is never true, in SQL as in polars, so",
        "a filter on a bound silently drops the rows open on that side. Say what you mean by it:",
        "",
        "- **certainly within** A to B: `date_min >= 'A' AND date_max <= 'B'` (an open value never",
        "  is, and is rightly dropped);",
        "- **possibly within** A to B: `(date_min IS NULL OR date_min <= 'B') AND (date_max IS NULL",
        "  OR date_max >= 'A')` (keeps the open values that may fall in it);",
        "- **certainly before** D: `date_max < 'D'`; **certainly after** D: `date_min > 'D'`;",
        "- **known to the day**: `date_kind = 'day'`; to the month at least: `date_kind IN ('day',",
        "  'month')`; a single day rather than a span: `date_kind NOT LIKE 'span%'`;",
        "- in polars: `pl.col('date_min').is_null() | (pl.col('date_min') <= B)` for an open start.",
        "",
    ]
    return lines
