"""Orchestration: read the package (and a contribution), run the schema checks, then the rules.

A package is read into string frames and checked as a whole. A contribution is read into the
same frames (:mod:`nk_defections.read.contribution`, each JSON record checked against its JSON
Schema as it is read) and appended to the package's own rows: every cross-record rule then runs
on the merged whole, so references may point into the package or into the same contribution,
and an id the package already has is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from nk_defections.check.amend import Applied, apply_amendments
from nk_defections.check.explain import RecordChecker
from nk_defections.check.rules import Batch, Context, all_rules, require_tables, run_rules
from nk_defections.check.rules.package import (
    check_frictionless,
    check_interrupted_merge,
    check_profile,
    check_source_texts,
)
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue, Listed, Origin, Report, Source
from nk_defections.model.frames import FILE, LINE, REPORT
from nk_defections.model.package import Package, PackageError, load_package_descriptor
from nk_defections.model.records import typed_rows
from nk_defections.progress import step
from nk_defections.read.contribution import Contribution, read_contribution
from nk_defections.read.package import read_package_frames, unread_tables


@dataclass
class CheckedContribution:
    """A contribution checked against a package: the report, and the rows a merge would write."""

    report: Report
    package: Package | None
    #: The package's rows as the contribution's amendments leave them.
    base: dict[str, pl.DataFrame]
    contribution: Contribution
    #: What the amendments did (None: the contribution could not be checked).
    applied: Applied | None = None

    def changed(self) -> list[str]:
        """The tables a merge rewrites: those the contribution adds rows to or amends."""
        assert self.package is not None
        amended = self.applied.changed if self.applied is not None else set()
        return [
            table
            for table, frame in self.contribution.frames.items()
            if frame.height or table in amended
        ]

    def merged(self, table: str) -> pl.DataFrame:
        """Return the package's rows of *table*, then the contributed ones (declared columns)."""
        assert self.package is not None
        names = self.package.field_names(table)
        return pl.concat(
            [self.base[table].select(names), self.contribution.frames[table].select(names)]
        )


def check_json_schemas(package: Package, frames: Mapping[str, pl.DataFrame]) -> Iterator[Issue]:
    """Every row of the package, typed as JSON, against its table's JSON Schema."""
    from nk_defections.check.schema_errors import iter_schema_issues
    from nk_defections.model.schemas import schemas_for

    schemas = schemas_for(package)
    for table, frame in frames.items():
        validator = schemas.validator(table)
        names = package.field_names(table)
        rows = frame.select(names).iter_rows(named=True)
        locations = frame.select(FILE, LINE).iter_rows()
        for record, (file, line) in zip(typed_rows(package, table, rows), locations, strict=True):
            # jsonschema-rs decides: only invalid rows need jsonschema's errors.
            if schemas.is_valid(table, record):
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

    A release is also checked against the ``bytes`` and ``hash`` its descriptor records for
    every file.

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
        require_tables(package)
    except PackageError as exc:
        return Report([Issue(C.PACKAGE_DESCRIPTOR, str(exc), file="datapackage.json")])
    from nk_defections.check.integrity import check_release_files

    whole = [*check_interrupted_merge(package), *check_profile(package)]
    frames, found = read_package_frames(package)
    whole += check_release_files(package)
    sources: list[Source] = [
        Listed(whole, Origin.PACKAGE),
        Listed(found, Origin.READ),
        *run_rules(Context(package, frames, unread=unread_tables(package, found))),
        Listed(check_json_schemas(package, frames), Origin.SCHEMA),
    ]
    if frictionless and not found:
        # frictionless is a second opinion: heard only at a row where no check of ours found
        # anything (the evidence check, which has not run, speaks of texts, not of rows). What
        # it finds there would be the same fault in its words, often counted twice.
        covered = set().union(*(source.locations() for source in sources))
        lines = {package.resources[t]["path"]: frame[LINE].to_list() for t, frame in frames.items()}
        sources.append(Listed(check_frictionless(package, covered, lines), Origin.SECOND_OPINION))
    sources.append(Listed(check_source_texts(package, frames, source_texts or {}), Origin.EVIDENCE))
    checked = {table: frame.height for table, frame in frames.items()}
    return Report(sources=sources, checked=checked)


