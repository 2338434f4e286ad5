"""Claims' values: each in its field's lexical form, and every claimed cell supported by them.

A claim on a field (not ``*``) carries the value its source gives, written as the field's cells
are. The record's cell is then checked against its claims: a claim that is not deprecated
supports the cell when their values are equal (numbers as numbers) or, for a date, when the
cell's earliest and latest days lie inside the value's ("2023-11" supports "2023-11-05",
"[2019..]" supports "[2019-04..]"); at most one value is preferred, and the cell is that value
exactly; claims that disagree with none preferred are a dispute (a warning here, rows of
``disputes.csv`` in a release, :func:`disputes`).

A finding about a cell is reported at the record's row where that row is reported, and at the
reported claims on the cell where it is not (a contribution that adds a claim to a row of the
package); a finding about two claims is reported once, at the later one (or at the only one of
them that is reported).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import polars as pl
import polars.selectors as cs

from nk_defections.check.rules import Batch, Check, Context, Row, emit, emit_checks, rule
from nk_defections.check.rules.claims import DEPRECATED, named
from nk_defections.check.rules.fields import text_checks, value_checks
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.dates import derived_exprs
from nk_defections.model.frames import REPORT
from nk_defections.model.package import CLAIM_KEY, CLAIMS, Package

PREFERRED, NORMAL = "preferred", "normal"
#: The custom property of the ``rank_reason`` field that lists the reasons of each rank.
RANKS = "ranks"
#: A record's field: the claims on one field of one row of one table.
CELL = ["_table", "_row", "field"]
#: What a message about a claim reads of it, besides its own columns.
_SAID = ["id", "source_id", "paragraph", "value"]


def rank_of_reason(package: Package) -> dict[str, str]:
    """The rank each ``rank_reason`` is a reason for, as the descriptor lists them.

    Examples
    --------
    >>> from nk_defections.model.package import load_package_descriptor
    >>> rank_of_reason(load_package_descriptor())["superseded"]
    'deprecated'
    """
    ranks = package.field(CLAIMS, "rank_reason").get(RANKS, {})
    return {reason: rank for rank, reasons in ranks.items() for reason in reasons}


def _rank() -> pl.Expr:
    """A claim's rank; empty is normal."""
    return pl.col("claim_rank").fill_null(NORMAL)


@dataclass(frozen=True)
class Part:
    """The claims on one column of one table, with the cells they name (see :func:`valued`)."""

    table: str
    column: str
    frame: pl.DataFrame
    checks: list[Check]
    prepared: list[pl.Expr]


def _kind(package: Package, table: str, column: str) -> tuple[bool, bool | None, str | None]:
    """(date?, interval allowed?, numeric dtype) of a column."""
    dates = dict(package.date_columns(table))
    if column in dates:
        return True, dates[column], None
    kind = package.field(table, column)["type"]
    return False, None, {"integer": "int", "number": "float"}.get(kind)


def _derived(column: str, date: bool, interval: bool | None, numeric: str | None) -> list[pl.Expr]:
    """The bounds of a date, and the key values compare by (numbers as numbers, else the text)."""
    if date:
        low, high, valid = derived_exprs(column, interval=bool(interval), prefix="_")
        bounds = [low, high, valid]
    else:
        bounds = [
            pl.lit(None, pl.Date).alias(f"_min:{column}"),
            pl.lit(None, pl.Date).alias(f"_max:{column}"),
        ]
    dtype = {"int": pl.Int64, "float": pl.Float64}.get(numeric or "")
    key = pl.col(column) if dtype is None else pl.col(column).cast(dtype, strict=False)
    return [*bounds, key.cast(pl.String).alias(f"_key:{column}")]


def valued(ctx: Context) -> list[Part]:
    """The claims on a field of a row they name, per column, with that row's cell (cached).

    Each part's frame holds the claims' own columns, then ``_claim`` (the claim's row in the
    claims frame), ``_row`` (the named row in its table's frame), ``_table``, ``_cell`` (the
    row's cell), ``_row_report`` (whether the row is reported), and for both the value and the
    cell: whether it is a valid cell of the column (``_ok:value``, ``_ok:_cell``: the one check
    of the field's lexical form, :func:`~nk_defections.check.rules.fields.value_checks`, and its
    text checks), its
    bounds if a date (``_min:…``, ``_max:…``) and the key it compares by (``_key:…``).
    """
    return ctx.cached("valued", lambda: _valued(ctx))


