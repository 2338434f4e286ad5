"""The release: deterministic, atomic, checksummed, and the same data in every format."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import zipfile
from importlib.metadata import version
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import nk_defections
from nk_defections import load_package, load_table
from nk_defections.check.integrity import ReleaseExists
from nk_defections.cli import cli
from nk_defections.model.dates import date_kind
from nk_defections.model.package import PackageError
from nk_defections.model.records import cell, flatten
from nk_defections.model.versions import parse_version
from nk_defections.read.bundle import open_bundle
from nk_defections.release.build import (
    PROJECT_FILES,
    RELEASE_FILES,
    ZIP_DATE_TIME,
    build_release,
    json_tables,
    write_release,
)

from .conftest import ROOT

TABLES = list(open_bundle(ROOT).package.resources)


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory):
    return write_release(open_bundle(ROOT), tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def descriptor(release) -> dict:
    return json.loads((release.folder / "datapackage.json").read_text(encoding="utf-8"))


def test_layout(release):
    version_ = open_bundle(ROOT).version
    assert release.folder.name == f"nk-defections-{version_}"
    assert release.archive.name == f"nk-defections-{version_}.zip"
    files = set(files_of(release.folder))
    expected = {
        "datapackage.json",
        "CODEBOOK.md",
        "README.md",
        "SHA256SUMS",
        "figures/timeline.svg",
        "figures/timeline.png",
        "sqlite/nk-defections.db",
        "disputes.csv",
        *PROJECT_FILES,
    }
    expected |= {f"data/{t}.csv" for t in TABLES} | {f"parquet/{t}.parquet" for t in TABLES}
    expected |= {f"json/{t}.json" for t in json_tables(open_bundle(ROOT).package)}
    assert files == expected
    assert set(release.files) == expected


def test_rebuild_is_byte_identical(release, tmp_path: Path):
    again = write_release(open_bundle(ROOT), tmp_path / "again")
    assert files_of(again.folder) == files_of(release.folder)
    assert again.archive.read_bytes() == release.archive.read_bytes()


def test_zip_is_the_folder_with_fixed_metadata(release):
    with zipfile.ZipFile(release.archive) as archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        assert {i.date_time for i in infos} == {ZIP_DATE_TIME}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
        prefix = release.folder.name + "/"
        assert {n.removeprefix(prefix): archive.read(n) for n in names} == files_of(release.folder)


def test_every_hash_and_size_in_the_descriptor_matches_its_file(release, descriptor):
    described = descriptor["resources"] + descriptor[RELEASE_FILES]
    paths = [entry["path"] for entry in described]
    assert sorted(paths) == sorted(
        set(files_of(release.folder)) - {"datapackage.json", "SHA256SUMS"}
    )
    for entry in described:
        data = (release.folder / entry["path"]).read_bytes()
        assert entry["bytes"] == len(data), entry["path"]
        assert entry["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), entry["path"]


def test_sha256sums_lists_every_other_file_sorted(release):
    lines = (release.folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = [line.split("  ", 1) for line in lines]
    assert [path for _, path in listed] == sorted(set(files_of(release.folder)) - {"SHA256SUMS"})
    for digest, path in listed:
        assert digest == hashlib.sha256((release.folder / path).read_bytes()).hexdigest(), path


def test_release_descriptor_passes_the_profile_check(release, descriptor):
    from nk_defections.check.rules.package import check_profile
    from nk_defections.model.package import Package

    assert list(check_profile(Package(release.folder, descriptor))) == []


def test_release_passes_frictionless(release):
    from frictionless import Package as FrictionlessPackage

    report = FrictionlessPackage(str(release.folder / "datapackage.json")).validate(
        limit_errors=10**6
    )
    assert report.valid, report.flatten(["type", "message"])[:5]
    # Assert on what it checked: every table, every row (a false pass checks nothing).
    assert sorted(task.name for task in report.tasks) == sorted(TABLES)
    rows = {task.name: task.stats.get("rows", 0) for task in report.tasks}  # none: a header alone
    assert rows == {t: load_table(t, path=ROOT).height for t in TABLES}


def test_csv_keeps_the_project_cells_and_puts_bounds_and_kind_after_each_date(release):
    bundle = open_bundle(ROOT)
    for table in TABLES:
        released = pl.read_csv(
            release.folder / f"data/{table}.csv", infer_schema=False, null_values=[""]
        )
        project = bundle.string_frame(table)
        assert_frame_equal(released.select(project.columns), project)
        expected = []
        dates = dict(bundle.package.date_columns(table))
        for name in project.columns:
            derived = [f"{name}_min", f"{name}_max", f"{name}_kind"]
            expected += [name, *derived] if name in dates else [name]
        assert released.columns == expected
        for name, interval in dates.items():
            cells = (
                released[f"{name}_min"].drop_nulls().to_list()
                + released[f"{name}_max"].drop_nulls().to_list()
            )
            assert all(len(c) == 10 and c[4] == c[7] == "-" for c in cells), (table, name)
            for value, kind in released.select(name, f"{name}_kind").rows():
                assert kind == (None if value is None else date_kind(value, interval=interval))


def test_release_csv_has_lf_line_ends_and_no_bom(release):
    for table in TABLES:
        data = (release.folder / f"data/{table}.csv").read_bytes()
        assert b"\r\n" not in data and not data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\n")


# ---- same data everywhere ---------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_polars_duckdb_and_csv_read_the_same_rows(release, table: str):
    path = release.folder / f"data/{table}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        by_csv = [
            {k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(handle)
        ]
    by_polars = pl.read_csv(path, infer_schema=False, null_values=[""]).to_dicts()
    connection = duckdb.connect()
    relation = connection.sql(
        f"select * from read_csv('{path}', all_varchar = true, header = true)"
    )
    by_duckdb = [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]
    assert by_polars == by_csv == by_duckdb
    assert len(by_csv) == load_table(table, path=ROOT).height


@pytest.mark.parametrize("table", TABLES)
def test_duckdb_reads_the_parquet_with_the_same_values(release, table: str):
    path = release.folder / f"parquet/{table}.parquet"
    typed = load_table(table, path=release.folder)
    rows = duckdb.connect().sql(f"select * from read_parquet('{path}')").fetchall()
    expected = [
        tuple(str(v) if isinstance(v, str) else v for v in row)
        for row in typed.cast(
            {name: pl.String for name, dtype in typed.schema.items() if isinstance(dtype, pl.Enum)}
        ).rows()
    ]
    assert rows == expected


@pytest.mark.parametrize("table", TABLES)
def test_parquet_equals_the_typed_csv(release, table: str):
    parquet = pl.read_parquet(release.folder / f"parquet/{table}.parquet")
    assert_frame_equal(parquet, load_table(table, path=release.folder))
    assert parquet.schema == load_table(table, path=ROOT).schema


def test_json_records_flatten_back_to_the_csv_rows(release):
    bundle = open_bundle(ROOT)
    flat: dict[str, list[dict]] = {t: [] for t in TABLES}
    for table in json_tables(bundle.package):
        for record in json.loads(
            (release.folder / f"json/{table}.json").read_text(encoding="utf-8")
        ):
            for child, row, _ in flatten(bundle.package, table, record):
                from nk_defections.release.build import release_fields

                fields = {f["name"]: f for f in release_fields(bundle.package, child)}
                flat[child].append({k: cell(fields[k], v) for k, v in row.items()})
    for table in TABLES:
        released = pl.read_csv(
            release.folder / f"data/{table}.csv", infer_schema=False, null_values=[""]
        )
        # every column of the CSV, the derived date fields included
        expected = [{k: v for k, v in row.items() if v is not None} for row in released.to_dicts()]
        assert sorted(flat[table], key=lambda r: r["id"]) == sorted(
            expected, key=lambda r: r["id"]
        ), table


def _without_derived(package, table: str, record: dict) -> dict:
    """A release JSON record without the derived date fields, its children's left out too."""
    from nk_defections.release.build import release_fields

    derived = {f["name"] for f in release_fields(package, table)} - set(package.field_names(table))
    out = {k: v for k, v in record.items() if k not in derived}
    for prop, (child, _key) in package.children(table).items():
        if prop in out:
            out[prop] = [_without_derived(package, child, item) for item in out[prop]]
    return out


