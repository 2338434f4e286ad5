"""Ids: a table's prefix and 8 lowercase Crockford base32 characters, minted at random."""

from __future__ import annotations

import hashlib
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


def derived(prefix: str, key: str) -> str:
    """An id with *prefix* derived from *key*: the same key always gives the same id.

    For rows that stand for another id (a redirect of a retired id), so that checking a
    contribution and merging it name the same rows.

    Examples
    --------
    >>> derived("red", "per-02d95gqk") == derived("red", "per-02d95gqk")
    True
    >>> len(derived("red", "per-02d95gqk"))
    12
    """
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:5], "big")
    return f"{prefix}-" + "".join(ALPHABET[(digest >> (5 * i)) & 31] for i in reversed(range(8)))
