"""nk-defections: the North Korean elite defections dataset, its validators and a typed loader."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .issues import Issue, Report, Severity
from .load import load_package, load_table
from .validate import validate_package, validate_paths

try:
    __version__ = version("nk-defections")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"

__all__ = [
    "Issue",
    "Report",
    "Severity",
    "__version__",
    "load_package",
    "load_table",
    "validate_package",
    "validate_paths",
]