def _valued(ctx: Context) -> list[Part]:
    package = ctx.package
    claims = ctx.frame(CLAIMS)
    parts = []
    for table, naming in named(ctx).rows.items():
        records = ctx.frame(table)
        on = naming.filter(pl.col("_mine") & pl.col("field").is_in(package.field_names(table)))
        for (column,), part in on.partition_by("field", as_dict=True, include_key=False).items():
            date, interval, numeric = _kind(package, table, column)
            frame = (
                claims.select(pl.all().gather(part["_claim"]))
                .with_columns(
                    part["_claim"],
                    part["_row"],
                    pl.lit(table).alias("_table"),
                    records[column].gather(part["_row"]).alias("_cell"),
                    records[REPORT].gather(part["_row"]).alias("_row_report"),
                )
                .lazy()
                .with_columns(
                    *_derived("value", date, interval, numeric),
                    *_derived("_cell", date, interval, numeric),
                )
                .collect()
            )
            field = package.field(table, column)
            checks, prepared = value_checks(field, frame, "value", pl.col(REPORT), table=table)
            # Valid in every respect: a cell (or value) with a fault of text is reported as
            # such, and compared with nothing.
            cell_checks, cell_prepared = value_checks(
                field, frame, "_cell", pl.lit(True), table=table
            )
            every, every_prepared = value_checks(field, frame, "value", pl.lit(True), table=table)
            cell_checks += text_checks(field, "_cell")
            every += text_checks(field, "value")
            frame = (
                frame.lazy()
                .with_columns(every_prepared + cell_prepared)
                .with_columns(
                    (pl.col("value").is_not_null() & ~_refused(every)).alias("_ok:value"),
                    (pl.col("_cell").is_not_null() & ~_refused(cell_checks)).alias("_ok:_cell"),
                    pl.lit(date).alias("_date"),
                )
                .drop(cs.starts_with("_refused"))
                .collect()
            )
            parts.append(Part(table, column, frame, checks, prepared))
    return parts


def _refused(checks: list[Check]) -> pl.Expr:
    """True where any of a field's checks finds a fault."""
    hits = [check.bad if check.confirm is None else check.bad & check.confirm for check in checks]
    return pl.any_horizontal(*hits).fill_null(False) if hits else pl.lit(False)


def _cells(ctx: Context) -> pl.DataFrame:
    """Every claim on a field of a row it names, with what it is compared by (see :func:`valued`)."""

    def compute() -> pl.DataFrame:
        columns = [
            *CELL,
            "_claim",
            "_cell",
            "_row_report",
            REPORT,
            *_SAID,
            CLAIM_KEY,
            "claim_rank",
            "_ok:value",
            "_ok:_cell",
            "_date",
            "_min:value",
            "_max:value",
            "_min:_cell",
            "_max:_cell",
            "_key:value",
            "_key:_cell",
        ]
        frames = [part.frame.select(columns) for part in valued(ctx)]
        if not frames:
            return pl.DataFrame()
        inside = (
            pl.col("_min:value").is_null()
            | (pl.col("_min:_cell").is_not_null() & (pl.col("_min:_cell") >= pl.col("_min:value")))
        ) & (
            pl.col("_max:value").is_null()
            | (pl.col("_max:_cell").is_not_null() & (pl.col("_max:_cell") <= pl.col("_max:value")))
        )
        both = pl.col("_ok:value") & pl.col("_ok:_cell")
        return pl.concat(frames, how="vertical_relaxed").with_columns(
            (both & pl.col("_key:value").eq(pl.col("_key:_cell"))).alias("_equal"),
            (
                both
                & (_rank() != DEPRECATED)
                & pl.when(pl.col("_date"))
                .then(inside)
                .otherwise(pl.col("_key:value").eq(pl.col("_key:_cell")))
            ).alias("_supports"),
            (pl.col("_ok:value") & (_rank() == PREFERRED)).alias("_preferred"),
        )

    return ctx.cached("value-cells", compute)


