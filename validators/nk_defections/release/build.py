"""The release: tables in every format, a checksummed descriptor, a codebook, a figure, a zip.

Per table CSV, JSON and Parquet, and all of them in a SQLite database.

``dist/nk-defections-<version>/`` holds::

    datapackage.json      the tables as resources (with bytes and sha256), the other files
                          under ``release_files`` (with bytes and sha256 too)
    data/<table>.csv      the project's columns plus <date>_min / <date>_max / <date>_kind
                          after every date
    json/<table>.json     nested records (DESIGN.md §2): one file per top-level table, with
                          the same derived date fields
    parquet/<table>.parquet  typed: vocabularies and kinds as Enum, bounds as Date, integers, floats
    sqlite/nk-defections.db  every table in SQLite, with keys, indexes, full-text search and
                          views (:mod:`nk_defections.release.database`), and the disputes
    disputes.csv          the disputed fields: every claim that is not deprecated on a field
                          whose claims disagree with none preferred (derived from the claims)
    CODEBOOK.md           every table and field, with types, vocabularies and counts
    figures/timeline.svg, figures/timeline.png
    README.md             what the release holds, file by file, and how to check and load it
    LICENSE, CITATION.cff, CHANGELOG.md   as they are in the project
    SHA256SUMS            every other file, ``sha256sum -c`` ready

and ``dist/nk-defections-<version>.zip`` holds that folder. Building is deterministic (the same
inputs give the same bytes, zip included) and atomic (everything is written into a temporary
folder beside the target and renamed into place). A release of the same version already in
the output folder is left as it is when the build gives the same bytes, and refused otherwise:
a version, once built, stands for one content.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from nk_defections.findings.issues import Report
from nk_defections.model.dates import DATE_KINDS
from nk_defections.model.frames import LOCATION_SCHEMA, marked
from nk_defections.model.package import CLAIMS, RELEASE_FILES, Package, PackageError
from nk_defections.model.records import nest, typed_value
from nk_defections.read.bundle import Bundle, bound_names, kind_name, open_bundle
from nk_defections.read.load import polars_schema, typed_frame

#: Every zip entry gets this timestamp and mode, so that the zip depends on content alone.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_FILE_MODE = 0o100644
#: Fixed Parquet settings: the bytes depend on the data and the polars version only.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 10,
    "statistics": True,
}
#: What the timeline figure shows (its description in the release descriptor, its caption online).
FIGURE_DESCRIPTION = (
    "Every person's postings and the events they took part in, at the precision the sources give."
)
#: Files of the project a release carries as they are: (mediatype, format, what it is).
PROJECT_FILES: dict[str, tuple[str, str, str]] = {
    "LICENSE": ("text/plain", "txt", "The licence of the nk-defections code."),
    "CITATION.cff": (
        "application/yaml",
        "cff",
        "How to cite this release (Citation File Format).",
    ),
    "CHANGELOG.md": (
        "text/markdown",
        "md",
        "What changed in the data, the schemas and the tools, release by release.",
    ),
}
#: The disputed fields, derived from the claims (:func:`nk_defections.check.rules.values.disputes`).
DISPUTES = "disputes.csv"
DISPUTES_DESCRIPTION = (
    "The disputed fields, derived from the claims: one row per claim that is not deprecated on "
    "a field of a record whose claims disagree (different values; dates whose ranges do not "
    "meet) with none preferred, with the record's value (record_value), the claim's value and "
    "where it is cited (source_id, paragraph). Also the table disputes of the SQLite database."
)
README = "README.md"
README_DESCRIPTION = "What this release holds, file by file, and how to check and load it."
#: What each per-table file of a release is (README.md says it once per folder).
CSV_NOTE = "the project's columns, with `<date>_min` / `<date>_max` (ISO dates) after every date"
PARQUET_NOTE = "typed: vocabularies as Enum, date bounds as Date, integers and numbers as declared"


class ReleaseRefused(Exception):
    """The package is not valid, so no release is built; :attr:`report` says why."""

    def __init__(self, report: Report) -> None:
        super().__init__("the package has errors; no release was built")
        self.report = report


class UnsafeCell(Exception):
    """A cell that a spreadsheet would run as a formula reached the tables: no release is built.

    The validator refuses such cells (``record.formula``); this is the writer's own guard, for a
    package that was not validated first.
    """


class MissingDependency(Exception):
    """A package that the release needs (matplotlib, for the figure) is not installed."""


@dataclass(frozen=True)
class Release:
    """A built release: its folder, its zip, and the files in the folder."""

    version: str
    folder: Path
    archive: Path
    files: tuple[str, ...]

    def archive_sha256(self) -> str:
        """The sha256 of the zip."""
        return hashlib.sha256(self.archive.read_bytes()).hexdigest()


def release_name(version: str) -> str:
    """The folder and zip stem of a release.

    Examples
    --------
    >>> release_name("0.1.0")
    'nk-defections-0.1.0'
    """
    return f"nk-defections-{version}"


def sha256_hash(data: bytes) -> str:
    """The Data Package v2 ``hash`` of *data*: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def json_tables(package: Package) -> list[str]:
    """Tables written as JSON files: those whose records are not nested in another's."""
    return [t for t in package.resources if not package.nested_in(t)]


