"""The rule registry: every check takes a Context and yields its findings, in batches.

A rule finds faulty rows with polars queries; :func:`emit` turns each set of them into a
:class:`Batch`: the rows, a code, a field and a message function, which makes its Issues only
when they are read (by a reporter, as it writes them). So the rules' threads do the queries, and
memory does not grow with the number of findings.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from nk_defections.findings.issues import Issue, Listed, LocationKey, Origin, Source
from nk_defections.model.frames import FILE, LINE, POINTER, REPORT
from nk_defections.model.package import Package, PackageError
from nk_defections.progress import step

if TYPE_CHECKING:
    from nk_defections.check.amend import Applied

#: The engine for the rules' whole-table selects and filters: there polars' "auto" (which may
#: pick its streaming engine) and eager calls were measured at up to twice the time of the
#: in-memory engine. Joins are left to "auto", which was as fast or faster for them.
ENGINE: Final = "in-memory"


@dataclass
class Context:
    """What the rules see: the package, and every table as one frame of strings.

    Each frame has the declared columns plus ``_file``, ``_line``, ``_pointer`` (where the row
    came from), ``_csv`` (True where the row was read from CSV, whose cells the Table Schema
    checks cover; JSON rows were checked by JSON Schema) and ``_report`` (True where findings
    about the row are wanted: every row of a package, only the contributed rows of a
    contribution).
    """

    package: Package
    frames: dict[str, pl.DataFrame]
    #: What a contribution's amendments did to the package's rows (None: no contribution).
    amended: Applied | None = None
    #: Tables with a file whose rows could not be read (its finding says why): a reference to
    #: one of their ids may name a row of that file, so it is not reported as dangling.
    unread: frozenset[str] = frozenset()
    cache: dict[str, Any] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def frame(self, table: str) -> pl.DataFrame:
        """The frame of *table*."""
        return self.frames[table]

    def reported(self, table: str) -> bool:
        """Whether any row of *table* is marked ``_report`` (a contribution's own rows).

        A table without one has no finding to give, and the rules skip looking for them there.
        """
        return self.cached(f"reported:{table}", lambda: bool(self.frames[table][REPORT].any()))

    def reported_tables(self) -> list[str]:
        """The tables, in the package's order, that have a row to report."""
        return [table for table in self.package.resources if self.reported(table)]

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per *key*, however many rules ask for it at the same time."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self.cache:
                self.cache[key] = compute()
            return self.cache[key]


#: What a check yields: Issues one by one, or many at once as a :class:`Batch`.
Findings = Iterator["Issue | Batch"]
#: A row as a message function reads it: column name -> value.
Row = dict[str, Any]
CheckFunction = Callable[[Context], Findings]

#: Rows made into Issues at a time: enough to amortise a gather, few enough to keep memory flat.
CHUNK = 4096


@dataclass(frozen=True)
class Batch:
    """Findings of one *code* on one *field*: one per row of *frame* at the indices *rows*.

    What :func:`emit` used to turn into Issues at once, kept until they are read: the Issues are
    made a chunk of rows at a time (:meth:`keyed`), each with ``message(row)``. A batch is a
    :class:`~nk_defections.findings.issues.Source`: its findings come sorted by file, row and
    pointer; its *rank* is given by :func:`run_rules`. *locate* moves each Issue to its final
    place (a value's line in a JSON document), before the sort.
    """

    frame: pl.DataFrame
    rows: pl.Series
    code: str
    field: str | None
    message: Callable[..., str]
    rank: tuple[int, ...] = (Origin.RULE,)
    locate: Callable[[Issue], Issue] | None = None

    def codes(self) -> frozenset[str]:
        """The batch's one code."""
        return frozenset((self.code,))

    def locations(self) -> set[tuple[str | None, int | None]]:
        """The ``(file, row)`` of each finding."""
        if self.locate is not None:
            return {(issue.file, issue.row) for _, issue in self.keyed()}
        where = self.frame.select(pl.col(FILE, LINE).gather(self.rows)).unique()
        return set(where.iter_rows())

    def located(self, locate: Callable[[Issue], Issue]) -> Batch:
        """The same batch, with each Issue moved by *locate* (and sorted where it lands)."""
        return replace(self, locate=locate)

    def issue(self, row: Row) -> Issue:
        """The Issue of one row (a dict of its columns), as :func:`emit` always made it."""
        pointer = row.get(POINTER)
        if pointer is not None and self.field:
            pointer = f"{pointer}/{self.field}"
        issue = Issue(
            self.code,
            self.message(row),
            file=row.get(FILE),
            row=row.get(LINE),
            pointer=pointer,
            field=self.field,
            record_id=row.get("id"),
        )
        return issue if self.locate is None else self.locate(issue)

    def keyed(self) -> Iterator[tuple[LocationKey, Issue]]:
        """Each Issue with its place, sorted by place, made a chunk of rows at a time.

        :meth:`issue` of each row, written out: this loop runs once per finding, and the
        reporters wait on it (a test checks that both make the same Issues).
        """
        code, field, message, locate = self.code, self.field, self.message, self.locate
        suffix = f"/{field}" if field else ""
        for chunk in self._sorted().iter_slices(CHUNK):
            part = self.frame.select(pl.all().gather(chunk.to_series()))
            columns = part.columns
            for values in part.iter_rows():
                row = dict(zip(columns, values, strict=True))
                pointer = row.get(POINTER)
                if pointer is not None:
                    pointer += suffix
                issue = Issue(
                    code, message(row), row.get(FILE), row.get(LINE), pointer, field, row.get("id")
                )
                if locate is not None:
                    issue = locate(issue)
                where = issue.row if issue.row is not None else -1
                yield (issue.file or "", where, issue.pointer or "", field or "", code), issue

    def __iter__(self) -> Iterator[Issue]:
        """The Issues, sorted by place."""
        return (issue for _, issue in self.keyed())

    def _sorted(self) -> pl.DataFrame:
        """The row indices, in the order of their findings' places (stable: as found on a tie)."""
        where = self.frame.select(pl.col(FILE, LINE, POINTER).gather(self.rows))
        pointer = pl.col(POINTER)
        if self.field:
            pointer = pointer + f"/{self.field}"
        line: pl.Expr | pl.Series = pl.col(LINE)
        if self.locate is not None:
            # A value's line is known only to the reader of its document: ask, row by row.
            lines = [
                self.locate(Issue(self.code, "", file=file, row=row, pointer=place)).row
                for file, row, place in where.select(FILE, LINE, pointer).iter_rows()
            ]
            line = pl.Series(lines, dtype=pl.Int64)
        return (
            where.select(
                pl.col(FILE).fill_null(""),
                line.fill_null(-1).alias(LINE),
                pointer.fill_null(""),
                self.rows.alias("_index"),
            )
            .sort(FILE, LINE, POINTER, maintain_order=True)
            .select("_index")
        )


@dataclass(frozen=True)
class Rule:
    """A rule as registered: the function that checks, the codes it may emit, the tables it names.

    The tables are those it names beyond those it finds in the descriptor, which a package must
    have for it to run.
    """

    check: CheckFunction
    codes: tuple[str, ...]
    tables: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The check's name: ``check_`` and its code's words (``check_group_size``)."""
        return self.check.__name__

    def findings(self, context: Context) -> Findings:
        """Run the check; a finding of a code it did not declare is a bug of ours."""
        for found in self.check(context):
            if found.code not in self.codes:
                raise RuntimeError(f"{self.name} emitted {found.code!r}, not one of its codes")
            yield found

    def __call__(self, context: Context) -> Iterator[Issue]:
        """Run the check and make every Issue it finds (each batch's in its order)."""
        for found in self.findings(context):
            if isinstance(found, Batch):
                yield from found
            else:
                yield found


def rule(*codes: str, tables: tuple[str, ...] = ()) -> Callable[[CheckFunction], Rule]:
    """Register a check with the codes it emits and the tables it names (zavod-style).

    Examples
    --------
    >>> from nk_defections.findings import codes as C
    >>> @rule(C.RECORD_GROUP_SIZE, tables=("people",))
    ... def check_nothing(ctx):
    ...     return iter(())
    >>> check_nothing.name, check_nothing.codes
    ('check_nothing', ('record.group-size',))
    """

    def register(check: CheckFunction) -> Rule:
        return Rule(check, codes, tables)

    return register


def emit(rows: pl.DataFrame, code: str, field: str | None, message: Callable[..., str]) -> Findings:
    """Yield the findings of *code* on *field*, one per row of *rows* marked ``_report``.

    They are made later, and then ``message(row)`` says what is wrong with each row (a dict of
    its columns); see :class:`Batch`.
    """
    if rows.is_empty():  # the common case; filtering an empty frame still costs a query
        return
    if REPORT in rows.columns:
        indices = rows.select(pl.col(REPORT).arg_true()).to_series()
    else:
        indices = pl.int_range(rows.height, dtype=pl.get_index_type(), eager=True)
    if len(indices):
        yield Batch(rows, indices, code, field, message)


@dataclass(frozen=True)
class Check:
    """One row-wise check: rows where *bad* is true get an Issue of *code* on *field*."""

    code: str
    field: str | None
    bad: pl.Expr
    message: Callable[..., str]
    #: A costlier predicate that decides, on the rows *bad* hits only (*bad* is then a cheap
    #: superset: it may hit rows that are fine, never miss one that is not).
    confirm: pl.Expr | None = None


def emit_checks(
    frame: pl.DataFrame, checks: list[Check], prepared: Sequence[pl.Expr] = ()
) -> Findings:
    """Run many checks over *frame* in one pass, then emit only those that hit any row.

    Every predicate is evaluated in a single lazy ``select`` (columns in parallel) that returns
    the row numbers each one hits; only the checks that hit are emitted, as batches of those
    rows of *frame* (no row is copied). A null predicate is not a hit. *prepared* columns are
    computed first, once, for predicates that share them (a ``confirm`` sees only the frame's
    own columns).
    """
    if not checks or frame.is_empty():
        return
    # Checks may share one predicate object (a prefilter that their confirms split): it is
    # evaluated once, as polars does not reliably eliminate common subexpressions here.
    keys = {id(check.bad): check.bad for check in checks}
    hits = (
        frame.lazy()
        .with_columns(prepared)
        .select(
            bad.fill_null(False).arg_true().implode().alias(str(key)) for key, bad in keys.items()
        )
        .collect(engine=ENGINE)
    )
    reported = pl.col(REPORT) if REPORT in frame.columns else pl.lit(True)
    for check in checks:
        rows = hits[str(id(check.bad))][0]
        if not len(rows):
            continue
        if check.confirm is None:
            kept = frame.select(reported.gather(rows))
        else:  # the costlier predicate, on the rows hit only
            kept = frame.select(pl.all().gather(rows)).select(reported & check.confirm)
        rows = rows.filter(kept.to_series().fill_null(False))
        if len(rows):
            yield Batch(frame, rows, check.code, check.field, check.message)


def all_rules() -> list[Rule]:
    """Every rule, in the order they run."""
    from nk_defections.check.rules import (
        amendments,
        claims,
        dates,
        fields,
        identity,
        record,
        references,
        table,
        values,
    )

    return [
        *fields.RULES,
        *table.RULES,
        *record.RULES,
        *dates.RULES,
        *references.RULES,
        *claims.RULES,
        *amendments.RULES,
        *identity.RULES,
        *values.RULES,
    ]


def require_tables(package: Package) -> None:
    """Refuse a descriptor that lacks a table a rule names (the rules say which they need).

    Raises
    ------
    PackageError
        Naming the first missing table and the rule that reads it.
    """
    for registered in all_rules():
        for table in registered.tables:
            if table not in package.resources:
                raise PackageError(
                    f"{package.root / 'datapackage.json'}: the descriptor lacks the resource "
                    f"{table!r} (the rule {registered.name} reads it)"
                )


def _sources_of(rule: Rule, context: Context) -> list[Any]:
    return list(rule.findings(context))


def run_rules(context: Context) -> list[Source]:
    """Run every rule over *context*; return their findings' sources, ranked by rule order.

    The rules run on a few threads at once: polars releases the GIL in its queries, and many of
    them (a regex over one column, a join) keep only one core busy, so two rules at a time use
    the machine that one leaves half idle. A finding's rank is its rule's place in
    :func:`all_rules`, then the place of its batch in what the rule yields (Issues yielded one
    by one are listed together), so the report does not depend on which rule ran first.
    """
    rules = all_rules()
    workers = max(1, min(len(rules), os.cpu_count() or 1, 4))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nk-rule") as pool:
        futures = [pool.submit(_sources_of, rule, context) for rule in rules]
        sources: list[Source] = []
        try:
            for number, (rule, future) in enumerate(zip(rules, futures, strict=True)):
                step(f"checking {rule.name.removeprefix('check_').replace('_', ' ')}")
                sources += _ranked(future.result(), (Origin.RULE, number))
        finally:
            for future in futures:
                future.cancel()
    return sources


def _ranked(found: list[Issue | Batch], rank: tuple[int, ...]) -> list[Source]:
    """Give each batch of one rule, and each run of its single Issues, a rank after *rank*."""
    sources: list[Source] = []
    single: list[Issue] = []
    for item in found:
        if isinstance(item, Batch):
            if single:
                sources.append(Listed(single, *rank, len(sources)))
                single = []
            sources.append(replace(item, rank=(*rank, len(sources))))
        else:
            single.append(item)
    if single:
        sources.append(Listed(single, *rank, len(sources)))
    return sources
