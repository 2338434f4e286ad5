"""Reads contributed files (JSON envelopes, JSON Lines, ``<resource>.csv``) and checks them against the package.

A contribution is any mix of files. Each is read into the same string frames the package is read
into (:mod:`nk_defections.read.csv`), marked ``_report=True``, and appended to the package's own
rows (``_report=False``): every cross-record rule then runs on the merged whole, so references
may point into the package or into the same contribution, and an id the package already has is
refused. Nothing here raises on bad input: every fault is an :class:`~nk_defections.findings.issues.Issue`.
"""

from __future__ import annotations

import difflib
import gc
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue, Report, escape_pointer
from nk_defections.model.frames import LOCATION_SCHEMA, empty_frame, marked
from nk_defections.model.package import Package, PackageError, load_package_descriptor
from nk_defections.model.records import cell, child_properties
from nk_defections.progress import step
from nk_defections.read.csv import decode, read_csv

if TYPE_CHECKING:
    from nk_defections.model.schemas import Schemas

#: Deeper than any record needs (envelope > array > record > names > name > claims > claim is 7);
#: checked before parsing, so that no input can exhaust the parser's recursion.
MAX_DEPTH = 32
#: Integers with more digits than this overflow a 64-bit float; Python would parse them slowly
#: or refuse them (its 4,300-digit limit), so they are reported instead.
MAX_DIGITS = 308
JSONL_KEYS = ("resource", "record")


@dataclass
class Contribution:
    """Contributed rows per table (string frames with their locations) and what reading them found."""

    frames: dict[str, pl.DataFrame]
    issues: list[Issue] = field(default_factory=list)
    #: For each JSON envelope: the physical line of every value, by pointer.
    lines: dict[str, dict[str, int]] = field(default_factory=dict)

    def located(self, issue: Issue) -> Issue:
        """The issue with the line of the value its pointer names, if it is in a JSON envelope."""
        lines = self.lines.get(issue.file or "")
        if lines is None or issue.pointer is None:
            return issue
        return replace(issue, row=line_of(lines, issue.pointer))

    def ids(self) -> set[str]:
        """Every id the contribution carries, of any table."""
        return {i for frame in self.frames.values() for i in frame["id"].drop_nulls().to_list()}

    def counts(self) -> dict[str, int]:
        """Rows per table, for the tables that have any."""
        return {table: frame.height for table, frame in self.frames.items() if frame.height}


@dataclass
class CheckedContribution:
    """A contribution checked against a package: the report, and the rows a merge would write."""

    report: Report
    package: Package | None
    base: dict[str, pl.DataFrame]
    contribution: Contribution

    def merged(self, table: str) -> pl.DataFrame:
        """The package's rows of *table* followed by the contributed ones (declared columns only)."""
        assert self.package is not None
        names = self.package.field_names(table)
        return pl.concat(
            [self.base[table].select(names), self.contribution.frames[table].select(names)]
        )


# --------------------------------------------------------------------------- strict JSON


class _Invalid(str):
    """A JSON value that cannot become a cell (NaN, an out-of-range number, a lone surrogate)."""

    code: str = C.JSON_CONSTANT

    def __new__(cls, value: str) -> _Invalid:  # noqa: D102
        _MARKS[0] += 1
        return super().__new__(cls, value)


class _Constant(_Invalid):
    code = C.JSON_CONSTANT


class _OutOfRange(_Invalid):
    code = C.JSON_NUMBER_RANGE


