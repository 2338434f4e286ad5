"""The built wheel, installed into a clean virtual environment, carries the data and loads it typed.

Slow (it builds a wheel and installs its dependencies from the package index), but part of the
default run: nothing here skips, so CI always runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from nk_defections import load_package
from nk_defections.read.bundle import open_bundle

from .conftest import ROOT

SCRIPT = """
import json, sys
from importlib.metadata import version
import polars as pl
import nk_defections
from nk_defections import load_package, load_table
tables = load_package()
print(json.dumps({
    "module": nk_defections.__file__,
    "version": version("nk-defections"),
    "dunder_version": nk_defections.__version__,
    "tables": {name: {"rows": frame.height, "schema": {k: str(v) for k, v in frame.schema.items()}}
               for name, frame in tables.items()},
    "people_equal": load_table("people").equals(tables["people"]),
}))
"""


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_wheel_in_a_clean_venv_loads_every_table_typed(tmp_path: Path):
    wheels = tmp_path / "wheels"
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        tmp_path,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("nk_defections-*.whl")
    assert wheel.name.startswith(f"nk_defections-{open_bundle(ROOT).version}-")

    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True, clear=True)
    python = environment / "bin" / "python"
    installed = _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], tmp_path)
    assert installed.returncode == 0, installed.stderr

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    loaded = _run([str(python), "-c", SCRIPT], outside)
    assert loaded.returncode == 0, loaded.stderr
    result = json.loads(loaded.stdout)
    assert Path(result["module"]).is_relative_to(environment), "loaded the checkout, not the wheel"
    assert result["version"] == result["dunder_version"] == open_bundle(ROOT).version
    assert result["people_equal"]
    here = load_package(ROOT)
    assert result["tables"] == {
        name: {"rows": frame.height, "schema": {k: str(v) for k, v in frame.schema.items()}}
        for name, frame in here.items()
    }
    assert result["tables"]["people"]["schema"]["kind"].startswith("Enum")
    assert result["tables"]["events"]["schema"]["date_min"] == "Date"

    validated = _run([str(environment / "bin" / "nk-defections"), "validate"], outside)
    assert validated.returncode == 0, validated.stdout + validated.stderr
