"""Table Schema constraints checked column-wise on CSV rows, and text hygiene on every cell."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

import polars as pl

from .. import codes as C
from ..countries import alpha3_codes
from ..dates import DATE_PATTERN, PERIOD_PATTERN, DateError, parse_bounds
from ..issues import Issue
from . import Context, emit

#: Free-text columns where a newline is allowed.
MULTILINE = frozenset({"summary", "note", "derivation"})
_CONTROL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]"
_BREAKS = "[\\t\\n\\r\\u2028\\u2029]"
_BIDI = "[\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]"
_FORMULA = "^(?:[=+@\\t\\r]|-[^0-9])"


def _suggest(value: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; allowed: {', '.join(allowed)}" if len(allowed) <= 8 else ""


def _date_reason(value: str, interval: bool) -> str:
    try:
        parse_bounds(value, interval=interval)
    except DateError as exc:
        return str(exc)
    return f"{value!r} is not in the EDTF subset"


def check_fields(ctx: Context) -> Iterator[Issue]:
    """Every Table Schema constraint of every field, on CSV rows."""
    for table in ctx.package.resources:
        frame = ctx.frame(table).filter(pl.col("_csv") & pl.col("_report"))
        if frame.is_empty():
            continue
        for field in ctx.package.fields(table):
            yield from _check_column(frame, field)


def _check_column(frame: pl.DataFrame, field: dict) -> Iterator[Issue]:
    name = field["name"]
    cons = field.get("constraints", {})
    col = pl.col(name)
    present = frame.filter(col.is_not_null())
    if cons.get("required"):
        yield from emit(frame.filter(col.is_null()), C.SCHEMA_REQUIRED, name, lambda r: f"required field {name!r} is empty")
    if present.is_empty():
        return
    if field["type"] in ("integer", "number"):
        dtype = pl.Int64 if field["type"] == "integer" else pl.Float64
        typed = present.with_columns(col.cast(dtype, strict=False).alias("_typed"))
        ok = pl.col("_typed").is_not_null()
        if dtype == pl.Float64:
            ok = ok & pl.col("_typed").is_finite()
        kind = "an integer" if dtype == pl.Int64 else "a finite number"
        yield from emit(typed.filter(~ok), C.SCHEMA_TYPE, name, lambda r: f"{r[name]!r} is not {kind}")
        typed = typed.filter(ok)
        if "minimum" in cons:
            yield from emit(typed.filter(pl.col("_typed") < cons["minimum"]), C.SCHEMA_MINIMUM, name, lambda r: f"{r[name]} is less than the minimum {cons['minimum']}")
        if "maximum" in cons:
            yield from emit(typed.filter(pl.col("_typed") > cons["maximum"]), C.SCHEMA_MAXIMUM, name, lambda r: f"{r[name]} is greater than the maximum {cons['maximum']}")
        return
    if field["type"] == "date":
        # "%Y-%m-%d" alone would accept 2023-2-3 in polars: the shape is checked first.
        iso = col.str.contains("^[0-9]{4}-[0-9]{2}-[0-9]{2}$") & col.str.to_date("%Y-%m-%d", strict=False).is_not_null()
        yield from emit(present.filter(~iso), C.SCHEMA_FORMAT, name, lambda r: f"{r[name]!r} is not an ISO date (YYYY-MM-DD)")
        return
    pattern = cons.get("pattern")
    if pattern in (DATE_PATTERN, PERIOD_PATTERN):
        from ..dates import valid_expr

        interval = pattern == PERIOD_PATTERN
        bad = present.filter(~valid_expr(name, interval=interval))
        yield from emit(bad, C.DATE_INVALID, name, lambda r: _date_reason(r[name], interval))
    elif pattern == "[A-Z]{3}":
        bad = present.filter(~col.is_in(sorted(alpha3_codes())))
        yield from emit(bad, C.COUNTRY_UNKNOWN, name, lambda r: f"{r[name]!r} is not an ISO 3166-1 alpha-3 country code")
    elif pattern:
        bad = present.filter(~col.str.contains(f"^(?:{pattern})$"))
        yield from emit(bad, C.SCHEMA_PATTERN, name, lambda r: f"{r[name]!r} does not match the pattern of {name!r}")
    if "enum" in cons:
        allowed = list(cons["enum"])
        bad = present.filter(~col.is_in(allowed))
        yield from emit(bad, C.SCHEMA_ENUM, name, lambda r: f"{r[name]!r} is not an allowed {name}{_suggest(r[name], allowed)}")
    if "minLength" in cons:
        bad = present.filter(col.str.len_chars() < cons["minLength"])
        yield from emit(bad, C.SCHEMA_MIN_LENGTH, name, lambda r: f"{name!r} is shorter than {cons['minLength']} characters")
    if "maxLength" in cons:
        bad = present.filter(col.str.len_chars() > cons["maxLength"])
        yield from emit(bad, C.SCHEMA_MAX_LENGTH, name, lambda r: f"{name!r} has {len(r[name])} characters, more than {cons['maxLength']}")
    if field.get("format") == "uri":
        from ..schemas import format_checker

        checker = format_checker()
        values = present[name].unique().to_list()
        wrong = [v for v in values if not checker.conforms(v, "uri")]
        bad = present.filter(col.is_in(wrong))
        yield from emit(bad, C.SCHEMA_FORMAT, name, lambda r: f"{r[name]!r} is not an absolute URI")


def check_text(ctx: Context) -> Iterator[Issue]:
    """Control and bidi characters, formula prefixes, NFC and stray spaces in every text cell."""
    for table in ctx.package.resources:
        frame = ctx.frame(table).filter(pl.col("_report"))
        if frame.is_empty():
            continue
        for field in ctx.package.fields(table):
            if field["type"] != "string":
                continue
            name = field["name"]
            col = pl.col(name)
            present = frame.filter(col.is_not_null())
            if present.is_empty():
                continue
            control = _CONTROL if name in MULTILINE else f"(?:{_CONTROL}|{_BREAKS})"
            yield from emit(
                present.filter(col.str.contains(control)), C.RECORD_CONTROL_CHARACTER, name,
                lambda r, n=name, c=control: f"{n!r} holds the control character {_first(r[n], c)}",
            )
            yield from emit(
                present.filter(col.str.contains(_BIDI)), C.RECORD_BIDI, name,
                lambda r, n=name: f"{n!r} holds the bidirectional control character {_first(r[n], _BIDI)}",
            )
            yield from emit(
                present.filter(col.str.contains(_FORMULA)), C.RECORD_FORMULA, name,
                lambda r, n=name: f"{r[n][:20]!r} would run as a formula in a spreadsheet",
            )
            yield from emit(
                present.filter(col != col.str.normalize("NFC")), C.RECORD_NOT_NFC, name,
                lambda r, n=name: f"{n!r} is not in Unicode NFC (normalise it: {r[n][:30]!r})",
            )
            yield from emit(
                present.filter(col != col.str.strip_chars()), C.RECORD_WHITESPACE, name,
                lambda r, n=name: f"{r[n][:30]!r} begins or ends with white space",
            )


def _first(value: str, pattern: str) -> str:
    import re

    match = re.search(pattern, value)
    return f"U+{ord(match.group(0)):04X}" if match else "?"


RULES = [check_fields, check_text]
