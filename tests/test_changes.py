"""diff and the release check: every class of change, and the bump it needs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from nk_defections.cli import cli
from nk_defections.read.bundle import open_bundle
from nk_defections.release.build import write_release
from nk_defections.release.changes import (
    Bump,
    VersionNotBumped,
    check_version,
    diff_packages,
    version_bump,
)

from .conftest import ROOT, copy_package


def edit_descriptor(root: Path, change: Callable[[dict], None]) -> None:
    path = root / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    change(descriptor)
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def resource(descriptor: dict, table: str) -> dict:
    return next(r for r in descriptor["resources"] if r["name"] == table)


def field(descriptor: dict, table: str, name: str) -> dict:
    return next(f for f in resource(descriptor, table)["schema"]["fields"] if f["name"] == name)


def bumped(version: str, bump: Bump) -> str:
    """The least version after *version* that moves by *bump*."""
    major, minor, patch = (int(p) for p in version.split("."))
    return {
        Bump.PATCH: f"{major}.{minor}.{patch + 1}",
        Bump.MINOR: f"{major}.{minor + 1}.0",
        Bump.MAJOR: f"{major + 1}.0.0",
    }[bump]


def edit_table(root: Path, table: str, change: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
    path = root / "data" / f"{table}.csv"
    frame = pl.read_csv(path, infer_schema=False, null_values=[""])
    change(frame).write_csv(path, line_terminator="\n", null_value="")


def set_version(root: Path, version: str) -> None:
    edit_descriptor(root, lambda d: d.update(version=version))


def rename_field(d: dict) -> None:
    field(d, "people", "summary")["name"] = "abstract"


def add_field(d: dict) -> None:
    resource(d, "people")["schema"]["fields"].append({"name": "nickname", "type": "string"})


def reorder_fields(d: dict) -> None:
    fields = resource(d, "people")["schema"]["fields"]
    fields[0], fields[1] = fields[1], fields[0]


def add_resource(d: dict) -> None:
    d["resources"].append(
        {
            "name": "sanctions",
            "type": "table",
            "path": "data/sanctions.csv",
            "format": "csv",
            "schema": {
                "fields": [
                    {
                        "name": "id",
                        "type": "string",
                        "constraints": {"pattern": "snc-[0-9a-hjkmnp-tv-z]{8}"},
                    }
                ]
            },
        }
    )


def _drop_column(name: str) -> Callable[[pl.DataFrame], pl.DataFrame]:
    return lambda f: f.drop(name)


CASES = {
    # name: (descriptor change, table edits, required bump)
    "no change": (None, {}, Bump.NONE),
    "description reworded": (
        lambda d: resource(d, "people").update(description="Reworded."),
        {},
        Bump.PATCH,
    ),
    "value corrected": (
        None,
        {
            "people": lambda f: f.with_columns(
                pl.when(pl.col("id") == "per-02d95gqk")
                .then(pl.lit("Thae Yong-ho"))
                .otherwise(pl.col("name"))
                .alias("name")
            )
        },
        Bump.PATCH,
    ),
    "record added": (
        None,
        {
            "relationships": lambda f: pl.concat(
                [f, f.head(1).with_columns(id=pl.lit("rel-zzzzzzzz"))]
            )
        },
        Bump.MINOR,
    ),
    "package description reworded": (lambda d: d.update(description="Reworded."), {}, Bump.PATCH),
    "table moved to another path": (
        lambda d: resource(d, "relationships").update(path="data/family.csv"),
        {},
        Bump.NONE,
    ),
    "metadata added": (lambda d: d.update(update_frequency="monthly"), {}, Bump.MINOR),
    "table added": (add_resource, {}, Bump.MINOR),
    "vocabulary value added": (
        lambda d: field(d, "people", "gender")["constraints"]["enum"].append("unknown"),
        {},
        Bump.MINOR,
    ),
    "constraint loosened": (
        lambda d: field(d, "people", "name")["constraints"].update(maxLength=400),
        {},
        Bump.MINOR,
    ),
    "record removed": (None, {"relationships": lambda f: f.slice(1)}, Bump.MAJOR),
    "field added": (
        add_field,
        {"people": lambda f: f.with_columns(nickname=pl.lit(None, pl.String))},
        Bump.MAJOR,
    ),
    "fields re-ordered": (
        reorder_fields,
        {"people": lambda f: f.select(f.columns[1::-1] + f.columns[2:])},
        Bump.MAJOR,
    ),
    "package identifier changed": (lambda d: d.update(id="another-id"), {}, Bump.MAJOR),
    "field removed": (
        lambda d: resource(d, "people")["schema"]["fields"].remove(field(d, "people", "summary")),
        {"people": _drop_column("summary")},
        Bump.MAJOR,
    ),
    "field renamed": (
        rename_field,
        {"people": lambda f: f.rename({"summary": "abstract"})},
        Bump.MAJOR,
    ),
    "type changed": (
        lambda d: field(d, "people", "group_size_min").update(type="number"),
        {},
        Bump.MAJOR,
    ),
    "vocabulary value dropped": (
        lambda d: field(d, "people", "gender")["constraints"]["enum"].remove("other"),
        {},
        Bump.MAJOR,
    ),
    "field made required": (
        lambda d: field(d, "people", "gender")["constraints"].update(required=True),
        {},
        Bump.MAJOR,
    ),
    "bound tightened": (
        lambda d: field(d, "people", "name")["constraints"].update(maxLength=100),
        {},
        Bump.MAJOR,
    ),
    "pattern changed": (
        lambda d: field(d, "people", "nationality")["constraints"].update(pattern="[A-Z]{2}"),
        {},
        Bump.MAJOR,
    ),
}


def changed_copy(tmp_path: Path, name: str) -> Path:
    change, tables, _ = CASES[name]
    root = copy_package(tmp_path / "new")
    if change:
        edit_descriptor(root, change)
    for table, edit in tables.items():
        edit_table(root, table, edit)
    if name == "table added":
        (root / "data" / "sanctions.csv").write_text("id\nsnc-0000000a\n", encoding="utf-8")
    if name == "table moved to another path":
        (root / "data" / "relationships.csv").rename(root / "data" / "family.csv")
    return root


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_each_class_of_change_needs_its_bump(tmp_path: Path, name: str):
    new = changed_copy(tmp_path, name)
    diff = diff_packages(open_bundle(ROOT), open_bundle(new))
    assert diff.required_bump() == CASES[name][2]


@pytest.mark.parametrize(
    "name",
    [n for n in CASES if CASES[n][2] > Bump.NONE],
    ids=[n for n in CASES if CASES[n][2] > Bump.NONE],
)
def test_the_release_check_fails_below_the_required_bump_and_passes_at_it(
    tmp_path: Path, name: str
):
    new = changed_copy(tmp_path, name)
    required = CASES[name][2]
    old = open_bundle(ROOT)
    for bump in (Bump.PATCH, Bump.MINOR, Bump.MAJOR):
        set_version(new, bumped(old.version, bump))
        if bump < required:
            least = bumped(old.version, required)
            with pytest.raises(
                VersionNotBumped, match=f"need a {required} bump \\(at least {least}\\)"
            ):
                check_version(old, open_bundle(new))
        else:
            check_version(old, open_bundle(new))
    set_version(new, old.version)
    with pytest.raises(VersionNotBumped, match="did not change"):
        check_version(old, open_bundle(new))


def test_unchanged_data_passes_at_the_same_version():
    check_version(open_bundle(ROOT), open_bundle(ROOT))


def test_a_version_that_goes_backwards_fails(package_copy: Path):
    set_version(package_copy, "0.0.9")
    with pytest.raises(VersionNotBumped, match="went backwards"):
        check_version(open_bundle(ROOT), open_bundle(package_copy))


def test_version_bump():
    assert version_bump("0.1.0", "1.0.0") == Bump.MAJOR
    assert version_bump("0.1.0", "0.1.1") == Bump.PATCH
    assert version_bump("0.1.9", "0.2.0") == Bump.MINOR
    assert version_bump("0.2.0", "0.1.9") is None


def test_diff_names_the_records_and_fields_that_changed(tmp_path: Path):
    new = changed_copy(tmp_path, "value corrected")
    edit_table(
        new,
        "relationships",
        lambda f: pl.concat([f.slice(1), f.head(1).with_columns(id=pl.lit("rel-zzzzzzzz"))]),
    )
    removed = pl.read_csv(ROOT / "data/relationships.csv", infer_schema=False)["id"][0]
    diff = diff_packages(open_bundle(ROOT), open_bundle(new))
    assert diff.tables["relationships"].added == ["rel-zzzzzzzz"]
    assert diff.tables["relationships"].removed == [removed]
    [changed] = diff.tables["people"].changed
    assert (changed.id, changed.fields) == (
        "per-02d95gqk",
        {"name": ("Tae Yongho", "Thae Yong-ho")},
    )
    assert not diff.tables["events"]


def test_diff_command_compares_folders_and_zips_as_text_and_json(tmp_path: Path):
    new = changed_copy(tmp_path, "value corrected")
    set_version(new, bumped(open_bundle(ROOT).version, Bump.PATCH))
    old_release = write_release(open_bundle(ROOT), tmp_path / "old")
    new_release = write_release(open_bundle(new), tmp_path / "dist")
    runner = CliRunner()
    text = runner.invoke(cli, ["diff", str(old_release.archive), str(new_release.folder)])
    assert text.exit_code == 0, text.output
    assert "people: 0 added, 0 removed, 1 changed" in text.output
    assert "~ per-02d95gqk  name: 'Tae Yongho' → 'Thae Yong-ho'" in text.output
    as_json = runner.invoke(cli, ["diff", str(ROOT), str(new_release.archive), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["required_bump"] == "patch" and data["version_bump"] == "patch"
    assert data["tables"]["people"]["changed"] == [
        {"id": "per-02d95gqk", "fields": {"name": {"old": "Tae Yongho", "new": "Thae Yong-ho"}}}
    ]
    assert data["schema"] == []


def test_build_with_previous_refuses_a_version_not_bumped_enough(tmp_path: Path):
    previous = write_release(open_bundle(ROOT), tmp_path / "old")
    new = changed_copy(tmp_path, "record added")
    first = pl.read_csv(ROOT / "data/relationships.csv", infer_schema=False)["id"][0]
    edit_table(
        new,
        "claims",
        lambda f: pl.concat(
            [
                f,
                f.filter((pl.col("record_id") == first) & (pl.col("field") == "*"))
                .head(1)
                .with_columns(id=pl.lit("clm-zzzzzzzz"), record_id=pl.lit("rel-zzzzzzzz")),
            ]
        ),
    )
    set_version(new, bumped(previous.version, Bump.PATCH))
    out = tmp_path / "dist"
    args = [
        "build",
        "--package",
        str(new),
        "--out",
        str(out),
        "--no-frictionless",
        "--previous",
        str(previous.archive),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    minor = bumped(previous.version, Bump.MINOR)
    assert f"need a minor bump (at least {minor}): relationships: 1 record added" in result.output
    assert "+ rel-zzzzzzzz" in result.output
    assert not out.exists() or not any(out.iterdir())
    set_version(new, minor)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (out / f"nk-defections-{minor}.zip").is_file()


def test_a_refusal_names_the_least_version_and_the_changes_that_need_it(tmp_path: Path):
    new = changed_copy(tmp_path, "field added")
    old = open_bundle(ROOT)
    set_version(new, bumped(old.version, Bump.MINOR))
    with pytest.raises(VersionNotBumped) as refused:
        check_version(old, open_bundle(new))
    assert str(refused.value).endswith(
        f"need a major bump (at least {bumped(old.version, Bump.MAJOR)}): people.nickname: field added"
    )
