"""What to write instead: the suggestions that findings and errors end with, each written once."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import lru_cache


def did_you_mean(value: str, allowed: Iterable[str], *, list_up_to: int = 0) -> str:
    """``"; did you mean 'x'?"`` for the allowed value closest to *value*, or ``""``.

    Where none is close and there are at most *list_up_to* allowed values, they are listed.

    Examples
    --------
    >>> did_you_mean("titel", ["title", "summary"])
    "; did you mean 'title'?"
    >>> did_you_mean("zzz", ["a", "b"], list_up_to=8), did_you_mean("zzz", ["a", "b"])
    ('; allowed: a, b', '')
    """
    return _suggestion(str(value), tuple(allowed), list_up_to)


def nearest(value: str, allowed: Iterable[str]) -> str | None:
    """The allowed value closest to *value* (difflib's ratio of at least 0.6), or None.

    Examples
    --------
    >>> nearest("peopel", ["people", "events"]), nearest("zzz", ["people"])
    ('people', None)
    """
    close = difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.6)
    return close[0] if close else None


@lru_cache(maxsize=4096)
def _suggestion(value: str, allowed: tuple[str, ...], list_up_to: int) -> str:
    # Once per distinct wrong value: a typo tends to repeat down a column.
    close = nearest(value, allowed)
    if close is not None:
        return f"; did you mean {close!r}?"
    return f"; allowed: {', '.join(allowed)}" if 0 < len(allowed) <= list_up_to else ""


@lru_cache(maxsize=1024)
def country_hint(value: str) -> str:
    """``"; did you mean 'KOR'?"`` for an alpha-2 code, a name or a lower-case code of a country.

    Found with pycountry's lookup (codes, names, official and common names, any case).

    Examples
    --------
    >>> country_hint("KR"), country_hint("South Korea"), country_hint("Atlantis")
    ("; did you mean 'KOR'?", "; did you mean 'KOR'?", '')
    """
    import pycountry

    try:
        found = pycountry.countries.lookup(value.strip())
    except LookupError:
        return ""
    return f"; did you mean {found.alpha_3!r}?" if found.alpha_3 != value else ""


def pattern_message(value: str, table: str, field: str, pattern: str) -> str:
    """Why *value* does not match the pattern of *field*: the pattern, and for an id how to mint one.

    Examples
    --------
    >>> pattern_message("per-123", "people", "id", "per-[0-9a-hjkmnp-tv-z]{8}")
    "'per-123' does not match the pattern of 'id' (per-[0-9a-hjkmnp-tv-z]{8}); mint a new id with `nk-defections new-id people`"
    """
    hint = f"; mint a new id with `nk-defections new-id {table}`" if field == "id" else ""
    return f"{value!r} does not match the pattern of {field!r} ({pattern}){hint}"


def plural(count: int, noun: str) -> str:
    """*count* and *noun*, in the right number.

    Examples
    --------
    >>> plural(1, "error"), plural(2, "error"), plural(0, "row")
    ('1 error', '2 errors', '0 rows')
    """
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
