"""Reads CSV tables column-wise with polars, locating every row at its physical line.

A table is held as a ``pl.DataFrame`` of strings, one column per declared field plus the
location columns ``_file``, ``_line`` (physical CSV line, header = 1; or JSON Lines line) and
``_pointer`` (RFC 6901 pointer of a JSON row). The field checks here implement the Table Schema
constraints column-wise; :mod:`nk_defections.rules` then works on the same frames.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from . import codes as C
from .issues import Issue
from .package import Package

LOCATION = ("_file", "_line", "_pointer")


@dataclass
class Table:
    """One resource's rows, as strings, with where each row came from."""

    name: str
    frame: pl.DataFrame


def empty_frame(package: Package, table: str) -> pl.DataFrame:
    """A frame with the table's columns and no rows."""
    schema = {name: pl.String for name in package.field_names(table)}
    schema.update({"_file": pl.String, "_line": pl.Int64, "_pointer": pl.String})
    return pl.DataFrame(schema=schema)


def decode(data: bytes, display: str) -> tuple[str | None, list[Issue]]:
    """Decode UTF-8 (a BOM is accepted); name the line of the first bad byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_like_utf16(data):
        return None, [Issue(C.FILE_ENCODING, f"{display} is UTF-16; save it as UTF-8", file=display, row=1)]
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, [Issue(C.FILE_BINARY, f"{display} holds a NUL byte: it is not a text file", file=display, row=line)]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [
            Issue(C.FILE_ENCODING, f"byte {data[exc.start]:#04x} at offset {exc.start} is not valid UTF-8", file=display, row=line)
        ]


def _looks_like_utf16(data: bytes) -> bool:
    # UTF-16 without a BOM: Latin text has a NUL in every other byte, and only there.
    head = data[: min(64, len(data) - len(data) % 2)]
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return (odd.count(0) == len(odd) and 0 not in even) or (even.count(0) == len(even) and 0 not in odd)


def _record_lines(text: bytes) -> tuple[np.ndarray, np.ndarray, int]:
    """Physical start line of each record, commas outside quotes per record, and quote parity.

    Exact for RFC 4180: a newline ends a record only outside quotes, i.e. after an even number
    of quote characters (an escaped ``""`` keeps the parity).
    """
    buf = np.frombuffer(text, dtype=np.uint8)
    quotes = np.flatnonzero(buf == ord('"'))
    newlines = np.flatnonzero(buf == ord("\n"))
    commas = np.flatnonzero(buf == ord(","))
    nl_quotes = np.searchsorted(quotes, newlines)  # quotes before each newline
    ends = newlines[(nl_quotes & 1) == 0]  # record-ending newlines
    # Records start at 0 and after each record-ending newline (a final one ends the last record).
    starts = np.concatenate(([0], ends + 1))
    if starts[-1] >= len(buf):
        starts = starts[:-1]
    start_lines = np.searchsorted(newlines, starts) + 1  # 1-based physical line
    comma_quotes = np.searchsorted(quotes, commas)
    outside = commas[(comma_quotes & 1) == 0]
    per_record = np.bincount(np.searchsorted(starts, outside, side="right") - 1, minlength=len(starts))
    return start_lines, per_record, len(quotes) & 1


def read_csv(package: Package, table: str, path: Path, display: str) -> tuple[pl.DataFrame | None, list[Issue]]:
    """Read one CSV into a string frame with physical line numbers, or report why it can't be.

    Parameters
    ----------
    package
        The package whose Table Schema the file must follow.
    table
        The resource the file holds.
    path
        The file.
    display
        How findings name the file.

    Examples
    --------
    >>> from nk_defections.package import load_package_descriptor
    >>> pkg = load_package_descriptor()
    >>> frame, issues = read_csv(pkg, "sources", pkg.path("sources"), "data/sources.csv")
    >>> issues, frame["_line"].to_list()[:1]
    ([], [2])
    """
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        return None, [Issue(C.FILE_UNREADABLE, f"{display} is a directory, not a file", file=display)]
    except OSError as exc:
        return None, [Issue(C.FILE_UNREADABLE, f"{display} cannot be read: {exc.strerror}", file=display)]
    text, issues = decode(raw, display)
    if text is None:
        return None, issues
    if not text.strip():
        return None, [Issue(C.FILE_EMPTY, f"{display} is empty: a CSV needs at least its header row", file=display, row=1)]
    data = text.replace("\r\n", "\n").encode("utf-8")
    starts, commas, odd = _record_lines(data)
    if odd:
        line = _unclosed_quote_line(text)
        return None, [Issue(C.CSV_MALFORMED, "a quoted field is never closed", file=display, row=line)]
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0].lstrip("\ufeff"))))
    expected = package.field_names(table)
    issues += list(_check_header(header, expected, display))
    if issues:
        return None, issues
    ragged = np.flatnonzero(commas != len(header) - 1)
    if len(ragged):
        physical = text.replace("\r\n", "\n").split("\n")
        for i in ragged:
            line = int(starts[i])
            message = (
                "blank line inside the table"
                if physical[line - 1] == "" and commas[i] == 0
                else f"row has {commas[i] + 1} cells, the header has {len(header)}"
            )
            issues.append(Issue(C.CSV_RAGGED_ROW, message, file=display, row=line))
        return None, issues
    frame = pl.read_csv(
        io.BytesIO(data),
        schema={name: pl.String for name in header},
        has_header=True,
        null_values=[""],
        quote_char='"',
        raise_if_empty=False,
    )
    lines = starts[1:]
    frame = frame.select(expected).with_columns(
        pl.lit(display).alias("_file"),
        pl.Series("_line", lines[: frame.height], dtype=pl.Int64),
        pl.lit(None, dtype=pl.String).alias("_pointer"),
    )
    return frame, []


def _unclosed_quote_line(text: str) -> int:
    line, inside, opened = 1, False, 1
    for ch in text:
        if ch == '"':
            inside = not inside
            if inside:
                opened = line
        elif ch == "\n":
            line += 1
    return opened


def _check_header(header: list[str], expected: list[str], display: str) -> Iterator[Issue]:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            yield Issue(C.CSV_DUPLICATE_COLUMN, f"column {name!r} appears twice in the header", file=display, row=1, field=name)
        seen.add(name)
        if name not in expected:
            yield Issue(C.CSV_UNKNOWN_COLUMN, f"column {name!r} is not a column of this table", file=display, row=1, field=name)
    for name in expected:
        if name not in seen:
            yield Issue(C.CSV_MISSING_COLUMN, f"column {name!r} is missing from the header", file=display, row=1, field=name)
