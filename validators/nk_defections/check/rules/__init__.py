"""The rule registry: every check takes a Context and yields Issues."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl

from nk_defections.findings.issues import Issue
from nk_defections.model.package import Package, PackageError
from nk_defections.progress import step

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
        return self.cached(f"reported:{table}", lambda: bool(self.frames[table]["_report"].any()))

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


CheckFunction = Callable[[Context], Iterator[Issue]]


@dataclass(frozen=True)
class Rule:
    """A rule as registered: the function that checks, the codes it may emit, the tables it names.

    The tables are those it names beyond what it finds in the descriptor: a package must have
    them for the rule to run.
    """

    check: CheckFunction
    codes: tuple[str, ...]
    tables: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The check's name: ``check_`` and its code's words (``check_group_size``)."""
        return self.check.__name__

    def __call__(self, context: Context) -> Iterator[Issue]:
        """Run the check; a finding of a code it did not declare is a bug of ours."""
        for issue in self.check(context):
            if issue.code not in self.codes:
                raise RuntimeError(f"{self.name} emitted {issue.code!r}, not one of its codes")
            yield issue


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


def emit(
    rows: pl.DataFrame,
    code: str,
    field: str | None,
    # Called with the row; a lambda may bind its loop's values as defaults (hence ...).
    message: Callable[..., str],
) -> Iterator[Issue]:
    """Yield one Issue per row of *rows* (only rows marked ``_report``)."""
    if rows.is_empty():  # the common case; filtering an empty frame still costs a query
        return
    if "_report" in rows.columns:
        rows = rows.filter(pl.col("_report"))
    for row in rows.iter_rows(named=True):
        pointer = row.get("_pointer")
        if pointer is not None and field:
            pointer = f"{pointer}/{field}"
        yield Issue(
            code,
            message(row),
            file=row.get("_file"),
            row=row.get("_line"),
            pointer=pointer,
            field=field,
            record_id=row.get("id"),
        )


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
) -> Iterator[Issue]:
    """Run many checks over *frame* in one pass, then emit only those that hit any row.

    Every predicate is evaluated in a single lazy ``select`` (columns in parallel) that returns
    the row numbers each one hits; rows are only gathered and turned into Issues for the few
    checks that hit. A null predicate is not a hit. *prepared* columns are computed first, once,
    for predicates that share them (a ``confirm`` sees only the frame's own columns).
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
    for check in checks:
        rows = hits[str(id(check.bad))][0]
        if len(rows):
            found = frame.select(pl.all().gather(rows))
            if check.confirm is not None:
                found = found.filter(check.confirm)
            yield from emit(found, check.code, check.field, check.message)


def all_rules() -> list[Rule]:
    """Every rule, in the order they run."""
    from nk_defections.check.rules import claims, dates, fields, record, references, table

    return [
        *fields.RULES,
        *table.RULES,
        *record.RULES,
        *dates.RULES,
        *references.RULES,
        *claims.RULES,
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


def _findings(rule: Rule, context: Context) -> list[Issue]:
    return list(rule(context))


def iter_issues(context: Context) -> Iterator[Issue]:
    """Run every rule over *context*; the findings come in rule order, whatever ran first.

    The rules run on a few threads at once: polars releases the GIL in its queries, and many of
    them (a regex over one column, a join) keep only one core busy, so two rules at a time use
    the machine that one leaves half idle. Each rule's findings are gathered whole, then yielded
    in the order of :func:`all_rules`, so the output does not depend on the timing.
    """
    rules = all_rules()
    workers = max(1, min(len(rules), os.cpu_count() or 1, 4))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nk-rule") as pool:
        futures = [pool.submit(_findings, rule, context) for rule in rules]
        try:
            for rule, future in zip(rules, futures, strict=True):
                step(f"checking {rule.name.removeprefix('check_').replace('_', ' ')}")
                yield from future.result()
        finally:
            for future in futures:
                future.cancel()
