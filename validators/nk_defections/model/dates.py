"""Validate the project's EDTF date subset and derive each value's earliest and latest day."""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

import polars as pl

__all__ = [
    "DATE_KINDS",
    "DATE_PATTERN",
    "PERIOD_PATTERN",
    "Bounds",
    "DateError",
    "bounds_exprs",
    "date_kind",
    "is_valid",
    "kind_expr",
    "parse_bounds",
    "suggest",
    "valid_expr",
]

# --------------------------------------------------------------------------
# The subset
#
#   D   = YYYY | YYYY-MM | YYYY-MM-DD          years 0001-9999 (see below)
#   QD  = D, optionally followed by ? (uncertain), ~ (approximate), % (both)
#   DATE   = QD | [A..B] | [..D] | [D..]      A and B of the same precision
#   PERIOD = DATE | QD/QD | ../QD | QD/..
#
# Decisions, each taken to stay inside what the `edtf` library (5.0.2) parses:
#
# * No qualifier inside a set: edtf rejects `[2023?..2024]`, `[..2024?]`,
#   `[2013~..]`.  Interval ends may be qualified: edtf accepts `2023?/2024~`.
# * Both ends of `[A..B]` must have the same precision: edtf rejects
#   `[2023..2024-01]` and `[2023-01-01..2024]` (its "consecutives" rule).
#   Interval ends may differ: edtf accepts `2023-11-05/2023-11`.
# * Year 0000 is rejected.  edtf accepts it (lower_strict() gives a
#   struct_time with tm_year=0), but `datetime.date` and so `Bounds` cannot
#   represent it.
# * `[..]` and `../..` are rejected (edtf rejects the first and accepts the
#   second as an interval open at both ends, which says nothing).
# * `[A..B]` and `A/B` whose min(A) is later than max(B) are rejected as
#   ending before they start (edtf accepts `[2024..2023]` and `2024/2023`).
# * Calendar validity is exact, leap years included (edtf accepts
#   `2023-02-29` and `1900-02-29`: its grammar allows 02-29 in every year).
# * No surrounding whitespace, no trailing newline (edtf strips whitespace).
#
# Bounds never widen for qualifiers: they equal edtf's lower_strict() and
# upper_strict().
# --------------------------------------------------------------------------

# ---- the calendar-exact regular expressions ------------------------------
# Built from pieces so that they can be read; the results are plain strings.
# Portable to Python `re`, ECMA-262 (with or without the `u` flag) and Rust
# `regex`: only non-capturing groups, alternation, character classes, `{n}`
# counts and the escapes `\[`, `\]`, `\.` (no `\d`, no lookaround, no
# backreferences, no possessive quantifiers).  A literal `?` appears only
# inside a class, and `~`, `%`, `/` are never escaped (ECMA-262 with `u`
# rejects needless escapes).

# 0001-9999: at least one digit is not 0.
_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
# Leap years in 0001-9999: YY divisible by 4 and not 00, or a century
# divisible by 400 (0400, 0800, ..., 9600); 0000 is left out.
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH = "(?:0[1-9]|1[0-2])"
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_Y = _YEAR
_YM = f"{_YEAR}-{_MONTH}"
_YMD = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_D = f"(?:{_YMD}|{_YM}|{_Y})"
_QD = f"{_D}[?~%]?"

_SET_FORMS = rf"\[(?:{_Y}\.\.{_Y}|{_YM}\.\.{_YM}|{_YMD}\.\.{_YMD}|\.\.{_D}|{_D}\.\.)\]"
_INTERVAL_FORMS = rf"(?:{_QD}/(?:{_QD}|\.\.)|\.\./{_QD})"

DATE_PATTERN: str = f"(?:{_QD}|{_SET_FORMS})"
"""Calendar-exact pattern for single dates and the three set forms.

Implicitly anchored, as in Table Schema ``constraints.pattern``: a consumer
wraps it as ``^(?:DATE_PATTERN)$`` (frictionless 5 wraps it as ``^DATE_PATTERN$``,
which the outer group makes equivalent).  It does not check that ``[A..B]`` starts
before it ends (``[2024..2023]`` matches); :func:`is_valid` and
:func:`valid_expr` do.  In Python, ``$`` also matches before a trailing
newline, so use ``re.fullmatch`` (or ``\\Z``) or reject newlines separately
(frictionless 5 uses ``re.match`` with ``$`` and so accepts ``"2023\\n"``);
ECMA-262 and Rust ``regex`` ``$`` match only at the very end.
"""

