"""Orchestration: read the package (and contributions), run the schema checks, then the rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import polars as pl

from nk_defections.check.rules import Context, iter_issues
from nk_defections.check.rules.package import (
    check_frictionless,
    check_interrupted_merge,
    check_profile,
    check_source_texts,
)
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue, Report
from nk_defections.model.package import Package, PackageError, load_package_descriptor
from nk_defections.model.records import typed_rows
from nk_defections.read.contribution import validate_paths  # noqa: F401 - re-exported: contributed files
from nk_defections.read.package import read_package_frames


def check_json_schemas(package: Package, frames: Mapping[str, pl.DataFrame]) -> Iterator[Issue]:
    """Every row of the package, typed as JSON, against its table's JSON Schema."""
    from nk_defections.check.schema_errors import iter_schema_issues
    from nk_defections.model.schemas import schemas_for

    schemas = schemas_for(package)
    for table, frame in frames.items():
        validator = schemas.validator(table)
        names = package.field_names(table)
        rows = frame.select(names).iter_rows(named=True)
        locations = frame.select("_file", "_line").iter_rows()
        for record, (file, line) in zip(typed_rows(package, table, rows), locations, strict=True):
            if schemas.is_valid(
                table, record
            ):  # jsonschema-rs: only invalid rows need jsonschema's errors
                continue
            for issue in iter_schema_issues(
                validator.iter_errors(record), package, table, file=file, row=line, base=[]
            ):
                # A CSV row is located by its line and column, as the column-wise checks do.
                yield replace(
                    issue,
                    pointer=None,
                    record_id=record.get("id") if isinstance(record.get("id"), str) else None,
                )


def validate_package(
    root: Path | str | None = None,
    *,
    source_texts: Mapping[str, Path] | None = None,
    frictionless: bool = True,
) -> Report:
    """Validate a whole data package: descriptor, profile, tables, JSON Schemas and every rule.

    Parameters
    ----------
    root
        The package folder; ``None`` finds it as DESIGN.md §3 says.
    source_texts
        Source id -> a file with that source's text, for the evidence check.
    frictionless
        Also run frictionless over the package and report what only it finds.

    Examples
    --------
    >>> validate_package(frictionless=False).is_valid()
    True
    """
    try:
        package = load_package_descriptor(root)
        package.prefixes  # noqa: B018 - fails early on a descriptor without id patterns
    except PackageError as exc:
        return Report([Issue(C.PACKAGE_DESCRIPTOR, str(exc), file="datapackage.json")])
    issues = list(check_interrupted_merge(package))
    issues += check_profile(package)
    frames, found = read_package_frames(package)
    issues += found
    issues += list(iter_issues(Context(package, frames)))
    issues += list(check_json_schemas(package, frames))
    if frictionless and not found:
        covered = {(i.file, i.row) for i in issues}
        lines = {
            package.resources[t]["path"]: frame["_line"].to_list() for t, frame in frames.items()
        }
        issues += list(check_frictionless(package, covered, lines))
    issues += list(check_source_texts(package, frames, source_texts or {}))
    checked = {table: frame.height for table, frame in frames.items()}
    return Report(issues, checked=checked)
