"""Reads CSV tables column-wise with polars, locating every row at its physical line.

A table is held as a ``pl.DataFrame`` of strings, one column per declared field plus the
location columns of :mod:`nk_defections.model.frames`. The field checks here implement the Table
Schema constraints column-wise; :mod:`nk_defections.check.rules` then works on the same frames.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.frames import FILE, LINE, POINTER
from nk_defections.model.package import Package


@dataclass
class Table:
    """One resource's rows, as strings, with where each row came from."""

    name: str
    frame: pl.DataFrame


def decode(data: bytes, display: str) -> tuple[str | None, list[Issue]]:
    """Decode UTF-8 (a BOM is accepted); name the line of the first bad byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_like_utf16(data):
        return None, [
            Issue(C.FILE_ENCODING, f"{display} is UTF-16; save it as UTF-8", file=display, row=1)
        ]
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, [
            Issue(
                C.FILE_BINARY,
                f"{display} holds a NUL byte: it is not a text file",
                file=display,
                row=line,
            )
        ]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [
            Issue(
                C.FILE_ENCODING,
                f"byte {data[exc.start]:#04x} at offset {exc.start} is not valid UTF-8",
                file=display,
                row=line,
            )
        ]


def _looks_like_utf16(data: bytes) -> bool:
    # UTF-16 without a BOM: Latin text has a NUL in every other byte, and only there.
    head = data[: min(64, len(data) - len(data) % 2)]
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return (odd.count(0) == len(odd) and 0 not in even) or (
        even.count(0) == len(even) and 0 not in odd
    )


def _record_lines(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Byte offset and physical start line of each record, commas outside quotes per record, quote parity.

    Exact for RFC 4180: a newline ends a record only outside quotes, i.e. after an even number
    of quote characters (an escaped ``""`` keeps the parity). The commas inside quotes are
    counted per quoted span (between quotes 2k and 2k+1), so the work grows with the number of
    records and quotes, not with the number of commas.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(buf == ord('"'))
    newlines = np.flatnonzero(buf == ord("\n"))
    commas = np.flatnonzero(buf == ord(","))
    del buf
    # Record-ending newlines (a final one ends the last record); records start at 0 and after each.
    ends = newlines[(np.searchsorted(quotes, newlines) & 1) == 0] if len(quotes) else newlines
    starts = np.concatenate(([0], ends + 1))
    if starts[-1] >= len(data):
        starts = starts[:-1]
    start_lines = np.searchsorted(newlines, starts) + 1  # 1-based physical line
    per_record = np.diff(np.append(np.searchsorted(commas, starts), len(commas)))
    if len(quotes) >= 2:
        opens, closes = quotes[0 : len(quotes) - 1 : 2], quotes[1::2]
        inside = np.searchsorted(commas, closes) - np.searchsorted(commas, opens)
        owner = np.searchsorted(starts, opens, side="right") - 1
        per_record -= np.bincount(owner, weights=inside, minlength=len(starts)).astype(
            per_record.dtype
        )
    return starts, start_lines, per_record, len(quotes) & 1


def read_csv(
    package: Package, table: str, path: Path, display: str
) -> tuple[pl.DataFrame | None, list[Issue]]:
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
    >>> from nk_defections.model.package import load_package_descriptor
    >>> pkg = load_package_descriptor()
    >>> frame, issues = read_csv(pkg, "sources", pkg.path("sources"), "data/sources.csv")
    >>> issues, frame["_line"].to_list()[:1]
    ([], [2])
    """
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        return None, [
            Issue(C.FILE_UNREADABLE, f"{display} is a directory, not a file", file=display)
        ]
    except OSError as exc:
        return None, [
            Issue(C.FILE_UNREADABLE, f"{display} cannot be read: {exc.strerror}", file=display)
        ]
    # The bytes are parsed as they are; polars checks that they are UTF-8 while it parses (a
    # Python decode of the whole file would cost a third of the parse). Only a file that fails
    # some check is decoded here, so that its first fault is named as before: the encoding.
    issues = _sniff(raw, display)
    if issues:
        return None, issues
    data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    if b"\r" in data and b"\r\n" in data:  # one byte is found ten times faster than two
        data = data.replace(b"\r\n", b"\n")
    content = _CONTENT.search(data)
    if (content is None or data[content.start()] >= 0x80) and (
        found := _read_decoded(raw, display)
    ):
        return found
    counts = dict(zip('",\n\r', _count_bytes(data, b'",\n\r'), strict=True))
    if counts['"'] & 1:
        return _read_decoded(raw, display) or (
            None,
            [
                Issue(
                    C.CSV_MALFORMED,
                    "a quoted field is never closed",
                    file=display,
                    row=_unclosed_quote_line(data),
                )
            ],
        )
    try:
        end = data.find(b"\n")  # not split(): that would copy the whole file after the header
        line = data[: end if end >= 0 else len(data)].decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        return _read_decoded(raw, display)
    try:
        # A CR left after CRLF was folded ends no line for polars nor for our line count.
        if "\r" in line:
            raise csv.Error("a carriage return (CR) inside the header row")
        header = next(csv.reader([line], strict=True), [])
    except csv.Error as exc:
        return None, [
            Issue(C.CSV_MALFORMED, f"the header row cannot be read: {exc}", file=display, row=1)
        ]
    expected = package.field_names(table)
    issues += list(_check_header(header, expected, display))
    if issues:
        return _read_decoded(raw, display) or (None, issues)
    if (counted := _read_counted(data, header, counts)) is not None:
        return _located(counted[0], expected, display, counted[1]), []
    offsets, starts, commas, _ = _record_lines(data)
    ragged = np.flatnonzero(commas != len(header) - 1)
    if len(ragged):
        if found := _read_decoded(raw, display):
            return found
        for i in ragged:
            offset = int(offsets[i])
            message = (
                "blank line inside the table"
                if data[offset : offset + 1] in (b"\n", b"") and commas[i] == 0
                else f"row has {commas[i] + 1} cells, the header has {len(header)}"
            )
            issues.append(Issue(C.CSV_RAGGED_ROW, message, file=display, row=int(starts[i])))
        return None, issues
    try:
        frame = _parse(data, header)
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError):
        if found := _read_decoded(raw, display):
            return found
        # Text after a closing quote (`x,""y`, `""id` in the header): quotes that pair up, so
        # the parity check above passes, but a cell polars (and RFC 4180) cannot read.
        return None, [
            Issue(
                C.CSV_MALFORMED,
                "a quoted field has text after its closing quote",
                file=display,
                row=_misquoted_line(data),
            )
        ]
    return _located(frame, expected, display, starts[1:]), []