PERIOD_PATTERN: str = f"(?:{_QD}|{_SET_FORMS}|{_INTERVAL_FORMS})"
"""Calendar-exact pattern for the :data:`DATE_PATTERN` forms plus ``A/B``, ``../B``, ``A/..``.

Same anchoring, ordering and newline caveats as :data:`DATE_PATTERN`.
"""

# ---- the structural parser used by parse_bounds ---------------------------
# Deliberately independent of the patterns above: it accepts any digits and
# checks the calendar with `datetime.date`, so the tests can compare the two.

_RAW_DATE = r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?"
_RAW_SINGLE = re.compile(rf"(?P<date>{_RAW_DATE})(?P<qual>[?~%])?")
_RAW_SET = re.compile(
    rf"\[(?P<lo>{_RAW_DATE})?(?P<loq>[?~%])?\.\.(?P<hi>{_RAW_DATE})?(?P<hiq>[?~%])?\]"
)
_RAW_INTERVAL = re.compile(rf"(?P<lo>{_RAW_DATE}[?~%]?|\.\.)/(?P<hi>{_RAW_DATE}[?~%]?|\.\.)")


class DateError(ValueError):
    """A value is not a date of the project's EDTF subset.

    The message is one sentence naming the value.

    Examples
    --------
    >>> try:
    ...     parse_bounds("2023-02-30")
    ... except DateError as error:
    ...     print(error)
    '2023-02-30' is not a calendar date.
    """


@dataclass(frozen=True, slots=True)
class Bounds:
    """The earliest and latest day a date value can mean; ``None`` where open.

    Attributes
    ----------
    min : datetime.date or None
        The earliest day, or ``None`` if the value is open at the start.
    max : datetime.date or None
        The latest day, or ``None`` if the value is open at the end.

    Examples
    --------
    >>> parse_bounds("2023-11")
    Bounds(min=datetime.date(2023, 11, 1), max=datetime.date(2023, 11, 30))
    """

    min: datetime.date | None
    max: datetime.date | None


def _split(date_text: str) -> tuple[int, int | None, int | None]:
    year = int(date_text[0:4])
    month = int(date_text[5:7]) if len(date_text) >= 7 else None
    day = int(date_text[8:10]) if len(date_text) == 10 else None
    return year, month, day


def _date_bounds(whole: str, date_text: str) -> tuple[datetime.date, datetime.date]:
    """Bounds of one unqualified ``YYYY[-MM[-DD]]``, or a DateError about ``whole``."""
    year, month, day = _split(date_text)
    if year == 0:
        raise DateError(f"{whole!r} uses year 0000, which is not supported (years 0001-9999 only).")
    try:
        if month is None:
            return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        if day is None:
            last = calendar.monthrange(year, month)[1]
            return datetime.date(year, month, 1), datetime.date(year, month, last)
        exact = datetime.date(year, month, day)
        return exact, exact
    except ValueError:
        raise DateError(f"{whole!r} is not a calendar date.") from None


def _ordered(whole: str, lo: datetime.date | None, hi: datetime.date | None) -> Bounds:
    if lo is not None and hi is not None and lo > hi:
        raise DateError(f"{whole!r} ends before it starts.")
    return Bounds(lo, hi)