class _Object(dict):
    """A JSON object that remembers which of its keys were repeated."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)  # the last value of a repeated key, at the place of its first occurrence
    if len(obj) == len(pairs):
        return obj
    marked = _Object()
    repeated = []
    for key, value in pairs:
        if key in marked:
            repeated.append(key)
        marked[key] = value
    marked.duplicates = tuple(repeated)
    _MARKS[0] += 1
    return marked


#: How many markers (repeated keys, NaN/Infinity, out-of-range numbers) parsing has made: a line
#: that made none, and has no surrogate escape, has nothing for iter_markers or _sanitized to do.
_MARKS = [0]
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _parse_float(text: str) -> float | _OutOfRange:
    number = float(text)
    return number if abs(number) != float("inf") else _OutOfRange(text)


def _parse_int(text: str) -> int | _OutOfRange:
    if len(text) > MAX_DIGITS and len(text.lstrip("-")) > MAX_DIGITS:
        return _OutOfRange(text)
    return int(text)


_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _too_deep(text: str) -> int | None:
    """Offset at which brackets outside strings nest deeper than MAX_DEPTH, if they do."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # cannot nest deeper than it opens
        return None
    blanked = _STRING.sub(lambda m: " " * len(m.group()), text).encode(
        "utf-8", errors="surrogatepass"
    )
    data = np.frombuffer(blanked, dtype=np.uint8)
    step = np.isin(data, (ord("["), ord("{"))).astype(np.int32) - np.isin(
        data, (ord("]"), ord("}"))
    )
    over = np.flatnonzero(np.cumsum(step) > MAX_DEPTH) if len(step) else step
    if not len(over):
        return None
    return len(blanked[: int(over[0])].decode("utf-8", errors="surrogatepass"))


def _line_column(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


#: One decoder for every text (``json.loads`` with hooks builds a decoder, and its scanner, per call).
_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_pairs,
    parse_constant=_Constant,
    parse_float=_parse_float,
    parse_int=_parse_int,
)


def parse_json(text: str) -> tuple[Any, tuple[str, str, int | None] | None]:
    """Parse strict JSON: return ``(value, None)``, or ``(None, (code, message, line))`` if it cannot be.

    Duplicate keys, NaN/Infinity and out-of-range numbers do not fail the parse: they are left in
    the value as markers (:func:`iter_markers` finds them), so that every one is reported.

    Examples
    --------
    >>> parse_json('{"a": [1, 2]}')
    ({'a': [1, 2]}, None)
    >>> parse_json('{"a": ')[1]
    ('json.syntax', 'line 1, column 7: expecting value', 1)
    """
    deep = _too_deep(text)
    if deep is not None:
        line, column = _line_column(text, deep)
        return None, (
            C.JSON_TOO_DEEP,
            f"line {line}, column {column}: nesting deeper than {MAX_DEPTH} levels",
            line,
        )
    try:
        if text.startswith("\ufeff"):  # as json.loads says
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        if not text.strip():
            return None, (C.JSON_SYNTAX, "the file is empty; an empty contribution is {}", 1)
        reason = exc.msg[0].lower() + exc.msg[1:]
        return None, (C.JSON_SYNTAX, f"line {exc.lineno}, column {exc.colno}: {reason}", exc.lineno)
    except RecursionError:  # pragma: no cover - _too_deep catches this first
        return None, (C.JSON_TOO_DEEP, f"nesting deeper than {MAX_DEPTH} levels", None)
    return value, None


def iter_markers(value: Any, path: list[Any] | None = None) -> Iterator[tuple[list[Any], str, str]]:
    """Yield ``(path, code, message)`` for every duplicate key, non-number and lone surrogate."""
    path = path or []
    if isinstance(value, _Invalid):
        what = "not a JSON number" if value.code == C.JSON_CONSTANT else "too large for any field"
        yield path, value.code, f"{str(value)[:20]!r} is {what}"
    elif isinstance(value, str):
        if _has_surrogate(value):
            yield (
                path,
                C.FILE_ENCODING,
                "the text holds a lone surrogate escape (\\ud800-\\udfff): it is not Unicode",
            )
    elif isinstance(value, dict):
        for key in getattr(value, "duplicates", ()):
            yield (
                [*path, key],
                C.JSON_DUPLICATE_KEY,
                f"key {_safe(key)!r} occurs more than once in this object",
            )
        for key, item in value.items():
            if _has_surrogate(key):
                yield (
                    [*path, _safe(key)],
                    C.FILE_ENCODING,
                    "a key holds a lone surrogate escape: it is not Unicode",
                )
                continue
            yield from iter_markers(item, [*path, key])
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from iter_markers(item, [*path, i])


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _safe(text: str) -> str:
    return text.encode("utf-8", errors="backslashreplace").decode("utf-8")


