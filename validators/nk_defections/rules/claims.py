"""Provenance rules: every row is claimed, every key value has its own claim, claims are sound."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from .. import codes as C
from ..issues import Issue
from ..package import CLAIMS, UNCLAIMED, Package
from . import Context, emit

#: Columns (besides every date and number) whose values need a claim of their own.
CLAIMED_COLUMNS = frozenset({"title", "rank", "status", "end_reason", "role", "motive"})


def evidence_columns(package: Package, table: str) -> tuple[set[str], set[str]]:
    """The columns of *table* needing their own claim, and those needing original_text too."""
    dates = {column for column, _ in package.date_columns(table)}
    numbers = {f["name"] for f in package.fields(table) if f["type"] in ("integer", "number")}
    names = set(package.field_names(table))
    return (dates | numbers | (CLAIMED_COLUMNS & names)), dates | numbers


def _claims(ctx: Context) -> pl.DataFrame:
    if "claims" not in ctx.cache:
        claims = ctx.frame(CLAIMS)
        ctx.cache["claims"] = claims.with_columns(
            pl.col("record_id").str.slice(0, 3).alias("_prefix"),
            pl.col("paragraph").cast(pl.Int64, strict=False).alias("_paragraph"),
        )
    return ctx.cache["claims"]


def check_row_claims(ctx: Context) -> Iterator[Issue]:
    """Every row but a source or a claim has a claim with field '*'."""
    claimed = _claims(ctx).filter(pl.col("field") == "*")["record_id"].implode()
    for table in ctx.package.resources:
        if table in UNCLAIMED:
            continue
        frame = ctx.frame(table).filter(pl.col("id").is_not_null())
        missing = frame.filter(~pl.col("id").is_in(claimed))
        yield from emit(missing, C.CLAIM_MISSING_ROW, "id", lambda r: f"{r['id']} has no claim with field '*' citing a source")


def check_field_claims(ctx: Context) -> Iterator[Issue]:
    """Every date, number, title, rank, status, end_reason, role and motive has its own claim."""
    claims = _claims(ctx).select(pl.col("record_id").alias("id"), "field").unique()
    for table in ctx.package.resources:
        if table in UNCLAIMED:
            continue
        needed, _ = evidence_columns(ctx.package, table)
        frame = ctx.frame(table).filter(pl.col("id").is_not_null())
        for column in sorted(needed):
            present = frame.filter(pl.col(column).is_not_null())
            have = claims.filter(pl.col("field") == column)["id"].implode()
            missing = present.filter(~pl.col("id").is_in(have))
            yield from emit(missing, C.CLAIM_MISSING_FIELD, column, lambda r, c=column: f"{c} {r[c]!r} of {r['id']} has no claim of its own")


def check_claim_soundness(ctx: Context) -> Iterator[Issue]:
    """Claims name a real field, carry original_text for dates and numbers, and cite an existing paragraph."""
    package = ctx.package
    claims = _claims(ctx).filter(pl.col("_report"))
    sources = ctx.frame("sources").select(
        pl.col("id").alias("source_id"), pl.col("paragraphs").cast(pl.Int64, strict=False).alias("_paragraphs")
    ).unique("source_id", keep="first")
    beyond = claims.join(sources, on="source_id", how="inner").filter(pl.col("_paragraph") > pl.col("_paragraphs"))
    yield from emit(beyond, C.CLAIM_PARAGRAPH, "paragraph", lambda r: f"paragraph {r['_paragraph']} is past the end of {r['source_id']}, which has {r['_paragraphs']}")
    for table, prefix in package.prefixes.items():
        if table == CLAIMS:
            continue
        mine = claims.filter((pl.col("_prefix") == prefix) & (pl.col("field") != "*"))
        if mine.is_empty():
            continue
        columns = package.field_names(table)
        yield from emit(
            mine.filter(~pl.col("field").is_in(columns)), C.CLAIM_UNKNOWN_FIELD, "field",
            lambda r, t=table: f"field {r['field']!r} is not a column of {t}",
        )
        _, textual = evidence_columns(package, table)
        yield from emit(
            mine.filter(pl.col("field").is_in(sorted(textual)) & pl.col("original_text").is_null()),
            C.CLAIM_MISSING_TEXT, "original_text",
            lambda r: f"the claim on {r['field']!r} of {r['record_id']} needs the source's own words in original_text",
        )
        records = ctx.frame(table)
        for column in columns:
            on_column = mine.filter(pl.col("field") == column)
            if on_column.is_empty():
                continue
            empty = records.filter(pl.col(column).is_null())["id"].implode()
            yield from emit(
                on_column.filter(pl.col("record_id").is_in(empty)), C.CLAIM_EMPTY_FIELD, "field",
                lambda r: f"{r['record_id']} has no value in {r['field']!r} for this claim to support",
            )


RULES = [check_row_claims, check_field_claims, check_claim_soundness]