@rule(C.CLAIM_MISSING_VALUE, C.CLAIM_ROW_VALUE, tables=(CLAIMS,))
def check_value_present(ctx: Context) -> Iterator[Issue | Batch]:
    """A claim on a field has a value; a claim on the row as a whole ('*') has none."""
    claims = ctx.frame(CLAIMS)
    on_field = pl.col("field").is_not_null() & (pl.col("field") != "*")
    yield from emit(
        claims.filter(on_field & pl.col("value").is_null()),
        C.CLAIM_MISSING_VALUE,
        "value",
        lambda r: (
            f"the claim on {r['field']!r} of {r[CLAIM_KEY]} has no value: write the value the "
            f"source gives, as a cell of {r['field']!r} is written"
        ),
    )
    yield from emit(
        claims.filter((pl.col("field") == "*") & pl.col("value").is_not_null()),
        C.CLAIM_ROW_VALUE,
        "value",
        lambda r: (
            f"the claim on the row {r[CLAIM_KEY]} as a whole ('*') has the value "
            f"{r['value']!r}: a value belongs to a claim on one field"
        ),
    )


@rule(C.CLAIM_INVALID_VALUE, tables=(CLAIMS,))
def check_value_form(ctx: Context) -> Iterator[Issue | Batch]:
    """A claim's value is a valid cell of its field, by the field's own checks."""
    for part in valued(ctx):
        for batch in emit_checks(part.frame, part.checks, part.prepared):
            assert isinstance(batch, Batch)  # emit_checks yields batches only
            yield replace(
                batch, code=C.CLAIM_INVALID_VALUE, message=_invalid_message(part, batch.message)
            )


def _invalid_message(part: Part, said: Callable[..., str]) -> Callable[[Row], str]:
    return lambda r: f"value {r['value']!r} is not a valid {part.column} of {part.table}: {said(r)}"


def _listed(values: pl.Expr) -> pl.Expr:
    """The distinct values of a group, quoted, comma-separated."""
    return pl.format("'{}'", values).unique(maintain_order=True).str.join(", ")


@rule(C.CLAIM_UNSUPPORTED, tables=(CLAIMS,))
def check_value_support(ctx: Context) -> Iterator[Issue | Batch]:
    """Every filled cell that has claims is supported by one that is not deprecated."""
    cells = _cells(ctx)
    if cells.is_empty():
        return
    kept = _rank() != DEPRECATED
    groups = (
        cells.group_by(CELL, maintain_order=True)
        .agg(
            pl.col("_cell").first(),
            pl.col("_row_report").first(),
            pl.col("_ok:_cell").first(),
            pl.col("_supports").any().alias("_supported"),
            (kept & ~pl.col("_ok:value")).any().alias("_unjudged"),
            _listed(pl.col("value").filter(kept & pl.col("_ok:value"))).alias("_given"),
            pl.col("_claim").filter(pl.col(REPORT)),
        )
        .filter(pl.col("_ok:_cell") & ~pl.col("_supported") & ~pl.col("_unjudged"))
    )

    def said(r: Row) -> str:
        given = f"those not deprecated give {r['_given']}" if r["_given"] else "all are deprecated"
        return f"{r['field']} {r['_cell']!r} of {r['_record']} is supported by no claim: {given}"

    yield from _at_cells(ctx, groups, C.CLAIM_UNSUPPORTED, said)


@rule(C.CLAIM_PREFERRED_CONFLICT, C.CLAIM_PREFERRED_MISMATCH, tables=(CLAIMS,))
def check_preferred(ctx: Context) -> Iterator[Issue | Batch]:
    """At most one preferred value per field of a record, and the cell is exactly that value."""
    cells = _cells(ctx)
    if cells.is_empty() or not cells["_preferred"].any():
        return
    preferred = cells.filter(pl.col("_preferred"))
    pairs = _pairs(preferred, pl.col("_key:value") != pl.col("_key:value_other"))
    yield from emit(
        _claims_with(ctx, pairs),
        C.CLAIM_PREFERRED_CONFLICT,
        "claim_rank",
        lambda r: (
            f"{r['id']} prefers {r['value']!r} for {r['field']} of {r[CLAIM_KEY]}, and "
            f"{_other(r)} prefers {r['value_other']!r}: at most one value is preferred"
        ),
    )
    agreed = (
        preferred.group_by(CELL, maintain_order=True)
        .agg(
            pl.col("_cell").first(),
            pl.col("_row_report").first(),
            pl.col("_ok:_cell").first(),
            pl.col("_key:value").n_unique().alias("_values"),
            pl.col("value").first().alias("_preferred_value"),
            pl.col("id").first().alias("_preferred_id"),
            (pl.col("_equal")).any().alias("_equal"),
            pl.col("_claim").filter(pl.col(REPORT)),
        )
        .filter(pl.col("_ok:_cell") & (pl.col("_values") == 1) & ~pl.col("_equal"))
    )
    yield from _at_cells(
        ctx,
        agreed,
        C.CLAIM_PREFERRED_MISMATCH,
        lambda r: (
            f"{r['field']} of {r['_record']} is {r['_cell']!r}, but its preferred claim "
            f"{r['_preferred_id']} gives {r['_preferred_value']!r}: the cell is the preferred value"
        ),
    )