def check_contribution(
    paths: Iterable[Path | str],
    *,
    package: Path | str | None = None,
    source_texts: Mapping[str, Path | str] | None = None,
) -> CheckedContribution:
    """Check contributed files alone and against the package; keep the rows for a merge.

    Parameters
    ----------
    paths
        The contributed files (one contribution).
    package
        The package folder; ``None`` finds it as DESIGN.md §3 says.
    source_texts
        Source id -> a file with that source's text, for the evidence check.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "contribution.json"
    >>> _ = path.write_text('{"people": []}')
    >>> check_contribution([path]).report.is_valid()
    True
    """
    paths = [Path(p) for p in paths]
    step("reading the package", total=len(paths) + len(all_rules()) + 3)
    try:
        pkg = load_package_descriptor(package)
        pkg.prefixes  # noqa: B018 - fails early on a descriptor without id patterns
        require_tables(pkg)
    except PackageError as exc:
        issue = Issue(C.PACKAGE_DESCRIPTOR, str(exc), file="datapackage.json")
        return CheckedContribution(Report([issue]), None, {}, Contribution({}))
    base, found = read_package_frames(pkg, report=False)
    contribution = read_contribution(pkg, paths, on_record=RecordChecker(pkg))
    step("applying the amendments")
    applied = apply_amendments(pkg, base, contribution.amendments, contribution.frames)
    base, contribution.frames = applied.frames, applied.contributed
    frames = {
        t: pl.concat([base[t], contribution.frames[t].select(base[t].columns)])
        for t in pkg.resources
    }
    read = [*found, *contribution.issues]
    sources: list[Source] = [Listed(map(contribution.located, read), Origin.READ)]
    unread = unread_tables(pkg, found) | contribution.unread
    for source in run_rules(Context(pkg, frames, amended=applied, unread=unread)):
        # A finding in a JSON document is placed at its value's line, which its reader knows.
        if isinstance(source, Batch) and contribution.lines:
            source = source.located(contribution.located)
        elif isinstance(source, Listed):
            source = Listed(map(contribution.located, source.issues), *source.rank)
        sources.append(source)
    step("checking the evidence")
    texts, evidence = _readable_texts(source_texts or {})
    evidence += check_source_texts(pkg, _evidence_frames(frames, texts), texts)
    sources.append(Listed(map(contribution.located, evidence), Origin.EVIDENCE))
    return CheckedContribution(
        Report(sources=sources, checked=contribution.counts()), pkg, base, contribution, applied
    )


def _readable_texts(texts: Mapping[str, Path | str]) -> tuple[dict[str, Path], list[Issue]]:
    readable, issues = {}, []
    for source_id, path in texts.items():
        path = Path(path)
        if path.is_file():
            readable[source_id] = path
        else:
            issues.append(
                Issue(
                    C.FILE_UNREADABLE,
                    f"the text of {source_id}, {path}, is not a readable file",
                    file=str(path),
                )
            )
    return readable, issues


def _evidence_frames(
    frames: dict[str, pl.DataFrame], texts: Mapping[str, Path]
) -> dict[str, pl.DataFrame]:
    """Keep for the evidence check the sources the contribution adds, cites or has a text of."""
    claims = frames["claims"]
    cited = claims.filter(pl.col(REPORT))["source_id"].drop_nulls().unique()
    sources = frames["sources"].filter(
        pl.col(REPORT) | pl.col("id").is_in(cited.implode()) | pl.col("id").is_in(list(texts))
    )
    return {**frames, "sources": sources}


def validate_paths(
    paths: Iterable[Path | str],
    *,
    package: Path | str | None = None,
    source_texts: Mapping[str, Path | str] | None = None,
) -> Report:
    """Validate contributed files alone and against the package.

    Parameters
    ----------
    paths
        Any mix of ``*.json`` envelopes, ``*.jsonl`` files and ``<resource>.csv`` files: one
        contribution.
    package
        The package folder; ``None`` finds it as DESIGN.md §3 says.
    source_texts
        Source id -> a file with that source's text, for the evidence check.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "people.json"
    >>> _ = path.write_text('[]')
    >>> [issue.code for issue in validate_paths([path]).issues]
    ['json.top-level']
    """
    return check_contribution(paths, package=package, source_texts=source_texts).report
