"""The string frames every table is checked in: their hidden columns, and how a frame is marked.

A table is held as a ``pl.DataFrame`` of strings, one column per declared field, plus hidden
columns that say where each row came from and how to treat it:

* ``_file``, ``_line``, ``_pointer``: the file, the physical line (CSV: header = 1; JSON Lines:
  the line of the record; an envelope: the line of the value) and the RFC 6901 pointer of a
  JSON row (null for CSV);
* ``_csv``: True where the row was read from CSV, whose cells the Table Schema checks cover
  (JSON rows were checked by JSON Schema);
* ``_report``: True where findings about the row are wanted (every row of a package, only the
  contributed rows of a contribution).
"""

from __future__ import annotations

import polars as pl

from nk_defections.model.package import Package

FILE = "_file"
LINE = "_line"
POINTER = "_pointer"
CSV = "_csv"
REPORT = "_report"
#: Where a row came from, in the order every frame carries them after its declared columns.
LOCATION = (FILE, LINE, POINTER)
LOCATION_SCHEMA: dict[str, type[pl.DataType]] = {
    FILE: pl.String,
    LINE: pl.Int64,
    POINTER: pl.String,
}


def frame_schema(package: Package, table: str) -> dict[str, type[pl.DataType]]:
    """Return the columns of a frame of *table*: each declared field as a string, then the location.

    Examples
    --------
    >>> from nk_defections.model.package import load_package_descriptor
    >>> list(frame_schema(load_package_descriptor(), "motives"))[-3:]
    ['_file', '_line', '_pointer']
    """
    return {**{name: pl.String for name in package.field_names(table)}, **LOCATION_SCHEMA}


def empty_frame(package: Package, table: str) -> pl.DataFrame:
    """Return a frame with the table's columns and their location, and no rows."""
    return pl.DataFrame(schema=frame_schema(package, table))


def marked(frame: pl.DataFrame, *, csv: bool, report: bool) -> pl.DataFrame:
    """Mark *frame* with ``_csv`` and ``_report``: read from CSV or not, reported or not.

    Examples
    --------
    >>> marked(pl.DataFrame({"id": ["a"]}), csv=True, report=False).row(0)
    ('a', True, False)
    """
    return frame.with_columns(pl.lit(csv).alias(CSV), pl.lit(report).alias(REPORT))