def _disagree() -> pl.Expr:
    """Two claims' values disagree: dates whose ranges do not meet, other values that differ."""
    apart = (pl.col("_max:value") < pl.col("_min:value_other")) | (
        pl.col("_max:value_other") < pl.col("_min:value")
    )
    return (
        pl.when(pl.col("_date"))
        .then(apart.fill_null(False))
        .otherwise(pl.col("_key:value") != pl.col("_key:value_other"))
    )


def _disputed(ctx: Context) -> pl.DataFrame:
    """Every pair of claims in dispute (cached): both valid, not deprecated, none preferred."""

    def compute() -> pl.DataFrame:
        cells = _cells(ctx)
        if cells.is_empty():
            return cells
        open_ = cells.filter(
            pl.col("_ok:value") & (_rank() != DEPRECATED) & ~pl.col("_preferred").any().over(CELL)
        )
        return _pairs(open_, _disagree(), reported=False)

    return ctx.cached("disputed", compute)


@rule(C.CLAIM_DISPUTED, tables=(CLAIMS,))
def check_disputes(ctx: Context) -> Iterator[Issue | Batch]:
    """Claims that disagree on a field with none preferred: a warning naming both and their sources."""
    pairs = _disputed(ctx)
    if pairs.is_empty():
        return
    yield from emit(
        _claims_with(ctx, _reported_once(pairs)),
        C.CLAIM_DISPUTED,
        "value",
        lambda r: (
            f"{r['field']} of {r[CLAIM_KEY]} is disputed: {r['id']} ({r['source_id']} "
            f"¶{r['paragraph']}) gives {r['value']!r}, {_other(r)} ({r['source_id_other']} "
            f"¶{r['paragraph_other']}) gives {r['value_other']!r}, and neither is preferred "
            "(prefer one, with its rank_reason, or deprecate the wrong one)"
        ),
    )


def disputes(ctx: Context) -> pl.DataFrame:
    """The disputed fields: every claim in a dispute, with the record's value (a release's table).

    One row per claim that is not deprecated on a field whose claims disagree with none
    preferred (what :func:`check_disputes` warns of), sorted by record, field and claim.

    Examples
    --------
    >>> from nk_defections.check.rules import Context
    >>> from nk_defections.model.package import load_package_descriptor
    >>> from nk_defections.read.package import read_package_frames
    >>> package = load_package_descriptor()
    >>> disputes(Context(package, read_package_frames(package)[0])).columns[:4]
    ['table', 'record_id', 'field', 'record_value']
    """
    schema = {
        "table": pl.String,
        "record_id": pl.String,
        "field": pl.String,
        "record_value": pl.String,
        "claim_id": pl.String,
        "value": pl.String,
        "source_id": pl.String,
        "paragraph": pl.Int64,
    }
    pairs = _disputed(ctx)
    if pairs.is_empty():
        return pl.DataFrame(schema=schema)
    cells = _cells(ctx)
    open_ = cells.join(pairs.select(CELL).unique(), on=CELL, how="semi").filter(
        pl.col("_ok:value") & (_rank() != DEPRECATED)
    )
    return (
        open_.select(
            pl.col("_table").alias("table"),
            pl.col(CLAIM_KEY).alias("record_id"),
            "field",
            pl.col("_cell").alias("record_value"),
            pl.col("id").alias("claim_id"),
            "value",
            "source_id",
            "paragraph",
        )
        .cast(schema)  # type: ignore[arg-type]
        .unique(maintain_order=True)
        .sort("record_id", "field", "claim_id")
    )


