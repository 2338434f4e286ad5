"""Golden cases: one folder per rule code under fixtures/invalid/, run through the CLI.

A case folder holds ``input/`` (the contributed files), optionally ``texts/`` (source texts) and
``options.json``, and ``expected.json`` (exit code and every finding). ``options.json`` may give
``paths`` (instead of everything in input/), ``source_texts`` (source id -> file), or, for codes
only a package itself can raise, a package to validate with ``validate --package``: a copy of
the shipped one (or, with ``"release": true``, a release built from it), changed by
``package_patch`` (``[pointer, value]`` pairs set in its descriptor) and ``replace``
(``[file, old, new]``: the first ``old`` in that file becomes ``new``) and ``write``
(``[file, content]``: a file written into the package).
Run ``pytest tests/test_golden.py --update-golden`` to rewrite the expected files, then review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from nk_defections.cli import cli
from nk_defections.findings import codes  # noqa: F401 - registers every code
from nk_defections.findings.issues import RULES

from .conftest import ROOT, copy_package

CASES = Path(__file__).parent / "fixtures" / "invalid"
CODES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def set_pointer(document: Any, pointer: str, value: Any) -> None:
    """Set the value at an RFC 6901 pointer (creating the last key; ``-`` appends to an array)."""
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    for part in parents:
        document = document[int(part) if isinstance(document, list) else part]
    if isinstance(document, list) and last == "-":
        document.append(value)
        return
    document[int(last) if isinstance(document, list) else last] = value


def prepare_case(folder: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """Prepare a case: return the folder to run it in and its ``validate`` arguments.

    The arguments are all but ``--format``, which the caller chooses. A case that patches the
    package gets a copy of it under *tmp_path* (built into a release first where the case says
    so); the others validate their input against the shipped one.
    """
    options_file = folder / "options.json"
    options = json.loads(options_file.read_text(encoding="utf-8")) if options_file.exists() else {}
    args: list[str] = []
    if {"package_patch", "replace", "write"} & set(options):
        package = copy_package(tmp_path / "package")
        if options.get("release"):
            from nk_defections.read.bundle import open_bundle
            from nk_defections.release.build import write_release

            package = write_release(open_bundle(package), tmp_path / "dist").folder
        descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
        for pointer, value in options.get("package_patch", []):
            set_pointer(descriptor, pointer, value)
        (package / "datapackage.json").write_text(
            json.dumps(descriptor, indent=2), encoding="utf-8"
        )
        for file, content in options.get("write", []):
            (package / file).write_text(content, encoding="utf-8")
        for file, old, new in options.get("replace", []):
            text = (package / file).read_text(encoding="utf-8")
            assert old in text, (file, old)
            (package / file).write_text(text.replace(old, new, 1), encoding="utf-8")
        args += ["--package", "."]
        args.append("--frictionless" if options.get("frictionless") else "--no-frictionless")
        return package, args
    args += ["--package", str(ROOT)]
    for source_id, file in options.get("source_texts", {}).items():
        args += ["--source-text", f"{source_id}={file}"]
    inputs = folder / "input"
    args += options.get("paths") or sorted(
        p.relative_to(folder).as_posix() for p in inputs.iterdir()
    )
    return folder, args


def run_case(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    where, args = prepare_case(folder, tmp_path)
    monkeypatch.chdir(where)
    result = CliRunner().invoke(cli, ["validate", "--format", "json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    report = json.loads(result.stdout)
    return {"exit_code": result.exit_code, "valid": report["valid"], "issues": report["issues"]}


@pytest.mark.parametrize("code", CODES, ids=CODES)
def test_golden(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    folder = CASES / code
    found = run_case(folder, tmp_path, monkeypatch)
    expected_file = folder / "expected.json"
    if request.config.getoption("--update-golden"):
        expected_file.write_text(
            json.dumps(found, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    assert code in {issue["code"] for issue in found["issues"]}, (
        f"the case for {code} does not raise it"
    )
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    assert found == expected


def test_every_code_has_a_case() -> None:
    assert sorted(RULES) == CODES


def test_every_case_is_located() -> None:
    """Every finding of a case names its file and a row or a pointer, except file-wide ones."""
    for code in CODES:
        expected = json.loads((CASES / code / "expected.json").read_text(encoding="utf-8"))
        for issue in expected["issues"]:
            if issue["code"] == "source.unknown-text-source":  # about an option, not a file
                continue
            assert issue["file"], (code, issue)
            file_wide = issue["code"].startswith(("package.", "release.")) or issue["code"] in (
                "file.unreadable",
                "file.unknown-kind",
            )
            if not file_wide:
                assert issue["row"] is not None or issue["pointer"] is not None, (code, issue)
