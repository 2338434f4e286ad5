"""ISO 3166-1 alpha-3 codes, from pycountry's maintained list."""

from __future__ import annotations

from functools import cache

#: The Table Schema pattern of a country column (its values are then checked against the list).
COUNTRY_PATTERN = "[A-Z]{3}"


@cache
def alpha3_codes() -> frozenset[str]:
    """All current ISO 3166-1 alpha-3 codes.

    Examples
    --------
    >>> "PRK" in alpha3_codes() and "XXX" not in alpha3_codes()
    True
    """
    import importlib.util
    import json
    from pathlib import Path

    # pycountry's own database file, read without importing pycountry (whose import, which
    # reads the installed distributions, costs several times the reading of the file).
    spec = importlib.util.find_spec("pycountry")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        database = Path(folder) / "databases" / "iso3166-1.json"
        if database.is_file():
            return frozenset(
                entry["alpha_3"] for entry in json.loads(database.read_bytes())["3166-1"]
            )
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.countries)


def is_alpha3(code: str) -> bool:
    """Tell whether *code* is a current ISO 3166-1 alpha-3 code."""
    return code in alpha3_codes()


def country_message(value: str) -> str:
    """Why *value* is not a country code, and the code it may mean (``'KR'``: KOR).

    Examples
    --------
    >>> country_message("KR")
    "'KR' is not an ISO 3166-1 alpha-3 country code; did you mean 'KOR'?"
    """
    from nk_defections.model.hints import country_hint

    return f"{value!r} is not an ISO 3166-1 alpha-3 country code{country_hint(value)}"