def build_release(
    root: Path | str | None = None,
    out: Path | str = "dist",
    *,
    previous: Path | str | None = None,
    frictionless: bool = True,
) -> Release:
    """Validate the package, check its version against the previous release, and build the release.

    Parameters
    ----------
    root
        The package folder (a checkout); ``None`` finds it as DESIGN.md §3 says.
    out
        Where ``nk-defections-<version>/`` and its zip are written.
    previous
        The previous release (a folder or zip) or package; when given, the build fails unless
        the version is bumped at least as much as the changes since then require.
    frictionless
        Also run frictionless in the validation (slower; on by default).

    Raises
    ------
    ReleaseRefused
        If the package has any error.
    nk_defections.release.changes.VersionNotBumped
        If *previous* is given and the version is not bumped enough.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     build_release(out=out, frictionless=False).folder.name == release_name(open_bundle().version)
    True
    """
    from nk_defections.check.validate import validate_package

    bundle = open_bundle(root)
    report = validate_package(bundle.location, frictionless=frictionless)
    if not report.is_valid():
        raise ReleaseRefused(report)
    if previous is not None:
        from nk_defections.release.changes import check_version

        check_version(open_bundle(previous), bundle)
    return write_release(bundle, Path(out))


def write_release(bundle: Bundle, out: Path) -> Release:
    """Write the release of *bundle* into *out*, without validating it first.

    Raises
    ------
    nk_defections.check.integrity.ReleaseExists
        If *out* already holds a release of this version (folder or zip) that differs from
        what this build gives; nothing is written then.
    """
    from nk_defections.check.integrity import ReleaseExists, release_difference

    name = release_name(bundle.version)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out))
    try:
        folder = staging / name
        files = write_contents(bundle, folder)
        write_zip(folder, staging / f"{name}.zip", files)
        target, archive = out / name, out / f"{name}.zip"
        for built, existing in ((folder, target), (staging / f"{name}.zip", archive)):
            difference = release_difference(built, existing) if existing.exists() else None
            if difference:
                raise ReleaseExists(
                    f"{out} already holds a release {bundle.version} with other content "
                    f"({existing.name}: {difference}). A version, once built, stands for one "
                    f"content: bump the version in datapackage.json, or remove the old release "
                    f"({target} and {archive}) to build {bundle.version} again"
                )
        # The same bytes are there already (a rebuild): they are left as they are.
        if not target.exists():
            folder.rename(target)
        if not archive.exists():
            os.replace(staging / f"{name}.zip", archive)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Release(bundle.version, target, archive, tuple(files))


