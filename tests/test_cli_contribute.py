"""The contributor's commands through the CLI: every exit code, every output format, no traceback."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nk_defections.cli import cli, main
from nk_defections.model.package import load_package_descriptor

from .conftest import ROOT, copy_package
from .test_contributions import EXAMPLE, TEMPLATE, TEMPLATE_TEXT, envelope, person

TEXT_ARG = f"src-d128fkbd={TEMPLATE_TEXT}"


def run(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(folder: Path, name: str, data: dict | str) -> str:
    (folder / name).write_text(
        data if isinstance(data, str) else json.dumps(data, indent=1), encoding="utf-8"
    )
    return name


def line_of(folder: Path, name: str, text: str) -> int:
    """The physical line of *name* that holds *text*."""
    lines = (folder / name).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


# -- validate PATH -------------------------------------------------------------------------------------


def test_validate_a_valid_contribution_exits_0(here: Path) -> None:
    result = run("validate", TEMPLATE, "--package", ROOT, "--source-text", TEXT_ARG)
    assert result.exit_code == 0
    assert result.stdout == ""
    used, verdict = result.stderr.splitlines()
    assert used == f"package: {ROOT} (checkout)"
    assert verdict.startswith("valid: 0 errors, 0 warnings, 0 notes; 88 rows in 13 tables checked")


def test_validate_warns_of_the_template_and_add_refuses_it(tmp_path: Path) -> None:
    checked = run("validate", EXAMPLE, "--package", ROOT, "--source-text", TEXT_ARG)
    assert checked.exit_code == 0
    assert "[json.example] warning: the contribution is marked" in checked.stdout
    package = copy_package(tmp_path / "package")
    before = sorted((p.name, p.read_bytes()) for p in (package / "data").iterdir())
    added = run("add", EXAMPLE, "--package", package, "--source-text", TEXT_ARG)
    assert added.exit_code == 1
    assert "[json.example]" in added.stdout
    assert "refused: nothing was added" in added.stderr
    assert sorted((p.name, p.read_bytes()) for p in (package / "data").iterdir()) == before


def test_validate_text_output_names_file_row_field_and_code(here: Path) -> None:
    name = write(here, "c.json", envelope(people=[person(kind="individal")]))
    result = run("validate", name, "--package", ROOT)
    assert result.exit_code == 1
    assert line_of(here, name, '"individal"') == 18
    assert (
        "c.json:18 /people/0/kind [schema.enum] error: 'individal' is not an allowed kind; did you mean 'individual'?"
        in result.stdout
    )
    assert result.stderr.splitlines()[-1].startswith("invalid: 1 error, ")


def test_validate_json_output(here: Path) -> None:
    name = write(here, "c.json", envelope(people=[person(kind="individal")]))
    result = run("validate", name, "--package", ROOT, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert set(report) == {"valid", "counts", "checked", "issues"}
    assert report["valid"] is False and report["counts"] == {"error": 1, "warning": 0, "info": 1}
    assert report["checked"] == {"sources": 1, "people": 1, "claims": 1}
    enum = next(i for i in report["issues"] if i["code"] == "schema.enum")
    assert enum == {
        "code": "schema.enum",
        "severity": "error",
        "file": "c.json",
        "row": 18,
        "pointer": "/people/0/kind",
        "field": "kind",
        "record_id": None,
        "message": "'individal' is not an allowed kind; did you mean 'individual'?",
    }


def test_validate_github_annotations(here: Path) -> None:
    name = write(here, "c.json", envelope(people=[person(kind="individal")]))
    result = run("validate", name, "--package", ROOT, "--format", "github")
    assert result.exit_code == 1
    assert (
        "::error file=c.json,line=18,title=schema.enum::'individal' is not an allowed kind; did you mean 'individual'? (/people/0/kind)"
        in result.stdout.splitlines()
    )
    assert any(
        line.startswith("::notice file=c.json,line=3,title=source.text-skipped::")
        for line in result.stdout.splitlines()
    )


def test_validate_strict_fails_on_warnings(here: Path) -> None:
    name = write(here, "c.json", envelope(people=[person(name="Fixture Person ")]))
    assert run("validate", name, "--package", ROOT).exit_code == 0
    assert run("validate", name, "--package", ROOT, "--strict").exit_code == 1


@pytest.mark.parametrize(
    "args",
    [
        ["missing.json"],
        ["."],
        ["--source-text", "nonsense", "c.json"],
        ["--source-text", "src-00000001=missing.txt", "c.json"],
        ["--format", "xml", "c.json"],
    ],
)
def test_validate_usage_errors_and_unreadable_input_exit_2(here: Path, args: list[str]) -> None:
    write(here, "c.json", "{}")
    result = run("validate", *args, "--package", ROOT)
    assert result.exit_code == 2, result.output


def test_a_fault_in_our_own_code_is_one_line_and_exit_3(
    here: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("nk_defections.check.validate.check_contribution", broken)
    monkeypatch.setattr(sys, "argv", ["nk-defections", "validate", write(here, "c.json", "{}")])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 3
    captured = capsys.readouterr()
    used, fault = captured.err.splitlines()
    assert used.startswith("package: ")
    assert (
        fault == "internal error in nk-defections (RuntimeError: simulated bug); please report it"
    )
    assert captured.out == ""


def test_the_command_ends_with_its_exit_code_and_all_its_output(here: Path) -> None:
    """The installed command (`cli.run`) ends the process itself: its exit code and every
    line of its output still come through, for a valid and an invalid contribution."""
    import subprocess

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "nk_defections",
                *args,
                "--package",
                str(ROOT),
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )

    valid = command("validate", write(here, "ok.json", "{}"))
    assert valid.returncode == 0, valid.stderr
    assert json.loads(valid.stdout)["valid"] is True
    invalid = command("validate", write(here, "bad.json", envelope(people=[person(kind="crowd")])))
    assert invalid.returncode == 1, invalid.stderr
    found = [
        (i["code"], i["field"])
        for i in json.loads(invalid.stdout)["issues"]
        if i["severity"] == "error"
    ]
    assert found == [("schema.enum", "kind")]
    assert command("validate", "missing.json").returncode == 2


# -- validate --package: descriptors that point outside ----------------------------------------------


def _descriptor_with_path(package: Path, path: str) -> None:
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][1]["path"] = path
    (package / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("http://127.0.0.1:9/people.csv", "is a URL"),
        ("file:///etc/passwd", "is a URL"),
        ("/etc/passwd", "is absolute"),
        ("data/../../outside/people.csv", "contains '..'"),
        ("data/linked.csv", "resolves outside the package"),
    ],
    ids=["http", "file-url", "absolute", "dot-dot", "symlink"],
)
def test_unsafe_resource_paths_are_refused_before_anything_reads_them(
    tmp_path: Path, path: str, says: str
) -> None:
    package = copy_package(tmp_path / "package")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "people.csv").write_bytes(b"\x00 never read")
    os.symlink(outside / "people.csv", package / "data" / "linked.csv")
    _descriptor_with_path(package, path)
    result = run("validate", "--package", package, "--format", "json", "--no-frictionless")
    assert result.exit_code == 1
    (issue,) = json.loads(result.stdout)["issues"]
    assert issue["code"] == "package.descriptor" and issue["file"] == "datapackage.json"
    assert says in issue["message"]
    # A contribution checked against such a package is refused the same way.
    (tmp_path / "c.json").write_text("{}", encoding="utf-8")
    result = run("validate", tmp_path / "c.json", "--package", package, "--format", "json")
    assert [i["code"] for i in json.loads(result.stdout)["issues"]] == ["package.descriptor"]


# -- add -----------------------------------------------------------------------------------------------


def test_add_prints_what_it_added_per_resource(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    result = run("add", TEMPLATE, "--package", package, "--source-text", TEXT_ARG)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "people: added 3 (per-17zwq172, per-8bzg6zys, per-hd8fvzkn)" in lines
    assert (
        "claims: added 61 (clm-06j23tb0, clm-0dt35dhq, clm-1q7p3rv4, clm-25mhxx0k, clm-2bnzseqz, ...)"
        in lines
    )
    # it adds to every table a contribution may add to (redirects are the amendments' own)
    assert len(lines) == len(load_package_descriptor(ROOT).resources) - 1
    assert run("validate", "--package", package, "--no-frictionless").exit_code == 0


def test_add_dry_run_says_would_and_writes_nothing(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    before = (package / "data" / "people.csv").read_bytes()
    result = run("add", TEMPLATE, "--package", package, "--dry-run")
    assert result.exit_code == 0
    assert "people: would add 3 (per-17zwq172, per-8bzg6zys, per-hd8fvzkn)" in result.stdout
    assert (package / "data" / "people.csv").read_bytes() == before


def test_add_refused_exits_1_and_reports_in_every_format(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    (tmp_path / "c.json").write_text(
        json.dumps(envelope(people=[person(birth_date="2023-02-30")])), encoding="utf-8"
    )
    before = sorted((p.name, p.read_bytes()) for p in (package / "data").iterdir())
    text = run("add", tmp_path / "c.json", "--package", package)
    assert text.exit_code == 1
    assert "[date.invalid] error: '2023-02-30' is not a calendar date." in text.stdout
    assert "refused: nothing was added; data/ is unchanged" in text.stderr
    as_json = run("add", tmp_path / "c.json", "--package", package, "--format", "json")
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert data["valid"] is False and data["added"] == {} and data["merged"] is False
    github = run("add", tmp_path / "c.json", "--package", package, "--format", "github")
    assert github.exit_code == 1 and "title=date.invalid::" in github.stdout
    assert sorted((p.name, p.read_bytes()) for p in (package / "data").iterdir()) == before


def test_add_json_output_when_merged(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    result = run("add", TEMPLATE, "--package", package, "--format", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["merged"] is True and data["added"]["claims"] == 61


def test_add_usage_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = copy_package(tmp_path / "package")
    assert run("add", "--package", package).exit_code == 2  # no PATH
    assert run("add", tmp_path / "missing.json", "--package", package).exit_code == 2
    monkeypatch.setattr("nk_defections.write.canonical.is_installed_copy", lambda root: True)
    result = run("add", TEMPLATE, "--package", package)
    assert result.exit_code == 2
    assert "is the copy installed with the Python package" in result.stderr


# -- fmt -----------------------------------------------------------------------------------------------


def test_fmt_check_and_rewrite(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    assert run("fmt", "--check", "--package", package).exit_code == 0
    people = package / "data" / "people.csv"
    people.write_bytes(people.read_bytes().replace(b"\n", b"\r\n"))
    check = run("fmt", "--check", "--package", package)
    assert check.exit_code == 1
    assert check.stdout.startswith("--- a/data/people.csv\n+++ b/data/people.csv\n@@")
    rewrite = run("fmt", "--package", package)
    assert rewrite.exit_code == 0 and rewrite.stdout == "reformatted data/people.csv\n"
    assert run("fmt", "--check", "--package", package).exit_code == 0


def test_fmt_cannot_order_unreadable_tables(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    (package / "data" / "motives.csv").write_text(
        'id,event_id,motive,stated_by,note\n"unclosed\n', encoding="utf-8"
    )
    result = run("fmt", "--package", package)
    assert result.exit_code == 1
    assert "data/motives.csv:2 id [csv.malformed]" in result.stdout


# -- new-id --------------------------------------------------------------------------------------------


def test_new_id_avoids_the_ids_of_a_draft(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    draft = write(here, "draft.json", envelope(people=[person(id="per-00000000")]))
    drawn = iter("0" * 8 + "1" * 8)
    monkeypatch.setattr("nk_defections.model.ids.secrets.choice", lambda alphabet: next(drawn))
    result = run("new-id", "people", draft, "--package", ROOT)
    assert result.exit_code == 0 and result.stdout == "per-11111111\n"


def test_new_id_mints_several_and_refuses_unknown_resources() -> None:
    result = run("new-id", "claims", "-n", "3", "--package", ROOT)
    ids = result.stdout.split()
    assert result.exit_code == 0 and len(set(ids)) == 3 and all(i.startswith("clm-") for i in ids)
    assert run("new-id", "persons", "--package", ROOT).exit_code == 2


def test_every_contributor_command_has_help() -> None:
    for command in ("validate", "add", "fmt", "new-id"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.stdout


def test_the_pre_commit_hook_validates_contributions_together() -> None:
    import re

    import yaml

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert (
        hook["entry"] == "nk-defections validate"
        and hook["language"] == "python"
        and hook["require_serial"]
    )
    files = re.compile(hook["files"])
    assert all(
        files.search(p)
        for p in ["contributions/ri.json", "contributions/2024/people.csv", "contributions/x.jsonl"]
    )
    assert not any(
        files.search(p)
        for p in [
            "data/people.csv",
            "contributions/notes.md",
            "templates/contribution.example.json",
        ]
    )