def test_json_records_follow_the_json_schemas_but_for_the_derived_date_fields(release):
    from nk_defections.model.schemas import Schemas

    package = open_bundle(ROOT).package
    schemas = Schemas(package)
    stripped = 0
    for table in json_tables(package):
        validator = schemas.validator(table)
        for record in json.loads(
            (release.folder / f"json/{table}.json").read_text(encoding="utf-8")
        ):
            project = _without_derived(package, table, record)
            stripped += project != record
            assert list(validator.iter_errors(project)) == [], record["id"]
    assert stripped > 0  # the derived fields are there, and only they are left out


# ---- the loader ---------------------------------------------------------------------------------


def test_loader_types_from_the_table_schema():
    postings = load_table("postings", path=ROOT)
    assert isinstance(postings.schema["rank"], pl.Enum)
    assert postings.schema["start_date"] == pl.String
    assert postings.schema["start_date_min"] == postings.schema["start_date_max"] == pl.Date
    assert load_table("event_participants", path=ROOT).schema["count"] == pl.Int64
    assert load_table("statistics", path=ROOT).schema["value"] == pl.Float64
    assert load_table("sources", path=ROOT).schema["paragraphs"] == pl.Int64
    columns = list(postings.columns)
    assert columns[columns.index("end_date") : columns.index("end_date") + 3] == [
        "end_date",
        "end_date_min",
        "end_date_max",
    ]


