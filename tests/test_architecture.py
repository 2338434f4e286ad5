"""The stages import downwards only: the import contracts hold, and break when a lower stage
imports a higher one (docs/architecture.md draws the map)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(source_root: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(source_root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_package_keeps_its_import_contracts():
    result = lint_imports(ROOT / "validators", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "higher"),
    [
        ("model/package.py", "nk_defections.check.validate"),  # the model importing a checker
        ("read/csv.py", "nk_defections.write.journal"),  # reading importing a writer
        (
            "findings/issues.py",
            "nk_defections.report.text",
        ),  # the ground floor importing a reporter
        ("release/codebook.py", "nk_defections.write.merge"),  # siblings import each other
    ],
)
def test_a_lower_stage_importing_a_higher_one_breaks_them(tmp_path: Path, module, higher):
    copy = tmp_path / "src" / "nk_defections"
    shutil.copytree(ROOT / "validators" / "nk_defections", copy)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = copy / module
    target.write_text(target.read_text(encoding="utf-8") + f"\nimport {higher}\n", encoding="utf-8")
    result = lint_imports(tmp_path / "src", tmp_path)
    assert result.returncode == 1, result.stdout
    stage = module.split("/")[0]
    assert f"nk_defections.{stage}" in result.stdout and "is not allowed to import" in result.stdout