def parse_bounds(text: str, *, interval: bool = False) -> Bounds:
    """Check one date value and return the earliest and latest day it can mean.

    Parameters
    ----------
    text : str
        The value, e.g. ``"2023-11"``, ``"2016?"``, ``"[..2024-07-16]"`` or,
        with ``interval=True``, ``"2020/2023-06"``.  No surrounding
        whitespace or newline is allowed.
    interval : bool, default False
        Whether the interval forms ``A/B``, ``../B``, ``A/..`` are allowed
        (event dates and statistics periods).

    Returns
    -------
    Bounds
        ``min``/``max`` equal to the ``edtf`` library's ``lower_strict()`` /
        ``upper_strict()``; qualifiers do not widen them; ``None`` for an
        open end.

    Raises
    ------
    DateError
        With a one-sentence reason naming the value, if it is not in the
        subset, is not a calendar date, uses year 0000, or ends before it
        starts.

    Examples
    --------
    >>> parse_bounds("[2013..]")
    Bounds(min=datetime.date(2013, 1, 1), max=None)
    """
    if not isinstance(text, str):
        raise DateError(f"{text!r} is not a string.")

    m = _RAW_SINGLE.fullmatch(text)
    if m:
        first, last = _date_bounds(text, m["date"])
        return Bounds(first, last)

    m = _RAW_SET.fullmatch(text)
    if m:
        lo_text, hi_text = m["lo"], m["hi"]
        if lo_text is None and hi_text is None:
            raise DateError(f"{text!r} is open at both ends.")
        if m["loq"] or m["hiq"]:
            raise DateError(f"{text!r} has a qualifier inside a set, which is not allowed.")
        if lo_text is not None and hi_text is not None and len(lo_text) != len(hi_text):
            raise DateError(
                f"{text!r} mixes precisions: both ends of a set range must be "
                "years, months or days."
            )
        return _ordered(
            text,
            _date_bounds(text, lo_text)[0] if lo_text is not None else None,
            _date_bounds(text, hi_text)[1] if hi_text is not None else None,
        )

    m = _RAW_INTERVAL.fullmatch(text)
    if m:
        if not interval:
            raise DateError(f"{text!r} is an interval, and intervals are only allowed in periods.")
        lo_text, hi_text = m["lo"].rstrip("?~%"), m["hi"].rstrip("?~%")
        if lo_text == ".." and hi_text == "..":
            raise DateError(f"{text!r} is open at both ends.")
        return _ordered(
            text,
            _date_bounds(text, lo_text)[0] if lo_text != ".." else None,
            _date_bounds(text, hi_text)[1] if hi_text != ".." else None,
        )

    kinds = "a period" if interval else "a date"
    raise DateError(f"{text!r} is not {kinds} of the supported EDTF forms.")


def date_error(text: str, *, interval: bool = False) -> str:
    """Why *text* is not a valid date of the subset, in one sentence (for a finding's message).

    Where :func:`suggest` knows the form that was meant, the sentence ends with it.

    Examples
    --------
    >>> date_error("2023-02-30")
    "'2023-02-30' is not a calendar date."
    >>> date_error("2023/11/05")
    "'2023/11/05' is not a date of the supported EDTF forms: write '2023-11-05'."
    """
    if text == "":
        kind = "period" if interval else "date"
        return f"the {kind} is empty: write one (such as '2023-11'), or leave the key out."
    try:
        parse_bounds(text, interval=interval)
    except DateError as exc:
        suggestion = suggest(text, interval=interval)
        return str(exc) if suggestion is None else f"{str(exc)[:-1]}: write {suggestion!r}."
    return f"{text!r} is not in the EDTF subset"


# ---- what was meant ---------------------------------------------------------
# A contributor's first dates, measured: slashes or dots for dashes, a month's name, a year
# range with a dash, a day or month without its zero, a time after the day. Each is read
# plainly; a suggestion is made only when the result is valid (a property test checks it).

_MONTHS = {
    name: number
    for number, names in enumerate(
        zip(calendar.month_name[1:], calendar.month_abbr[1:], strict=True), start=1
    )
    for name in (names[0].lower(), names[1].lower(), names[1].lower() + ".")
} | {"sept": 9, "sept.": 9}
_NUMERIC = re.compile(r"([0-9]{4})[-/. ]([0-9]{1,2})(?:[-/. ]([0-9]{1,2}))?(?:[T ][0-9:.Z+-]*)?")
_DAY_FIRST = re.compile(r"([0-9]{1,2})[/.]([0-9]{1,2})[/.]([0-9]{4})")
_MONTH_YEAR = re.compile(r"([0-9]{1,2})[/.]([0-9]{4})")
_RANGE = re.compile(r"(.+?)\s*(?:-|–|—|/|\bto\b|\buntil\b)\s*(.+)")
_APPROXIMATE = re.compile(r"(?:c\.|ca\.|circa|about|around|approximately|~)\s*(.+)", re.IGNORECASE)
_BEFORE = re.compile(r"(?:before|by|until|no later than)\s+(.+)", re.IGNORECASE)
_AFTER = re.compile(r"(?:after|since|from|no earlier than)\s+(.+)", re.IGNORECASE)


