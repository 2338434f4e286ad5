"""Rules across tables: every reference resolves, by prefix, into the table it names."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from .. import codes as C
from ..issues import Issue
from . import Context, emit


def check_references(ctx: Context) -> Iterator[Issue]:
    """Foreign keys and prefix-typed references (participant_id, stated_by, record_id…) resolve."""
    package = ctx.package
    # Lazy anti joins: only the dangling rows are ever copied.
    ids = {table: ctx.frame(table).lazy().select("id").drop_nulls() for table in package.resources}
    for table in package.resources:
        frame = ctx.frame(table).lazy().filter(pl.col("_report"))
        for column in package.reference_columns(table):
            refs = frame.filter(pl.col(column).is_not_null())
            for target in package.reference_targets(table, column):
                prefix = package.prefixes[target] + "-"
                dangling = (
                    refs.filter(pl.col(column).str.starts_with(prefix))
                    .join(ids[target], left_on=column, right_on="id", how="anti")
                    .collect()
                )
                label = C.REF_UNKNOWN[target].split("-", 1)[1].replace("-", " ")
                yield from emit(
                    dangling, C.REF_UNKNOWN[target], column,
                    lambda r, c=column, lab=label: f"{c} {r[c]!r} names no {lab} in the package or the contribution",
                )


RULES = [check_references]