@rule(C.CLAIM_MISSING_RANK_REASON, C.CLAIM_RANK_REASON, tables=(CLAIMS,))
def check_rank_reason(ctx: Context) -> Iterator[Issue | Batch]:
    """A preferred or deprecated claim says why; a normal one does not; the reason fits the rank."""
    reasons = rank_of_reason(ctx.package)
    claims = ctx.frame(CLAIMS).with_columns(
        pl.col("rank_reason")
        .replace_strict(reasons, default=None, return_dtype=pl.String)
        .alias("_reason_rank")
    )
    ranked = _rank().is_in([PREFERRED, DEPRECATED])
    yield from emit(
        claims.filter(ranked & pl.col("rank_reason").is_null()),
        C.CLAIM_MISSING_RANK_REASON,
        "rank_reason",
        lambda r: (
            f"a {r['claim_rank']} claim says why in rank_reason (one of "
            f"{', '.join(k for k, v in reasons.items() if v == r['claim_rank'])})"
        ),
    )
    yield from emit(
        claims.filter(
            _rank().is_in([PREFERRED, NORMAL, DEPRECATED])
            & pl.col("_reason_rank").is_not_null()
            & (pl.col("_reason_rank") != _rank())
        ),
        C.CLAIM_RANK_REASON,
        "rank_reason",
        lambda r: (
            f"{r['rank_reason']!r} is a reason for a {r['_reason_rank']} claim, and this one is "
            f"{r['claim_rank'] or NORMAL}"
            + (
                ": a normal claim has no rank_reason"
                if (r["claim_rank"] or NORMAL) == NORMAL
                else ""
            )
        ),
    )


# -- where the findings go ------------------------------------------------------------------------


def _pairs(frame: pl.DataFrame, apart: pl.Expr, *, reported: bool = True) -> pl.DataFrame:
    """The claims of *frame* with another on the same cell that *apart* says they differ from.

    With *reported*, one row per pair, at the claim that reports it (:func:`_reported_once`).
    The other claim's columns have the suffix ``_other``.
    """
    pairs = frame.join(frame, on=CELL, suffix="_other").filter(
        (pl.col("_claim") != pl.col("_claim_other")) & apart
    )
    return _reported_once(pairs) if reported else pairs


def _reported_once(pairs: pl.DataFrame) -> pl.DataFrame:
    """Each reported claim of a pair whose other is earlier or not reported, with the first such other."""
    return (
        pairs.filter(
            pl.col(REPORT)
            & ((pl.col("_claim_other") < pl.col("_claim")) | ~pl.col(f"{REPORT}_other"))
        )
        .sort("_claim", "_claim_other")
        .unique("_claim", keep="first", maintain_order=True)
    )


def _other(r: Row) -> str:
    return str(r["id_other"])


def _claims_with(ctx: Context, found: pl.DataFrame) -> pl.DataFrame:
    """The rows of the claims frame at ``found['_claim']``, with found's columns beside them."""
    claims = ctx.frame(CLAIMS)
    extra = found.select(pl.exclude(claims.columns))
    return claims.select(pl.all().gather(found["_claim"])).hstack(extra)


def _at_cells(
    ctx: Context, groups: pl.DataFrame, code: str, said: Callable[[Row], str]
) -> Iterator[Issue | Batch]:
    """Findings about cells: at the row where it is reported, else at its reported claims.

    *groups* has one row per cell (:data:`CELL`), ``_row_report``, ``_claim`` (the reported
    claims on it, a list) and what *said* reads besides ``field`` and ``_record`` (the row's id).
    """
    if groups.is_empty():
        return
    on_rows = groups.filter(pl.col("_row_report")).drop("_claim")
    for (table, column), part in on_rows.partition_by(
        ["_table", "field"], as_dict=True, include_key=False
    ).items():
        records = ctx.frame(str(table))
        rows = (
            records.select(pl.all().gather(part["_row"]))
            .hstack(part.select(pl.exclude(records.columns)))
            .with_columns(pl.lit(column).alias("field"), pl.col("id").alias("_record"))
        )
        yield from emit(rows, code, str(column), said)
    on_claims = groups.filter(~pl.col("_row_report")).explode("_claim").drop_nulls("_claim")
    if on_claims.height:
        claims = ctx.frame(CLAIMS)
        rows = (
            claims.select(pl.all().gather(on_claims["_claim"]))
            .hstack(on_claims.select(pl.exclude(claims.columns)))
            .with_columns(pl.col(CLAIM_KEY).alias("_record"))
        )
        yield from emit(rows, code, "value", said)


RULES = [
    check_value_present,
    check_value_form,
    check_value_support,
    check_preferred,
    check_disputes,
    check_rank_reason,
]
