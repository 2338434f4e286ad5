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
from nk_defections.model.limits import read_file
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
                f"byte {data[exc.start]:#04x} at offset {exc.start} is not valid UTF-8"
                + _legacy_encoding(data, exc.start),
                file=display,
                row=line,
            )
        ]


def _legacy_encoding(data: bytes, at: int) -> str:
    """What a file that is not UTF-8 most likely is, the text it holds there, and how to re-save it.

    Windows-1252 (which spreadsheets on Windows still write) decodes any byte but five; Latin-1
    decodes every byte, and is said when one of those five occurs. Only the line of the bad byte
    is decoded: the file is searched for the five bytes, never copied.
    """
    unassigned = any(bytes([byte]) in data for byte in (0x81, 0x8D, 0x8F, 0x90, 0x9D))
    codec, name = ("latin-1", "Latin-1 (ISO 8859-1)") if unassigned else ("cp1252", "Windows-1252")
    start = data.rfind(b"\n", 0, at) + 1
    end = data.find(b"\n", at)
    line = data[start : end if end >= 0 else len(data)].decode(codec)
    cell = next((c for c in line.split(",") if any(ord(ch) > 0x7F for ch in c)), line)
    return (
        f": the file looks like {name} text ({cell[:30]!r}); re-save it as UTF-8 (in a "
        f"spreadsheet: Save As, 'CSV UTF-8'; or `iconv -f {codec} -t utf-8`)"
    )


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
        raw = read_file(path)  # a regular file within the limits of nk_defections.model.limits
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
    # Every reader (polars here, the exact line count, Python's csv module, frictionless) reads
    # the same records from a file that follows RFC 4180, and only from such a file: a quote out
    # of place or a lone CR is refused at its line, before any of them reads a record.
    if counts['"'] or counts["\r"]:
        quotes, crs = (_positions(data, ord(c)) if counts[c] else _NONE for c in '"\r')
        fault = first_fault(data, quotes, crs)
        if fault is not None:
            return _read_decoded(raw, display) or (None, [_malformed(data, fault, display)])
    try:
        end = data.find(b"\n")  # not split(): that would copy the whole file after the header
        line = data[: end if end >= 0 else len(data)].decode("utf-8")
    except UnicodeDecodeError:
        found = _read_decoded(raw, display)
        assert found is not None  # the header is not UTF-8: decode names the byte
        return found
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
    issues += list(
        _check_header(header, expected, display, generated=generated_columns(package, table))
    )
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
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError) as exc:
        if found := _read_decoded(raw, display):
            return found
        # Not seen: the file follows RFC 4180 (first_fault), and polars reads every such file.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, [Issue(C.CSV_MALFORMED, f"the file cannot be parsed: {reason}", file=display)]
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
    """The frame of a CSV and each record's physical line, found by counting.

    That is, if every record has as many cells as the header; None when that is not so, or not
    known so.

    A comma in the file either separates two cells or stands inside a quoted cell, where polars
    keeps it; likewise a newline ends a record or stands inside a cell. polars refuses a record
    with too many cells, so the records agree with the header exactly when the commas outside
    the cells number (cells - 1) per record, the header's included: a short record or a blank
    line breaks that count (with two or more columns). But not the last record of a file that
    does not end with a newline: polars drops one empty cell too many there (``x,,,,`` under
    four columns), so that record's cells are counted alone. The newlines inside the cells of the
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
    if not data.endswith(b"\n") and len(_last_record(data)) != len(header):
        return None
    return frame, lines


def _last_record(data: bytes) -> list[str]:
    """The cells of the last record of *data*, a file that follows RFC 4180 (:func:`first_fault`)."""
    start = data.rfind(b"\n")
    while start >= 0 and data.count(b'"', 0, start) & 1:  # a newline inside a quoted cell
        start = data.rfind(b"\n", 0, start)
    text = data[start + 1 :].decode("utf-8", errors="replace")
    return next(csv.reader(io.StringIO(text, newline="")), [])


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


#: What is wrong where a file breaks RFC 4180 (csv.malformed), by the kind of fault.
LONE_CR = (
    "a carriage return (CR) outside quotes that does not end a line with a line feed (LF): "
    "save the file with LF or CRLF line ends"
)
QUOTE_IN_CELL = (
    "a quote inside a cell that does not start with one: enclose the whole cell in quotes "
    'and double the quote ("")'
)
TEXT_AFTER_QUOTE = (
    "text after a closing quote: a quoted cell ends at a comma or a line end "
    '(a quote inside it is doubled: "")'
)
NEVER_CLOSED = "a quoted field is never closed"

_QUOTE, _COMMA, _LF, _CR = b'"', b",", b"\n", b"\r"
_NONE = np.empty(0, dtype=np.intp)


def first_fault_plain(data: bytes) -> tuple[int, str] | None:
    """Where *data* first breaks RFC 4180, and how; None if it does not. Read byte by byte.

    The grammar: a cell either holds no quote and no CR, or is enclosed in quotes, with every
    quote inside it doubled; cells are separated by commas, records by LF (CRLF is folded to LF
    before). A field never closed is located at its opening quote. This is the plain statement
    of the rule; :func:`first_fault` finds the same fault without a loop in Python, and a
    property holds them equal.

    Examples
    --------
    >>> first_fault_plain(b'id,note\\nx,"a ""b"", c"\\n')
    >>> first_fault_plain(b'id,note\\nx,"a"b\\n') == (13, TEXT_AFTER_QUOTE)
    True
    """
    cell_start, unquoted, quoted, quote_in_quoted = range(4)
    state, opened = cell_start, 0
    for offset in range(len(data)):
        byte = data[offset : offset + 1]
        if state == quoted:
            state = quote_in_quoted if byte == _QUOTE else quoted
        elif state == quote_in_quoted:  # the quote before closed the cell, or doubles this one
            if byte == _QUOTE:
                state = quoted
            elif byte in (_COMMA, _LF):
                state = cell_start
            else:
                return offset, LONE_CR if byte == _CR else TEXT_AFTER_QUOTE
        elif byte == _QUOTE:
            if state == unquoted:
                return offset, QUOTE_IN_CELL
            state, opened = quoted, offset
        elif byte == _CR:
            return offset, LONE_CR
        else:
            state = cell_start if byte in (_COMMA, _LF) else unquoted
    return (opened, NEVER_CLOSED) if state == quoted else None


def first_fault(data: bytes, quotes: np.ndarray, crs: np.ndarray) -> tuple[int, str] | None:
    """:func:`first_fault_plain`, from the offsets of every quote and CR in *data*, with numpy.

    Paired in order, the quotes are an opening quote then a closing one: an opening quote must
    start a cell (follow a comma, a line end, or nothing) or double the closing quote just
    before it; a closing quote must end the cell (come before a comma, a line end, or the end)
    or be doubled by the opening quote just after it. A CR with an even number of quotes before
    it is outside quotes. The first fault by offset is the plain reading's first fault, since
    up to it the pairs are what the plain reading makes of them.

    Examples
    --------
    >>> data = b'id,note\\nx,"a ""b"", c"\\ny,"d"e\\n'
    >>> at = lambda byte: np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == byte)
    >>> first_fault(data, at(ord('"')), at(ord("\\r"))) == (28, TEXT_AFTER_QUOTE)
    True
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    opens, closes = quotes[0::2], quotes[1::2]
    # An opening quote that comes right after a closing one doubles it: the cell goes on.
    doubled = np.zeros(len(opens), dtype=bool)
    doubled[1:] = closes[: len(opens) - 1] + 1 == opens[1:]
    faults: list[tuple[int, int, str]] = []  # (offset, rank on a tie, message)
    before = buf[np.maximum(opens - 1, 0)]
    starts_cell = (opens == 0) | (before == ord(",")) | (before == ord("\n"))
    wrong = np.flatnonzero(~(starts_cell | doubled))
    if len(wrong):
        faults.append((int(opens[wrong[0]]), 1, QUOTE_IN_CELL))
    after = buf[np.minimum(closes + 1, len(buf) - 1)]
    ends_cell = (closes + 1 == len(buf)) | (after == ord(",")) | (after == ord("\n"))
    doubled_after = np.zeros(len(closes), dtype=bool)  # the quote after it doubles it
    doubled_after[: len(opens) - 1] = doubled[1:]
    wrong = np.flatnonzero(~(ends_cell | doubled_after))
    if len(wrong):
        faults.append((int(closes[wrong[0]]) + 1, 1, TEXT_AFTER_QUOTE))
    outside = crs[(np.searchsorted(quotes, crs) & 1) == 0]
    if len(outside):  # a CR right after a closing quote is named as a CR
        faults.append((int(outside[0]), 0, LONE_CR))
    if len(quotes) & 1:  # the last cell opened is never closed
        faults.append((int(opens[np.flatnonzero(~doubled)[-1]]), 2, NEVER_CLOSED))
    if not faults:
        return None
    offset, _, message = min(faults)
    return offset, message


