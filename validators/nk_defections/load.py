"""Typed polars loading: dtypes come from the Table Schema, never from inference."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .dates import bounds_exprs
from .package import Package, load_package_descriptor


def polars_dtype(field: dict) -> pl.DataType:
    """The polars dtype of a Table Schema field: vocabularies become ``pl.Enum``."""
    enum = field.get("constraints", {}).get("enum")
    if enum:
        return pl.Enum(list(enum))
    return {"integer": pl.Int64(), "number": pl.Float64(), "boolean": pl.Boolean()}.get(field["type"], pl.String())


def polars_schema(package: Package, table: str) -> dict[str, pl.DataType]:
    """The typed schema of *table*, with ``<date>_min``/``<date>_max`` as ``pl.Date`` after each date."""
    schema: dict[str, pl.DataType] = {}
    dates = dict(package.date_columns(table))
    for field in package.fields(table):
        schema[field["name"]] = polars_dtype(field)
        if field["name"] in dates:
            schema[f"{field['name']}_min"] = pl.Date()
            schema[f"{field['name']}_max"] = pl.Date()
    return schema


def _typed(package: Package, table: str, frame: pl.DataFrame) -> pl.DataFrame:
    schema = polars_schema(package, table)
    dates = dict(package.date_columns(table))
    derived = [e for column, interval in dates.items() for e in bounds_exprs(column, interval=interval)]
    frame = frame.select([c for c in package.field_names(table)]).with_columns(derived)
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def load_table(name: str, *, path: Path | str | None = None) -> pl.DataFrame:
    """Load one table as a typed polars DataFrame.

    Parameters
    ----------
    name
        A resource name (``people``, ``postings``, ``events``…).
    path
        A package folder (a checkout or a release folder); ``None`` finds the nearest package,
        else the copy installed with the Python package.

    Examples
    --------
    >>> people = load_table("people")
    >>> people.schema["kind"]
    Enum(categories=['individual', 'group'])
    """
    package = load_package_descriptor(path)
    if name not in package.resources:
        raise KeyError(f"{name!r} is not a table of the package; one of: {', '.join(package.resources)}")
    frame = pl.read_csv(
        package.path(name),
        infer_schema=False,
        null_values=[""],
        schema_overrides=None,
    )
    return _typed(package, name, frame)


def load_package(path: Path | str | None = None) -> dict[str, pl.DataFrame]:
    """Load every table of the package as typed polars DataFrames, keyed by name."""
    package = load_package_descriptor(path)
    return {name: load_table(name, path=package.root) for name in package.resources}