def _parse(data: bytes, header: list[str]) -> pl.DataFrame:
    return pl.read_csv(
        io.BytesIO(data),
        schema={name: pl.String for name in header},
        has_header=True,
        null_values=[""],
        quote_char='"',
        raise_if_empty=False,
    )


def _count_bytes(data: bytes, chars: bytes) -> list[int]:
    """How many times each of *chars* occurs in *data*.

    Counted a quarter of a megabyte at a time, in one reused buffer: a comparison of the whole
    file would allocate (and the kernel zero) a byte per byte of the file, three times slower.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    hits = np.empty(min(len(buf), 1 << 18), dtype=bool)
    counts = [0] * len(chars)
    for start in range(0, len(buf), len(hits)):
        part = buf[start : start + len(hits)]
        out = hits[: len(part)]
        for i, char in enumerate(chars):
            np.equal(part, char, out=out)
            counts[i] += int(np.count_nonzero(out))
    return counts


def _read_counted(
    data: bytes, header: list[str], counts: dict[str, int]
) -> tuple[pl.DataFrame, pl.Series] | None:
    """The frame of a CSV and each record's physical line, found by counting, if every record
    has as many cells as the header; None when that is not so, or not known so.

    A comma in the file either separates two cells or stands inside a quoted cell, where polars
    keeps it; likewise a newline ends a record or stands inside a cell. polars refuses a record
    with too many cells, so the records agree with the header exactly when the commas outside
    the cells number (cells - 1) per record, the header's included: a short record or a blank
    line breaks that count (with two or more columns). The newlines inside the cells of the
    records above a record then give its physical line, and the newlines of the file must add
    up. When a count is off, or polars refuses the file, or a CR is left in it, the caller
    reads the file the exact, slower way (:func:`_record_lines`), which says where it fails.
    *counts* holds how many quotes, commas, newlines and CRs the whole of *data* has.
    """
    if len(header) < 2 or counts["\r"]:
        return None
    try:
        frame = _parse(data, header)
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError):
        return None
    records = frame.height + 1
    lines = pl.int_range(2, frame.height + 2, dtype=pl.Int64, eager=True)
    inner_commas = inner_newlines = 0
    if counts['"']:  # without a quote, no cell holds a comma or a newline
        inside = frame.select(
            pl.sum_horizontal(pl.all().str.count_matches(",", literal=True)).alias("commas"),
            pl.sum_horizontal(pl.all().str.count_matches("\n", literal=True)).alias("newlines"),
        )
        inner_commas, inner_newlines = int(inside["commas"].sum()), int(inside["newlines"].sum())
        if inner_newlines:  # each row starts below the newlines in the cells above it
            lines += inside["newlines"].cast(pl.Int64).cum_sum().shift(1, fill_value=0)
    ending = counts["\n"] - inner_newlines - (records - 1)  # 1 if the last record ends with one
    if counts[","] - inner_commas != (len(header) - 1) * records or ending != int(
        data.endswith(b"\n")
    ):
        return None
    return frame, lines


def _located(
    frame: pl.DataFrame, expected: list[str], display: str, lines: np.ndarray | pl.Series
) -> pl.DataFrame:
    """*frame* in the table's column order, with where each row came from.

    In one chunk: polars parses a large file into many, and the first query to add a column
    would copy them all into one anyway (the rules are the faster for it); done here, it runs
    beside the parse of the other files.
    """
    return (
        frame.select(expected)
        .rechunk()
        .with_columns(
            pl.lit(display).alias(FILE),
            pl.Series(LINE, lines[: frame.height], dtype=pl.Int64),
            pl.lit(None, dtype=pl.String).alias(POINTER),
        )
    )


#: The first byte that is not ASCII white space (as ``str.strip`` counts it).
_CONTENT = re.compile(rb"[^\t\n\x0b\x0c\r\x1c-\x20]")


def _sniff(raw: bytes, display: str) -> list[Issue]:
    """What :func:`decode` finds without decoding: UTF-16 and NUL bytes."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_like_utf16(raw) or b"\x00" in raw:
        return decode(raw, display)[1]
    return []


