"""GitHub workflow annotations: ``::error file=…,line=…,title=…::message``, one per finding.

Data and properties are escaped as GitHub's own toolkit escapes them (``@actions/core``
``escapeData`` and ``escapeProperty``), so that no contributed text can end an annotation
early or start a workflow command of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

from nk_defections.findings.issues import Report

_KINDS = {"error": "error", "warning": "warning"}


def escape_data(text: str) -> str:
    r"""Escape a message as the toolkit's ``escapeData`` does.

    Examples
    --------
    >>> escape_data("50%\r\n::warning::x")
    '50%25%0D%0A::warning::x'
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value as the toolkit's ``escapeProperty`` does.

    Examples
    --------
    >>> escape_property("a,b:c")
    'a%2Cb%3Ac'
    """
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write(
    report: Report,
    out: TextIO,
    err: TextIO,
    *,
    strict: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write one annotation line per finding (notes as ``notice``)."""
    for issue in report.iter_issues():
        kind = _KINDS.get(str(issue.severity), "notice")
        properties = []
        if issue.file:
            properties.append(f"file={escape_property(issue.file)}")
        if issue.row is not None:
            properties.append(f"line={issue.row}")
        properties.append(f"title={escape_property(issue.code)}")
        message = f"{issue.message} ({issue.pointer or issue.field or ''})"
        out.write(f"::{kind} {','.join(properties)}::{escape_data(message)}\n")
