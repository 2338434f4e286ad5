"""Rules within one table: uniqueness of ids."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from nk_defections.check.rules import ENGINE, Batch, Context, emit, rule
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.frames import REPORT
from nk_defections.model.package import REDIRECTS


@rule(C.TABLE_DUPLICATE_ID, C.REF_ID_EXISTS)
def check_duplicate_id(ctx: Context) -> Iterator[Issue | Batch]:
    """An id occurs once: a repeat is reported at every later occurrence.

    A contributed id that the package already has is ``ref.id-exists`` (ids are minted once,
    so even an identical record is refused); a repeat within the contribution, or within the
    package, is ``table.duplicate-id``.
    """
    for table in ctx.reported_tables():
        frame = ctx.frame(table)
        # Equal ids have equal 64-bit hashes, so only rows whose hash repeats can repeat an id:
        # sorting the hashes shows those that repeat (a quarter of the time of finding them with
        # a hash table), and the exact test runs on those rows alone.
        hashes = frame.select(pl.col("id").hash()).to_series().sort()
        repeated = hashes.filter(hashes == hashes.shift(1)).unique()
        if repeated.is_empty():
            continue
        candidates = frame.lazy().filter(
            pl.col("id").is_not_null() & pl.col("id").hash().is_in(repeated.implode())
        )
        frame = candidates.filter(pl.col("id").is_duplicated()).collect(engine=ENGINE)
        frame = frame.with_columns(pl.col(REPORT).first().over("id").alias("_first_reported"))
        dupes = frame.filter(~pl.col("id").is_first_distinct())
        yield from emit(
            dupes.filter(pl.col("_first_reported")),
            C.TABLE_DUPLICATE_ID,
            "id",
            lambda r: f"id {r['id']!r} occurs more than once",
        )
        yield from emit(
            dupes.filter(~pl.col("_first_reported")),
            C.REF_ID_EXISTS,
            "id",
            lambda r: (
                f"id {r['id']!r} is already in the package: to change that record, amend it "
                "(set a field, merge it into another, retire it: CONTRIBUTING.md, "
                "'Correcting and refining what is there'); a new record needs a new id"
            ),
        )


@rule(C.REF_ID_RETIRED, tables=(REDIRECTS,))
def check_retired_id(ctx: Context) -> Iterator[Issue | Batch]:
    """An id merged or retired (in redirects) names no row again: ids are never reused."""
    redirects = ctx.frame(REDIRECTS)
    if redirects.is_empty():
        return
    old = redirects.select("old_id", "new_id")
    for table in ctx.reported_tables():
        if table == REDIRECTS:
            continue
        reused = (
            ctx.frame(table)
            .lazy()
            .filter(pl.col(REPORT))
            .join(old.lazy(), left_on="id", right_on="old_id", how="inner")
            .collect()
        )
        yield from emit(
            reused,
            C.REF_ID_RETIRED,
            "id",
            lambda r: (
                f"id {r['id']!r} was "
                + (f"merged into {r['new_id']}" if r["new_id"] else "retired")
                + ": ids are never reused; mint a new one with `nk-defections new-id`"
            ),
        )


RULES = [check_duplicate_id, check_retired_id]
