"""nk-defections: the North Korean elite defections dataset, its validators and a typed loader."""

from __future__ import annotations

from nk_defections.check.validate import validate_package, validate_paths
from nk_defections.findings.issues import Issue, Report, Severity
from nk_defections.read.load import load_package, load_table, resolve_id


def __getattr__(name: str) -> str:
    # The version is read from the installed metadata on first use, not at import: scanning the
    # installed distributions costs every command's start some tens of milliseconds.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("nk-defections")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        value = "0+unknown"
    globals()["__version__"] = value
    return value


__all__ = [
    "Issue",
    "Report",
    "Severity",
    "__version__",
    "load_package",
    "load_table",
    "resolve_id",
    "validate_package",
    "validate_paths",
]
