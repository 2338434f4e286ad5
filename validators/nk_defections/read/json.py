"""Strict JSON: parsing that reports every fault (markers), and the line of every value by pointer.

Python's parser accepts duplicate keys (keeping the last), NaN and Infinity, integers of any
length and lone surrogate escapes; a contribution may hold none of them. They do not fail the
parse here: each is left in the value as a marker, so that all of them are reported, each at its
pointer, and the rest of the file is still checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from nk_defections.findings import codes as C
from nk_defections.findings.issues import escape_pointer
from nk_defections.model.limits import MAX_CELL_CHARS, MAX_JSON_DEPTH

#: Checked before parsing, so that no input can exhaust the parser's recursion.
MAX_DEPTH = MAX_JSON_DEPTH
#: Integers with more digits than this overflow a 64-bit float; Python would parse them slowly
#: or refuse them (its 4,300-digit limit), so they are reported instead.
MAX_DIGITS = 308

#: What a parse that fails says: (code, message, line).
ParseError = tuple[str, str, int | None]


class Invalid(str):
    """A JSON value that cannot become a cell (NaN, an out-of-range number, a lone surrogate)."""

    code: str = C.JSON_CONSTANT


class _Constant(Invalid):
    code = C.JSON_CONSTANT


class _OutOfRange(Invalid):
    code = C.JSON_NUMBER_RANGE


class _TooLong(Invalid):
    """A text longer than any cell may hold, in its place: it is not kept, nor checked further."""

    code = C.SCHEMA_MAX_LENGTH
    length = 0


def _too_long(text: str) -> _TooLong:
    marker = _TooLong(f"<a text of {len(text):,} characters>")
    marker.length = len(text)
    return marker


class _Object(dict):
    """A JSON object that remembers which of its keys were repeated."""

    duplicates: tuple[str, ...] = ()


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# Possessive, unrolled: `"(?:[^"\\]|\\.)*"` kept a backtracking point per character, about 120
# bytes of memory per character of a long string (2.3 GB for one of 20 MB); this keeps none.
_STRING = re.compile(r'"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"')
#: How many bytes the depth check scans at once (its arrays are a few times this).
_CHUNK = 1 << 18


class StrictJson:
    """A strict JSON parser that counts the markers it makes: one per reader.

    Parsing with hooks builds a decoder and its scanner; one parser reuses its own for every
    text. Its count of markers tells a reader whether a parsed text needs the walk of
    :func:`iter_markers` and :func:`sanitized` at all (:meth:`needs_walk`): most lines do not.
    """

    def __init__(self) -> None:
        #: Markers (repeated keys, NaN/Infinity, out-of-range numbers) made so far.
        self.markers = 0
        self._decoder = json.JSONDecoder(
            object_pairs_hook=self._object,
            parse_constant=self._constant,
            parse_float=self._float,
            parse_int=self._int,
        )
        # Only a text longer than MAX_CELL_CHARS can hold a string as long: only such a text is
        # parsed with the hook that looks at every value's length.
        self._long_decoder = json.JSONDecoder(
            object_pairs_hook=self._object_of_long_text,
            parse_constant=self._constant,
            parse_float=self._float,
            parse_int=self._int,
        )

    def parse(self, text: str) -> tuple[Any, ParseError | None]:
        """Parse *text*: ``(value, None)``, or ``(None, (code, message, line))`` if it cannot be.

        Examples
        --------
        >>> parser = StrictJson()
        >>> parser.parse('{"a": NaN, "a": 1}'), parser.markers
        (({'a': 1}, None), 2)
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
            decoder = self._decoder if len(text) <= MAX_CELL_CHARS else self._long_decoder
            value = decoder.decode(text)
        except json.JSONDecodeError as exc:
            if not text.strip():
                return None, (C.JSON_SYNTAX, "the file is empty; an empty contribution is {}", 1)
            reason = exc.msg[0].lower() + exc.msg[1:]
            return None, (
                C.JSON_SYNTAX,
                f"line {exc.lineno}, column {exc.colno}: {reason}",
                exc.lineno,
            )
        except RecursionError:  # pragma: no cover - _too_deep catches this first
            return None, (C.JSON_TOO_DEEP, f"nesting deeper than {MAX_DEPTH} levels", None)
        return value, None

    def needs_walk(self, text: str, markers: int) -> bool:
        """Whether the value just parsed from *text* may hold a marker or a lone surrogate.

        *markers* is :attr:`markers` before the parse: a text that made no marker and has no
        surrogate escape has nothing to report or replace.
        """
        return self.markers != markers or _SURROGATE_ESCAPE.search(text) is not None

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
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
        self.markers += 1
        return marked

    def _object_of_long_text(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        return self._object([(key, self._shortened(value)) for key, value in pairs])

    def _shortened(self, value: Any) -> Any:
        """*value*, with each text in it longer than a cell may hold replaced by a marker."""
        if type(value) is str and len(value) > MAX_CELL_CHARS:
            self.markers += 1
            return _too_long(value)
        if type(value) is list:  # the objects in it were shortened as they were made
            return [self._shortened(item) for item in value]
        return value

    def _constant(self, text: str) -> _Constant:
        self.markers += 1
        return _Constant(text)

    def _float(self, text: str) -> float | _OutOfRange:
        number = float(text)
        if abs(number) != float("inf"):
            return number
        self.markers += 1
        return _OutOfRange(text)

    def _int(self, text: str) -> int | _OutOfRange:
        if len(text) > MAX_DIGITS and len(text.lstrip("-")) > MAX_DIGITS:
            self.markers += 1
            return _OutOfRange(text)
        return int(text)


def parse_json(text: str) -> tuple[Any, ParseError | None]:
    """Parse strict JSON: ``(value, None)``, or ``(None, (code, message, line))`` if it cannot be.

    Duplicate keys, NaN/Infinity and out-of-range numbers do not fail the parse: they are left in
    the value as markers (:func:`iter_markers` finds them), so that every one is reported. A
    reader parsing many texts keeps one :class:`StrictJson` instead.

    Examples
    --------
    >>> parse_json('{"a": [1, 2]}')
    ({'a': [1, 2]}, None)
    >>> parse_json('{"a": ')[1]
    ('json.syntax', 'line 1, column 7: expecting value', 1)
    """
    return StrictJson().parse(text)


def _too_deep(text: str) -> int | None:
    """Offset at which brackets outside strings nest deeper than MAX_DEPTH, if they do.

    The depth is summed a chunk at a time, so that the memory it takes is a copy of the text
    and not a multiple of it.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # cannot nest deeper than it opens
        return None
    blanked = _STRING.sub(lambda m: " " * len(m.group()), text).encode(
        "utf-8", errors="surrogatepass"
    )
    data = np.frombuffer(blanked, dtype=np.uint8)
    depth = 0
    for start in range(0, len(data), _CHUNK):
        chunk = data[start : start + _CHUNK]
        step = (chunk == ord("[")).view(np.int8) + (chunk == ord("{")).view(np.int8)
        step -= (chunk == ord("]")).view(np.int8) + (chunk == ord("}")).view(np.int8)
        levels = np.cumsum(step, dtype=np.int64) + depth
        over = np.flatnonzero(levels > MAX_DEPTH)
        if len(over):
            return len(blanked[: start + int(over[0])].decode("utf-8", errors="surrogatepass"))
        depth = int(levels[-1])
    return None


def _line_column(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def iter_markers(value: Any, path: list[Any] | None = None) -> Iterator[tuple[list[Any], str, str]]:
    """Yield ``(path, code, message)`` for every duplicate key, non-number and lone surrogate.

    Examples
    --------
    >>> [(path, code) for path, code, _ in iter_markers(parse_json('[1, NaN]')[0])]
    [([1], 'json.constant')]
    """
    path = path or []
    if isinstance(value, _TooLong):
        yield (
            path,
            value.code,
            f"the text has {value.length:,} characters, more than the {MAX_CELL_CHARS:,} a cell "
            "may hold",
        )
    elif isinstance(value, Invalid):
        what = "not a JSON number" if value.code == C.JSON_CONSTANT else "too large for any field"
        yield path, value.code, f"{str(value)[:20]!r} is {what}"
    elif isinstance(value, str):
        if has_surrogate(value):
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
                f"key {safe(key)!r} occurs more than once in this object",
            )
        for key, item in value.items():
            if has_surrogate(key):
                yield (
                    [*path, safe(key)],
                    C.FILE_ENCODING,
                    "a key holds a lone surrogate escape: it is not Unicode",
                )
                continue
            yield from iter_markers(item, [*path, key])
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from iter_markers(item, [*path, i])


def has_surrogate(text: str) -> bool:
    """Whether *text* holds a lone surrogate (which no UTF-8 file can)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def safe(text: str) -> str:
    r"""Write every lone surrogate in *text* as its escape, fit for a message.

    Examples
    --------
    >>> safe("a\ud800")
    'a\\ud800'
    """
    return text.encode("utf-8", errors="backslashreplace").decode("utf-8")


def sanitized(value: Any) -> Any:
    """Turn every marker and lone surrogate in *value* into an :class:`Invalid` (never a cell).

    A key with a lone surrogate is left out, with its value: it was reported.
    """
    if isinstance(value, Invalid):
        return value
    if isinstance(value, str):
        return Invalid(safe(value)) if has_surrogate(value) else value
    if isinstance(value, dict):
        return {k: sanitized(v) for k, v in value.items() if not has_surrogate(k)}
    if isinstance(value, list):
        return [sanitized(v) for v in value]
    return value


_TOKEN = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[{}\[\]:,]|[^\s{}\[\]:,"]+')  # as _STRING


def pointer_lines(text: str) -> dict[str, int]:
    r"""Map the RFC 6901 pointer of every value in a (valid) JSON text to its physical line.

    Examples
    --------
    >>> pointer_lines('{"a": [\n  1,\n  {"b": 2}]}')
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
    """Find the line of the value at *pointer*, or of its nearest ancestor that exists.

    Examples
    --------
    >>> line_of({"": 1, "/a": 2}, "/a/0/b"), line_of({}, "/a")
    (2, None)
    """
    while True:
        if pointer in lines:
            return lines[pointer]
        if not pointer:
            return None
        pointer = pointer.rsplit("/", 1)[0]