def suggest(text: str, *, interval: bool = False) -> str | None:
    """The valid date (or period) that *text* most plainly means, or None.

    Every value it returns is valid (:func:`is_valid`): it suggests nothing rather than a guess
    it cannot check.

    Examples
    --------
    >>> [suggest(t) for t in ["2023/11/05", "November 2023", "2023-11-1", "5 Nov 2023"]]
    ['2023-11-05', '2023-11', '2023-11-01', '2023-11-05']
    >>> suggest("2013-2023", interval=True), suggest("2013-2023"), suggest("soon")
    ('2013/2023', '[2013..2023]', None)
    """
    found = _meant(text.strip(), interval)
    return (
        found
        if found is not None and found != text and is_valid(found, interval=interval)
        else None
    )


def _meant(text: str, interval: bool) -> str | None:
    single = _one_date(text)
    if single is not None:
        return single
    for pattern, form in ((_APPROXIMATE, "{}~"), (_BEFORE, "[..{}]"), (_AFTER, "[{}..]")):
        m = pattern.fullmatch(text)
        if m and (inner := _one_date(m[1])) is not None:
            return form.format(inner)
    m = _RANGE.fullmatch(text)
    if m:
        lo, hi = _one_date(m[1]), _one_date(m[2])
        if lo is not None and hi is not None:
            if interval:
                return f"{lo}/{hi}"
            if len(lo) == len(hi):
                return f"[{lo}..{hi}]"
    return None


