"""Ids: a table's prefix and 8 lowercase Crockford base32 characters, minted at random."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
LENGTH = 8


def mint(prefix: str, n: int = 1, *, taken: Iterable[str] = ()) -> list[str]:
    """Mint *n* fresh ids with *prefix*, none of them in *taken* nor repeated.

    Examples
    --------
    >>> [len(i) for i in mint("per", 2)]
    [12, 12]
    """
    used = set(taken)
    out: list[str] = []
    while len(out) < n:
        candidate = f"{prefix}-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if candidate not in used:
            used.add(candidate)
            out.append(candidate)
    return out
