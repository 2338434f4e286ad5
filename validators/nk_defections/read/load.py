"""Typed polars loading: dtypes come from the Table Schema, never from inference."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from nk_defections.model.dates import DATE_KINDS, bounds_exprs, kind_expr
from nk_defections.model.package import REDIRECTS, Package, PackageError
from nk_defections.read.bundle import Bundle, open_bundle
from nk_defections.read.contribution import resource_hint


def polars_dtype(field: dict) -> pl.DataType:
    """The polars dtype of a Table Schema field: vocabularies become ``pl.Enum``.

    Examples
    --------
    >>> polars_dtype({"name": "n", "type": "integer"})
    Int64
    """
    enum = field.get("constraints", {}).get("enum")
    if enum:
        return pl.Enum(list(enum))
    return {
        "integer": pl.Int64(),
        "number": pl.Float64(),
        "boolean": pl.Boolean(),
        "date": pl.Date(),
    }.get(field["type"], pl.String())


def polars_schema(package: Package, table: str) -> dict[str, pl.DataType]:
    """The typed schema of *table*.

    After each date: ``<date>_min``/``<date>_max`` as ``pl.Date`` and ``<date>_kind`` as
    ``pl.Enum`` of :data:`nk_defections.model.dates.DATE_KINDS`.
    """
    schema: dict[str, pl.DataType] = {}
    dates = dict(package.date_columns(table))
    for field in package.fields(table):
        schema[field["name"]] = polars_dtype(field)
        if field["name"] in dates:
            schema[f"{field['name']}_min"] = pl.Date()
            schema[f"{field['name']}_max"] = pl.Date()
            schema[f"{field['name']}_kind"] = pl.Enum(DATE_KINDS)
    return schema


def _cast(name: str, dtype: pl.DataType, stored: pl.DataType) -> pl.Expr:
    if dtype == pl.Date() and stored == pl.String():
        # A release writes its bounds as ISO dates; anything else is an error, not a null.
        return pl.col(name).str.to_date("%Y-%m-%d", strict=True)
    return pl.col(name).cast(dtype, strict=True)


def typed_frame(package: Package, table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Type a frame of strings per the Table Schema, deriving the date bounds it lacks.

    Examples
    --------
    >>> from nk_defections.read.bundle import open_bundle
    >>> bundle = open_bundle()
    >>> typed = typed_frame(bundle.package, "events", bundle.string_frame("events"))
    >>> typed.schema["date"], typed.schema["date_min"]
    (String, Date)
    """
    schema = polars_schema(package, table)
    derived = [
        expr
        for column, interval in package.date_columns(table)
        for expr in (*bounds_exprs(column, interval=interval), kind_expr(column, interval=interval))
        if expr.meta.output_name() not in frame.columns
    ]
    frame = frame.with_columns(derived)
    return frame.select(_cast(name, dtype, frame.schema[name]) for name, dtype in schema.items())


def _load(bundle: Bundle, name: str) -> pl.DataFrame:
    package = bundle.package
    if name not in package.resources:
        raise PackageError(f"{name!r} is not a table of the package{resource_hint(name, package)}")
    frame = bundle.string_frame(name, with_bounds=bundle.stored_bounds(name))
    return typed_frame(package, name, frame)


def load_table(name: str, *, path: Path | str | None = None) -> pl.DataFrame:
    """Load one table as a typed polars DataFrame.

    Vocabularies are ``pl.Enum``, integers ``pl.Int64``, numbers ``pl.Float64``; every EDTF date
    column keeps its text and is followed by ``<column>_min`` and ``<column>_max`` (``pl.Date``,
    null where open) and ``<column>_kind`` (``pl.Enum``: what the bounds mean, see
    :func:`nk_defections.model.dates.date_kind`). Only the file of that table is read.

    Parameters
    ----------
    name
        A resource name (``people``, ``postings``, ``events``…).
    path
        A checkout, a release folder, or a release zip; ``None`` finds the nearest nk-defections
        package at or above the current directory, else the copy installed with the Python
        package (:func:`nk_defections.model.locate.locate_package`).

    Raises
    ------
    nk_defections.model.package.PackageError
        If *name* is not a table of the package, or *path* is not a package (a file where a
        folder is expected, a folder without a descriptor).

    Examples
    --------
    >>> people = load_table("people")
    >>> people.schema["kind"]
    Enum(categories=['individual', 'group'])
    >>> people.schema["birth_date_min"]
    Date
    """
    return _load(open_bundle(path), name)


def load_package(path: Path | str | None = None) -> dict[str, pl.DataFrame]:
    """Load every table of the package as typed polars DataFrames, keyed by name.

    Examples
    --------
    >>> tables = load_package()
    >>> tables["events"].schema["date_max"]
    Date
    """
    bundle = open_bundle(path)
    return {name: _load(bundle, name) for name in bundle.package.resources}


def resolve_id(record_id: str, *, path: Path | str | None = None) -> str | None:
    """The id that stands now for *record_id*: itself, or the record it was merged into.

    Ids are never reused: an id merged into another record (``redirects``, with a ``new_id``)
    resolves to that record, following merges of merges; an id retired outright resolves to
    None.

    Parameters
    ----------
    record_id
        An id of any table, as cited anywhere (an older release, a paper, a contribution).
    path
        The package, as for :func:`load_table`.

    Raises
    ------
    KeyError
        The package has no row of that id and never had (no redirect names it).

    Examples
    --------
    >>> resolve_id("per-02d95gqk")
    'per-02d95gqk'
    """
    bundle = open_bundle(path)
    package = bundle.package
    moved: dict[str, str | None] = {}
    if REDIRECTS in package.resources:
        frame = bundle.string_frame(REDIRECTS)
        moved = dict(zip(frame["old_id"].to_list(), frame["new_id"].to_list(), strict=True))
    given, seen = record_id, set()
    while record_id in moved and record_id not in seen:
        seen.add(record_id)
        new = moved[record_id]
        if new is None:
            return None
        record_id = new
    table = package.table_of_prefix.get(record_id.split("-", 1)[0])
    if table is None or record_id not in set(bundle.string_frame(table)["id"].to_list()):
        raise KeyError(f"{given!r} names no record of the package, and never did")
    return record_id
