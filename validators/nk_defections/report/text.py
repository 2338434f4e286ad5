"""The text report: one line per finding (capped per code), and a verdict on stderr.

What the data holds is written escaped (:func:`~nk_defections.findings.printable.printable`): a
finding is one line, whatever its ids, keys, headers, values or file name hold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TextIO

from nk_defections.findings.issues import Issue, Report, Severity
from nk_defections.findings.printable import printable
from nk_defections.model.hints import plural


def iter_lines(report: Report, *, limit_per_code: int | None = 20) -> Iterator[str]:
    """Yield the text lines of a report, capping each code at *limit_per_code* lines."""
    return _lines(report.iter_issues(), limit_per_code)


def _lines(issues: Iterable[Issue], limit_per_code: int | None) -> Iterator[str]:
    shown: Counter[str] = Counter()
    hidden: Counter[str] = Counter()
    for issue in issues:
        if limit_per_code is not None and shown[issue.code] >= limit_per_code:
            hidden[issue.code] += 1
            continue
        shown[issue.code] += 1
        yield printable(f"{issue.location()} [{issue.code}] {issue.severity}: {issue.message}")
    for code, n in sorted(hidden.items()):
        yield f"... and {n} more [{code}] (use --format json for all)"


def write(
    report: Report,
    out: TextIO,
    err: TextIO,
    *,
    strict: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write a line per finding to *out*, then the verdict and the counts to *err*.

    The findings are counted as they are written: they are made once, and not kept.
    """
    counts = dict.fromkeys(Severity, 0)

    def counted() -> Iterator[Issue]:
        for issue in report.iter_issues():
            counts[issue.severity] += 1
            yield issue

    for line in _lines(counted(), limit_per_code=20):
        out.write(line + "\n")
    verdict = "valid" if report.is_valid(strict=strict) else "invalid"
    checked = sum(report.checked.values())
    err.write(
        f"{verdict}: {plural(counts[Severity.ERROR], 'error')}, "
        f"{plural(counts[Severity.WARNING], 'warning')}, {plural(counts[Severity.INFO], 'note')}; "
        f"{plural(checked, 'row')} in {plural(len(report.checked), 'table')} checked\n"
    )
