"""The release: deterministic, atomic, checksummed, and the same data in every format."""

from __future__ import annotations

import csv
import hashlib
import json
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
from nk_defections.cli import cli
from nk_defections.model.package import PackageError
from nk_defections.model.records import cell, flatten
from nk_defections.read.bundle import open_bundle
from nk_defections.release.build import RELEASE_FILES, ZIP_DATE_TIME, json_tables, write_release

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
        "SHA256SUMS",
        "figures/timeline.svg",
        "figures/timeline.png",
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
    rows = {task.name: task.stats["rows"] for task in report.tasks}
    assert rows == {t: load_table(t, path=ROOT).height for t in TABLES}


def test_csv_keeps_the_project_cells_and_puts_bounds_after_each_date(release):
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
            expected += [name, f"{name}_min", f"{name}_max"] if name in dates else [name]
        assert released.columns == expected
        for name in dates:
            cells = (
                released[f"{name}_min"].drop_nulls().to_list()
                + released[f"{name}_max"].drop_nulls().to_list()
            )
            assert all(len(c) == 10 and c[4] == c[7] == "-" for c in cells), (table, name)


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
            for child, row, _ in flatten(table, record):
                fields = {f["name"]: f for f in bundle.package.fields(child)}
                flat[child].append({k: cell(fields[k], v) for k, v in row.items()})
    for table in TABLES:
        released = pl.read_csv(
            release.folder / f"data/{table}.csv", infer_schema=False, null_values=[""]
        )
        expected = [
            {k: v for k, v in row.items() if v is not None}
            for row in released.select(bundle.package.field_names(table)).to_dicts()
        ]
        assert sorted(flat[table], key=lambda r: r["id"]) == sorted(
            expected, key=lambda r: r["id"]
        ), table


def test_json_records_follow_the_json_schemas(release):
    from nk_defections.model.schemas import Schemas

    schemas = Schemas(open_bundle(ROOT).package)
    for table in json_tables(open_bundle(ROOT).package):
        validator = schemas.validator(table)
        for record in json.loads(
            (release.folder / f"json/{table}.json").read_text(encoding="utf-8")
        ):
            assert list(validator.iter_errors(record)) == [], record["id"]


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
    with pytest.raises(KeyError, match="one of: sources"):
        load_table("persons", path=ROOT)


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


def test_rebuild_replaces_the_old_release_and_leaves_no_temporary_files(tmp_path: Path):
    bundle = open_bundle(ROOT)
    first = write_release(bundle, tmp_path)
    (first.folder / "stale.txt").write_text("from an older build", encoding="utf-8")
    second = write_release(bundle, tmp_path)
    assert not (second.folder / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [first.folder.name, first.archive.name]
    )


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
        (codes.DATE_BOUNDS, number, "date_min")
    }