def _one_date(text: str) -> str | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` for one date written another way, or None."""
    text = text.strip().rstrip(",")
    if re.fullmatch(r"[0-9]{4}", text):
        return text
    m = _NUMERIC.fullmatch(text)
    if m:
        return _ymd(m[1], m[2], m[3])
    m = _DAY_FIRST.fullmatch(text)
    if m and int(m[1]) > 12:  # 05/11/2023 could be either way round; 25/11/2023 cannot
        return _ymd(m[3], m[2], m[1])
    m = _MONTH_YEAR.fullmatch(text)
    if m:
        return _ymd(m[2], m[1], None)
    words = re.findall(r"[0-9]+|[^\W\d_]+\.?", text.lower())
    months = [_MONTHS[w] for w in words if w in _MONTHS]
    numbers = [w for w in words if w.isdigit()]
    years = [n for n in numbers if len(n) == 4]
    days = [n for n in numbers if len(n) <= 2]
    if len(months) == 1 and len(years) == 1 and len(days) <= 1 and len(words) == 2 + len(days):
        return _ymd(years[0], str(months[0]), days[0] if days else None)
    return None


def _ymd(year: str, month: str, day: str | None) -> str | None:
    if not (1 <= int(month) <= 12) or (day is not None and not 1 <= int(day) <= 31):
        return None
    return f"{year}-{int(month):02d}" + (f"-{int(day):02d}" if day is not None else "")


def is_valid(text: str, *, interval: bool = False) -> bool:
    """Tell whether a value is a valid date (or, with ``interval=True``, period).

    Parameters
    ----------
    text : str
        The value to check.
    interval : bool, default False
        Whether the interval forms are allowed.

    Returns
    -------
    bool
        ``True`` exactly when :func:`parse_bounds` would not raise.

    Examples
    --------
    >>> is_valid("2024-02-29"), is_valid("2023-02-29")
    (True, False)
    """
    try:
        parse_bounds(text, interval=interval)
    except DateError:
        return False
    return True


# ---- polars -----------------------------------------------------------------


def _anchored(interval: bool) -> str:
    # Rust regex: `$` is the end of the text (no multi-line flag), so a
    # trailing newline cannot slip through.
    return f"^(?:{PERIOD_PATTERN if interval else DATE_PATTERN})$"


# The date text at either end of a value that matched the pattern: the first
# date unless the value opens with `..` (or `[..`), the last date unless it
# ends with `..` (or `..]`).  Qualifiers and brackets are outside the groups.
_LOWER_TEXT = r"^\[?([0-9]{4}(?:-[0-9]{2}){0,2})"
_UPPER_TEXT = r"([0-9]{4}(?:-[0-9]{2}){0,2})[?~%\]]?$"


def _derived(column: str, interval: bool) -> pl.Expr:
    """One struct expression with the fields ``min``, ``max`` and ``valid``.

    Built as a single chain of ``struct.with_fields`` steps so that every
    intermediate (the pattern match, the extracted end texts, the year,
    month and day numbers) is computed once: eager ``DataFrame.select`` does
    no common-subexpression elimination, and a tree that repeats the
    extraction for every use is about ten times slower.
    """
    f = pl.field
    return (
        pl.struct(pl.col(column).cast(pl.String).alias("text"))
        .struct.with_fields(matched=f("text").str.contains(_anchored(interval)))
        # Only rows that matched go further, so every date built below exists.
        .struct.with_fields(kept=pl.when(f("matched")).then(f("text")))
        .struct.with_fields(
            lo_text=f("kept").str.extract(_LOWER_TEXT, 1),
            hi_text=f("kept").str.extract(_UPPER_TEXT, 1),
        )
        .struct.with_fields(
            lo_y=f("lo_text").str.slice(0, 4).cast(pl.Int32),
            lo_m=f("lo_text").str.slice(5, 2).cast(pl.Int8, strict=False).fill_null(1),
            lo_d=f("lo_text").str.slice(8, 2).cast(pl.Int8, strict=False).fill_null(1),
            hi_y=f("hi_text").str.slice(0, 4).cast(pl.Int32),
            hi_m=f("hi_text").str.slice(5, 2).cast(pl.Int8, strict=False).fill_null(12),
            hi_d=f("hi_text").str.slice(8, 2).cast(pl.Int8, strict=False),
        )
        .struct.with_fields(
            lo=pl.date(f("lo_y"), f("lo_m"), f("lo_d")),
            hi=pl.when(f("hi_d").is_null())
            .then(pl.date(f("hi_y"), f("hi_m"), 1).dt.month_end())
            .otherwise(pl.date(f("hi_y"), f("hi_m"), f("hi_d"))),
        )
        # A value that ends before it starts is invalid; an open end is fine.
        .struct.with_fields(ordered=(f("lo") <= f("hi")).fill_null(True))
        .struct.with_fields(
            min=pl.when(f("ordered")).then(f("lo")),
            max=pl.when(f("ordered")).then(f("hi")),
            valid=f("matched") & f("ordered"),
        )
    )


def bounds_exprs(column: str, *, interval: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """Vectorised :func:`parse_bounds`: the min and max day of a string column.

    Parameters
    ----------
    column : str
        Name of a ``pl.String`` column of date values.
    interval : bool, default False
        Whether the interval forms are allowed.

    Returns
    -------
    tuple of pl.Expr
        Two ``pl.Date`` expressions named ``<column>_min`` and
        ``<column>_max``.  Null where the bound is open, the input is null,
        or the value is invalid (including values that end before they
        start), so together they agree with :func:`parse_bounds` row by row.

    Examples
    --------
    >>> df = pl.DataFrame({"d": ["[..2024-07-16]", "2023-02-30"]})
    >>> df.select(*bounds_exprs("d")).rows()
    [(None, datetime.date(2024, 7, 16)), (None, None)]
    """
    low, high, _ = derived_exprs(column, interval=interval)
    return low.alias(f"{column}_min"), high.alias(f"{column}_max")


def valid_expr(column: str, *, interval: bool = False) -> pl.Expr:
    """Vectorised :func:`is_valid`: a Boolean expression, one value per row.

    The pattern (:data:`DATE_PATTERN` or :data:`PERIOD_PATTERN`) decides the
    form and the calendar; the derived bounds then reject values that end
    before they start.

    Parameters
    ----------
    column : str
        Name of a ``pl.String`` column of date values.
    interval : bool, default False
        Whether the interval forms are allowed.

    Returns
    -------
    pl.Expr
        Boolean, named ``column``; **null where the input is null** (a
        missing value is neither valid nor invalid: use
        ``.fill_null(True)`` for an optional field).

    Examples
    --------
    >>> df = pl.DataFrame({"d": ["2024-02-29", "2023-02-29", "[2024..2023]", None]})
    >>> df.select(valid_expr("d"))["d"].to_list()
    [True, False, False, None]
    """
    return derived_exprs(column, interval=interval)[2].alias(column)


def derived_exprs(
    column: str, *, interval: bool = False, prefix: str = ""
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """:func:`bounds_exprs` and :func:`valid_expr` at once, from one evaluation of the pattern.

    Parameters
    ----------
    column : str
        Name of a ``pl.String`` column of date values.
    interval : bool, default False
        Whether the interval forms are allowed.
    prefix : str, default ""
        Put before the output names (``<prefix>min:<column>``, ``<prefix>max:<column>``,
        ``<prefix>valid:<column>``), to keep them apart from the table's own columns.

    Returns
    -------
    tuple of pl.Expr
        The min and max day (``pl.Date``) and the validity (Boolean), as :func:`bounds_exprs`
        and :func:`valid_expr` compute them. Selected together in one lazy query, they share
        one evaluation of the column.

    Examples
    --------
    >>> df = pl.DataFrame({"d": ["2023-11", "2023-02-30"]})
    >>> df.lazy().select(derived_exprs("d", prefix="_")).collect().rows()
    [(datetime.date(2023, 11, 1), datetime.date(2023, 11, 30), True), (None, None, False)]
    """
    derived = _derived(column, interval)
    return (
        derived.struct.field("min").alias(f"{prefix}min:{column}"),
        derived.struct.field("max").alias(f"{prefix}max:{column}"),
        derived.struct.field("valid").alias(f"{prefix}valid:{column}"),
    )


# ---- the kind of a value ----------------------------------------------------
#
# What the earliest and latest day mean depends on the form of the value: one day, month or
# year; one day somewhere in a range; something that lasted. The kind says which, so that a
# query cannot take the bounds of a span for those of a single day, or an open bound for a
# missing one. A qualifier (?, ~, %) adds a suffix: the bounds do not widen for it, so a
# qualified value's bounds are the stated ones, not certain ones.

#: The form of a value: what its ``_min`` and ``_max`` mean.
SHAPES: dict[str, str] = {
    "day": "one day, stated (YYYY-MM-DD): _min and _max are that day",
    "month": "one day within a stated month (YYYY-MM): _min and _max are its first and last day",
    "year": "one day within a stated year (YYYY): _min and _max are 1 January and 31 December",
    "day_in_range": "one day somewhere from _min to _max (a set [A..B])",
    "open_start": "one day on or before _max; _min is empty, as nothing bounds it (a set [..B])",
    "open_end": "one day on or after _min; _max is empty, as nothing bounds it (a set [A..])",
    "span": "something that lasted, from a day in A to a day in B (an interval A/B): _min is "
    "the earliest it can have begun, _max the latest it can have ended",
    "span_open_start": "something that lasted until a day in B, begun no one says when "
    "(an interval ../B): _min is empty",
    "span_open_end": "something that lasted from a day in A, with no stated end (an interval "
    "A/..): _max is empty",
}
#: The EDTF qualifiers and the suffix each adds to the kind (an interval: those of either end).
QUALIFIERS: dict[str, str] = {"?": "uncertain", "~": "approximate", "%": "uncertain_approximate"}
#: The meaning of each suffix.
QUALIFIER_MEANINGS: dict[str, str] = {
    "uncertain": "the source is not sure of it (EDTF ?)",
    "approximate": "the source gives it as about that date (EDTF ~)",
    "uncertain_approximate": "both uncertain and approximate (EDTF %, or ? and ~ on the two "
    "ends of an interval)",
}
_QUALIFIABLE = ("day", "month", "year", "span", "span_open_start", "span_open_end")

#: Every kind, in vocabulary order: each form, followed by its qualified variants.
DATE_KINDS: tuple[str, ...] = tuple(
    kind
    for shape in SHAPES
    for kind in (
        shape,
        *((f"{shape}_{suffix}" for suffix in QUALIFIERS.values()) if shape in _QUALIFIABLE else ()),
    )
)

_PRECISION = {4: "year", 7: "month", 10: "day"}


def _qualifier_suffix(marks: str) -> str:
    """The kind suffix of the qualifier characters of a value ('' for none)."""
    found = set(marks) & set(QUALIFIERS)
    if not found:
        return ""
    mark = "%" if "%" in found or len(found) > 1 else found.pop()
    return "_" + QUALIFIERS[mark]


def date_kind(text: str, *, interval: bool = False) -> str:
    """The kind of a date value: what its earliest and latest day mean (one of :data:`DATE_KINDS`).

    Parameters
    ----------
    text : str
        A value of the subset, as for :func:`parse_bounds`.
    interval : bool, default False
        Whether the interval forms are allowed.

    Returns
    -------
    str
        ``day``, ``month`` or ``year`` (one stated day, month or year), ``day_in_range``
        (``[A..B]``), ``open_start`` (``[..B]``), ``open_end`` (``[A..]``), ``span`` (``A/B``),
        ``span_open_start`` (``../B``) or ``span_open_end`` (``A/..``); a qualified value adds
        ``_uncertain`` (``?``), ``_approximate`` (``~``) or ``_uncertain_approximate`` (``%``,
        or ``?`` and ``~`` on the two ends of an interval).

    Raises
    ------
    DateError
        If the value is not valid (as :func:`parse_bounds` says).

    Examples
    --------
    >>> date_kind("2023-11"), date_kind("[..2024-07-16]"), date_kind("2016~")
    ('month', 'open_start', 'year_approximate')
    >>> date_kind("2023?/2024~", interval=True)
    'span_uncertain_approximate'
    """
    parse_bounds(text, interval=interval)
    single = _RAW_SINGLE.fullmatch(text)
    if single:
        return _PRECISION[len(single["date"])] + _qualifier_suffix(single["qual"] or "")
    in_set = _RAW_SET.fullmatch(text)
    if in_set:
        if in_set["lo"] is None:
            return "open_start"
        return "open_end" if in_set["hi"] is None else "day_in_range"
    ends = _RAW_INTERVAL.fullmatch(text)
    assert ends is not None  # parse_bounds accepted it, and it is no single date or set
    shape = (
        "span_open_start"
        if ends["lo"] == ".."
        else "span_open_end"
        if ends["hi"] == ".."
        else "span"
    )
    return shape + _qualifier_suffix(ends["lo"][-1] + ends["hi"][-1])


def kind_expr(column: str, *, interval: bool = False) -> pl.Expr:
    """Vectorised :func:`date_kind`: the kind of every value of a string column.

    Parameters
    ----------
    column : str
        Name of a ``pl.String`` column of date values.
    interval : bool, default False
        Whether the interval forms are allowed.

    Returns
    -------
    pl.Expr
        A ``pl.String`` expression named ``<column>_kind``: one of :data:`DATE_KINDS`, null
        where the input is null or invalid, so that it agrees with :func:`date_kind` row by row.

    Examples
    --------
    >>> df = pl.DataFrame({"d": ["2019", "[2013-01..2023-11]", "../2024-07-16", "2023-02-30"]})
    >>> df.select(kind_expr("d", interval=True))["d_kind"].to_list()
    ['year', 'day_in_range', 'span_open_start', None]
    """
    text = pl.col(column).cast(pl.String)
    shape = (
        pl.when(text.str.starts_with("[.."))
        .then(pl.lit("open_start"))
        .when(text.str.ends_with("..]"))
        .then(pl.lit("open_end"))
        .when(text.str.starts_with("["))
        .then(pl.lit("day_in_range"))
        .when(text.str.starts_with("../"))
        .then(pl.lit("span_open_start"))
        .when(text.str.ends_with("/.."))
        .then(pl.lit("span_open_end"))
        .when(text.str.contains("/", literal=True))
        .then(pl.lit("span"))
        .otherwise(
            text.str.strip_chars_end("?~%")
            .str.len_chars()
            .replace_strict(_PRECISION, default=None, return_dtype=pl.String)
        )
    )
    uncertain = text.str.contains("?", literal=True)
    approximate = text.str.contains("~", literal=True)
    suffix = (
        pl.when(text.str.contains("%", literal=True) | (uncertain & approximate))
        .then(pl.lit("_" + QUALIFIERS["%"]))
        .when(uncertain)
        .then(pl.lit("_" + QUALIFIERS["?"]))
        .when(approximate)
        .then(pl.lit("_" + QUALIFIERS["~"]))
        .otherwise(pl.lit(""))
    )
    valid = derived_exprs(column, interval=interval)[2]
    return pl.when(valid).then(shape + suffix).alias(f"{column}_kind")