def structure_fault(raw: bytes) -> tuple[int, str] | None:
    """Where the CSV *raw* first breaks RFC 4180 or has a record of another width than its header.

    For the readers that take a table as it is stored (the loader, ``diff``, a release): what
    :func:`read_csv` refuses as csv.malformed or csv.ragged-row, they refuse too, rather than
    read other records than it would. A BOM and CRLF line ends are accepted, as there.

    Returns
    -------
    tuple[int, str] | None
        The physical line of the first fault and what is wrong there; None if there is none.

    Examples
    --------
    >>> structure_fault(b'id,note\\r\\nx,"a, ""b"" c"\\r\\n')
    >>> structure_fault(b'id,note\\nx,"a"b\\ny,c\\n')[0], structure_fault(b"id,note\\nx\\n")
    (2, (2, 'row has 1 cells, the header has 2'))
    """
    data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    if b"\r\n" in data:
        data = data.replace(b"\r\n", b"\n")
    fault = first_fault(data, _positions(data, ord('"')), _positions(data, ord("\r")))
    if fault is not None:
        return data.count(b"\n", 0, fault[0]) + 1, fault[1]
    _, lines, commas, _ = _record_lines(data)
    ragged = np.flatnonzero(commas != commas[0]) if len(commas) else _NONE
    if len(ragged):
        i = ragged[0]
        return int(lines[i]), f"row has {commas[i] + 1} cells, the header has {commas[0] + 1}"
    return None


