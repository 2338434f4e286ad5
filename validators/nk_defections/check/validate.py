"""Orchestration: read the package (and contributions), run the schema checks, then the rules."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from nk_defections.check.rules import Context, iter_issues, require_tables
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue, Report
from nk_defections.model.package import Package, PackageError, load_package_descriptor
from nk_defections.model.records import typed_rows
from nk_defections.read.contribution import validate_paths  # noqa: F401 - re-exported: contributed files
from nk_defections.read.csv import empty_frame, read_csv


def _mark(frame: pl.DataFrame, *, csv: bool, report: bool) -> pl.DataFrame:
    return frame.with_columns(pl.lit(csv).alias("_csv"), pl.lit(report).alias("_report"))


def read_package_frames(
    package: Package, *, report: bool = True
) -> tuple[dict[str, pl.DataFrame], list[Issue]]:
    """Read every resource of *package* into string frames with their CSV lines."""
    frames: dict[str, pl.DataFrame] = {}
    issues: list[Issue] = []
    for table, resource in package.resources.items():
        display = resource["path"]
        frame, found = read_csv(package, table, package.path(table), display)
        issues += found
        frames[table] = _mark(
            frame if frame is not None else empty_frame(package, table), csv=True, report=report
        )
    return frames, issues


_SEMVER = re.compile(
    r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
)


@cache
def _profile() -> dict[str, Any]:
    path = Path(__file__).parents[1] / "model" / "profiles" / "datapackage-2.0.json"
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _profile_validator() -> Any:
    from jsonschema import Draft7Validator

    return Draft7Validator(_profile(), format_checker=Draft7Validator.FORMAT_CHECKER)


@cache
def _profile_prefilter() -> Any:
    """jsonschema-rs with the profile, calling back jsonschema's own Draft 7 format checks (so
    that both judge formats alike); None if it cannot be built (jsonschema alone is exact)."""
    try:
        import jsonschema_rs
        from jsonschema import Draft7Validator

        from nk_defections.model.schemas import format_functions

        formats = format_functions(Draft7Validator.FORMAT_CHECKER)
        return jsonschema_rs.Draft7Validator(_profile(), formats=formats, validate_formats=True)
    except Exception:  # noqa: BLE001
        return None


def check_profile(package: Package) -> Iterator[Issue]:
    """The descriptor against the (patched) Data Package 2.0 profile, and its version against semver."""
    yield from _profile_issues(json.dumps(package.descriptor, sort_keys=True))


@lru_cache(maxsize=16)
def _profile_issues(descriptor_text: str) -> tuple[Issue, ...]:
    # A descriptor is checked once per process.
    descriptor = json.loads(descriptor_text)
    issues = []
    # Walking the profile's oneOf per field in pure Python is the slowest check on a small
    # package: jsonschema-rs says first whether there is anything for jsonschema to explain.
    prefilter = _profile_prefilter()
    valid = prefilter is not None and prefilter.is_valid(descriptor)
    for error in (
        []
        if valid
        else sorted(
            _profile_validator().iter_errors(descriptor), key=lambda e: list(e.absolute_path)
        )
    ):
        pointer = "".join(f"/{p}" for p in error.absolute_path)
        issues.append(
            Issue(
                C.PACKAGE_PROFILE,
                error.message[:300],
                file="datapackage.json",
                pointer=pointer or "/",
            )
        )
    # The profile types `version` as any string (frictionless accepts "banana"); releases need semver.
    version = descriptor.get("version")
    if not isinstance(version, str) or not _SEMVER.fullmatch(version):
        issues.append(
            Issue(
                C.PACKAGE_PROFILE,
                f"version {version!r} is not a semantic version (MAJOR.MINOR.PATCH)",
                file="datapackage.json",
                pointer="/version",
                field="version",
            )
        )
    return tuple(issues)


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


def check_interrupted_merge(package: Package) -> Iterator[Issue]:
    """A journal left by an ``add`` that was killed: some files may hold the new state, some the old."""
    from nk_defections.write.journal import JOURNAL

    if (package.root / JOURNAL).exists():
        yield Issue(
            C.PACKAGE_INTERRUPTED_MERGE,
            f"an interrupted `nk-defections add` left {JOURNAL}: the data files may be half merged; "
            "run `nk-defections fmt` (or the next `add`) to finish or undo it, then validate again",
            file=JOURNAL,
        )


def check_frictionless(
    package: Package,
    covered: set[tuple[str | None, int | None]],
    lines: Mapping[str, Sequence[int]] | None = None,
) -> Iterator[Issue]:
    """Run frictionless over the package; report what it finds at a row our checks passed.

    frictionless numbers rows by record (the header is row 1); *lines* (file -> the physical
    line of each data row, in order) turns its numbers into physical lines, which differ once a
    cell holds a newline.
    """
    lines = lines or {}
    from frictionless import Dialect, FrictionlessException, formats
    from frictionless import Package as FrictionlessPackage

    try:
        fl = FrictionlessPackage(str(package.root / "datapackage.json"))
        # The tables are RFC 4180 CSV (read_csv refuses any other): said, not left to guess (a
        # sniffed dialect takes ';' for the delimiter of a file with a cell like "a; ""b""; c").
        for resource in fl.resources:
            resource.dialect = Dialect(
                controls=[
                    formats.CsvControl(
                        delimiter=",", quote_char='"', double_quote=True, skip_initial_space=False
                    )
                ]
            )
        report = fl.validate(limit_errors=10**9)
    except FrictionlessException as exc:
        yield Issue(
            C.PACKAGE_FRICTIONLESS,
            f"frictionless cannot read the package: {exc}"[:300],
            file="datapackage.json",
        )
        return
    for task in report.tasks:
        file = task.place if task.place else None
        file = next((r["path"] for r in package.resources.values() if r["name"] == task.name), file)
        starts = lines.get(file, ())
        for error in task.errors:
            row = getattr(error, "row_number", None)
            if isinstance(row, int) and 2 <= row < len(starts) + 2:
                row = starts[row - 2]
            if (file, row) in covered:
                continue
            field = getattr(error, "field_name", None)
            yield Issue(
                C.PACKAGE_FRICTIONLESS,
                f"frictionless {error.type}: {error.message}"[:300],
                file=file,
                row=row,
                field=field,
            )
    for error in report.errors:
        yield Issue(
            C.PACKAGE_FRICTIONLESS,
            f"frictionless {error.type}: {error.message}"[:300],
            file="datapackage.json",
        )


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a source text: its non-empty lines, in order."""
    return [line for line in text.splitlines() if line.strip()]


