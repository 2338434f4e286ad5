"""Reads a package's own tables into the string frames the checks work on."""

from __future__ import annotations

import polars as pl

from nk_defections.findings.issues import Issue
from nk_defections.model.frames import empty_frame, marked
from nk_defections.model.package import Package
from nk_defections.read.csv import read_csv


def unread_tables(package: Package, issues: list[Issue]) -> frozenset[str]:
    """The tables whose file *issues* (from :func:`read_package_frames`) say could not be read.

    A file is read whole or not at all: every finding of its reading refuses it.
    """
    files = {issue.file for issue in issues}
    return frozenset(t for t, r in package.resources.items() if r["path"] in files)


def read_package_frames(
    package: Package, *, report: bool = True
) -> tuple[dict[str, pl.DataFrame], list[Issue]]:
    """Read every resource of *package* into string frames with their CSV lines.

    Parameters
    ----------
    package
        The package to read.
    report
        Mark the rows ``_report``: findings about them are wanted (a package validated on its
        own), or not (the package a contribution is checked against).

    Examples
    --------
    >>> from nk_defections.model.package import load_package_descriptor
    >>> frames, issues = read_package_frames(load_package_descriptor(), report=False)
    >>> issues, frames["sources"].select("_csv", "_report").row(0)
    ([], (True, False))
    """
    frames: dict[str, pl.DataFrame] = {}
    issues: list[Issue] = []
    for table, resource in package.resources.items():
        display = resource["path"]
        frame, found = read_csv(package, table, package.path(table), display)
        issues += found
        frames[table] = marked(
            frame if frame is not None else empty_frame(package, table), csv=True, report=report
        )
    return frames, issues
