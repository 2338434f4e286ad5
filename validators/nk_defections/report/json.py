"""The JSON report: ``{"valid", "counts", "checked", "issues": [...]}``, written issue by issue."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any, TextIO

from nk_defections.findings.issues import Issue, Report


def _member(key: str, value: Any) -> str:
    # A member of the top-level object, as json.dumps(indent=2) writes it at that depth.
    body = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")
    return f"  {json.dumps(key)}: {body}"


#: Scalars by the C encoder: ``json.dumps(..., indent=2)`` of a whole issue runs the
#: pure-Python encoder (the only one that indents), several times slower per finding.
_SCALAR = json.JSONEncoder(ensure_ascii=False).encode


def _issue(issue: Issue) -> str:
    """An issue as ``json.dumps(issue.to_dict(), indent=2)`` writes it, 4 spaces in."""
    members = ",\n      ".join(f"{_SCALAR(k)}: {_SCALAR(v)}" for k, v in issue.to_dict().items())
    return "{\n      " + members + "\n    }"


def write(
    report: Report,
    out: TextIO,
    err: TextIO,
    *,
    strict: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write the report as one JSON object; each issue is rendered and written on its own.

    The bytes are those of ``json.dumps(document, indent=2)``, but the document never exists
    as one string: its size grows with the findings, the memory of this writer does not.
    """
    head = {"valid": report.is_valid(strict=strict), "counts": report.counts()}
    head["checked"] = report.checked
    out.write("{\n")
    for key, value in head.items():
        out.write(_member(key, value) + ",\n")
    out.write('  "issues": [')
    for n, issue in enumerate(report.issues):
        out.write(("," if n else "") + "\n    " + _issue(issue))
    out.write("\n  ]" if report.issues else "]")
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
