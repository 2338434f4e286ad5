"""The examples in the docstrings run, and say what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import nk_defections


def _examples(name: str) -> int:
    return sum(
        len(test.examples) for test in doctest.DocTestFinder().find(importlib.import_module(name))
    )


MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(nk_defections.__path__, prefix="nk_defections.")
    if not info.name.endswith("__main__") and _examples(info.name)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes files writes them here
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} examples in {name} failed (run pytest --doctest-modules on it)"
    )


def test_the_examples_are_found():
    # A finder that found nothing would make every case above vanish, not fail.
    assert len(MODULES) >= 10
    assert sum(map(_examples, MODULES)) >= 40