def _read_decoded(raw: bytes, display: str) -> tuple[None, list[Issue]] | None:
    """The findings of a file that is not UTF-8, or is empty; None if it is neither."""
    text, issues = decode(raw, display)
    if text is None:
        return None, issues
    if not text.strip():
        return None, [
            Issue(
                C.FILE_EMPTY,
                f"{display} is empty: a CSV needs at least its header row",
                file=display,
                row=1,
            )
        ]
    return None


def _misquoted_line(data: bytes) -> int | None:
    """Physical line of the first cell with text after its closing quote (strict RFC 4180 reading)."""
    reader = csv.reader(
        io.StringIO(data.decode("utf-8", errors="replace"), newline=""), strict=True
    )
    try:
        for _ in reader:
            pass
    except csv.Error:
        return reader.line_num
    return None


def _unclosed_quote_line(data: bytes) -> int:
    # With an odd number of quotes, the last one opens the field that is never closed.
    return data.count(b"\n", 0, data.rindex(b'"')) + 1


def _check_header(header: list[str], expected: list[str], display: str) -> Iterator[Issue]:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            yield Issue(
                C.CSV_DUPLICATE_COLUMN,
                f"column {name!r} appears twice in the header",
                file=display,
                row=1,
                field=name,
            )
        seen.add(name)
        if name not in expected:
            yield Issue(
                C.CSV_UNKNOWN_COLUMN,
                f"column {name!r} is not a column of this table",
                file=display,
                row=1,
                field=name,
            )
    for name in expected:
        if name not in seen:
            yield Issue(
                C.CSV_MISSING_COLUMN,
                f"column {name!r} is missing from the header",
                file=display,
                row=1,
                field=name,
            )
