"""ISO 3166-1 alpha-3 codes, from pycountry's maintained list."""

from __future__ import annotations

from functools import cache


@cache
def alpha3_codes() -> frozenset[str]:
    """All current ISO 3166-1 alpha-3 codes.

    Examples
    --------
    >>> "PRK" in alpha3_codes() and "XXX" not in alpha3_codes()
    True
    """
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.countries)


def is_alpha3(code: str) -> bool:
    """Tell whether *code* is a current ISO 3166-1 alpha-3 code."""
    return code in alpha3_codes()