def _positions(data: bytes, byte: int) -> np.ndarray:
    """Find the offsets of *byte* in *data*, a quarter of a megabyte at a time (as :func:`_count_bytes`)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    step = 1 << 18
    found = [np.flatnonzero(buf[i : i + step] == byte) + i for i in range(0, len(buf), step)]
    return np.concatenate(found) if found else np.empty(0, dtype=np.intp)


def _malformed(data: bytes, fault: tuple[int, str], display: str) -> Issue:
    """The csv.malformed finding of *fault*: its physical line and, past the header, its column."""
    offset, message = fault
    # The record holding the fault starts after the last line end outside quotes before it (up
    # to the fault, the quotes pair up as the file means them); what comes before the fault in
    # it is well formed, so the csv module reads its cells: the last is the one at fault.
    end = data.rfind(b"\n", 0, offset)
    while end >= 0 and data.count(b'"', 0, end) & 1:
        end = data.rfind(b"\n", 0, end)
    field = None
    if end >= 0:
        header, cells = (
            next(csv.reader(io.StringIO(part.decode("utf-8", errors="replace"), newline="")), [])
            for part in (data[: end + 1], data[end + 1 : offset])
        )
        column = max(len(cells) - 1, 0)
        field = header[column] if column < len(header) else None
    line = data.count(b"\n", 0, offset) + 1
    return Issue(C.CSV_MALFORMED, message, file=display, row=line, field=field)


def generated_columns(package: Package, table: str) -> frozenset[str]:
    """The columns a release adds to *table* (``<date>_min``, ``<date>_max``, ``<date>_kind``)."""
    from nk_defections.read.bundle import bound_names, kind_name  # bundle reads with this module

    return frozenset(
        name
        for column, _ in package.date_columns(table)
        for name in (*bound_names(column), kind_name(column))
    )


#: Separators a spreadsheet may export with instead of commas (a decimal-comma locale: ';').
OTHER_SEPARATORS = (";", "\t", "|")


def _check_header(
    header: list[str], expected: list[str], display: str, *, generated: frozenset[str] = frozenset()
) -> Iterator[Issue]:
    """The faults of a header row: one finding for a cause that explains them all.

    A header of one cell that another separator splits into the table's columns is a file
    separated by that character; the columns a release generates are named together, once.
    """
    if len(header) == 1:
        for separator in OTHER_SEPARATORS:
            names = header[0].split(separator)
            if len(names) > 1 and sum(n.strip().strip('"') in expected for n in names) * 2 >= len(
                names
            ):
                shown = "TAB" if separator == "\t" else repr(separator)
                yield Issue(
                    C.CSV_DELIMITER,
                    f"{display} is separated by {shown}, not by commas: export it again as "
                    "comma-separated CSV (a spreadsheet's 'CSV UTF-8'), or replace the separator",
                    file=display,
                    row=1,
                )
                return
    extra = [name for name in header if name in generated and name not in expected]
    if extra:
        yield Issue(
            C.CSV_UNKNOWN_COLUMN,
            f"the columns {', '.join(extra)} are generated by a release from the dates: delete "
            "them (a release CSV used as a template keeps them)",
            file=display,
            row=1,
            field=extra[0],
        )
    seen: set[str] = set()
    for name in header:
        if name in extra:
            seen.add(name)
            continue
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
