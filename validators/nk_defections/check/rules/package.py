"""Checks of a package as a whole, which look at its files and texts rather than its frames.

The descriptor against the Data Package profile, a merge left half done, frictionless's second
opinion, and the source texts (the evidence check): plain functions, each yielding Issues, that
the orchestrator (:mod:`nk_defections.check.validate`) calls.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.files import JOURNAL
from nk_defections.model.frames import FILE, LINE, POINTER, REPORT
from nk_defections.model.limits import read_file
from nk_defections.model.package import Package
from nk_defections.model.versions import is_semver


@cache
def _profile() -> dict[str, Any]:
    path = Path(__file__).parents[2] / "model" / "profiles" / "datapackage-2.0.json"
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _profile_validator() -> Any:
    from jsonschema import Draft7Validator

    return Draft7Validator(_profile(), format_checker=Draft7Validator.FORMAT_CHECKER)


@cache
def _profile_prefilter() -> Any:
    """Build jsonschema-rs with the profile, or None if it cannot be (jsonschema alone is exact).

    It calls back jsonschema's own Draft 7 format checks, so that both judge formats alike.
    """
    try:
        import jsonschema_rs
        from jsonschema import Draft7Validator

        from nk_defections.model.schemas import format_functions

        formats = format_functions(Draft7Validator.FORMAT_CHECKER)
        return jsonschema_rs.Draft7Validator(_profile(), formats=formats, validate_formats=True)
    except Exception:  # noqa: BLE001
        return None


def check_profile(package: Package) -> Iterator[Issue]:
    """Check the descriptor against the Data Package 2.0 profile, and its version as semver."""
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
    # The profile types `version` as any string (frictionless accepts "banana"); releases need
    # semver.
    version = descriptor.get("version")
    if not is_semver(version):
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


def check_interrupted_merge(package: Package) -> Iterator[Issue]:
    """Find a journal left by a killed ``add``: some files may hold the new state, some the old."""
    if (package.root / JOURNAL).exists():
        yield Issue(
            C.PACKAGE_INTERRUPTED_MERGE,
            f"an interrupted `nk-defections add` left {JOURNAL}: "
            "the data files may be half merged; "
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
        starts = lines.get(file, ()) if file is not None else ()
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
    r"""Split a source text into its paragraphs: its non-empty lines, in order.

    Examples
    --------
    >>> paragraphs("One.\n\n  \nTwo.\n")
    ['One.', 'Two.']
    """
    return [line for line in text.splitlines() if line.strip()]


def check_source_texts(
    package: Package, frames: Mapping[str, pl.DataFrame], texts: Mapping[str, Path]
) -> Iterator[Issue]:
    """Check a source's text against its fingerprint, and every claim's words in it (evidence)."""
    sources = {r["id"]: r for r in frames["sources"].iter_rows(named=True)}
    for source_id in texts:
        if source_id not in sources:
            yield Issue(
                C.SOURCE_UNKNOWN,
                f"--source-text names {source_id!r}, which is not a source of the package",
                field="id",
            )
    for source_id, source in sources.items():
        where = dict(file=source[FILE], row=source[LINE], record_id=source_id)
        path = texts.get(source_id)
        if path is None:
            yield Issue(
                C.SOURCE_TEXT_SKIPPED,
                f"no text given for {source_id}: "
                "its sha256, paragraph count and original_text were not checked",
                **where,
            )
            continue
        data = read_file(path)  # a regular file within the limits; else exit 2
        digest = hashlib.sha256(data).hexdigest()
        if digest != source["content_sha256"]:
            yield Issue(
                C.SOURCE_SHA256,
                f"{Path(path).name} has sha256 {digest[:12]}…, "
                f"the record says {str(source['content_sha256'])[:12]}…",
                field="content_sha256",
                **where,
            )
        paras = paragraphs(data.decode("utf-8", errors="replace"))
        if str(len(paras)) != str(source["paragraphs"]):
            yield Issue(
                C.SOURCE_PARAGRAPHS,
                f"{Path(path).name} has {len(paras)} paragraphs, "
                f"the record says {source['paragraphs']}",
                field="paragraphs",
                **where,
            )
        claims = frames["claims"].filter(
            (pl.col("source_id") == source_id)
            & pl.col("original_text").is_not_null()
            & pl.col(REPORT)
        )
        for claim in claims.iter_rows(named=True):
            try:
                number = int(claim["paragraph"])
            except (TypeError, ValueError):
                continue
            if not 1 <= number <= len(paras) or claim["original_text"] not in paras[number - 1]:
                pointer = f"{claim[POINTER]}/original_text" if claim[POINTER] else None
                found = [i for i, para in enumerate(paras, 1) if claim["original_text"] in para]
                yield Issue(
                    C.SOURCE_TEXT_NOT_FOUND,
                    f"{claim['original_text']!r} does not occur "
                    f"in paragraph {number} of {source_id}{_found_in(found)}",
                    file=claim[FILE],
                    row=claim[LINE],
                    pointer=pointer,
                    field="original_text",
                    record_id=claim["id"],
                )


def _found_in(paragraphs: list[int]) -> str:
    """Where else a quote occurs, for a claim that cites the wrong paragraph.

    Examples
    --------
    >>> _found_in([3]), _found_in([2, 5]), _found_in([])
    ('; it occurs in paragraph 3: cite that one', '; it occurs in paragraphs 2, 5', '')
    """
    if not paragraphs:
        return ""
    if len(paragraphs) == 1:
        return f"; it occurs in paragraph {paragraphs[0]}: cite that one"
    return f"; it occurs in paragraphs {', '.join(map(str, paragraphs))}"