def test_project_release_folder_and_zip_load_the_same(release):
    project = load_package(ROOT)
    for path in (release.folder, release.archive, release.folder / "datapackage.json"):
        loaded = load_package(path)
        assert list(loaded) == list(project)
        for table, frame in project.items():
            assert_frame_equal(loaded[table], frame)


def test_loader_reads_only_the_table_asked_for(release, tmp_path: Path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(release.folder, copy)
    (copy / "data" / "claims.csv").unlink()
    (copy / "data" / "events.csv").write_text("not,a,table\n", encoding="utf-8")
    assert load_table("people", path=copy).height == load_table("people", path=ROOT).height


def test_loader_refuses_an_altered_release(release, tmp_path: Path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(release.folder, copy)
    path = copy / "data" / "people.csv"
    path.write_bytes(path.read_bytes().replace(b"Tae Yongho", b"Tae Yong-ho"))
    with pytest.raises(PackageError, match="altered"):
        load_table("people", path=copy)


def test_loader_names_an_unknown_table():
    with pytest.raises(PackageError, match="one of: sources"):
        load_table("zzz", path=ROOT)


def test_importing_does_no_work(tmp_path: Path):
    import subprocess
    import sys

    code = (
        "import sys; import nk_defections; "
        "print(sorted(m for m in ('matplotlib', 'duckdb', 'frictionless', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# ---- codebook and figure ------------------------------------------------------------------------


def test_codebook_names_every_table_and_field_with_counts(release, descriptor):
    text = (release.folder / "CODEBOOK.md").read_text(encoding="utf-8")
    tables = load_package(ROOT)
    for resource in descriptor["resources"]:
        frame = tables[resource["name"]]
        assert f"\n## {resource['name']}\n" in text
        assert f"- **Rows:** {frame.height}\n" in text
        for field in resource["schema"]["fields"]:
            assert f"| `{field['name']}` |" in text
            assert f"| {frame[field['name']].count()} of {frame.height} |" in text
    kinds = tables["people"]["kind"].value_counts()
    for kind, count in kinds.iter_rows():
        assert f"| `{kind}` | {count} |" in text


def test_figures_carry_no_build_metadata(release):
    svg = (release.folder / "figures/timeline.svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in svg and "Matplotlib" not in svg
    png = (release.folder / "figures/timeline.png").read_bytes()
    assert (
        png.startswith(b"\x89PNG") and b"Software" not in png and b"matplotlib" not in png.lower()
    )


def test_docs_copy_of_the_figure_exists():
    assert (ROOT / "docs" / "timeline.png").stat().st_size > 10_000
    assert "docs/timeline.png" in (ROOT / "README.md").read_text(encoding="utf-8")


# ---- atomic writes -------------------------------------------------------------------------------


def test_a_rebuild_of_the_same_content_leaves_the_release_as_it_is(release, tmp_path: Path):
    bundle = open_bundle(ROOT)
    first = write_release(bundle, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in [first.archive, *first.folder.rglob("*")]}
    second = write_release(bundle, tmp_path)
    assert (second.folder, second.archive) == (first.folder, first.archive)
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [first.folder.name, first.archive.name]
    )
    # A folder or zip missing beside the other is written.
    first.archive.unlink()
    shutil.rmtree(first.folder / "figures")
    with pytest.raises(ReleaseExists, match="figures/timeline.png is missing from it"):
        write_release(bundle, tmp_path)
    shutil.rmtree(first.folder)
    third = write_release(bundle, tmp_path)
    assert third.archive.read_bytes() == release.archive.read_bytes()
    assert files_of(third.folder) == files_of(release.folder)


@pytest.mark.parametrize(
    ("change", "difference"),
    [
        ("stale", "nk-defections-0.1.0: it holds stale.txt, which this build does not"),
        ("figure", "nk-defections-0.1.0: figures/timeline.png differs"),
        ("zip", "nk-defections-0.1.0.zip: nk-defections-0.1.0.zip differs"),
    ],
)
def test_a_release_of_the_same_version_with_other_content_is_never_replaced(
    tmp_path: Path, change: str, difference: str
):
    bundle = open_bundle(ROOT)
    first = write_release(bundle, tmp_path)
    if change == "stale":
        (first.folder / "stale.txt").write_text("from an older build", encoding="utf-8")
    elif change == "figure":
        (first.folder / "figures/timeline.png").write_bytes(b"an older figure")
    else:
        first.archive.write_bytes(b"an older zip")
    before = files_of(tmp_path)
    with pytest.raises(ReleaseExists) as refused:
        write_release(bundle, tmp_path)
    message = str(refused.value).replace(f"release {bundle.version}", "release 0.1.0")
    assert difference.replace("0.1.0", bundle.version) in message
    assert "bump the version in datapackage.json, or remove the old release" in message
    assert files_of(tmp_path) == before  # nothing written, no temporary folder left


def test_build_refuses_to_overwrite_another_release_of_its_version(
    package_copy: Path, tmp_path: Path
):
    out = tmp_path / "dist"
    args = ["build", "--package", str(package_copy), "--out", str(out), "--no-frictionless"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert CliRunner().invoke(cli, args).exit_code == 0  # the same content again: fine
    people = package_copy / "data" / "people.csv"
    people.write_text(
        people.read_text(encoding="utf-8").replace(
            "Leader of North Korea.", "Leader of the North."
        ),
        encoding="utf-8",
    )
    before = files_of(out)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    (message,) = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    version_ = open_bundle(ROOT).version
    assert message.startswith(f"error: {out} already holds a release {version_} with other content")
    assert f"(nk-defections-{version_}: data/people.csv, " in message
    assert f"remove the old release ({out / f'nk-defections-{version_}'} and " in message
    assert files_of(out) == before


def test_a_release_needs_the_projects_licence_citation_and_changelog(
    package_copy: Path, tmp_path: Path
):
    (package_copy / "CITATION.cff").unlink()
    with pytest.raises(PackageError, match="has no CITATION.cff beside datapackage.json"):
        write_release(open_bundle(package_copy), tmp_path / "dist")
    assert not (tmp_path / "dist").exists() or not any((tmp_path / "dist").iterdir())


def test_a_failed_build_leaves_the_previous_release_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from nk_defections.release import build as release_module

    bundle = open_bundle(ROOT)
    first = write_release(bundle, tmp_path)
    before = files_of(first.folder), first.archive.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(release_module, "write_zip", broken)
    with pytest.raises(OSError, match="disk full"):
        write_release(bundle, tmp_path)
    assert (files_of(first.folder), first.archive.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [first.folder.name, first.archive.name]
    )


# ---- the command and the version ---------------------------------------------------------------


def test_build_refuses_an_invalid_package(package_copy: Path, tmp_path: Path):
    people = package_copy / "data" / "people.csv"
    people.write_text(
        people.read_text(encoding="utf-8").replace(",named,individual,", ",famous,individual,", 1),
        encoding="utf-8",
    )
    out = tmp_path / "dist"
    result = CliRunner().invoke(
        cli, ["build", "--package", str(package_copy), "--out", str(out), "--no-frictionless"]
    )
    assert result.exit_code == 1, result.output
    assert "data/people.csv:2" in result.output and "identity_status" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_build_command_writes_the_release(package_copy: Path, tmp_path: Path):
    out = tmp_path / "dist"
    result = CliRunner().invoke(
        cli, ["build", "--package", str(package_copy), "--out", str(out), "--no-frictionless"]
    )
    assert result.exit_code == 0, result.output
    archive = out / f"nk-defections-{open_bundle(ROOT).version}.zip"
    assert f"sha256:{hashlib.sha256(archive.read_bytes()).hexdigest()}" in result.output


def test_one_version_everywhere():
    declared = open_bundle(ROOT).version
    assert version("nk-defections") == declared == nk_defections.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{declared}]" in changelog
    section = changelog.split(f"## [{declared}]", 1)[1].split("\n## [", 1)[0]
    assert all(f"### {part}" in section for part in ("Data", "Schema", "Tools"))


def test_the_citation_and_the_changelog_follow_the_descriptors_version_and_date():
    """datapackage.json holds the version and the release date (``created``); CITATION.cff and
    the CHANGELOG's heading of that version say the same (`make generate` writes the former)."""
    from nk_defections.generate import render_citation

    descriptor = open_bundle(ROOT).descriptor
    released = descriptor["created"][:10]
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T00:00:00Z", descriptor["created"])
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    top_level = dict(re.findall(r"^([a-z-]+): (.*)$", citation, flags=re.MULTILINE))
    assert top_level["version"] == f'"{descriptor["version"]}"'
    assert top_level["date-released"] == released
    assert render_citation(citation, descriptor) == citation, "run `make generate`"
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    heading = re.search(rf"^## \[{re.escape(descriptor['version'])}\] - (.+)$", changelog, re.M)
    assert heading, f"CHANGELOG.md has no section for {descriptor['version']}"
    if heading[1] == "unreleased":
        # Between releases, `version` is the next one and `created` the latest release's day.
        released_before = re.findall(
            r"^## \[([^\]]+)\] - ([0-9]{4}-[0-9]{2}-[0-9]{2})$", changelog, re.M
        )
        latest, day = released_before[0]
        assert released == day, f"`created` is not the day {latest} was released"
        assert parse_version(descriptor["version"]) > parse_version(latest)
    else:
        assert heading[1] == released


def test_the_citation_follows_a_new_version():
    from nk_defections.generate import render_citation

    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    bumped = render_citation(citation, {"version": "9.8.7", "created": "2031-02-03T00:00:00Z"})
    assert 'version: "9.8.7"\n' in bumped and "date-released: 2031-02-03\n" in bumped
    assert bumped.count("\n") == citation.count("\n")
    with pytest.raises(ValueError, match="one top-level `version:` line"):
        render_citation("title: x\n", {"version": "1.0.0", "created": "2031-02-03"})


def _readme_block(language: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split(f"```{language}\n", 1)[1].split("```", 1)[0]


def test_readme_examples_run(release):
    namespace: dict = {}
    exec(_readme_block("python"), namespace)  # noqa: S102 - our own README
    query = _readme_block("sql").replace(f"dist/{release.folder.name}", release.folder.as_posix())
    rows = duckdb.connect().sql(query).fetchall()
    assert rows and all(row[-1] is not None for row in rows)


def test_a_release_folder_validates_as_a_package(release):
    from nk_defections.check.validate import validate_package

    report = validate_package(release.folder, frictionless=False)
    assert report.is_valid(strict=True), [i.to_dict() for i in report.issues]
    assert report.checked["events"] > 0


def test_a_release_bound_that_disagrees_with_its_date_is_reported(release, tmp_path: Path):
    import shutil

    from nk_defections.check.validate import validate_package
    from nk_defections.findings import codes

    folder = tmp_path / "copy"
    shutil.copytree(release.folder, folder)
    path = folder / "data" / "events.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split(",")
    at = header.index("date_min")
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        if len(cells) == len(header) and cells[header.index("date")] == "2016":
            cells[at] = "2016-02-01"
            lines[number - 1] = ",".join(cells)
            break
    path.write_text("\n".join(lines), encoding="utf-8")
    report = validate_package(folder, frictionless=False)
    assert {(i.code, i.row, i.field) for i in report.errors} == {
        (codes.DATE_BOUNDS, number, "date_min"),
        (codes.RELEASE_HASH_MISMATCH, None, "hash"),
    }
    # A release built so (its descriptor recording the file as it is) still has the bound wrong.
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    (entry,) = [r for r in descriptor["resources"] if r["path"] == "data/events.csv"]
    entry["hash"] = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    report = validate_package(folder, frictionless=False)
    assert {(i.code, i.row, i.field) for i in report.errors} == {
        (codes.DATE_BOUNDS, number, "date_min")
    }


def test_a_release_kind_that_disagrees_with_its_date_is_reported(release, tmp_path: Path):
    import shutil

    from nk_defections.check.validate import validate_package
    from nk_defections.findings import codes

    folder = tmp_path / "copy"
    shutil.copytree(release.folder, folder)
    path = folder / "data" / "postings.csv"
    frame = pl.read_csv(path, infer_schema=False)
    row = frame["end_date_kind"].to_list().index("year")  # a kind of the vocabulary, but wrong
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit("month"))
        .otherwise(pl.col("end_date_kind"))
        .alias("end_date_kind")
    )
    path.write_text(frame.write_csv(line_terminator="\n"), encoding="utf-8")
    report = validate_package(folder, frictionless=False)
    # The edit also changes the file the release descriptor fingerprints.
    assert {(i.code, i.row, i.field) for i in report.errors} == {
        (codes.DATE_BOUNDS, row + 2, "end_date_kind"),
        (codes.RELEASE_HASH_MISMATCH, None, "hash"),
    }


def test_a_release_built_before_the_kinds_loads_with_them_derived(release, tmp_path: Path):
    import shutil

    folder = tmp_path / "older"
    shutil.copytree(release.folder, folder)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        kinds = [f["name"] for f in resource["schema"]["fields"] if f["name"].endswith("_kind")]
        kinds = [k for k in kinds if f"{k.removesuffix('_kind')}_max" in str(resource["schema"])]
        if not kinds:
            continue
        resource["schema"]["fields"] = [
            f for f in resource["schema"]["fields"] if f["name"] not in kinds
        ]
        path = folder / resource["path"]
        older = pl.read_csv(path, infer_schema=False).drop(kinds)
        data = older.write_csv(line_terminator="\n").encode("utf-8")
        path.write_bytes(data)
        resource["bytes"], resource["hash"] = (
            len(data),
            "sha256:" + hashlib.sha256(data).hexdigest(),
        )
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    assert "date_kind" not in pl.read_csv(folder / "data" / "events.csv").columns
    for table in TABLES:
        assert_frame_equal(load_table(table, path=folder), load_table(table, path=ROOT))


def test_codebook_explains_every_kind_and_how_to_filter_on_an_open_bound(release):
    from nk_defections.model.dates import QUALIFIER_MEANINGS, SHAPES

    text = (release.folder / "CODEBOOK.md").read_text(encoding="utf-8")
    dates = text.split("\n## Dates\n", 1)[1].split("\n## ", 1)[0]
    for kind, meaning in SHAPES.items():
        assert f"| `{kind}` | {meaning} |" in dates
    for suffix in QUALIFIER_MEANINGS:
        assert f"`_{suffix}`" in dates
    assert "(date_min IS NULL OR date_min <= 'B')" in dates  # an open start may fall in a period
    assert "(date_max IS NULL" in dates
    # the kinds found in the data are counted under each date field
    events = load_table("events", path=ROOT)
    for kind, count in events["date_kind"].value_counts().iter_rows():
        assert f"| `{kind}` | {count} |" in text


# ---- a release checked against its own descriptor -----------------------------------------------


def _tampered(release, tmp_path: Path) -> Path:
    folder = tmp_path / release.folder.name
    shutil.copytree(release.folder, folder)
    return folder


@pytest.mark.parametrize(
    ("path", "old", "new", "fields"),
    [
        ("data/people.csv", b"Tae Yongho", b"Tae Yong-ho", {"bytes", "hash"}),
        ("data/people.csv", b"Tae Yongho", b"Tae Yongha", {"hash"}),
        ("json/people.json", b"Tae Yongho", b"Tae Yongha", {"hash"}),
        ("CITATION.cff", b"version:", b"version: ", {"bytes", "hash"}),
        ("figures/timeline.svg", b"<svg", b"<svg ", {"bytes", "hash"}),
    ],
)
def test_a_release_file_changed_after_the_build_is_reported(
    release, tmp_path: Path, path: str, old: bytes, new: bytes, fields: set[str]
):
    from nk_defections.check.validate import validate_package
    from nk_defections.findings import codes

    folder = _tampered(release, tmp_path)
    target = folder / path
    assert old in target.read_bytes()
    target.write_bytes(target.read_bytes().replace(old, new, 1))
    report = validate_package(folder, frictionless=False)
    found = [i for i in report.errors if i.code == codes.RELEASE_HASH_MISMATCH]
    assert [(i.file, i.field) for i in found] == [(path, "hash" if "hash" in fields else "bytes")]
    differs = " and ".join(n for n, f in (("size", "bytes"), ("sha256", "hash")) if f in fields)
    assert f"{path} is not the file the release was built with: its {differs} differ" in (
        found[0].message
    )


def test_a_release_file_the_descriptor_lists_but_the_folder_lacks_is_reported(
    release, tmp_path: Path
):
    from nk_defections.check.validate import validate_package
    from nk_defections.findings import codes

    folder = _tampered(release, tmp_path)
    (folder / "CODEBOOK.md").unlink()
    report = validate_package(folder, frictionless=False)
    assert [(i.code, i.file) for i in report.errors] == [(codes.FILE_UNREADABLE, "CODEBOOK.md")]


def test_validate_refuses_a_tampered_release_folder(release, tmp_path: Path):
    folder = _tampered(release, tmp_path)
    untouched = CliRunner().invoke(cli, ["validate", "--package", str(folder)])
    assert untouched.exit_code == 0, untouched.output
    people = folder / "data" / "people.csv"
    people.write_bytes(people.read_bytes().replace(b"Tae Yongho", b"Tae Yongha"))
    result = CliRunner().invoke(cli, ["validate", "--package", str(folder)])
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "data/people.csv hash [release.hash-mismatch] error: data/people.csv is not the file "
    )


# ---- what the zip carries for a reader -------------------------------------------------------------


def test_the_release_carries_the_projects_licence_citation_and_changelog(release):
    for name in PROJECT_FILES:
        assert (release.folder / name).read_bytes() == (ROOT / name).read_bytes(), name


def test_the_release_readme_describes_every_file_and_table(release, descriptor):
    text = (release.folder / "README.md").read_text(encoding="utf-8")
    assert text.startswith(f"# nk-defections {release.version}\n")
    described = {e["path"]: e["description"] for e in descriptor[RELEASE_FILES]}
    for path in files_of(release.folder):
        folder = path.split("/")[0]
        if folder in ("data", "parquet", "json"):
            assert f"| `{folder}/<table>.{path.rsplit('.', 1)[1]}` |" in text, path
        else:
            assert f"`{path}`" in text, path
            if path in described:
                assert described[path] in text, path
    for table, frame in load_package(ROOT).items():
        assert f"| `{table}` | {frame.height} | " in text
    for table in json_tables(open_bundle(ROOT).package):
        assert f"`{table}`" in text.split("| `json/<table>.json` |", 1)[1].split("\n", 1)[0]
    assert f"released {descriptor['created'][:10]}" in text


# ---- the pre-commit hook and the install lines name real releases --------------------------------


def test_the_pre_commit_hook_runs_the_validator_on_contributions():
    import tomllib

    import yaml

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    assert hook["language"] == "python" and hook["entry"].split()[0] in scripts
    assert hook["entry"].split()[1:] == ["validate"]
    assert hook["pass_filenames"] is True and hook["require_serial"] is True
    files = re.compile(hook["files"])
    for path in ("contributions/c.json", "contributions/a/b.jsonl", "contributions/people.csv"):
        assert files.search(path), path
    for path in ("data/people.csv", "contributions/notes.md", "README.md"):
        assert not files.search(path), path
    example = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert f"      - id: {hook['id']}\n" in example


def test_the_examples_name_a_released_version_tag():
    """`rev: vX.Y.Z` and `pip install git+…@vX.Y.Z` name tags the release steps make: released
    versions (a CHANGELOG heading with a date), no later than the current one."""
    declared = tuple(map(int, open_bundle(ROOT).version.split(".")))
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    named = []
    for name in ("README.md", "CONTRIBUTING.md", ".pre-commit-hooks.yaml"):
        text = (ROOT / name).read_text(encoding="utf-8")
        named += re.findall(r"rev: ([^\s`]+)", text) + re.findall(
            r"nk-defections@([^\s\"`]+)", text
        )
    assert named
    for tag in named:
        if tag == "vX.Y.Z":  # the release steps' own placeholder
            continue
        assert re.fullmatch(r"v[0-9]+\.[0-9]+\.[0-9]+", tag), tag
        assert tuple(map(int, tag[1:].split("."))) <= declared, tag
        assert re.search(
            rf"^## \[{re.escape(tag[1:])}\] - [0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$", changelog, re.M
        ), tag


def test_a_release_says_which_fields_are_disputed(package_copy: Path, tmp_path: Path):
    """A claim that disagrees with the package's, none preferred: a warning, then dispute rows."""
    import sqlite3

    from nk_defections.write.merge import add_contribution

    contribution = tmp_path / "dispute.json"
    claim = {
        "id": "clm-7w4vrvka",
        "record_id": "evt-3cx1n31g",  # its date, 2019, has one claim: clm-ew31h0ty
        "field": "date",
        "source_id": "src-1ekndjem",
        "paragraph": 23,
        "value": "2018",
        "original_text": "In 2019",
        "derivation": "Another year for the same words, to make a dispute.",
    }
    contribution.write_text(json.dumps({"claims": [claim]}), encoding="utf-8")
    merged = add_contribution([contribution], package=package_copy)
    assert not merged.refused
    assert [
        (i.code, i.record_id) for i in merged.report.issues if i.severity.value == "warning"
    ] == [("claim.disputed", "clm-7w4vrvka")]
    release = build_release(package_copy, tmp_path / "dist", frictionless=False)
    disputes = pl.read_csv(release.folder / "disputes.csv", infer_schema=False)
    expected = [
        ("events", "evt-3cx1n31g", "date", "2019", "clm-7w4vrvka", "2018", "src-1ekndjem", "23"),
        ("events", "evt-3cx1n31g", "date", "2019", "clm-ew31h0ty", "2019", "src-1ekndjem", "23"),
    ]
    assert disputes.rows() == expected
    with sqlite3.connect(release.folder / "sqlite/nk-defections.db") as db:
        rows = db.execute("SELECT claim_id, value, paragraph FROM disputes ORDER BY claim_id")
        assert rows.fetchall() == [("clm-7w4vrvka", "2018", 23), ("clm-ew31h0ty", "2019", 23)]


def test_the_shipped_release_has_no_dispute(release):
    assert (release.folder / "disputes.csv").read_text(encoding="utf-8") == (
        "table,record_id,field,record_value,claim_id,value,source_id,paragraph\n"
    )
