"""Reads the files of a contribution (JSON envelopes, JSON Lines, ``<resource>.csv``) into frames.

A contribution is any mix of files. Each is read into the same string frames the package is read
into (:mod:`nk_defections.model.frames`), marked ``_report=True``, for the checker
(:mod:`nk_defections.check.validate`) to append to the package's own rows. Nothing here
raises on bad input: every fault of a file is an :class:`~nk_defections.findings.issues.Issue`.
Each JSON record is also handed to a check the caller may pass in (the JSON Schema check), whose
issues take their place among the file's.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue, escape_pointer
from nk_defections.model.frames import FILE, LINE, POINTER, empty_frame, frame_schema, marked
from nk_defections.model.hints import did_you_mean, nearest
from nk_defections.model.limits import read_file
from nk_defections.model.package import AMENDMENTS, REDIRECTS, Package
from nk_defections.model.records import cell, typed_rows
from nk_defections.progress import step
from nk_defections.read.csv import decode, read_csv
from nk_defections.read.gather import Gathered
from nk_defections.read.json import (
    Invalid,
    StrictJson,
    iter_markers,
    line_of,
    pointer_lines,
    safe,
    sanitized,
)

JSONL_KEYS = ("resource", "record")
#: What a contribution says instead of rows of redirects, which only the amendments write.
NOT_CONTRIBUTED = (
    f"{REDIRECTS!r} is written by merge and retire amendments, not contributed: "
    f"write them under {AMENDMENTS!r}"
)
#: The column of an amendments frame that says whether the amendment passed its JSON Schema
#: (only those are applied; the others are already findings).
VALID = "_valid"


class RecordCheck(Protocol):
    """A check of each JSON record read: the JSON Schema check, which the checker passes in."""

    def __call__(
        self, table: str, record: Any, file: str, row: int | None, base: list[Any]
    ) -> list[Issue]:
        """Check *record* of *table* in *file*; return its issues.

        *row* is the record's line (JSON Lines; None in an envelope, where the issues are
        located later by their pointer) and *base* the pointer path of the record.
        """
        ...


@dataclass
class Contribution:
    """Contributed rows per table (string frames with their location) and what reading found."""

    frames: dict[str, pl.DataFrame]
    issues: list[Issue] = field(default_factory=list)
    #: For each JSON envelope: the physical line of every value, by pointer.
    lines: dict[str, dict[str, int]] = field(default_factory=dict)
    #: The amendments, in the order written (the amendment fields as strings, their location,
    #: and ``_valid``); None where the contribution has none.
    amendments: pl.DataFrame | None = None
    #: Tables with a contributed CSV file whose rows could not be read.
    unread: frozenset[str] = frozenset()

    def located(self, issue: Issue) -> Issue:
        """Give *issue* the line of the value its pointer names, if it is in a JSON envelope."""
        lines = self.lines.get(issue.file or "")
        if lines is None or issue.pointer is None:
            return issue
        return replace(issue, row=line_of(lines, issue.pointer))

    def ids(self) -> set[str]:
        """Every id the contribution carries, of any table."""
        return {i for frame in self.frames.values() for i in frame["id"].drop_nulls().to_list()}

    def counts(self) -> dict[str, int]:
        """Rows per table, for the tables that have any (and the amendments, if any)."""
        counts = {table: frame.height for table, frame in self.frames.items() if frame.height}
        if self.amendments is not None and self.amendments.height:
            counts[AMENDMENTS] = self.amendments.height
        return counts


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is parsed.

    Parsing makes millions of dicts and no cycles, and each collection would walk every object
    still alive.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Reader:
    """Reads the files of one contribution into rows and issues."""

    def __init__(self, package: Package, on_record: RecordCheck | None) -> None:
        self.package = package
        self.on_record = on_record
        self.parser = StrictJson()
        self.gathered = Gathered(package)
        self.csv_frames: dict[str, list[pl.DataFrame]] = {t: [] for t in package.resources}
        #: The amendments read so far, in order: (cells by field, file, line, pointer, valid).
        self.amendments: list[tuple[dict[str, str | None], str, int | None, str | None, bool]] = []
        self.unread: set[str] = set()
        self.issues: list[Issue] = []
        self.lines: dict[str, dict[str, int]] = {}
        #: The pointer -> line map of the envelope being read (JSON Lines rows carry their line).
        self._envelope_lines: dict[str, int] | None = None
        #: CSV files being read ahead on other threads (see :func:`read_contribution`).
        self.prefetched: dict[Path, Future[tuple[pl.DataFrame | None, list[Issue]]]] = {}

    def read(self, path: Path) -> None:
        step(f"reading {path.name}")
        display = str(path)
        kind = path.suffix.lower()
        if kind == ".csv" and path.stem == REDIRECTS:
            self._issue(C.FILE_UNKNOWN_KIND, f"{path.name}: {NOT_CONTRIBUTED}", display)
            return
        if kind == ".csv" and path.stem not in self.package.resources and not self._amends(path):
            hint = nearest_resource(path.stem, self.package)
            suggestion = (
                f"; did you mean {hint}.csv?"
                if hint
                else f"; one of: {', '.join(self.package.resources)}"
            )
            self._issue(
                C.FILE_UNKNOWN_KIND,
                f"{path.name} is not named after a resource{suggestion}",
                display,
            )
            return
        if path.is_symlink():  # it could show a file outside the contribution in a message
            self._issue(
                C.FILE_UNREADABLE,
                f"{display} is a symbolic link; name the file it points to itself",
                display,
            )
            return
        if not path.exists():
            self._issue(C.FILE_UNREADABLE, f"{display} does not exist", display)
            return
        if path.is_dir():
            self._issue(
                C.FILE_UNREADABLE, f"{display} is a directory; name the files in it", display
            )
            return
        if kind == ".csv" and self._amends(path):
            self._read_amendments_csv(path, display)
            return
        if kind == ".csv":
            ahead = self.prefetched.pop(path, None)
            frame, found = (
                ahead.result()
                if ahead is not None
                else read_csv(self.package, path.stem, path, display)
            )
            self.issues += found
            if frame is not None:
                self.csv_frames[path.stem].append(frame)
            else:
                self.unread.add(path.stem)
            return
        if kind not in (".json", ".jsonl"):
            self._issue(
                C.FILE_UNKNOWN_KIND,
                f"{path.name} is neither a *.json envelope, a *.jsonl file nor a <resource>.csv"
                + (
                    "; save the sheet as CSV UTF-8, one file per resource"
                    if kind in (".xlsx", ".xls", ".ods")
                    else ""
                ),
                display,
            )
            return
        try:
            data = read_file(path, links=False)  # within the limits of nk_defections.model.limits
        except OSError as exc:
            self._issue(C.FILE_UNREADABLE, f"{display} cannot be read: {exc.strerror}", display)
            return
        with _collector_paused():
            if kind == ".jsonl" and _is_utf8(data):
                self._read_lines(_line_texts(data), display)
                return
            text, found = decode(data, display)
            del data
            self.issues += found
            if text is None:
                return
            if kind == ".json":
                self._read_envelope(text, display)
            else:
                self._read_lines(_text_lines(text), display)

    def _amends(self, path: Path) -> bool:
        """Whether *path* is an ``amendments.csv`` (and the package describes amendments)."""
        return path.stem == AMENDMENTS and bool(self.package.amendment_fields)

    def _read_amendments_csv(self, path: Path, display: str) -> None:
        frame, found = read_csv(self.package, AMENDMENTS, path, display)
        self.issues += found
        if frame is None:
            return
        rows = frame.select(self.package.field_names(AMENDMENTS)).rows(named=True)
        typed = typed_rows(self.package, AMENDMENTS, rows)
        for row, record, line in zip(rows, typed, frame[LINE].to_list(), strict=True):
            # Checked as the JSON record it stands for: one schema for the three forms.
            found = self.on_record(AMENDMENTS, record, display, line, []) if self.on_record else []
            # A CSV cell is located by its line and column, as the package's cells are.
            self.issues += [replace(issue, pointer=None) for issue in found]
            self.amendments.append((row, display, line, None, not found))

    def _amendment(self, record: Any, display: str, row: int | None, base: list[Any]) -> None:
        found = self.on_record(AMENDMENTS, record, display, row, base) if self.on_record else []
        self.issues += found
        if not isinstance(record, dict):
            return
        pointer = escape_pointer(base)
        line = row if self._envelope_lines is None else line_of(self._envelope_lines, pointer)
        cells = {f["name"]: cell(f, record.get(f["name"])) for f in self.package.amendment_fields}
        self.amendments.append((cells, display, line, pointer, not found))

    def _example(self, value: Any, display: str) -> None:
        """The envelope's ``example`` member: true marks the template's invented records."""
        if not isinstance(value, bool):
            self._issue(
                C.SCHEMA_TYPE,
                f"'example' holds {_kind(value)}, not true or false",
                display,
                pointer="/example",
                field="example",
            )
        elif value:
            self._issue(
                C.JSON_EXAMPLE,
                'the contribution is marked "example": true: its records are the template\'s '
                "invented ones, which `add` refuses; replace them with your own and delete the "
                '"example" member',
                display,
                pointer="/example",
                field="example",
            )

    def _issue(self, code: str, message: str, file: str, **where: Any) -> None:
        self.issues.append(Issue(code, message, file=file, **where))

    def _read_envelope(self, text: str, display: str) -> None:
        value, error = self.parser.parse(text)
        if error is not None:
            code, message, line = error
            self._issue(code, message, display, row=line)
            return
        self.lines[display] = self._envelope_lines = pointer_lines(text)
        bad = self._markers(value, display, row=None, base=[])
        start = len(self.issues)  # what the markers' values cascade into comes after them
        if not isinstance(value, dict):
            self._issue(
                C.JSON_TOP_LEVEL,
                f"the file holds {_kind(value)}; "
                'a contribution is an object of resource names, e.g. {"people": [...]}',
                display,
                pointer="",
            )
        else:
            value = sanitized(value)
            for key, records in value.items():
                if key == "example":
                    self._example(records, display)
                    continue
                if key == "$schema":
                    if not isinstance(records, str):
                        self._issue(
                            C.SCHEMA_TYPE,
                            "'$schema' is not a string",
                            display,
                            pointer="/$schema",
                            field="$schema",
                        )
                    continue
                if key == REDIRECTS:
                    self._issue(
                        C.JSON_UNKNOWN_RESOURCE, NOT_CONTRIBUTED, display, pointer=f"/{key}"
                    )
                    continue
                if key not in self.package.resources and not (
                    key == AMENDMENTS and self.package.amendment_fields
                ):
                    self._unknown_resource(key, display, pointer=escape_pointer([key]), row=None)
                    continue
                if not isinstance(records, list):
                    self._issue(
                        C.SCHEMA_TYPE,
                        f"{key!r} holds {_kind(records)}, not an array of records",
                        display,
                        pointer=escape_pointer([key]),
                    )
                    continue
                for i, record in enumerate(records):
                    if key == AMENDMENTS and key not in self.package.resources:
                        self._amendment(record, display, row=None, base=[key, i])
                    else:
                        self._record(key, record, display, row=None, base=[key, i])
        self._envelope_lines = None
        self._drop_cascades(start, bad)

    def _read_lines(self, lines: Iterable[str], display: str) -> None:
        parser = self.parser
        number = 0
        for number, raw in enumerate(lines, start=1):
            line = raw[:-1] if raw.endswith("\r") else raw
            if not line.strip():
                self._issue(
                    C.JSON_SYNTAX,
                    'blank line: every line holds one {"resource", "record"} object',
                    display,
                    row=number,
                )
                continue
            markers = parser.markers
            value, error = parser.parse(line)
            if error is not None:
                code, message, _ = error
                self._issue(
                    code, message.replace("line 1, column", "column", 1), display, row=number
                )
                continue
            if not parser.needs_walk(line, markers):
                self._line_record(value, display, number)  # no marker: nothing to report or replace
                continue
            bad = self._markers(value, display, row=number, base=[])
            start = len(self.issues)  # what the markers' values cascade into comes after them
            self._line_record(sanitized(value), display, number)
            self._drop_cascades(start, bad)
        if not number:
            self._issue(
                C.JSON_SYNTAX,
                "the file is empty: a JSON Lines contribution has one record per line",
                display,
                row=1,
            )

    def _line_record(self, value: Any, display: str, number: int) -> None:
        if not isinstance(value, dict):
            self._issue(
                C.JSON_TOP_LEVEL,
                f"the line holds {_kind(value)}, "
                'not an object {"resource": ..., "record": {...}}',
                display,
                row=number,
                pointer="",
            )
            return
        for key in value:
            if key not in JSONL_KEYS:
                self._issue(
                    C.SCHEMA_ADDITIONAL_PROPERTIES,
                    f"unknown field {key!r}{did_you_mean(key, JSONL_KEYS)}",
                    display,
                    row=number,
                    pointer=escape_pointer([key]),
                    field=key,
                )
        missing = [k for k in JSONL_KEYS if k not in value]
        for key in missing:
            self._issue(
                C.SCHEMA_REQUIRED,
                f"required field {key!r} is missing",
                display,
                row=number,
                pointer=f"/{key}",
                field=key,
            )
        if missing:
            return
        table = value["resource"]
        if not isinstance(table, str):
            self._issue(
                C.SCHEMA_TYPE,
                f"{_kind(table)} is not a resource name",
                display,
                row=number,
                pointer="/resource",
                field="resource",
            )
            return
        if table == AMENDMENTS and self.package.amendment_fields:
            self._amendment(value["record"], display, row=number, base=["record"])
            return
        if table == REDIRECTS:
            self._issue(
                C.JSON_UNKNOWN_RESOURCE, NOT_CONTRIBUTED, display, pointer="/resource", row=number
            )
            return
        if table not in self.package.resources:
            self._unknown_resource(table, display, pointer="/resource", row=number)
            return
        self._record(table, value["record"], display, row=number, base=["record"])

    def _record(
        self, table: str, record: Any, display: str, *, row: int | None, base: list[Any]
    ) -> None:
        if self.on_record is not None:
            self.issues += self.on_record(table, record, display, row, base)
        if isinstance(record, dict):
            self.gathered.add(
                table, record, escape_pointer(base), display, row, self._envelope_lines
            )

    def _unknown_resource(self, name: str, display: str, *, pointer: str, row: int | None) -> None:
        self._issue(
            C.JSON_UNKNOWN_RESOURCE,
            f"{safe(name)!r} is not a resource{resource_hint(name, self.package)}",
            display,
            pointer=pointer,
            row=row,
        )

    def _markers(self, value: Any, display: str, *, row: int | None, base: list[Any]) -> set[str]:
        bad = set()
        for path, code, message in iter_markers(value, base):
            pointer = escape_pointer(path)
            bad.add(pointer)
            field = path[-1] if path and isinstance(path[-1], str) else None
            self._issue(code, message, display, row=row, pointer=pointer, field=field)
        return bad

    def _drop_cascades(self, start: int, bad: set[str]) -> None:
        """Drop schema findings on a value reported as a marker (NaN is also 'not a number')."""
        if not bad:
            return
        kept = self.issues[:start]
        for issue in self.issues[start:]:
            if issue.code.startswith("schema.") and issue.pointer in bad:
                continue
            kept.append(issue)
        self.issues = kept

    def contribution(self) -> Contribution:
        frames = {}
        for table in self.package.resources:
            parts = [marked(f, csv=True, report=True) for f in self.csv_frames[table]]
            gathered = self.gathered.frame(table)
            if gathered is not None:
                parts.append(marked(gathered, csv=False, report=True))
            frames[table] = (
                pl.concat(parts)
                if parts
                else marked(empty_frame(self.package, table), csv=False, report=True)
            )
        contribution = Contribution(
            frames,
            lines=self.lines,
            amendments=self._amendments_frame(),
            unread=frozenset(self.unread),
        )
        contribution.issues = [contribution.located(issue) for issue in self.issues]
        return contribution

    def _amendments_frame(self) -> pl.DataFrame | None:
        if not self.amendments:
            return None
        schema = frame_schema(self.package, AMENDMENTS)
        names = self.package.field_names(AMENDMENTS)
        data: dict[str, list[Any]] = {name: [] for name in schema}
        valid = []
        for cells, file, line, pointer, ok in self.amendments:
            for name in names:
                data[name].append(cells.get(name))
            data[FILE].append(file)
            data[LINE].append(line)
            data[POINTER].append(pointer)
            valid.append(ok)
        return pl.DataFrame(data, schema=schema).with_columns(pl.Series(VALID, valid))


def _is_utf8(data: bytes) -> bool:
    """Tell whether *data* is UTF-8 text without a NUL byte.

    Anything else goes to :func:`decode`, which names the fault. Checked in slices, so that the
    whole text never exists at once.
    """
    if b"\x00" in data:
        return False
    view = memoryview(data)
    start = 0
    while start < len(data):
        # A slice ends after a newline, which is never inside a multi-byte character.
        stop = data.find(b"\n", start + (1 << 23))
        stop = len(data) if stop < 0 else stop + 1
        try:
            str(view[start:stop], "utf-8")
        except UnicodeDecodeError:
            return False
        start = stop
    return True


def _line_texts(data: bytes) -> Iterator[str]:
    r"""Yield the lines of UTF-8 *data* (a BOM dropped): ``split("\n")`` less a last empty one."""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    end = len(data)
    while start < end:
        stop = data.find(b"\n", start)
        if stop < 0:
            stop = end
        yield data[start:stop].decode("utf-8")
        start = stop + 1


def _text_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


#: Words a contributor may reach for instead of a resource name.
_SYNONYMS = {
    "person": "people",
    "persons": "people",
    "individuals": "people",
    "names": "person_names",
    "organisations": "organizations",
    "organisation": "organizations",
    "orgs": "organizations",
    "participants": "event_participants",
    "links": "event_links",
    "stats": "statistics",
    "source": "sources",
}


def resource_hint(name: str, package: Package) -> str:
    """``"; did you mean 'people'?"`` for a resource name meant, else the list of resources."""
    meant = nearest_resource(name, package)
    return f"; did you mean {meant!r}?" if meant else f"; one of: {', '.join(package.resources)}"


def nearest_resource(name: str, package: Package) -> str | None:
    """The resource *name* most likely means (its case or dashes, a synonym, a typo), or None.

    Examples
    --------
    >>> from nk_defections.model.package import load_package_descriptor
    >>> pkg = load_package_descriptor()
    >>> nearest_resource("persons", pkg), nearest_resource("peopel", pkg)
    ('people', 'people')
    """
    folded = name.lower().replace("-", "_").replace(" ", "_")
    if folded in package.resources:
        return folded
    if _SYNONYMS.get(folded) in package.resources:
        return _SYNONYMS[folded]
    names = [*package.resources, *([AMENDMENTS] if package.amendment_fields else [])]
    if folded.rstrip("s") == AMENDMENTS.rstrip("s") and AMENDMENTS in names:
        return AMENDMENTS
    return nearest(folded, names)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Invalid):
        return str(value)[:30]
    if isinstance(value, str):
        return f"the string {safe(value)[:30]!r}"
    return f"the number {value!r}"[:40]


def read_contribution(
    package: Package, paths: Iterable[Path | str], *, on_record: RecordCheck | None = None
) -> Contribution:
    """Read contributed files into string frames (``_report=True``) and report their faults.

    Parameters
    ----------
    package
        The package whose resources the files must hold.
    paths
        Any mix of ``*.json`` envelopes, ``*.jsonl`` files and ``<resource>.csv`` files.
    on_record
        Called with each JSON record read (its table, the record, the file, its line or None,
        and the pointer path of the record); the issues it returns are the record's. None: the
        records are read unchecked.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nk_defections.model.package import load_package_descriptor
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "empty.json").write_text("{}")
    >>> contribution = read_contribution(load_package_descriptor(), [folder / "empty.json"])
    >>> contribution.issues, contribution.counts()
    ([], {})
    """
    reader = _Reader(package, on_record)
    files = [Path(p) for p in paths]
    tables = [
        p
        for p in files
        if p.suffix.lower() == ".csv"
        and p.stem in package.resources
        and p.is_file()
        and not p.is_symlink()
    ]
    if len(tables) < 2:
        for path in files:
            reader.read(path)
        return reader.contribution()
    # Several CSV files are read side by side: the parse runs in polars and the line scan in
    # numpy, both without the GIL. Findings still come in the order of the paths. Up to four
    # at once even on fewer cores: a thread mostly waits for polars' own pool, and a file left
    # to start after the others would be parsed alone at the end (measured: 3 files on 2 cores,
    # 0.45 s with 2 threads, 0.41 s with 3).
    with ThreadPoolExecutor(max_workers=min(len(tables), 4)) as pool:
        # The largest first, so that the last to finish is a small one.
        largest = sorted(dict.fromkeys(tables), key=lambda p: p.stat().st_size, reverse=True)
        reader.prefetched = {p: pool.submit(read_csv, package, p.stem, p, str(p)) for p in largest}
        for path in files:
            reader.read(path)
    return reader.contribution()
