"""Rules about one record's own fields."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from nk_defections.check.rules import Batch, Context, emit, rule
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue


@rule(C.RECORD_END_REASON, tables=("postings",))
def check_end_reason_without_end(ctx: Context) -> Iterator[Issue | Batch]:
    """end_reason requires status ended."""
    frame = ctx.frame("postings")
    bad = frame.filter(pl.col("end_reason").is_not_null() & (pl.col("status") != "ended"))
    yield from emit(
        bad,
        C.RECORD_END_REASON,
        "end_reason",
        lambda r: f"end_reason {r['end_reason']!r} requires status 'ended', not {r['status']!r}",
    )


@rule(C.RECORD_CURRENT_ENDED, tables=("postings",))
def check_current_with_end_date(ctx: Context) -> Iterator[Issue | Batch]:
    """A current posting has no end date."""
    frame = ctx.frame("postings")
    bad = frame.filter((pl.col("status") == "current") & pl.col("end_date").is_not_null())
    yield from emit(
        bad,
        C.RECORD_CURRENT_ENDED,
        "end_date",
        lambda r: f"status is 'current' but end_date is {r['end_date']!r}",
    )


@rule(C.RECORD_GROUP_SIZE, tables=("people",))
def check_group_size(ctx: Context) -> Iterator[Issue | Batch]:
    """Group sizes belong to groups, and their minimum does not exceed their maximum."""
    frame = ctx.frame("people").with_columns(
        pl.col("group_size_min").cast(pl.Int64, strict=False).alias("_min"),
        pl.col("group_size_max").cast(pl.Int64, strict=False).alias("_max"),
    )
    bad = frame.filter(pl.col("_min") > pl.col("_max"))
    yield from emit(
        bad,
        C.RECORD_GROUP_SIZE,
        "group_size_min",
        lambda r: f"group_size_min {r['_min']} exceeds group_size_max {r['_max']}",
    )
    individual = frame.filter(
        (pl.col("kind") == "individual")
        & (pl.col("group_size_min").is_not_null() | pl.col("group_size_max").is_not_null())
    )
    yield from emit(
        individual,
        C.RECORD_GROUP_SIZE,
        "group_size_min",
        lambda r: "an individual has no group size",
    )


#: (table, column, the column it must differ from): a row that would point at itself.
SELF_REFERENCES = [
    ("event_links", "related_event_id", "event_id"),
    ("relationships", "related_person_id", "person_id"),
    ("organizations", "parent_id", "id"),
]


@rule(C.RECORD_SELF_REFERENCE, tables=tuple(table for table, _, _ in SELF_REFERENCES))
def check_self_reference(ctx: Context) -> Iterator[Issue | Batch]:
    """A link, relationship or parent does not point at its own row."""
    for table, column, other in SELF_REFERENCES:
        bad = ctx.frame(table).filter(pl.col(column) == pl.col(other))
        yield from emit(
            bad,
            C.RECORD_SELF_REFERENCE,
            column,
            lambda r, c=column, o=other: f"{c} {r[c]!r} points at the row's own {o}",
        )


RULES = [
    check_end_reason_without_end,
    check_current_with_end_date,
    check_group_size,
    check_self_reference,
]
