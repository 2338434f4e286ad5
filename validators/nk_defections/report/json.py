"""The JSON report: ``{"valid", "checked", "issues": [...], "counts"}``, written as findings come."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, TextIO

from nk_defections.findings.issues import Issue, Report, Severity

#: Findings rendered before each write: one write per finding costs as much as rendering it.
BUFFERED = 1024


def _member(key: str, value: Any) -> str:
    # A member of the top-level object, as json.dumps(indent=2) writes it at that depth.
    body = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")
    return f"  {json.dumps(key)}: {body}"


#: Scalars by the C encoder: ``json.dumps(..., indent=2)`` of a whole issue runs the
#: pure-Python encoder (the only one that indents), several times slower per finding.
_SCALAR = json.JSONEncoder(ensure_ascii=False).encode


def render_issue(issue: Issue) -> str:
    """An issue as ``json.dumps(issue.to_dict(), indent=2)`` writes it, 4 spaces in: the plain way.

    Examples
    --------
    >>> print(render_issue(Issue("package.profile", "bad", file="datapackage.json")))
    {
          "code": "package.profile",
          "message": "bad",
          "file": "datapackage.json",
          "row": null,
          "pointer": null,
          "field": null,
          "record_id": null,
          "severity": "error"
        }
    """
    return json.dumps(issue.to_dict(), ensure_ascii=False, indent=2).replace("\n", "\n    ")


@lru_cache(maxsize=1024)
def _opening(code: str) -> str:
    # What every finding of a code begins with.
    return '{\n      "code": ' + _SCALAR(code) + ',\n      "message": '


@lru_cache(maxsize=1024)
def _closing(severity: str) -> str:
    return ',\n      "severity": ' + _SCALAR(severity) + "\n    }"


@lru_cache(maxsize=1024)
def _repeated(value: str | None) -> str:
    # A file or a field: findings come file by file, and a few fields have most of them.
    return "null" if value is None else _SCALAR(value)


def _issue(issue: Issue) -> str:
    """:func:`render_issue`, member by member with the C encoder (a test checks they agree)."""
    row, pointer, record_id = issue.row, issue.pointer, issue.record_id
    return (
        f"{_opening(issue.code)}{_SCALAR(issue.message)}"
        f',\n      "file": {_repeated(issue.file)}'
        f',\n      "row": {"null" if row is None else int.__repr__(row)}'
        f',\n      "pointer": {"null" if pointer is None else _SCALAR(pointer)}'
        f',\n      "field": {_repeated(issue.field)}'
        f',\n      "record_id": {"null" if record_id is None else _SCALAR(record_id)}'
        f"{_closing(issue.severity)}"
    )


def write(
    report: Report,
    out: TextIO,
    err: TextIO,
    *,
    strict: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write the report as one JSON object, each finding as it is made.

    The bytes are those of ``json.dumps(document, indent=2)``, but the document never exists: its
    size grows with the findings, the memory of this writer does not. ``valid`` is known from
    the findings' codes before any is made; ``counts`` are counted as they are written, so they
    come after them.
    """
    out.write("{\n")
    out.write(_member("valid", report.is_valid(strict=strict)) + ",\n")
    out.write(_member("checked", report.checked) + ",\n")
    out.write('  "issues": [')
    counts = dict.fromkeys(Severity, 0)
    pending: list[str] = []
    opening = "\n    "  # before the first finding; then between two
    for issue in report.iter_issues():
        pending.append(_issue(issue))
        counts[issue.severity] += 1
        if len(pending) == BUFFERED:
            out.write(opening + ",\n    ".join(pending))
            opening = ",\n    "
            pending.clear()
    if pending:
        out.write(opening + ",\n    ".join(pending))
    out.write("\n  ],\n" if any(counts.values()) else "],\n")
    out.write(_member("counts", {str(s): n for s, n in counts.items()}))
    for key, value in (extra or {}).items():
        out.write(",\n" + _member(key, value))
    out.write("\n}\n")


def render(report: Report, *, strict: bool = False) -> str:
    """The JSON report as one string (for tests and callers that want it whole).

    Examples
    --------
    >>> print(render(Report([])).splitlines()[1])
      "valid": true,
    """
    buffer = io.StringIO()
    write(report, buffer, io.StringIO(), strict=strict)
    return buffer.getvalue()