def _sanitized(value: Any) -> Any:
    """The value with every marker and lone surrogate turned into an _Invalid (never a cell)."""
    if isinstance(value, _Invalid):
        return value
    if isinstance(value, str):
        return _Invalid(_safe(value)) if _has_surrogate(value) else value
    if isinstance(value, dict):
        return {k: _sanitized(v) for k, v in value.items() if not _has_surrogate(k)}
    if isinstance(value, list):
        return [_sanitized(v) for v in value]
    return value


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def pointer_lines(text: str) -> dict[str, int]:
    """Map the RFC 6901 pointer of every value in a (valid) JSON text to its physical line.

    Examples
    --------
    >>> pointer_lines('{"a": [\\n  1,\\n  {"b": 2}]}')
    {'': 1, '/a': 1, '/a/0': 2, '/a/1': 3, '/a/1/b': 3}
    """
    lines: dict[str, int] = {}
    stack: list[list[Any]] = []  # [is_object, pointer, key (None: a key comes next) or index]
    line, last = 1, 0
    for match in _TOKEN.finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        token = match.group()
        if token == ":":
            continue
        if token == ",":
            if stack and not stack[-1][0]:
                stack[-1][2] += 1
            continue
        if token in "]}":
            stack.pop()
            continue
        top = stack[-1] if stack else None
        if top is not None and top[0] and top[2] is None:
            top[2] = json.loads(token)
            continue
        pointer = f"{top[1]}{escape_pointer([top[2]])}" if top is not None else ""
        if top is not None and top[0]:
            top[2] = None
        lines[pointer] = line
        if token == "{":
            stack.append([True, pointer, None])
        elif token == "[":
            stack.append([False, pointer, 0])
    return lines


def line_of(lines: Mapping[str, int], pointer: str) -> int | None:
    """The line of the value at *pointer*, or of its nearest ancestor that exists."""
    while True:
        if pointer in lines:
            return lines[pointer]
        if not pointer:
            return None
        pointer = pointer.rsplit("/", 1)[0]


# --------------------------------------------------------------------------- reading files


#: Rows a table gathers as Python lists before they become a polars frame: the Python strings
#: of a large file never all live at once.
CHUNK_ROWS = 20_000


