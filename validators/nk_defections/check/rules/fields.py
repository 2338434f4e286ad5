"""Table Schema constraints checked column-wise on CSV rows, and text hygiene on every cell."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import polars as pl

from nk_defections.check.rules import Batch, Check, Context, emit_checks, rule
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.countries import COUNTRY_PATTERN, alpha3_codes, country_message
from nk_defections.model.dates import DATE_PATTERN, PERIOD_PATTERN, date_error
from nk_defections.model.frames import CSV, REPORT
from nk_defections.model.hints import did_you_mean, pattern_message
from nk_defections.model.limits import MAX_CELL_CHARS
from nk_defections.model.spreadsheet import FORMULA, formula_expr, is_formula

#: Free-text columns where a newline is allowed (a claim's value gives a summary or a note too:
#: a newline in a value for a field of one line makes it differ from the cell, which is refused).
MULTILINE = frozenset({"summary", "note", "derivation", "value"})
_CONTROL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]"
_BREAKS = "[\\t\\n\\r\\u2028\\u2029]"
_BIDI = "[\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]"
#: Any character outside these ranges. A text without one is in NFC: every character in them has
#: canonical combining class 0, is NFC itself (quick check "yes") and is never the second
#: character of a canonical composition (tests check all three against unicodedata). Normalising
#: only the texts that hold another character makes the NFC check cost a regex scan.
NFC_SUSPECT = (
    "[^\\x00-\\x7f\\xa0-\\xff\\u2010-\\u2027\\u2030-\\u205e\\u3000-\\u3029"
    "\\u3131-\\u318e\\u4e00-\\u9fff\\uac00-\\ud7a3]"
)

#: Characters that show nothing: zero-width space, non-joiner and joiner, word joiner, BOM,
#: soft hyphen, Mongolian vowel separator, invisible operators. A zero-width joiner inside an
#: emoji sequence is no fault (:func:`invisible_character`).
_INVISIBLE = "[\\u00ad\\u180e\\u200b-\\u200d\\u2060-\\u2064\\ufeff]"
#: A zero-width joiner that joins an emoji sequence: after a symbol, a modifier or a mark.
_JOINING = "[\\p{So}\\p{Sk}\\p{Mn}]\\u200d"
#: Columns that name someone or something: a look-alike letter there makes two names of one.
NAME_COLUMNS = frozenset({"name"})
#: Scripts whose letters look alike (Latin o, Cyrillic o, Greek omicron): one word should not mix them.
CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})

#: The codes of the text checks, which also run in check_fields (on a closed column's refusals).
TEXT_CODES = (
    C.RECORD_CONTROL_CHARACTER,
    C.RECORD_BIDI,
    C.RECORD_FORMULA,
    C.RECORD_NOT_NFC,
    C.RECORD_WHITESPACE,
    C.RECORD_INVISIBLE,
    C.RECORD_MIXED_SCRIPT,
)


@rule(
    C.SCHEMA_REQUIRED,
    C.SCHEMA_TYPE,
    C.SCHEMA_ENUM,
    C.SCHEMA_PATTERN,
    C.SCHEMA_MIN_LENGTH,
    C.SCHEMA_MAX_LENGTH,
    C.SCHEMA_MINIMUM,
    C.SCHEMA_MAXIMUM,
    C.SCHEMA_FORMAT,
    C.DATE_INVALID,
    C.COUNTRY_UNKNOWN,
    *TEXT_CODES,  # on the values a closed column's pattern or vocabulary refuses
)
def check_fields(ctx: Context) -> Iterator[Issue | Batch]:
    """Every Table Schema constraint of every field, on CSV rows.

    The text checks of a closed column (see :func:`closed`) run here too, on the values its
    pattern or vocabulary refuses: those that it admits cannot fail them.
    """
    from nk_defections.check.rules.dates import with_bounds

    for table in ctx.reported_tables():
        frame = with_bounds(ctx, table)  # the table, with its dates parsed once for every rule
        scope = pl.col(CSV) & pl.col(REPORT)
        checks, prepared = [], []
        for field in ctx.package.fields(table):
            refused = _refusals(field, frame)
            prepared += [expr.alias(name) for name, expr in refused.items()]
            checks += _column_checks(frame, scope, table, field, [pl.col(name) for name in refused])
            if closed(field) and refused:
                checks += _text_checks(
                    field["name"], pl.col(REPORT) & pl.any_horizontal(*map(pl.col, refused))
                )
        yield from emit_checks(frame, checks, prepared)


def _refusals(field: dict, frame: pl.DataFrame, column: str | None = None) -> dict[str, pl.Expr]:
    """Prepared columns: true where a string field's value is outside its pattern, vocabulary or country list.

    Computed once per query, for the field check and, on a closed field, for the text checks.
    A pattern is matched against each distinct value once when the column has few of them
    (:func:`_few_values`): the column is then only looked up in the values it refuses. The
    values are in *column* of *frame* (the field's own, unless given), and a date's validity
    in ``_valid:<column>``.
    """
    if field["type"] != "string":
        return {}
    name, cons = column or field["name"], field.get("constraints", {})
    col, pattern, out = pl.col(name), cons.get("pattern"), {}
    if pattern in (DATE_PATTERN, PERIOD_PATTERN):
        out[f"_refused-date:{name}"] = ~pl.col(
            f"_valid:{name}"
        )  # matched the pattern, and in order
    elif pattern == COUNTRY_PATTERN:
        out[f"_refused-country:{name}"] = ~col.is_in(sorted(alpha3_codes()))
    elif pattern:
        refused = ~col.str.contains(f"^(?:{pattern})$")
        if _few_values(frame, name):
            values = frame.select(col.unique().drop_nulls())
            wrong = values.filter(refused)[name]
            refused = col.is_in(wrong.implode()) if len(wrong) else pl.lit(False)
        out[f"_refused-pattern:{name}"] = refused
    if "enum" in cons:
        out[f"_refused-enum:{name}"] = ~col.is_in(list(cons["enum"]))
    return out


def _few_values(frame: pl.DataFrame, name: str, *, sample: int = 4096, most: int = 256) -> bool:
    """Whether column *name* looks to repeat a few values (a source, a field name).

    Judged on its first rows: a regex costs some 30 ns a cell, finding the distinct values a third of
    that. Either way of checking is exact; this only picks the faster.
    """
    return frame.height > sample and frame[name].head(sample).n_unique() <= most


def closed(field: dict) -> bool:
    """Whether every value a string field's pattern or vocabulary admits passes the text checks.

    True for an enum of clean words, and for a pattern whose every character is printable ASCII
    (no space, no ``=+@``) and that cannot begin with ``-``: such a value holds no control,
    bidi or non-NFC character, no edge white space and no formula prefix. Decided on the
    pattern's automaton (:func:`_pattern_closed`).

    Examples
    --------
    >>> closed({"type": "string", "constraints": {"pattern": "per-[0-9a-z]{8}"}})
    True
    >>> closed({"type": "string", "constraints": {"pattern": "[a-z ]+"}})
    False
    >>> closed({"type": "string", "constraints": {"pattern": "-?[a-z]+"}})
    False
    >>> closed({"type": "string", "constraints": {"enum": ["alive", "dead"]}})
    True
    """
    if field.get("type") != "string":
        return False
    cons = field.get("constraints", {})
    if "enum" in cons:
        return all(isinstance(v, str) and _clean_text(v) for v in cons["enum"])
    if not cons.get("pattern"):
        return False
    if cons["pattern"] in (DATE_PATTERN, PERIOD_PATTERN):
        return (
            True  # digits and -./[]{}?~%, ..: known, and tested, without parsing 3,000 characters
        )
    return _pattern_closed(cons["pattern"])


def _clean_text(value: str) -> bool:
    import re
    import unicodedata

    return (
        value != ""
        and not re.search(f"{_CONTROL}|{_BREAKS}|{_BIDI}|^\\s|\\s$", value)
        and not is_formula(value)
        and unicodedata.is_normalized("NFC", value)
    )


#: The characters a closed column's values may hold: printable ASCII but for a space and a
#: formula's first characters and quotes. A value of them alone holds no control, bidi or non-NFC
#: character and no edge white space; one that also does not begin with ``-`` is no formula.
_SAFE = frozenset(chr(c) for c in range(0x21, 0x7F)) - set("=+@\"'")
#: Classes that Python and polars read as Unicode (``\\w`` matches "é") and greenery as ASCII:
#: a pattern with one is not judged.
_UNICODE_CLASS = re.compile(r"\\[wWdDsSbB]")


@lru_cache(maxsize=256)
def _pattern_closed(pattern: str) -> bool:
    """Whether every value *pattern* admits is made of :data:`_SAFE` and cannot begin with ``-``.

    Decided on greenery's parse tree of the pattern (its public elements): the characters it
    can hold and those it can begin with. A pattern greenery cannot read (back references,
    lookarounds), or with a negated or wide class, is not known to be closed.
    """
    from greenery import parse

    if _UNICODE_CLASS.search(pattern):
        return False
    try:
        walked = _walk(parse(pattern))
    except Exception:  # noqa: BLE001 - an unreadable pattern is simply not known to be closed
        return False
    if walked is None:
        return False
    chars, first, _nullable = walked
    return chars <= _SAFE and "-" not in first


def _walk(node: Any) -> tuple[frozenset[str], frozenset[str], bool] | None:
    """The characters a parsed pattern can hold, those it can begin with, whether it can be empty.

    None where a class is negated or spans beyond ASCII.
    """
    from greenery import Charclass, Pattern
    from greenery.rxelems import Conc, Mult

    if isinstance(node, Charclass):
        if node.negated or any(hi - lo > 0x7F for lo, hi in node.ord_ranges):
            return None
        chars = frozenset(node.get_chars())
        return chars, chars, False
    if isinstance(node, Mult):
        inner = _walk(node.multiplicand)
        if inner is None:
            return None
        return inner[0], inner[1], inner[2] or node.multiplier.min.v == 0
    if isinstance(node, Conc):
        held: frozenset[str] = frozenset()
        first: frozenset[str] = frozenset()
        nullable = True
        for mult in node.mults:
            part = _walk(mult)
            if part is None:
                return None
            held |= part[0]
            if nullable:
                first |= part[1]
            nullable = nullable and part[2]
        return held, first, nullable
    if isinstance(node, Pattern):
        parts = [_walk(conc) for conc in node.concs]
        if any(part is None for part in parts):
            return None
        known = [part for part in parts if part is not None]
        return (
            frozenset().union(*(p[0] for p in known)),
            frozenset().union(*(p[1] for p in known)),
            any(p[2] for p in known),
        )
    return None


def _column_checks(
    frame: pl.DataFrame,
    scope: pl.Expr,
    table: str,
    field: dict,
    refused: list[pl.Expr],
    column: str | None = None,
) -> list[Check]:
    """The checks of one field; *refused* are its prepared :func:`_refusals`, in their order.

    On the values in *column* of *frame* (the field's own, unless given): their findings are
    about that column.
    """
    name = column or field["name"]
    label = field["name"]
    cons = field.get("constraints", {})
    col = pl.col(name)
    present = scope & col.is_not_null()
    checks = []

    def check(code: str, bad: pl.Expr, message: Callable[[dict[str, Any]], str]) -> None:
        checks.append(Check(code, name, present & bad, message))

    if cons.get("required"):
        checks.append(
            Check(
                C.SCHEMA_REQUIRED,
                name,
                scope & col.is_null(),
                lambda r: f"required field {label!r} is empty",
            )
        )
    # Any field: no cell holds more than the limit (nk_defections.model.limits).
    length = col.str.len_chars()
    check(
        C.SCHEMA_MAX_LENGTH,
        length > MAX_CELL_CHARS,
        lambda r: (
            f"the text has {len(r[name]):,} characters, more than the {MAX_CELL_CHARS:,} "
            "a cell may hold"
        ),
    )
    if field["type"] in ("integer", "number"):
        dtype = pl.Int64 if field["type"] == "integer" else pl.Float64
        typed = col.cast(dtype, strict=False)
        ok = typed.is_not_null()
        if dtype == pl.Float64:
            ok = ok & typed.is_finite()
        kind = "an integer" if dtype == pl.Int64 else "a finite number"
        check(C.SCHEMA_TYPE, ~ok, lambda r: f"{r[name]!r} is not {kind}")
        if "minimum" in cons:
            check(
                C.SCHEMA_MINIMUM,
                ok & (typed < cons["minimum"]),
                lambda r: f"{r[name]} is less than the minimum {cons['minimum']}",
            )
        if "maximum" in cons:
            check(
                C.SCHEMA_MAXIMUM,
                ok & (typed > cons["maximum"]),
                lambda r: f"{r[name]} is greater than the maximum {cons['maximum']}",
            )
        return checks
    if field["type"] == "date":
        # "%Y-%m-%d" alone would accept 2023-2-3 in polars: the shape is checked first.
        iso = (
            col.str.contains("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
            & col.str.to_date("%Y-%m-%d", strict=False).is_not_null()
        )
        check(C.SCHEMA_FORMAT, ~iso, lambda r: f"{r[name]!r} is not an ISO date (YYYY-MM-DD)")
        return checks
    pattern = cons.get("pattern")
    refusals = iter(refused)
    if pattern in (DATE_PATTERN, PERIOD_PATTERN):
        interval = pattern == PERIOD_PATTERN
        check(C.DATE_INVALID, next(refusals), lambda r: date_error(r[name], interval=interval))
    elif pattern == COUNTRY_PATTERN:
        check(
            C.COUNTRY_UNKNOWN,
            next(refusals),
            lambda r: country_message(r[name]),
        )
    elif pattern:
        check(
            C.SCHEMA_PATTERN,
            next(refusals),
            lambda r: pattern_message(r[name], table, label, pattern),
        )
    if "enum" in cons:
        allowed = list(cons["enum"])
        check(
            C.SCHEMA_ENUM,
            next(refusals),
            lambda r: (
                f"{r[name]!r} is not an allowed {label}"
                + did_you_mean(r[name], allowed, list_up_to=8)
            ),
        )
    if "minLength" in cons:
        check(
            C.SCHEMA_MIN_LENGTH,
            col.str.len_chars() < cons["minLength"],
            lambda r: f"{label!r} is shorter than {cons['minLength']} characters",
        )
    if "maxLength" in cons:
        check(
            C.SCHEMA_MAX_LENGTH,
            (length > cons["maxLength"]) & (length <= MAX_CELL_CHARS),
            lambda r: f"{label!r} has {len(r[name])} characters, more than {cons['maxLength']}",
        )
    if field.get("format") == "uri":
        # Few distinct values, each checked once in Python.
        values = frame.filter(present)[name].unique().to_list()
        if values:
            from nk_defections.model.schemas import (
                format_checker,  # imports jsonschema: only when there is a value
            )

            checker = format_checker()
            wrong = [v for v in values if not checker.conforms(v, "uri")]
            check(
                C.SCHEMA_FORMAT, col.is_in(wrong), lambda r: f"{r[name]!r} is not an absolute URI"
            )
    return checks


def value_checks(
    field: dict, frame: pl.DataFrame, column: str, scope: pl.Expr, *, table: str
) -> tuple[list[Check], list[pl.Expr]]:
    """Whether the texts in *column* of *frame* are valid cells of *field*: its checks, prepared.

    The one statement of a field's lexical form (its type, pattern, vocabulary, country list,
    EDTF form, bounds and lengths; not whether it is required), for a value that stands
    elsewhere than in the field's own column: a claim's ``value`` is checked by the checks
    :func:`check_fields` runs on the cells. Pass the checks and the prepared columns to
    :func:`~nk_defections.check.rules.emit_checks`; a date's validity must be in
    ``_valid:<column>`` of *frame* (:func:`nk_defections.model.dates.derived_exprs` with
    ``prefix="_"``).

    Examples
    --------
    >>> from nk_defections.check.rules import emit_checks
    >>> field = {"name": "rank", "type": "string", "constraints": {"enum": ["a", "b"]}}
    >>> frame = pl.DataFrame({"value": ["a", "c"], "_report": [True, True]})
    >>> checks, prepared = value_checks(field, frame, "value", pl.col("_report"), table="postings")
    >>> [(b.code, b.rows.to_list()) for b in emit_checks(frame, checks, prepared)]
    [('schema.enum', [1])]
    """
    field = {**field, "constraints": {**field.get("constraints", {}), "required": False}}
    refused = _refusals(field, frame, column)
    checks = _column_checks(frame, scope, table, field, [pl.col(name) for name in refused], column)
    return checks, [expr.alias(name) for name, expr in refused.items()]


def text_checks(field: dict, column: str) -> list[Check]:
    """The text checks of *field* on the texts in *column*: none for a closed or non-text field.

    With :func:`value_checks`, whether a text is a valid cell of the field in every respect.
    """
    if field["type"] != "string" or closed(field):
        return []
    return _text_checks(column, pl.lit(True), field["name"])


@rule(*TEXT_CODES)
def check_text(ctx: Context) -> Iterator[Issue | Batch]:
    """Control and bidi characters, formula prefixes, NFC and stray spaces in every text cell.

    Closed columns are left to :func:`check_fields`, which looks only at the values their
    pattern or vocabulary refuses.
    """
    for table in ctx.reported_tables():
        checks = []
        for field in ctx.package.fields(table):
            if field["type"] != "string" or closed(field):
                continue
            name = field["name"]
            col = pl.col(name)
            control = _CONTROL if name in MULTILINE else f"(?:{_CONTROL}|{_BREAKS})"
            # One scan per cell finds every cell that may fail any of the five checks; each
            # check then decides on those cells alone (\\s is White_Space, as strip_chars strips).
            suspect = pl.col(REPORT) & col.str.contains(
                f"{control}|{_BIDI}|{FORMULA}|{_INVISIBLE}|{NFC_SUSPECT}|^\\s|\\s$"
            )
            checks += _text_checks(name, suspect)
        yield from emit_checks(ctx.frame(table), checks)


def _text_checks(name: str, suspect: pl.Expr, field: str | None = None) -> list[Check]:
    """The text checks of column *name*, deciding on the rows *suspect* hits.

    *suspect* must hit every row that holds a character outside :data:`NFC_SUSPECT`'s ranges:
    the invisible characters and the letters of Cyrillic and Greek are outside them. The texts
    are cells of *field* (the column's own, unless given): it says whether a line break is
    allowed, and whether the text is a name.
    """
    col = pl.col(name)
    control = _CONTROL if (field or name) in MULTILINE else f"(?:{_CONTROL}|{_BREAKS})"
    names = (
        [
            Check(
                C.RECORD_MIXED_SCRIPT,
                name,
                # Few names hold both a Latin and a Cyrillic or Greek letter: only they are
                # looked at word by word, in Python.
                suspect
                & col.str.contains("[\\p{Greek}\\p{Cyrillic}]")
                & col.str.contains("\\p{Latin}"),
                confirm=col.map_elements(
                    lambda v: mixed_script_word(v) is not None, return_dtype=pl.Boolean
                ),
                message=lambda r, n=name: (
                    f"{n!r} mixes Latin, Cyrillic or Greek letters in the word "
                    f"{mixed_script_word(r[n])!r}: a look-alike letter makes another name of "
                    "it; type the word in one script"
                ),
            )
        ]
        if (field or name) in NAME_COLUMNS
        else []
    )
    return [
        *names,
        Check(
            C.RECORD_INVISIBLE,
            name,
            suspect,
            confirm=invisible_expr(col),
            message=lambda r, n=name: (
                f"{n!r} holds the invisible character {invisible_character(r[n])}: delete it"
            ),
        ),
        Check(
            C.RECORD_CONTROL_CHARACTER,
            name,
            suspect,
            confirm=col.str.contains(control),
            message=lambda r, n=name, c=control: (
                f"{n!r} holds the control character {_first(r[n], c)}"
            ),
        ),
        Check(
            C.RECORD_BIDI,
            name,
            suspect,
            confirm=col.str.contains(_BIDI),
            message=lambda r, n=name: (
                f"{n!r} holds the bidirectional control character {_first(r[n], _BIDI)}"
            ),
        ),
        Check(
            C.RECORD_FORMULA,
            name,
            suspect,
            confirm=formula_expr(col),
            message=lambda r, n=name: (
                f"{r[n][:20]!r} would run as a formula in a spreadsheet: begin the text "
                "with a word, not with = + - @ (or a TAB, CR, space or quote before them)"
            ),
        ),
        Check(
            C.RECORD_NOT_NFC,
            name,
            suspect,
            confirm=col != col.str.normalize("NFC"),
            message=lambda r, n=name: f"{n!r} is not in Unicode NFC (normalise it: {r[n][:30]!r})",
        ),
        Check(
            C.RECORD_WHITESPACE,
            name,
            suspect,
            confirm=col != col.str.strip_chars(),
            message=lambda r, n=name: f"{r[n][:30]!r} begins or ends with white space",
        ),
    ]


def invisible_character(text: str) -> str | None:
    """The first character of *text* that shows nothing (``U+200B``), or None.

    A zero-width joiner after a symbol or a mark joins an emoji sequence (man, ZWJ, woman):
    that one shows.

    Examples
    --------
    >>> invisible_character("Ri\u200bIl Kyu"), invisible_character("\U0001f468\u200d\U0001f469")
    ('U+200B', None)
    """
    import unicodedata

    for match in re.finditer(_INVISIBLE, text):
        at = match.start()
        if (
            match.group(0) == "\u200d"
            and at > 0
            and unicodedata.category(text[at - 1]) in ("So", "Sk", "Mn")
        ):
            continue
        return f"U+{ord(match.group(0)):04X}"
    return None


def invisible_expr(col: pl.Expr) -> pl.Expr:
    """:func:`invisible_character` is not None, as a polars expression (a test shows they agree)."""
    return col.str.replace_all(_JOINING, "").str.contains(_INVISIBLE)


def _script(char: str) -> str:
    """The script of a letter, as the first word of its Unicode name (LATIN, CYRILLIC, GREEK).

    The standard library has no Script property; for letters of the scripts that look alike,
    each letter's name begins with its script's name, which is what this rule needs.
    """
    import unicodedata

    return unicodedata.name(char, "").split(" ", 1)[0]


def mixed_script_word(text: str) -> str | None:
    """The first word of *text* that mixes letters of Latin, Cyrillic or Greek, or None.

    Examples
    --------
    >>> mixed_script_word("Kim J\u043eng Un") == "J\u043eng"  # a Cyrillic o
    True
    >>> mixed_script_word("\u041a\u0438\u043c"), mixed_script_word("Kim Jong Un \uae40")
    (None, None)
    """
    for word in re.findall(r"[^\W\d_]+", text):
        scripts = {_script(char) for char in word if char.isalpha()} & CONFUSABLE_SCRIPTS
        if len(scripts) > 1:
            return word
    return None


def _first(value: str, pattern: str) -> str:
    import re

    match = re.search(pattern, value)
    return f"U+{ord(match.group(0)):04X}" if match else "?"


RULES = [check_fields, check_text]
