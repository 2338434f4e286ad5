"""The package a command or loader uses: this dataset's, never another's, and said out loud."""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from nk_defections import load_table
from nk_defections.cli import cli, main
from nk_defections.model.locate import CHECKOUT, RELEASE, WrongPackage, locate_package
from nk_defections.model.resources import package_root
from nk_defections.read.bundle import open_bundle
from nk_defections.release.build import write_release

from .conftest import ROOT, copy_package
from .test_contributions import TEMPLATE

OTHER = {"name": "weather-stations", "resources": [{"name": "readings", "path": "readings.csv"}]}


def other_project(folder: Path) -> Path:
    """A folder holding another project's data package."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "datapackage.json").write_text(json.dumps(OTHER), encoding="utf-8")
    (folder / "readings.csv").write_text("id,value\n1,2\n", encoding="utf-8")
    return folder


def run_main(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    """Run the command as it is installed (errors become messages and exit codes)."""
    monkeypatch.setattr(sys, "argv", ["nk-defections", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory):
    return write_release(open_bundle(ROOT), tmp_path_factory.mktemp("dist"))


# ---- the nearest package above the current directory -------------------------------------------


def test_another_projects_package_above_the_current_directory_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    project = other_project(tmp_path / "weather")
    inside = project / "notebooks"
    inside.mkdir()
    monkeypatch.chdir(inside)
    located = locate_package()
    assert located.root == package_root() and located.fallback
    assert located.passed_over == ((project / "datapackage.json", "weather-stations"),)
    assert_frame_equal(load_table("people"), load_table("people", path=ROOT))

    code, out, err = run_main(["validate", "--format", "json"], monkeypatch, capsys)
    assert code == 0, err
    assert json.loads(out)["valid"] is True
    used = err.splitlines()[0]
    assert used.startswith(f"package: {package_root()} (")
    assert "no nk-defections package at or above the current directory" in used
    assert f"{project / 'datapackage.json'} was passed over" in used
    assert "'weather-stations'" in used


def test_this_datasets_package_above_another_projects_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    ours = copy_package(tmp_path / "ours")
    theirs = other_project(ours / "vendor" / "weather")
    monkeypatch.chdir(theirs)
    located = locate_package()
    assert (located.root, located.kind, located.fallback) == (ours, CHECKOUT, False)
    assert located.describe().startswith(f"package: {ours} (checkout; ")


def test_a_package_inside_another_project_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    theirs = other_project(tmp_path / "weather")
    ours = copy_package(theirs / "nk")
    monkeypatch.chdir(ours / "data")
    located = locate_package()
    assert (located.root, located.kind, located.passed_over) == (ours, CHECKOUT, ())
    assert located.describe() == f"package: {ours} (checkout)"


def test_an_unreadable_descriptor_is_not_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    # Whose it is cannot be told: taking the installed copy instead would call a broken
    # checkout valid.
    package = copy_package(tmp_path / "broken")
    (package / "datapackage.json").write_text("{not json", encoding="utf-8")
    monkeypatch.chdir(package)
    code, out, err = run_main(["validate", "--format", "json"], monkeypatch, capsys)
    assert code == 1
    assert [i["code"] for i in json.loads(out)["issues"]] == ["package.descriptor"]
    assert err.splitlines()[0] == f"package: {package} (checkout)"


def test_a_release_folder_is_found_and_named(
    release, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.chdir(release.folder / "data")
    assert locate_package().root == release.folder
    assert_frame_equal(load_table("events"), load_table("events", path=release.folder))
    code, _, err = run_main(["validate"], monkeypatch, capsys)
    assert code == 0, err
    assert err.splitlines()[0] == f"package: {release.folder} (release)"
    assert locate_package(release.archive).kind == RELEASE


# ---- a package given explicitly ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--package", "{other}"],
        ["validate", str(TEMPLATE), "--package", "{other}"],
        ["add", str(TEMPLATE), "--dry-run", "--package", "{other}"],
        ["fmt", "--check", "--package", "{other}"],
        ["new-id", "people", "--package", "{other}"],
        ["build", "--package", "{other}", "--out", "dist", "--no-frictionless"],
        ["diff", str(ROOT), "{other}"],
    ],
    ids=lambda args: " ".join(a for a in args[:2] if not a.startswith(("{", "/"))),
)
def test_another_projects_package_given_explicitly_is_refused_with_how_to_choose(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    other = other_project(tmp_path / "weather")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main([a.format(other=other) for a in args], monkeypatch, capsys)
    assert code == 2
    assert out == ""
    message = err.splitlines()[-1]
    assert message.startswith(f"error: {other} holds another package ('weather-stations'), ")
    assert "not nk-defections" in message and "--package" in message and "path=" in message
    assert "Traceback" not in err
    assert not (tmp_path / "dist").exists()


def test_the_loader_refuses_another_projects_package_and_says_how_to_choose(tmp_path: Path):
    other = other_project(tmp_path / "weather")
    with pytest.raises(WrongPackage, match=r"another package \('weather-stations'\).*path="):
        load_table("people", path=other)
    with pytest.raises(WrongPackage, match="weather-stations"):
        load_table("people", path=other / "datapackage.json")
    archive = tmp_path / "weather.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(other / "datapackage.json", "weather/datapackage.json")
    with pytest.raises(WrongPackage, match="weather-stations"):
        load_table("people", path=archive)


def test_a_descriptor_without_a_name_is_not_this_datasets(tmp_path: Path):
    package = copy_package(tmp_path / "nameless")
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    del descriptor["name"]
    (package / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    with pytest.raises(WrongPackage, match="a package with no name"):
        load_table("people", path=package)


# ---- every command says which package it used ---------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--package", "{package}"],
        ["validate", str(TEMPLATE), "--package", "{package}"],
        ["add", str(TEMPLATE), "--dry-run", "--package", "{package}"],
        ["fmt", "--check", "--package", "{package}"],
        ["new-id", "people", "--package", "{package}"],
    ],
    ids=lambda args: " ".join(a for a in args[:2] if not a.startswith(("{", "/"))),
)
def test_every_command_says_on_stderr_which_package_it_used(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    package = copy_package(tmp_path / "pkg")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [a.format(package=package) for a in args])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == f"package: {package} (checkout)"
    assert "package:" not in result.stdout


def test_build_and_diff_say_which_packages_they_used(release, tmp_path: Path):
    package = copy_package(tmp_path / "pkg")
    out = tmp_path / "dist"
    built = CliRunner().invoke(
        cli,
        ["build", "--package", str(package), "--out", str(out), "--no-frictionless"]
        + ["--previous", str(release.archive)],
    )
    assert built.exit_code == 0, built.output
    assert built.stderr.splitlines()[:2] == [
        f"package: {package} (checkout)",
        f"previous: {release.archive} (release)",
    ]
    compared = CliRunner().invoke(cli, ["diff", str(release.folder), str(package)])
    assert compared.exit_code == 0, compared.output
    assert compared.stderr.splitlines() == [
        f"old: {release.folder} (release)",
        f"new: {package} (checkout)",
    ]


def test_the_installed_copy_is_named_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    installed = tmp_path / "site-packages" / "nk_defections" / "_package"
    shutil.copytree(copy_package(tmp_path / "pkg"), installed)
    monkeypatch.setattr("nk_defections.model.locate.package_root", lambda: installed)
    monkeypatch.setattr(
        "nk_defections.model.locate.is_installed_copy", lambda root: root == installed
    )
    monkeypatch.chdir(tmp_path)
    assert locate_package().describe() == (
        f"package: {installed} (installed copy: no nk-defections package at or above the "
        "current directory)"
    )