class _Columns:
    """The rows of one table read from JSON so far: lists gathered column by column, and frames."""

    def __init__(self, package: Package, table: str) -> None:
        self.fields = package.fields(table)
        self.names = [f["name"] for f in self.fields]
        self.schema = {**{name: pl.String for name in self.names}, **LOCATION_SCHEMA}
        #: (property, child table, parent key) of every nested array.
        self.nested = [(prop, child, key) for prop, (child, key) in child_properties(table).items()]
        self.frames: list[pl.DataFrame] = []
        self._reset()

    def _reset(self) -> None:
        self.columns: list[list[Any]] = [[] for _ in self.names]
        self.file: list[str] = []
        self.line: list[int | None] = []
        self.pointer: list[str] = []

    def flush(self) -> None:
        """Turn the gathered lists into a frame."""
        if self.file:
            data = {
                **dict(zip(self.names, self.columns, strict=True)),
                "_file": self.file,
                "_line": self.line,
                "_pointer": self.pointer,
            }
            self.frames.append(pl.DataFrame(data, schema=self.schema))
            self._reset()

    def frame(self) -> pl.DataFrame | None:
        """Every row, in the order read (the declared columns, then _file, _line, _pointer)."""
        self.flush()
        frames, self.frames = self.frames, []
        if not frames:
            return None
        return pl.concat(frames) if len(frames) > 1 else frames[0]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: parsing makes millions of dicts and no cycles, and
    each collection would walk every object still alive."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Reader:
    """Reads the files of one contribution into rows and issues."""

    def __init__(self, package: Package) -> None:
        self.package = package
        self.columns = {t: _Columns(package, t) for t in package.resources}
        self.csv_frames: dict[str, list[pl.DataFrame]] = {t: [] for t in package.resources}
        self.issues: list[Issue] = []
        self.lines: dict[str, dict[str, int]] = {}
        #: The pointer -> line map of the envelope being read (JSON Lines rows carry their line).
        self._envelope_lines: dict[str, int] | None = None
        #: Per table: its nested arrays that _explained may empty.
        self._arrays: dict[str, dict[str, str]] = {}
        #: Per (table, parent key): the function that appends a record's rows (see _gatherer).
        self._gatherers: dict[tuple[str, str | None], Callable[..., None]] = {}
        #: CSV files being read ahead on other threads (see :func:`read_contribution`).
        self.prefetched: dict[Path, Future] = {}

    @cached_property
    def schemas(self) -> Schemas:
        # Built on the first JSON record: CSV rows never need the JSON Schemas.
        from nk_defections.model.schemas import schemas_for

        return schemas_for(self.package)

    def read(self, path: Path) -> None:
        step(f"reading {path.name}")
        display = str(path)
        kind = path.suffix.lower()
        if kind == ".csv" and path.stem not in self.package.resources:
            hint = _nearest_resource(path.stem, self.package)
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
        if not path.exists():
            self._issue(C.FILE_UNREADABLE, f"{display} does not exist", display)
            return
        if path.is_dir():
            self._issue(
                C.FILE_UNREADABLE, f"{display} is a directory; name the files in it", display
            )
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
            data = path.read_bytes()
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

    def _issue(self, code: str, message: str, file: str, **where: Any) -> None:
        self.issues.append(Issue(code, message, file=file, **where))

    def _read_envelope(self, text: str, display: str) -> None:
        value, error = parse_json(text)
        if error is not None:
            code, message, line = error
            self._issue(code, message, display, row=line)
            return
        start = len(self.issues)
        self.lines[display] = self._envelope_lines = pointer_lines(text)
        bad = self._markers(value, display, row=None, base=[])
        if not isinstance(value, dict):
            self._issue(
                C.JSON_TOP_LEVEL,
                f'the file holds {_kind(value)}; a contribution is an object of resource names, e.g. {{"people": [...]}}',
                display,
                pointer="",
            )
        else:
            value = _sanitized(value)
            for key, records in value.items():
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
                if key not in self.package.resources:
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
                    self._record(key, record, display, row=None, base=[key, i])
        self._envelope_lines = None
        self._drop_cascades(start, bad)

    def _read_lines(self, lines: Iterable[str], display: str) -> None:
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
            marks = _MARKS[0]
            value, error = parse_json(line)
            if error is not None:
                code, message, _ = error
                self._issue(
                    code, message.replace("line 1, column", "column", 1), display, row=number
                )
                continue
            if _MARKS[0] == marks and not _SURROGATE_ESCAPE.search(line):
                self._line_record(value, display, number)  # no marker: nothing to report or replace
                continue
            start = len(self.issues)
            bad = self._markers(value, display, row=number, base=[])
            self._line_record(_sanitized(value), display, number)
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
                f'the line holds {_kind(value)}, not an object {{"resource": ..., "record": {{...}}}}',
                display,
                row=number,
                pointer="",
            )
            return
        for key in value:
            if key not in JSONL_KEYS:
                hint = difflib.get_close_matches(key, JSONL_KEYS, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                self._issue(
                    C.SCHEMA_ADDITIONAL_PROPERTIES,
                    f"unknown field {key!r}{suggestion}",
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
        if table not in self.package.resources:
            self._unknown_resource(table, display, pointer="/resource", row=number)
            return
        self._record(table, value["record"], display, row=number, base=["record"])

    def _record(
        self, table: str, record: Any, display: str, *, row: int | None, base: list[Any]
    ) -> None:
        if not self.schemas.is_valid(table, record):
            found = self._explained(table, record, display, row=row, base=base)
            # A value of the wrong type also fails its enum, pattern or length: say only what is wrong first.
            mistyped = {i.pointer for i in found if i.code == C.SCHEMA_TYPE}
            self.issues += [
                i for i in found if i.code == C.SCHEMA_TYPE or i.pointer not in mistyped
            ]
        if not isinstance(record, dict):
            return
        gather = self._gatherers.get((table, None)) or self._gatherer(table, None)
        gather(record, escape_pointer(base), None, display, row, self._envelope_lines)
        for columns in self.columns.values():
            if len(columns.file) >= CHUNK_ROWS:
                columns.flush()
                self._gatherers.clear()  # they append to the lists just replaced

    def _explained(
        self, table: str, record: Any, display: str, *, row: int | None, base: list[Any]
    ) -> list[Issue]:
        """The issues of an invalid record, as jsonschema explains them, in jsonschema's order.

        jsonschema takes milliseconds over a whole event with its participants and claims;
        jsonschema-rs names at once the nested records that hold an error. So jsonschema
        explains the record with its nested arrays emptied, then each of those nested records
        alone: the same errors, with the same paths below *base*.
        """
        from nk_defections.check.schema_errors import iter_schema_issues

        def issues(stem: str, errors: Iterable[Any], where: list[Any]) -> list[Issue]:
            return list(
                iter_schema_issues(
                    iter(errors), self.package, stem, file=display, row=row, base=where
                )
            )

        dirty = self._dirty_items(table, record)
        if dirty is None:
            return issues(table, self.schemas.validator(table).iter_errors(record), base)
        arrays = self._emptied_arrays(table)
        shallow = {k: ([] if k in arrays and isinstance(v, list) else v) for k, v in record.items()}
        outer = list(self.schemas.validator(table).iter_errors(shallow))
        # jsonschema goes through the schema's keywords in order, and through "properties"
        # property by property, each array item by item: the same order here.
        found: list[Issue] = []
        placed: set[int] = set()
        schema = self.schemas.schemas[table]
        for keyword in schema:
            if keyword != "properties":
                group = [e for e in outer if not e.absolute_path and e.validator == keyword]
                placed.update(id(e) for e in group)
                found += issues(table, group, base)
                continue
            for prop in schema["properties"]:
                group = [e for e in outer if e.absolute_path and e.absolute_path[0] == prop]
                placed.update(id(e) for e in group)
                found += issues(table, group, base)
                for index in dirty.get(prop, ()):
                    validator = self.schemas.validator(arrays[prop], nested_child=True)
                    found += issues(
                        arrays[prop],
                        validator.iter_errors(record[prop][index]),
                        [*base, prop, index],
                    )
        found += issues(table, [e for e in outer if id(e) not in placed], base)  # none expected
        return found

    def _emptied_arrays(self, table: str) -> dict[str, str]:
        """Nested array property -> child table, for the arrays whose schema checks nothing but
        the type and the items (so that emptying them leaves every other error as it was)."""
        if table not in self._arrays:
            schema = self.schemas.schemas[table]
            plain = set(schema) <= {
                "$schema",
                "$id",
                "title",
                "description",
                "type",
                "additionalProperties",
                "required",
                "properties",
                "$defs",
            }
            arrays = {}
            for prop, (child, _key) in child_properties(table).items():
                sub = schema.get("properties", {}).get(prop, {})
                if (
                    plain
                    and set(sub) <= {"description", "type", "items"}
                    and sub.get("type") == "array"
                ):
                    arrays[prop] = child
            self._arrays[table] = arrays
        return self._arrays[table]

    def _dirty_items(self, table: str, record: Any) -> dict[str, list[int]] | None:
        """Per nested array, the indices of the items jsonschema-rs finds an error in (None: ask jsonschema about all)."""
        arrays = self._emptied_arrays(table) if isinstance(record, dict) else {}
        if not arrays:
            return None
        fast = self.schemas.fast_validator(table)
        if fast is None:
            return None
        dirty: dict[str, set[int]] = {}
        errors = 0
        try:
            for error in fast.iter_errors(record):
                errors += 1
                path = list(error.instance_path)
                if (
                    len(path) >= 2
                    and path[0] in arrays
                    and isinstance(path[1], int)
                    and isinstance(record.get(path[0]), list)
                ):
                    dirty.setdefault(path[0], set()).add(path[1])
        except Exception:  # noqa: BLE001 - a value jsonschema-rs cannot take: jsonschema explains it all
            return None
        if not errors:  # jsonschema-rs saw nothing wrong: let jsonschema look everywhere
            return None
        return {prop: sorted(indices) for prop, indices in dirty.items()}

    def _gatherer(self, table: str, key: str | None) -> Callable[..., None]:
        """A function that appends a record's row of *table* (its parent's id under *key*) and,
        recursively, the rows of its nested children: ``(record, pointer, parent_id, file, line, lines)``.

        *lines* is the pointer -> line map of an envelope (None: every row is on *line*). The
        function is generated per table, as straight code: the loop over the fields, the tuple
        unpacking and the method lookups of a generic one cost more than the cells themselves.
        """
        columns = self.columns[table]
        nested = {prop for prop, _, _ in columns.nested}
        env: dict[str, Any] = {
            "cell": cell,
            "line_of": line_of,
            "str": str,
            "int": int,
            "type": type,
            "isinstance": isinstance,
            "list": list,
            "dict": dict,
            "enumerate": enumerate,
        }
        body = ["    get = record.get"]
        for n, (name, f, column) in enumerate(
            zip(columns.names, columns.fields, columns.columns, strict=True)
        ):
            env[f"a{n}"], env[f"f{n}"] = column.append, f
            if name in nested:  # a field named like a nested array: never a cell (flatten drops it)
                body.append(f"    a{n}(None)")
                continue
            value = "parent_id" if name == key else f"get({name!r})"
            body.append(f"    v = {value}")
            # A str (not a marker subclass) in a string field, an int in a numeric one: _cell's answer, sooner.
            if f["type"] == "string":
                body.append(f"    a{n}(v if v is None or type(v) is str else cell(f{n}, v))")
            elif f["type"] in ("integer", "number"):
                body.append(
                    f"    a{n}(None if v is None else str(v) if type(v) is int else cell(f{n}, v))"
                )
            else:
                body.append(f"    a{n}(None if v is None else cell(f{n}, v))")
        env["af"], env["al"], env["ap"] = (
            columns.file.append,
            columns.line.append,
            columns.pointer.append,
        )
        body.append("    af(file)")
        body.append("    al(line if lines is None else line_of(lines, pointer))")
        body.append("    ap(pointer)")
        for n, (prop, child, child_key) in enumerate(columns.nested):
            env[f"g{n}"] = self._gatherers.get((child, child_key)) or self._gatherer(
                child, child_key
            )
            body += [
                f"    items = get({prop!r})",
                "    if isinstance(items, list):",
                f"        base = pointer + {escape_pointer([prop]) + '/'!r}",
                "        record_id = get('id')",
                "        for i, item in enumerate(items):",
                "            if isinstance(item, dict):",
                f"                g{n}(item, base + str(i), record_id, file, line, lines)",
            ]
        source = (
            "def gather(record, pointer, parent_id, file, line, lines):\n" + "\n".join(body) + "\n"
        )
        exec(compile(source, f"<gather {table}>", "exec"), env)  # noqa: S102 - our own code, from the descriptor's field names by repr
        # Taken out of its globals: no cycle, so that a replaced one frees the lists it appended
        # to at once, the collector being paused.
        gather = self._gatherers[(table, key)] = env.pop("gather")
        return gather

    def _unknown_resource(self, name: str, display: str, *, pointer: str, row: int | None) -> None:
        hint = _nearest_resource(name, self.package)
        suggestion = (
            f"; did you mean {hint!r}?"
            if hint
            else f"; one of: {', '.join(self.package.resources)}"
        )
        self._issue(
            C.JSON_UNKNOWN_RESOURCE,
            f"{_safe(name)!r} is not a resource{suggestion}",
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
        """Drop schema findings on a value already reported as a marker (NaN is also 'not a number')."""
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
            gathered = self.columns[table].frame()
            if gathered is not None:
                parts.append(marked(gathered, csv=False, report=True))
            frames[table] = (
                pl.concat(parts)
                if parts
                else marked(empty_frame(self.package, table), csv=False, report=True)
            )
        contribution = Contribution(frames, lines=self.lines)
        contribution.issues = [contribution.located(issue) for issue in self.issues]
        return contribution


def _is_utf8(data: bytes) -> bool:
    """Whether *data* is UTF-8 text without a NUL byte (anything else goes to :func:`decode`,
    which names the fault), checked in slices so that the whole text never exists at once."""
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
    """The lines of UTF-8 *data* (a BOM dropped), as ``str.split("\\n")`` without a final empty one."""
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


def _nearest_resource(name: str, package: Package) -> str | None:
    folded = name.lower().replace("-", "_").replace(" ", "_")
    if folded in package.resources:
        return folded
    if _SYNONYMS.get(folded) in package.resources:
        return _SYNONYMS[folded]
    hint = difflib.get_close_matches(folded, list(package.resources), n=1)
    return hint[0] if hint else None


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _Invalid):
        return str(value)[:30]
    if isinstance(value, str):
        return f"the string {_safe(value)[:30]!r}"
    return f"the number {value!r}"[:40]


def read_contribution(package: Package, paths: Iterable[Path | str]) -> Contribution:
    """Read contributed files into string frames (``_report=True``) and report what is wrong with them.

    Parameters
    ----------
    package
        The package whose resources and schemas the files must follow.
    paths
        Any mix of ``*.json`` envelopes, ``*.jsonl`` files and ``<resource>.csv`` files.

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
    reader = _Reader(package)
    paths = [Path(p) for p in paths]
    tables = [
        p
        for p in paths
        if p.suffix.lower() == ".csv" and p.stem in package.resources and p.is_file()
    ]
    if len(tables) < 2:
        for path in paths:
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
        for path in paths:
            reader.read(path)
    return reader.contribution()


# --------------------------------------------------------------------------- checking


def check_contribution(
    paths: Iterable[Path | str],
    *,
    package: Path | str | None = None,
    source_texts: Mapping[str, Path | str] | None = None,
) -> CheckedContribution:
    """Check contributed files alone and against the package; keep the rows for a merge.

    Parameters
    ----------
    paths
        The contributed files (one contribution).
    package
        The package folder; ``None`` finds it as DESIGN.md §3 says.
    source_texts
        Source id -> a file with that source's text, for the evidence check.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "contribution.json"
    >>> _ = path.write_text('{"people": []}')
    >>> check_contribution([path]).report.is_valid()
    True
    """
    from nk_defections.check.rules import Context, all_rules, iter_issues
    from nk_defections.check.rules.package import check_source_texts
    from nk_defections.read.package import read_package_frames

    paths = [Path(p) for p in paths]
    step("reading the package", total=len(paths) + len(all_rules()) + 2)
    try:
        pkg = load_package_descriptor(package)
        pkg.prefixes  # noqa: B018 - fails early on a descriptor without id patterns
    except PackageError as exc:
        issue = Issue(C.PACKAGE_DESCRIPTOR, str(exc), file="datapackage.json")
        return CheckedContribution(Report([issue]), None, {}, Contribution({}))
    base, issues = read_package_frames(pkg, report=False)
    contribution = read_contribution(pkg, paths)
    issues += contribution.issues
    frames = {
        t: pl.concat([base[t], contribution.frames[t].select(base[t].columns)])
        for t in pkg.resources
    }
    issues += iter_issues(Context(pkg, frames))
    step("checking the evidence")
    texts, found = _readable_texts(source_texts or {})
    issues += found
    issues += check_source_texts(pkg, _evidence_frames(frames, texts), texts)
    issues = [contribution.located(issue) for issue in issues]
    return CheckedContribution(
        Report(issues, checked=contribution.counts()), pkg, base, contribution
    )


def _readable_texts(texts: Mapping[str, Path | str]) -> tuple[dict[str, Path], list[Issue]]:
    readable, issues = {}, []
    for source_id, path in texts.items():
        path = Path(path)
        if path.is_file():
            readable[source_id] = path
        else:
            issues.append(
                Issue(
                    C.FILE_UNREADABLE,
                    f"the text of {source_id}, {path}, is not a readable file",
                    file=str(path),
                )
            )
    return readable, issues


def _evidence_frames(
    frames: dict[str, pl.DataFrame], texts: Mapping[str, Path]
) -> dict[str, pl.DataFrame]:
    """Frames for the evidence check: only the sources the contribution adds, cites or has a text of."""
    claims = frames["claims"]
    cited = claims.filter(pl.col("_report"))["source_id"].drop_nulls().unique()
    sources = frames["sources"].filter(
        pl.col("_report") | pl.col("id").is_in(cited.implode()) | pl.col("id").is_in(list(texts))
    )
    return {**frames, "sources": sources}


def validate_paths(
    paths: Iterable[Path | str],
    *,
    package: Path | str | None = None,
    source_texts: Mapping[str, Path | str] | None = None,
) -> Report:
    """Validate contributed files alone and against the package.

    Parameters
    ----------
    paths
        Any mix of ``*.json`` envelopes, ``*.jsonl`` files and ``<resource>.csv`` files: one
        contribution.
    package
        The package folder; ``None`` finds it as DESIGN.md §3 says.
    source_texts
        Source id -> a file with that source's text, for the evidence check.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "people.json"
    >>> _ = path.write_text('[]')
    >>> [issue.code for issue in validate_paths([path]).issues]
    ['json.top-level']
    """
    return check_contribution(paths, package=package, source_texts=source_texts).report
