"""Gathers JSON records into per-table string frames, the same frames a CSV file is read into.

A record is walked by :func:`~nk_defections.model.records.flatten` (itself, then its nested
children) and each value becomes its cell by :func:`~nk_defections.model.records.cell`: the
one way from nested JSON to flat rows, which the round-trip properties test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from nk_defections.model.frames import FILE, LINE, POINTER, frame_schema
from nk_defections.model.package import Package
from nk_defections.model.records import cell, flatten
from nk_defections.read.json import line_of

#: Rows a table gathers as Python lists before they become a polars frame: the Python strings
#: of a large file never all live at once.
CHUNK_ROWS = 20_000


class _Columns:
    """The rows of one table gathered so far: lists column by column, and frames made of them."""

    def __init__(self, package: Package, table: str) -> None:
        fields = package.fields(table)
        self.names = [f["name"] for f in fields]
        self.schema = frame_schema(package, table)
        self.columns: list[list[str | None]] = [[] for _ in fields]
        #: (file, line, pointer) of each row.
        self.where: list[tuple[str, int | None, str]] = []
        #: (append, name, field) of each column: the lists are emptied, never replaced, so that
        #: their appends are bound once rather than once per cell.
        self.cells = [
            (column.append, f["name"], f) for column, f in zip(self.columns, fields, strict=True)
        ]
        self.frames: list[pl.DataFrame] = []

    def flush(self) -> None:
        """Turn the gathered lists into a frame, and empty them."""
        if self.where:
            files, lines, pointers = zip(*self.where, strict=True)
            data = {
                **dict(zip(self.names, self.columns, strict=True)),
                FILE: files,
                LINE: lines,
                POINTER: pointers,
            }
            self.frames.append(pl.DataFrame(data, schema=self.schema))  # copies the lists
            for column in self.columns:
                column.clear()
            self.where.clear()

    def frame(self) -> pl.DataFrame | None:
        """Return every row in the order read (declared columns, then location); None if none."""
        self.flush()
        frames, self.frames = self.frames, []
        if not frames:
            return None
        return pl.concat(frames) if len(frames) > 1 else frames[0]


class Gathered:
    """The rows of every table gathered from JSON records, chunk by chunk into string frames.

    Examples
    --------
    >>> from nk_defections.model.package import load_package_descriptor
    >>> gathered = Gathered(load_package_descriptor())
    >>> record = {"id": "per-aaaaaaaa", "names": [{"id": "nam-aaaaaaaa", "name": "X"}]}
    >>> gathered.add("people", record, "/people/0", "c.json", 3, None)
    >>> gathered.frame("person_names").select("person_id", "_line", "_pointer").row(0)
    ('per-aaaaaaaa', 3, '/people/0/names/0')
    """

    def __init__(self, package: Package) -> None:
        self.package = package
        self._tables = {table: _Columns(package, table) for table in package.resources}

    def add(
        self,
        table: str,
        record: dict[str, Any],
        pointer: str,
        file: str,
        line: int | None,
        lines: Mapping[str, int] | None,
    ) -> None:
        """Add the rows of a record of *table* (itself and its nested children) at *pointer*.

        *lines* is the pointer -> line map of an envelope; None: every row is on *line* (the
        record's line of a JSON Lines file).
        """
        # Every cell of a JSON contribution goes through this loop: what it looks up is bound
        # outside it.
        tables = self._tables
        for child, row, where in flatten(self.package, table, record, pointer):
            columns = tables[child]
            get = row.get
            for append, name, field in columns.cells:
                append(cell(field, get(name)))
            located = columns.where
            located.append((file, line if lines is None else line_of(lines, where), where))
            if len(located) >= CHUNK_ROWS:
                columns.flush()

    def frame(self, table: str) -> pl.DataFrame | None:
        """Return the rows of *table* gathered so far as one frame, or None if there are none."""
        return self._tables[table].frame()