def check_source_texts(
    package: Package, frames: Mapping[str, pl.DataFrame], texts: Mapping[str, Path]
) -> Iterator[Issue]:
    """The evidence check: a source's text against its fingerprint, and every claim's words in it."""
    sources = {r["id"]: r for r in frames["sources"].iter_rows(named=True)}
    for source_id, path in texts.items():
        if source_id not in sources:
            yield Issue(
                C.SOURCE_UNKNOWN,
                f"--source-text names {source_id!r}, which is not a source of the package",
                field="id",
            )
    for source_id, source in sources.items():
        where = dict(file=source["_file"], row=source["_line"], record_id=source_id)
        path = texts.get(source_id)
        if path is None:
            yield Issue(
                C.SOURCE_TEXT_SKIPPED,
                f"no text given for {source_id}: its sha256, paragraph count and original_text were not checked",
                **where,
            )
            continue
        data = Path(path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != source["content_sha256"]:
            yield Issue(
                C.SOURCE_SHA256,
                f"{Path(path).name} has sha256 {digest[:12]}…, the record says {str(source['content_sha256'])[:12]}…",
                field="content_sha256",
                **where,
            )
        paras = paragraphs(data.decode("utf-8", errors="replace"))
        if str(len(paras)) != str(source["paragraphs"]):
            yield Issue(
                C.SOURCE_PARAGRAPHS,
                f"{Path(path).name} has {len(paras)} paragraphs, the record says {source['paragraphs']}",
                field="paragraphs",
                **where,
            )
        claims = frames["claims"].filter(
            (pl.col("source_id") == source_id)
            & pl.col("original_text").is_not_null()
            & pl.col("_report")
        )
        for claim in claims.iter_rows(named=True):
            try:
                number = int(claim["paragraph"])
            except (TypeError, ValueError):
                continue
            if not 1 <= number <= len(paras) or claim["original_text"] not in paras[number - 1]:
                pointer = f"{claim['_pointer']}/original_text" if claim["_pointer"] else None
                yield Issue(
                    C.SOURCE_TEXT_NOT_FOUND,
                    f"{claim['original_text']!r} does not occur in paragraph {number} of {source_id}",
                    file=claim["_file"],
                    row=claim["_line"],
                    pointer=pointer,
                    field="original_text",
                    record_id=claim["id"],
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
        require_tables(package)
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
