"""Shared fixtures and the hypothesis profiles (ci, dev, deep)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=100, deadline=None, print_blob=True)
# ci: derandomized and without deadlines, so that a run is reproducible and a slow machine no
# failure; 60 examples for a property of one value, fewer for one that validates whole packages
# (tests/test_properties.py scales them), so that the whole suite takes a few minutes on 2 cores.
# deep: `make test-deep`, on demand. The database of found examples (.hypothesis/) is not committed.
settings.register_profile(
    "deep",
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-golden`` rewrites the expected findings of tests/fixtures/invalid/ for review."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/fixtures/invalid/*/expected.json",
    )


def copy_package(target: Path) -> Path:
    """Copy the shipped descriptor and data (and the files a release carries) into *target*."""
    from nk_defections.release.build import PROJECT_FILES

    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "datapackage.json", target / "datapackage.json")
    shutil.copytree(ROOT / "data", target / "data")
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, target / name)
    return target


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped package in a temporary folder."""
    return copy_package(tmp_path / "pkg")
