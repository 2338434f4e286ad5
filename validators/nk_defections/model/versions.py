"""Semantic versions: the one pattern a package version must match, and its parts."""

from __future__ import annotations

import re

#: MAJOR.MINOR.PATCH, with an optional pre-release and build part (semver.org 2.0.0).
SEMVER = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
)


def is_semver(version: object) -> bool:
    """Whether *version* is a semantic version string.

    Examples
    --------
    >>> is_semver("0.1.0"), is_semver("1.0.0-rc.1"), is_semver("banana"), is_semver(1)
    (True, True, False, False)
    """
    return isinstance(version, str) and SEMVER.fullmatch(version) is not None


def parse_version(version: str) -> tuple[int, int, int]:
    """MAJOR, MINOR and PATCH of a semantic version.

    Examples
    --------
    >>> parse_version("1.12.0")
    (1, 12, 0)
    """
    match = SEMVER.fullmatch(version)
    if not match:
        raise ValueError(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    return int(match[1]), int(match[2]), int(match[3])
