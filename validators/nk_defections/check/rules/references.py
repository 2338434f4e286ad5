"""Rules across tables: every reference resolves, by prefix, into the table it names."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from nk_defections.check.rules import Batch, Context, emit, rule
from nk_defections.check.rules.claims import claim_rows, named
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.frames import REPORT
from nk_defections.model.package import CLAIM_KEY, CLAIMS, REDIRECTS


def retired_ids(ctx: Context) -> pl.Series:
    """The ids retired with no successor (a redirect without ``new_id``)."""
    if REDIRECTS not in ctx.frames:
        return pl.Series("old_id", [], dtype=pl.String)
    redirects = ctx.frame(REDIRECTS)
    return redirects.filter(pl.col("new_id").is_null())["old_id"]


@rule(*C.REF_UNKNOWN.values(), C.REF_UNKNOWN_ROW, C.REF_RETIRED)
def check_references(ctx: Context) -> Iterator[Issue | Batch]:
    """Foreign keys and prefix-typed references (participant_id, stated_by, record_id…) resolve.

    A reference to a retired id (in redirects with no successor) is ``ref.retired``.
    """
    package = ctx.package
    retired = retired_ids(ctx).implode()
    # The ids of each table that carry its own prefix: a reference with that prefix can only
    # name one of these. As prefixes end at the dash, the ids of several tables never collide,
    # so a column that may point into many tables is one anti join against all their ids.
    ids = {
        table: ctx.frame(table)
        .lazy()
        .select("id")
        .filter(pl.col("id").str.starts_with(f"{prefix}-"))
        for table, prefix in package.prefixes.items()
    }
    for table in ctx.reported_tables():
        frame = ctx.frame(table).lazy().filter(pl.col(REPORT))
        for column in package.reference_columns(table):
            targets = list(dict.fromkeys(package.reference_targets(table, column)))
            if not targets:
                continue
            starts = {
                target: pl.col(column).str.starts_with(f"{package.prefixes[target]}-")
                for target in targets
            }
            if (table, column) == (CLAIMS, CLAIM_KEY) and CLAIMS not in targets:
                # The claim rules join the claims with every table's ids once: a record_id can
                # only dangle if it names no row by an id with its own prefix.
                unowned = named(ctx).unowned
                suspects = claim_rows(ctx, unowned).lazy().filter(pl.col(REPORT))
                dangling = suspects.filter(pl.any_horizontal(*starts.values())).collect()
            else:
                # Lazy: only the dangling rows are ever copied.
                dangling = (
                    frame.filter(pl.any_horizontal(*starts.values()))
                    .join(
                        pl.concat([ids[target] for target in targets]),
                        left_on=column,
                        right_on="id",
                        how="anti",
                    )
                    .collect()
                )
            gone = dangling.filter(pl.col(column).is_in(retired))
            yield from emit(
                gone,
                C.REF_RETIRED,
                column,
                lambda r, c=column: (
                    f"{c} {r[c]!r} names a retired record (see redirects): it is not there any more"
                ),
            )
            dangling = dangling.filter(~pl.col(column).is_in(retired))
            for target in targets:
                if target in ctx.unread:
                    continue
                code, label = C.ref_unknown(target)
                yield from emit(
                    dangling.filter(starts[target]),
                    code,
                    column,
                    lambda r, c=column, lab=label: (
                        f"{c} {r[c]!r} names no {lab} in the package or the contribution"
                    ),
                )


RULES = [check_references]
