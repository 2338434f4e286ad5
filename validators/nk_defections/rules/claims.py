"""Provenance rules: every row is claimed, every key value has its own claim, claims are sound."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from .. import codes as C
from ..issues import Issue
from ..package import CLAIMS, UNCLAIMED, Package
from . import ENGINE, Context, emit

#: Columns (besides every date and number) whose values need a claim of their own.
CLAIMED_COLUMNS = frozenset({"title", "rank", "status", "end_reason", "role", "motive"})


def evidence_columns(package: Package, table: str) -> tuple[set[str], set[str]]:
    """The columns of *table* needing their own claim, and those needing original_text too."""
    dates = {column for column, _ in package.date_columns(table)}
    numbers = {f["name"] for f in package.fields(table) if f["type"] in ("integer", "number")}
    names = set(package.field_names(table))
    return (dates | numbers | (CLAIMED_COLUMNS & names)), dates | numbers


def _claims(ctx: Context) -> pl.DataFrame:
    return ctx.cached("claims", lambda: ctx.frame(CLAIMS).with_columns(
        pl.col("record_id").str.slice(0, 3).alias("_prefix"),
        pl.col("paragraph").cast(pl.Int64, strict=False).alias("_paragraph"),
    ))


def check_row_claims(ctx: Context) -> Iterator[Issue]:
    """Every row but a source or a claim has a claim with field '*'."""
    # Anti joins: one hash table of claimed ids, not one per table (as `is_in` would build).
    claimed = (
        _claims(ctx).lazy().filter(pl.col("field") == "*").select(pl.col("record_id").alias("id")).unique()
        .collect(engine=ENGINE).lazy()
    )
    for table in ctx.reported_tables():
        if table in UNCLAIMED:
            continue
        rows = ctx.frame(table).lazy().filter(pl.col("_report") & pl.col("id").is_not_null())
        missing = rows.join(claimed, on="id", how="anti").collect()
        yield from emit(missing, C.CLAIM_MISSING_ROW, "id", lambda r: f"{r['id']} has no claim with field '*' citing a source")


def check_field_claims(ctx: Context) -> Iterator[Issue]:
    """Every date, number, title, rank, status, end_reason, role and motive has its own claim."""
    needed = {
        table: sorted(evidence_columns(ctx.package, table)[0])
        for table in ctx.reported_tables() if table not in UNCLAIMED
    }
    wanted = sorted({column for columns in needed.values() for column in columns})
    # One pass over the claims splits the ids claimed per field.
    claimed = (
        _claims(ctx).lazy().filter(pl.col("field").is_in(wanted)).select(pl.col("record_id").alias("id"), "field")
        .collect(engine=ENGINE).partition_by("field", as_dict=True, include_key=False)
    )
    nobody = pl.LazyFrame(schema={"id": pl.String})
    for table, columns in needed.items():
        frame = ctx.frame(table).lazy().filter(pl.col("_report") & pl.col("id").is_not_null())
        for column in columns:
            have = claimed[(column,)].lazy() if (column,) in claimed else nobody
            missing = frame.filter(pl.col(column).is_not_null()).join(have, on="id", how="anti").collect()
            yield from emit(missing, C.CLAIM_MISSING_FIELD, column, lambda r, c=column: f"{c} {r[c]!r} of {r['id']} has no claim of its own")


def check_claim_soundness(ctx: Context) -> Iterator[Issue]:
    """Claims name a real field, carry original_text for dates and numbers, and cite an existing paragraph."""
    package = ctx.package
    if not ctx.reported(CLAIMS):
        return
    claims = _claims(ctx).lazy().filter(pl.col("_report"))
    sources = ctx.frame("sources").select(
        pl.col("id").alias("source_id"), pl.col("paragraphs").cast(pl.Int64, strict=False).alias("_paragraphs")
    ).unique("source_id", keep="first")
    beyond = claims.join(sources.lazy(), on="source_id", how="inner").filter(pl.col("_paragraph") > pl.col("_paragraphs")).collect()
    yield from emit(beyond, C.CLAIM_PARAGRAPH, "paragraph", lambda r: f"paragraph {r['_paragraph']} is past the end of {r['source_id']}, which has {r['_paragraphs']}")
    # Lazy: each table's claims are filtered once (shared by the queries of collect_all), and
    # only the rows that fail are ever copied.
    rest = claims.filter(pl.col("field") != "*")
    prefixes = set(rest.select(pl.col("_prefix").unique()).collect().to_series().to_list())
    for table, prefix in package.prefixes.items():
        if table == CLAIMS or prefix not in prefixes:
            continue
        mine = rest.filter(pl.col("_prefix") == prefix)
        columns = package.field_names(table)
        _, textual = evidence_columns(package, table)
        unknown, untold, fields = pl.collect_all([
            mine.filter(~pl.col("field").is_in(columns)),
            mine.filter(pl.col("field").is_in(sorted(textual)) & pl.col("original_text").is_null()),
            mine.select(pl.col("field").unique()),
        ])
        yield from emit(unknown, C.CLAIM_UNKNOWN_FIELD, "field", lambda r, t=table: f"field {r['field']!r} is not a column of {t}")
        yield from emit(
            untold, C.CLAIM_MISSING_TEXT, "original_text",
            lambda r: f"the claim on {r['field']!r} of {r['record_id']} needs the source's own words in original_text",
        )
        records = ctx.frame(table).lazy()
        for column in sorted(set(fields["field"].to_list()) & set(columns)):
            empty = records.filter(pl.col(column).is_null()).select(pl.col("id").alias("record_id"))
            yield from emit(
                mine.filter(pl.col("field") == column).join(empty, on="record_id", how="semi").collect(),
                C.CLAIM_EMPTY_FIELD, "field",
                lambda r: f"{r['record_id']} has no value in {r['field']!r} for this claim to support",
            )


RULES = [check_row_claims, check_field_claims, check_claim_soundness]
