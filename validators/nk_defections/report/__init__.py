"""Reporting: findings written as text, JSON or GitHub workflow annotations.

Every command that reports findings looks its ``--format`` up in :data:`REPORTERS`; a new
output format is one module here and one entry in that map.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TextIO

from nk_defections.findings.issues import Report
from nk_defections.report import github, json, text

#: ``write(report, out, err, *, strict, extra)``: write the report's findings to *out* (and, for
#: humans, a summary to *err*). *extra* adds command-specific members to a JSON report. A writer
#: takes the findings once, from ``report.iter_issues()``, as they are made: it keeps none.
Reporter = Callable[..., None]

REPORTERS: dict[str, Reporter] = {
    "text": text.write,
    "json": json.write,
    "github": github.write,
}


def write_report(
    report: Report,
    output_format: str,
    out: TextIO,
    err: TextIO,
    *,
    strict: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write *report* in *output_format* (a key of :data:`REPORTERS`).

    Examples
    --------
    >>> import io, sys
    >>> from nk_defections.findings.issues import Report
    >>> write_report(Report([]), "json", sys.stdout, io.StringIO())
    {
      "valid": true,
      "checked": {},
      "issues": [],
      "counts": {
        "error": 0,
        "warning": 0,
        "info": 0
      }
    }
    """
    REPORTERS[output_format](report, out, err, strict=strict, extra=extra)
