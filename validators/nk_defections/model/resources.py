"""Where the shipped data package lives: inside the wheel, or at the root of a checkout."""

from __future__ import annotations

import os
from pathlib import Path


def package_root() -> Path:
    """Return the folder that holds the shipped ``datapackage.json``.

    A wheel carries the package under ``nk_defections/_package``; an editable install or a
    checkout does not (editable installs don't expose force-included files), so the checkout
    root is used instead.

    Examples
    --------
    >>> (package_root() / "datapackage.json").is_file()
    True
    """
    here = Path(__file__).resolve().parents[1]  # the nk_defections folder
    bundled = here / "_package"
    if (bundled / "datapackage.json").is_file():
        return bundled
    return here.parents[1]


def is_installed_copy(root: Path) -> bool:
    """Tell whether *root* is the read-only copy installed with the Python package."""
    return Path(os.path.realpath(root)) == (Path(__file__).resolve().parents[1] / "_package")