def _release_csv(
    package: Package, table: str, strings: pl.DataFrame, typed: pl.DataFrame
) -> pl.DataFrame:
    """The project's cells as they are, plus the bounds as ISO dates and the kinds.

    Columns in the typed frame's order.
    """
    columns = [
        strings[name]
        if name in strings.columns
        else typed[name].dt.strftime("%Y-%m-%d")
        if dtype == pl.Date()
        else typed[name].cast(pl.String)
        for name, dtype in polars_schema(package, table).items()
    ]
    return pl.DataFrame(columns)


def derived_fields(field: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields a release adds after a date field: its bounds and its kind.

    Examples
    --------
    >>> [f["name"] for f in derived_fields({"name": "end_date", "type": "string"})]
    ['end_date_min', 'end_date_max', 'end_date_kind']
    """
    low, high = bound_names(field["name"])
    return [
        {
            "name": low,
            "type": "date",
            "description": f"Earliest day `{field['name']}` can mean, derived from it; empty when open at the start.",
        },
        {
            "name": high,
            "type": "date",
            "description": f"Latest day `{field['name']}` can mean, derived from it; empty when open at the end.",
        },
        {
            "name": kind_name(field["name"]),
            "type": "string",
            "description": f"What `{low}` and `{high}` mean, derived from `{field['name']}`: one day, "
            "month or year; one day in a range; a span; open at the start or end; with a suffix "
            "for a qualified value (see the codebook, Dates).",
            "constraints": {"enum": list(DATE_KINDS)},
        },
    ]


def release_fields(package: Package, table: str) -> list[dict[str, Any]]:
    """The fields of *table* in a release.

    The declared ones, with :func:`derived_fields` after each date.
    """
    dates = dict(package.date_columns(table))
    fields = []
    for field in package.fields(table):
        fields.append(field)
        if field["name"] in dates:
            fields += derived_fields(field)
    return fields


def _release_resource(package: Package, table: str, data: bytes) -> dict[str, Any]:
    resource = dict(package.resources[table])
    fields = release_fields(package, table)
    resource["schema"] = {**resource["schema"], "fields": fields}
    resource["path"] = f"data/{table}.csv"
    resource["bytes"] = len(data)
    resource["hash"] = sha256_hash(data)
    return resource


def _extra_file(
    path: str, data: bytes, mediatype: str, description: str, **more: str
) -> dict[str, Any]:
    return {
        "path": path,
        "format": path.rsplit(".", 1)[-1],
        "mediatype": mediatype,
        **more,
        "description": description,
        "bytes": len(data),
        "hash": sha256_hash(data),
    }


def _refuse_formulas(table: str, frame: pl.DataFrame) -> None:
    """Raise :class:`UnsafeCell` naming the first cell of *frame* a spreadsheet would run."""
    from nk_defections.model.spreadsheet import formula_expr

    for column in frame.columns:
        if frame.schema[column] != pl.String:
            continue
        hits = frame.select(pl.col("id"), formula_expr(column).alias("_hit")).filter("_hit")
        if hits.height:
            raise UnsafeCell(
                f"data/{table}.csv: {column!r} of {hits['id'][0]} would run as a formula in a "
                f"spreadsheet ({hits.height} such cells); validate the package and correct them"
            )


def render_json(records: list[dict[str, Any]]) -> bytes:
    """Canonical JSON text of a list of records."""
    return (json.dumps(records, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_contents(bundle: Bundle, folder: Path) -> list[str]:
    """Write every file of the release into *folder*; return their paths, sorted."""
    from nk_defections.release.codebook import render_codebook
    from nk_defections.release.readme import render_release_readme

    try:
        import matplotlib  # noqa: F401 - imported lazily by the figure; checked here to fail early

        from nk_defections.release.figure import draw_timeline, write_figure
    except ImportError as exc:
        raise MissingDependency(
            f"the release figure needs matplotlib: pip install 'nk-defections[release]' ({exc})"
        ) from exc
    try:
        import sqlite_utils  # noqa: F401 - imported by the database; checked here to fail early
    except ImportError as exc:
        raise MissingDependency(
            f"the release database needs sqlite-utils: pip install 'nk-defections[release]' ({exc})"
        ) from exc

    package = bundle.package
    written: dict[str, bytes] = {}

    def put(path: str, data: bytes) -> bytes:
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written[path] = data
        return data

    strings = {t: bundle.string_frame(t) for t in package.resources}
    typed = {t: typed_frame(package, t, strings[t]) for t in package.resources}
    resources, extras = [], []

    released = {t: _release_csv(package, t, strings[t], typed[t]) for t in package.resources}
    for table, frame in released.items():
        _refuse_formulas(table, frame)
    for table in package.resources:
        data = put(
            f"data/{table}.csv",
            released[table]
            .write_csv(line_terminator="\n", null_value="", quote_style="necessary")
            .encode("utf-8"),
        )
        resources.append(_release_resource(package, table, data))

    rows = {t: list(_json_rows(package, t, released[t])) for t in package.resources}
    nested = nest(package, rows)
    for table in [*json_tables(package), *(t for t in nested if t not in json_tables(package))]:
        data = put(f"json/{table}.json", render_json(nested.get(table, [])))
        extras.append(
            _extra_file(
                f"json/{table}.json",
                data,
                "application/json",
                _json_description(package, table),
                resource=table,
            )
        )

    for table in package.resources:
        path = f"parquet/{table}.parquet"
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        typed[table].write_parquet(target, **PARQUET_OPTIONS)
        data = written.setdefault(path, target.read_bytes())
        extras.append(
            _extra_file(
                path,
                data,
                "application/vnd.apache.parquet",
                f"{table}, {PARQUET_NOTE}.",
                resource=table,
            )
        )

    disputed = disputed_fields(package, strings)
    data = put(
        DISPUTES,
        disputed.write_csv(line_terminator="\n", null_value="", quote_style="necessary").encode(
            "utf-8"
        ),
    )
    extras.append(_extra_file(DISPUTES, data, "text/csv", DISPUTES_DESCRIPTION))

    extras.append(_database_file(package, typed, folder, written, {"disputes": disputed}))

    figure = draw_timeline(typed, bundle.version)
    for path, mediatype in (
        ("figures/timeline.svg", "image/svg+xml"),
        ("figures/timeline.png", "image/png"),
    ):
        data = put(path, write_figure(figure, path.rsplit(".", 1)[-1]))
        extras.append(
            _extra_file(
                path,
                data,
                mediatype,
                FIGURE_DESCRIPTION,
            )
        )

    descriptor = {
        k: v for k, v in bundle.descriptor.items() if k not in ("resources", RELEASE_FILES)
    }
    descriptor["resources"] = resources
    codebook = put("CODEBOOK.md", render_codebook(descriptor, typed).encode("utf-8"))
    extras.append(
        _extra_file(
            "CODEBOOK.md",
            codebook,
            "text/markdown",
            "Every table and field: type, vocabulary, description, counts.",
        )
    )
    for path, (mediatype, file_format, description) in PROJECT_FILES.items():
        data = put(path, _project_file(bundle, path))
        extras.append(_extra_file(path, data, mediatype, description, format=file_format))
    descriptor[RELEASE_FILES] = sorted(extras, key=lambda e: e["path"])
    row_counts = {table: frame.height for table, frame in typed.items()}
    readme = put(README, render_release_readme(descriptor, row_counts).encode("utf-8"))
    extras.append(_extra_file(README, readme, "text/markdown", README_DESCRIPTION))
    descriptor[RELEASE_FILES] = sorted(extras, key=lambda e: e["path"])
    put(
        "datapackage.json",
        (json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
    )
    put("SHA256SUMS", render_sha256sums(written).encode("utf-8"))
    return sorted(written)


def disputed_fields(package: Package, strings: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """The disputed fields of a package's tables (string frames), as the rule that warns of them finds them.

    The rows of ``disputes.csv`` and of the table ``disputes`` of the database
    (:func:`nk_defections.check.rules.values.disputes`).
    """
    from nk_defections.check.rules import Context
    from nk_defections.check.rules.values import disputes

    located = [pl.lit(None, dtype).alias(name) for name, dtype in LOCATION_SCHEMA.items()]
    frames = {
        table: marked(frame.with_columns(located), csv=True, report=True)
        for table, frame in strings.items()
    }
    return disputes(Context(package, frames))


def _database_file(
    package: Package,
    typed: Mapping[str, pl.DataFrame],
    folder: Path,
    written: dict[str, bytes],
    derived: Mapping[str, pl.DataFrame],
) -> dict[str, Any]:
    """Build the SQLite database into *folder* (see :mod:`nk_defections.release.database`); its entry."""
    from nk_defections.release.database import DATABASE_PATH, build_database, views

    target = folder / DATABASE_PATH
    build_database(
        package,
        {t: release_fields(package, t) for t in package.resources},
        typed,
        target,
        derived=derived,
    )
    data = written.setdefault(DATABASE_PATH, target.read_bytes())
    names = ", ".join(view.name for view in views(package))
    return _extra_file(
        DATABASE_PATH,
        data,
        "application/vnd.sqlite3",
        "Every table in SQLite, typed, with its keys, indexes on references and full-text search "
        f"over names, titles and summaries; the views {names}; the table "
        f"{', '.join(derived)} ({DISPUTES}). Open it in Datasette "
        "(nk-defections serve) or any SQLite client.",
    )


def _json_rows(package: Package, table: str, released: pl.DataFrame) -> Iterator[dict[str, Any]]:
    """Typed JSON rows of the release CSV of *table*, derived date fields included.

    Empty ones are left out, as every empty value is.
    """
    fields = release_fields(package, table)
    for row in released.iter_rows(named=True):
        typed = ((f["name"], typed_value(f, row[f["name"]])) for f in fields)
        yield {name: value for name, value in typed if value is not None}


def _project_file(bundle: Bundle, path: str) -> bytes:
    """A file of the project that the release carries, read beside the descriptor."""
    try:
        return bundle.read_bytes(path)
    except (OSError, PackageError) as exc:
        raise PackageError(
            f"{bundle.location} has no {path} beside datapackage.json, and a release carries "
            f"{', '.join(PROJECT_FILES)}: build it from a checkout of the repository"
        ) from exc


def _json_description(package: Package, table: str) -> str:
    parts = [
        prop if child == CLAIMS else f"{prop} ({child})"
        for prop, (child, _) in package.children(table).items()
    ]
    inside = f", each with its {', '.join(parts)} nested" if parts else ""
    return (
        f"Records of {table} as JSON{inside}; see schemas/{table}.schema.json in the project. "
        "After every date, its derived <date>_min, <date>_max and <date>_kind, as in the CSV."
    )


def render_sha256sums(files: Mapping[str, bytes]) -> str:
    """``sha256sum`` output for *files* (path -> bytes), sorted by path.

    Examples
    --------
    >>> render_sha256sums({"b": b"", "a": b"x"}).splitlines()[0][-3:]
    '  a'
    """
    return "".join(f"{hashlib.sha256(files[path]).hexdigest()}  {path}\n" for path in sorted(files))


def write_zip(folder: Path, target: Path, files: list[str]) -> None:
    """Zip *files* of *folder* under its name, with fixed timestamps and modes, in sorted order."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(f"{folder.name}/{path}", date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = (
                3  # Unix, whatever builds it, so that the modes below mean the same
            )
            info.external_attr = ZIP_FILE_MODE << 16
            archive.writestr(info, (folder / path).read_bytes(), compresslevel=9)
