"""Findings: the Issue record, the registry of rule codes, and the Report that collects them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is: errors make data invalid, warnings only with ``--strict``."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Rule:
    """A registered rule code with its severity and a one-line description."""

    code: str
    severity: Severity
    doc: str


RULES: dict[str, Rule] = {}


def register(code: str, severity: Severity, doc: str) -> str:
    """Register a rule code once and return it.

    Examples
    --------
    >>> register("example.rule", Severity.ERROR, "An example.") in RULES
    True
    >>> _ = RULES.pop("example.rule")
    """
    if code in RULES:
        raise ValueError(f"rule code {code!r} is registered twice")
    RULES[code] = Rule(code, severity, doc)
    return code


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding, located as exactly as the input allows.

    ``row`` is the physical CSV line (header = 1, first data row = 2) or the JSON Lines line;
    ``pointer`` is an RFC 6901 pointer into the JSON document; ``field`` is the column.
    """

    code: str
    message: str
    file: str | None = None
    row: int | None = None
    pointer: str | None = None
    field: str | None = None
    record_id: str | None = None
    severity: Severity = dataclass_field(default=Severity.ERROR)

    def __post_init__(self) -> None:
        """Take the severity from the code's registration (an unregistered code is a bug)."""
        rule = RULES.get(self.code)
        if rule is None:
            raise KeyError(f"unregistered rule code {self.code!r}")
        object.__setattr__(self, "severity", rule.severity)

    def sort_key(self) -> tuple:
        """Order by file, row, pointer, field and code."""
        return (
            self.file or "",
            self.row if self.row is not None else -1,
            self.pointer or "",
            self.field or "",
            self.code,
            self.message,
        )

    def location(self) -> str:
        """Render ``file:row /pointer`` or ``file:row field`` for humans."""
        where = self.file or "<package>"
        if self.row is not None:
            where += f":{self.row}"
        if self.pointer:
            where += f" {self.pointer}"
        elif self.field:
            where += f" {self.field}"
        return where

    def to_dict(self) -> dict:
        """Return a JSON-ready dict."""
        # Every value is a scalar: a shallow dict equals asdict()'s deep copy, at a tenth of the cost.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["severity"] = str(self.severity)
        return data


@dataclass
class Report:
    """Every finding of one validation run, sorted, with counts."""

    issues: list[Issue]
    checked: dict[str, int] = dataclass_field(default_factory=dict)

    def __post_init__(self) -> None:
        """Keep one finding per fault, and sort them by file and line."""
        # Two checks may find the same fault (a date's pattern and its format; a cell checked by
        # the Table Schema and the JSON Schema): keep one finding per code and location, the one
        # found first. The rules run before the generic JSON Schema pass, so their messages (an
        # enum's allowed words, the date form expected) are the ones kept.
        unique: dict[tuple, Issue] = {}
        for issue in self.issues:
            unique.setdefault(
                (issue.code, issue.file, issue.row, issue.pointer, issue.field), issue
            )
        self.issues = sorted(unique.values(), key=Issue.sort_key)

    @property
    def errors(self) -> list[Issue]:
        """Findings of severity error."""
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        """Findings of severity warning."""
        return [i for i in self.issues if i.severity is Severity.WARNING]

    def is_valid(self, *, strict: bool = False) -> bool:
        """True without errors (and, with *strict*, without warnings)."""
        return not self.errors and not (strict and self.warnings)

    def counts(self) -> dict[str, int]:
        """Count findings per severity."""
        counter = Counter(str(i.severity) for i in self.issues)
        return {str(s): counter.get(str(s), 0) for s in Severity}


def escape_pointer(parts: Iterable[object]) -> str:
    """Build an RFC 6901 pointer from path parts, escaping ``~`` and ``/``.

    Examples
    --------
    >>> escape_pointer(["people", 0, "a/b~c"])
    '/people/0/a~1b~0c'
    """
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
