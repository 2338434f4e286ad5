"""Provenance rules: every row is claimed, every key value has its own claim, claims are sound."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from nk_defections.check.rules import Batch, Context, emit, rule
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.frames import REPORT
from nk_defections.model.hints import did_you_mean
from nk_defections.model.package import CLAIM_KEY, CLAIMS, Package

#: The rank of a claim that supports nothing: kept so that its value is not added again.
DEPRECATED = "deprecated"
#: Columns (besides every date and number) whose values need a claim of their own.
CLAIMED_COLUMNS = frozenset({"title", "rank", "status", "end_reason", "role", "motive", "value"})


def evidence_columns(package: Package, table: str) -> tuple[set[str], set[str]]:
    """The columns of *table* needing their own claim, and those needing original_text too."""
    dates = {column for column, _ in package.date_columns(table)}
    numbers = {f["name"] for f in package.fields(table) if f["type"] in ("integer", "number")}
    names = set(package.field_names(table))
    return (dates | numbers | (CLAIMED_COLUMNS & names)), dates | numbers


@dataclass(frozen=True)
class Named:
    """Which rows the claims name: the one join of the claims with the ids of every other table.

    ``rows[table]`` holds, for every claim whose ``record_id`` is the id of a row of *table*,
    one row: ``_claim`` (the claim's row in the claims frame), its ``field`` and ``_report``,
    ``_row`` (the named row in the table's frame), ``_own`` (that id carries the table's own
    prefix and dash) and ``_mine`` (it begins with the table's prefix). A repeated id names
    every row that has it; a table no claim names has no entry. ``unowned`` lists the claims
    that name no row by an id with its own prefix: the only ones whose ``record_id`` may dangle.
    """

    rows: dict[str, pl.DataFrame]
    unowned: pl.Series


def named(ctx: Context) -> Named:
    """What the claims name (cached).

    The row and field claims, the claims' soundness and their ``record_id`` references all read
    it, where each used to join the claims on its own.
    """
    return ctx.cached("named", lambda: _named(ctx))


def _named(ctx: Context) -> Named:
    package = ctx.package
    tables = [table for table in package.resources if table != CLAIMS]
    ids = pl.concat(
        [
            ctx.frame(table)
            .lazy()
            .with_row_index("_row")
            .select(
                "id",
                "_row",
                pl.lit(index, dtype=pl.UInt16).alias("_table"),
                pl.col("id").str.starts_with(f"{package.prefixes[table]}-").alias("_own"),
                pl.col("id").str.starts_with(package.prefixes[table]).alias("_mine"),
            )
            .filter(pl.col("id").is_not_null())
            for index, table in enumerate(tables)
        ]
    )
    claims = (
        ctx.frame(CLAIMS)
        .lazy()
        .with_row_index("_claim")
        .select("_claim", CLAIM_KEY, "field", REPORT)
    )
    joined = (
        claims.join(ids, left_on=CLAIM_KEY, right_on="id", how="left").drop(CLAIM_KEY).collect()
    )
    unowned = joined.filter(~pl.col("_own").fill_null(False))["_claim"]
    if (
        joined.height > ctx.frame(CLAIMS).height
    ):  # an id repeated: a claim may name rows of several tables
        unowned = unowned.filter(~unowned.is_in(joined.filter(pl.col("_own"))["_claim"].implode()))
    found = joined.drop_nulls("_table").partition_by("_table", as_dict=True, include_key=False)
    return Named({tables[key]: rows for (key,), rows in found.items()}, unowned.unique().sort())


def claim_rows(ctx: Context, claims: pl.Series) -> pl.DataFrame:
    """The rows of the claims frame at the indices *claims*, in their order."""
    return ctx.frame(CLAIMS).select(pl.all().gather(claims.unique().sort()))


def _unclaimed(ctx: Context, table: str, field: str, *also: pl.Expr) -> pl.DataFrame:
    """The reported rows of *table* with an id (and *also*) that no claim on *field* names."""
    frame = ctx.frame(table)
    claimed = pl.Series([False]).new_from_index(0, frame.height)
    if (naming := named(ctx).rows.get(table)) is not None:
        claimed = claimed.scatter(naming.filter(pl.col("field") == field)["_row"], True)
    return frame.filter(pl.col(REPORT) & pl.col("id").is_not_null() & ~claimed, *also)


@rule(C.CLAIM_MISSING_ROW, tables=(CLAIMS,))
def check_row_claims(ctx: Context) -> Iterator[Issue | Batch]:
    """Every row but a source or a claim has a claim with field '*'."""
    for table in ctx.reported_tables():
        if not ctx.package.is_claimed(table):
            continue
        missing = _unclaimed(ctx, table, "*")
        yield from emit(
            missing,
            C.CLAIM_MISSING_ROW,
            "id",
            lambda r: f"{r['id']} has no claim with field '*' citing a source",
        )


@rule(C.CLAIM_MISSING_FIELD, tables=(CLAIMS,))
def check_field_claims(ctx: Context) -> Iterator[Issue | Batch]:
    """Every date, number, title, rank, status, end_reason, role and motive has its own claim."""
    for table in ctx.reported_tables():
        if not ctx.package.is_claimed(table):
            continue
        for column in sorted(evidence_columns(ctx.package, table)[0]):
            missing = _unclaimed(ctx, table, column, pl.col(column).is_not_null())
            yield from emit(
                missing,
                C.CLAIM_MISSING_FIELD,
                column,
                lambda r, c=column: f"{c} {r[c]!r} of {r['id']} has no claim of its own",
            )


@rule(
    C.CLAIM_PARAGRAPH,
    C.CLAIM_UNKNOWN_FIELD,
    C.CLAIM_MISSING_TEXT,
    C.CLAIM_EMPTY_FIELD,
    tables=(CLAIMS, "sources"),
)
def check_claim_soundness(ctx: Context) -> Iterator[Issue | Batch]:
    """Claims name a real field, carry original_text for dates and numbers, and cite an existing paragraph."""
    package = ctx.package
    if not ctx.reported(CLAIMS):
        return
    claims = ctx.frame(CLAIMS).lazy().filter(pl.col(REPORT))
    sources = (
        ctx.frame("sources")
        .select(
            pl.col("id").alias("source_id"),
            pl.col("paragraphs").cast(pl.Int64, strict=False).alias("_paragraphs"),
        )
        .unique("source_id", keep="first")
    )
    beyond = (
        claims.with_columns(pl.col("paragraph").cast(pl.Int64, strict=False).alias("_paragraph"))
        .join(sources.lazy(), on="source_id", how="inner")
        .filter(pl.col("_paragraph") > pl.col("_paragraphs"))
        .collect()
    )
    yield from emit(
        beyond,
        C.CLAIM_PARAGRAPH,
        "paragraph",
        lambda r: (
            f"paragraph {r['_paragraph']} is past the end of {r['source_id']}, which has {r['_paragraphs']}"
        ),
    )
    # Whether each claim's field is a column of the table its record_id's prefix names, and
    # whether it needs original_text: one join on (prefix, field) against every known pair.
    tables = {table: prefix for table, prefix in package.prefixes.items() if table != CLAIMS}
    known = pl.LazyFrame(
        [
            (prefix, column, column in textual)
            for table, prefix in tables.items()
            for textual in [evidence_columns(package, table)[1]]
            for column in package.field_names(table)
        ],
        schema={"_prefix": pl.String, "field": pl.String, "_textual": pl.Boolean},
        orient="row",
    )
    faults = (
        ctx.frame(CLAIMS)
        .lazy()
        .with_row_index("_claim")
        .filter(pl.col(REPORT) & (pl.col("field") != "*"))
        .select(
            "_claim", "field", "original_text", pl.col(CLAIM_KEY).str.slice(0, 3).alias("_prefix")
        )
        .filter(pl.col("_prefix").is_in(list(tables.values())))
        .join(known, on=["_prefix", "field"], how="left")
        .filter(
            pl.col("_textual").is_null() | (pl.col("_textual") & pl.col("original_text").is_null())
        )
        .select("_claim", "_textual")
        .collect()
    )
    table_of = package.table_of_prefix
    yield from emit(
        claim_rows(ctx, faults.filter(pl.col("_textual").is_null())["_claim"]),
        C.CLAIM_UNKNOWN_FIELD,
        "field",
        lambda r: (
            f"field {r['field']!r} is not a column of {table_of[r[CLAIM_KEY][:3]]}"
            + did_you_mean(r["field"], package.field_names(table_of[r[CLAIM_KEY][:3]]))
        ),
    )
    yield from emit(
        claim_rows(ctx, faults.filter(pl.col("_textual"))["_claim"]),
        C.CLAIM_MISSING_TEXT,
        "original_text",
        lambda r: (
            f"the claim on {r['field']!r} of {r['record_id']} needs the source's own words in original_text"
        ),
    )
    # A claim on a field of a row that has no value there, unless deprecated (it then records
    # a value that was given and is not held): the claims that name each table's rows by an id
    # with its prefix, per field, looked up in that column.
    empty = []
    kept = ctx.frame(CLAIMS)["claim_rank"].ne_missing(DEPRECATED)
    for table, naming in named(ctx).rows.items():
        records = ctx.frame(table)
        gaps = [column for column in package.field_names(table) if records[column].null_count()]
        if not gaps:
            continue
        on = naming.filter(pl.col(REPORT) & pl.col("_mine") & pl.col("field").is_in(gaps))
        for (column,), part in on.partition_by("field", as_dict=True, include_key=False).items():
            gap = records[column].is_null().gather(part["_row"]) & kept.gather(part["_claim"])
            empty.append(part.filter(gap)["_claim"])
    if empty:
        yield from emit(
            claim_rows(ctx, pl.concat(empty)),
            C.CLAIM_EMPTY_FIELD,
            "field",
            lambda r: (
                f"{r['record_id']} has no value in {r['field']!r} for this claim to support "
                "(deprecate the claim, or fill the cell)"
            ),
        )


RULES = [check_row_claims, check_field_claims, check_claim_soundness]
