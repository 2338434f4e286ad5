"""Findings: the Issue record, the registry of rule codes, and the Report that merges their sources."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from enum import IntEnum, StrEnum
from operator import itemgetter
from typing import Protocol


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

#: The longest message a finding keeps: one that quotes a long value is cut to this, so that a
#: cell of megabytes is not copied into its findings.
MAX_MESSAGE_CHARS = 1000


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
        """Take the severity of the code, which must be registered."""
        rule = RULES.get(self.code)
        if rule is None:
            raise KeyError(f"unregistered rule code {self.code!r}")
        object.__setattr__(self, "severity", rule.severity)
        if len(self.message) > MAX_MESSAGE_CHARS:
            object.__setattr__(self, "message", self.message[: MAX_MESSAGE_CHARS - 3] + "...")

    def sort_key(self) -> tuple:
        """Order by file, row, pointer, field, code (:func:`location_key`) and message."""
        return (*location_key(self), self.message)

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


class Origin(IntEnum):
    """Which check found a finding, in order of precedence: the one place that order is decided.

    Two checks may find the same fault: a rule on a CSV cell and the JSON Schema pass over the
    same row both report ``schema.enum`` there. A report keeps one finding per fault, that is per
    code, file, row, pointer and field, and of two it keeps the one whose origin comes first
    here, whatever order the checks ran or were combined in:

    1. ``RULE``: the rules of :mod:`nk_defections.check.rules`; their messages are the most
       telling (an enum's allowed words, the date form expected). Between two rules, the one
       that comes first in ``all_rules()``; within a rule, the finding it yields first.
    2. ``READ``: what reading the files found: their bytes and syntax, and each contributed JSON
       record against its JSON Schema (explained value by value).
    3. ``SCHEMA``: the JSON Schema pass over every row of a package (generic messages).
    4. ``PACKAGE``: the checks of a package as a whole: its descriptor against the profile, a
       merge left half done, a release's files against their recorded bytes and hashes.
    5. ``EVIDENCE``: the source texts (their fingerprints and every claim's words).
    6. ``SECOND_OPINION``: frictionless. Its findings have a code of their own, and besides it
       is only heard where no other check but the evidence check found anything at the same
       file and row (:func:`nk_defections.check.validate.validate_package` says why).
    """

    RULE = 1
    READ = 2
    SCHEMA = 3
    PACKAGE = 4
    EVIDENCE = 5
    SECOND_OPINION = 6


#: Where a finding goes in a report: file, row, pointer, field, code.
LocationKey = tuple[str, int, str, str, str]


def location_key(issue: Issue) -> LocationKey:
    """The place of *issue* in a report: file, row, pointer, field, code (a missing one first).

    Examples
    --------
    >>> location_key(Issue("package.profile", "x", file="datapackage.json"))
    ('datapackage.json', -1, '', '', 'package.profile')
    """
    return (
        issue.file or "",
        issue.row if issue.row is not None else -1,
        issue.pointer or "",
        issue.field or "",
        issue.code,
    )


def fault(issue: Issue) -> tuple[str, str | None, int | None, str | None, str | None]:
    """The fault *issue* reports: a report holds one finding per fault."""
    return (issue.code, issue.file, issue.row, issue.pointer, issue.field)


class Source(Protocol):
    """The findings of one check, in the order of :func:`location_key`, made as they are taken.

    ``rank`` is ``(origin, ...)``: the :class:`Origin` and, among the sources of one origin, their
    order (a rule's place in ``all_rules()``, then the place of the batch in what it yields).
    No two sources of one report have the same rank. ``codes`` and ``locations`` are known
    without making the findings' messages.
    """

    @property
    def rank(self) -> tuple[int, ...]:
        """The source's precedence: of two findings of one fault, the lower rank's is kept."""
        ...

    def codes(self) -> frozenset[str]:
        """The codes of its findings."""
        ...

    def locations(self) -> set[tuple[str | None, int | None]]:
        """The ``(file, row)`` of each of its findings."""
        ...

    def keyed(self) -> Iterator[tuple[LocationKey, Issue]]:
        """Each finding with its :func:`location_key`, in that order (on a tie, as found)."""
        ...


class Listed:
    """A source of findings held in a list, such as a reader's (:class:`Source`).

    Examples
    --------
    >>> found = [Issue("package.profile", "b", file="b"), Issue("package.profile", "a", file="a")]
    >>> listed = Listed(found, Origin.PACKAGE)
    >>> [issue.file for issue in listed]
    ['a', 'b']
    """

    def __init__(self, issues: Iterable[Issue], *rank: int) -> None:
        """List *issues*, of rank *rank*: their :class:`Origin`, then their order in it, if any."""
        if not rank:
            raise TypeError("a source of findings needs a rank: its origin at least")
        # A stable sort: of two findings of one fault, the one listed first stays first.
        self.issues = sorted(issues, key=location_key)
        self.rank = rank

    def codes(self) -> frozenset[str]:
        """The codes of its findings."""
        return frozenset(issue.code for issue in self.issues)

    def locations(self) -> set[tuple[str | None, int | None]]:
        """The ``(file, row)`` of each of its findings."""
        return {(issue.file, issue.row) for issue in self.issues}

    def keyed(self) -> Iterator[tuple[LocationKey, Issue]]:
        """Each finding with its :func:`location_key`, in that order."""
        return ((location_key(issue), issue) for issue in self.issues)

    def __iter__(self) -> Iterator[Issue]:
        """Its findings, in the order of :func:`location_key`."""
        return iter(self.issues)

    def __repr__(self) -> str:
        """Say how many findings, and the rank."""
        return f"Listed({len(self.issues)} findings, rank={self.rank})"


def one_per_fault(issues: Iterable[Issue]) -> list[Issue]:
    """Keep the first finding of each fault, then sort by place and message: the plain statement.

    *issues* come in order of precedence (the sources' findings one source after the other, by
    rank). :func:`iter_findings` gives the same, lazily; a property in ``tests/test_stream.py``
    proves it.

    Examples
    --------
    >>> first = Issue("package.profile", "first", file="d")
    >>> [i.message for i in one_per_fault([first, Issue("package.profile", "second", file="d")])]
    ['first']
    """
    unique: dict[tuple, Issue] = {}
    for issue in issues:
        unique.setdefault(fault(issue), issue)
    return sorted(unique.values(), key=Issue.sort_key)


def iter_findings(sources: Iterable[Source]) -> Iterator[Issue]:
    """Merge *sources* into one finding per fault, in the order of a report, lazily.

    The same as :func:`one_per_fault` over the sources' findings in order of rank, but holding
    one pending finding per source rather than all of them: each source is in place order, so a
    merge of them is too, and the findings of one fault are next to each other, the one of the
    source of lowest rank first (``heapq.merge`` takes equal keys from the earlier source).

    Raises
    ------
    ValueError
        If two sources have the same rank: which of their findings to keep would depend on the
        order they were given in.
    """
    ordered = sorted(sources, key=lambda source: source.rank)
    ranks = [source.rank for source in ordered]
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"two sources of findings have the same rank: {ranks}")
    merged = heapq.merge(*(source.keyed() for source in ordered), key=itemgetter(0))
    # The findings of one place are held until the next place comes: more than one only where
    # two sources found one fault, or where a file, pointer or field is missing in one finding
    # and empty in another (two faults at one place).
    held_key: LocationKey | None = None
    held: list[Issue] = []
    for key, issue in merged:
        if key == held_key:
            held.append(issue)
            continue
        if len(held) == 1:
            yield held[0]
        elif held:
            yield from one_per_fault(held)
        held_key, held = key, [issue]
    if len(held) == 1:
        yield held[0]
    elif held:
        yield from one_per_fault(held)


class Report:
    """Every finding of one validation run: one per fault, sorted by file, row and field.

    Made of the findings' sources (:class:`Source`), which are merged only when the findings are
    asked for: :meth:`iter_issues` streams them (a reporter writes each as it comes, and memory
    does not grow with their number), :attr:`issues` makes the list once and keeps it.
    :meth:`is_valid` and :meth:`codes` need no finding made at all: a severity is a code's.

    ``Report(issues)`` reports a list of findings (of two of one fault, the first is kept).

    Examples
    --------
    >>> report = Report([Issue("package.profile", "a", file="datapackage.json")])
    >>> report.is_valid(), report.counts()
    (False, {'error': 1, 'warning': 0, 'info': 0})
    """

    def __init__(
        self,
        issues: Iterable[Issue] = (),
        checked: dict[str, int] | None = None,
        *,
        sources: Iterable[Source] = (),
    ) -> None:
        self.checked: dict[str, int] = dict(checked or {})
        self._sources: list[Source] | None = [*sources]
        if issues:
            self._sources.append(Listed(issues, Origin.RULE, -1))
        self._issues: list[Issue] | None = None
        # Fails now, not when the findings are first asked for.
        ranks = [source.rank for source in self._sources]
        if len(set(ranks)) != len(ranks):
            raise ValueError(f"two sources of findings have the same rank: {sorted(ranks)}")

    @property
    def issues(self) -> list[Issue]:
        """Every finding, one per fault, sorted (made on first use, then kept)."""
        if self._issues is None:
            assert self._sources is not None
            self._issues = list(iter_findings(self._sources))
            self._sources = None  # the frames they drew on may go
        return self._issues

    def iter_issues(self) -> Iterator[Issue]:
        """Every finding, one per fault, sorted, made as it is taken (nothing kept)."""
        if self._issues is not None:
            return iter(self._issues)
        assert self._sources is not None
        return iter_findings(self._sources)

    def codes(self) -> frozenset[str]:
        """The codes of the findings, known without making them."""
        if self._issues is not None:
            return frozenset(issue.code for issue in self._issues)
        assert self._sources is not None
        return frozenset().union(*(source.codes() for source in self._sources))

    @property
    def errors(self) -> list[Issue]:
        """Findings of severity error."""
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        """Findings of severity warning."""
        return [i for i in self.issues if i.severity is Severity.WARNING]

    def is_valid(self, *, strict: bool = False) -> bool:
        """True without errors (and, with *strict*, without warnings).

        Decided on the codes alone: keeping one finding per fault never drops the last of a code.
        """
        failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
        return not any(RULES[code].severity in failing for code in self.codes())

    def counts(self) -> dict[str, int]:
        """Count findings per severity."""
        return count_severities(self.issues)

    def __repr__(self) -> str:
        """Say how many findings, if merged, and the rows checked."""
        held = f"{len(self._issues)} findings" if self._issues is not None else "not yet merged"
        return f"Report({held}, checked={self.checked})"


def count_severities(issues: Iterable[Issue]) -> dict[str, int]:
    """Count *issues* per severity, every severity named.

    Examples
    --------
    >>> count_severities([])
    {'error': 0, 'warning': 0, 'info': 0}
    """
    counter = Counter(issue.severity for issue in issues)
    return {str(s): counter.get(s, 0) for s in Severity}


def escape_pointer(parts: Iterable[object]) -> str:
    """Build an RFC 6901 pointer from path parts, escaping ``~`` and ``/``.

    Examples
    --------
    >>> escape_pointer(["people", 0, "a/b~c"])
    '/people/0/a~1b~0c'
    """
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
