"""Rules on the order of dates, using each EDTF value's earliest and latest day.

A pair is out of order only when it certainly is: the start's earliest day is after the end's
latest day. ``2023-11`` and ``2023-11-05`` are in order both ways round.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from nk_defections.check.rules import ENGINE, Batch, Context, emit, rule
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.dates import bounds_exprs, derived_exprs, kind_expr

#: (table, earlier column, later column) that must be in order within a row.
PAIRS = [
    ("sources", "published_date", "retrieved_date"),
    ("people", "birth_date", "death_date"),
    ("person_names", "start_date", "end_date"),
    ("organizations", "founded_date", "dissolved_date"),
    ("postings", "start_date", "end_date"),
    ("postings", "start_date", "attested_date"),
    ("postings", "attested_date", "end_date"),
    ("events", "date", "disclosed_date"),
]


def with_bounds(ctx: Context, table: str) -> pl.DataFrame:
    """The frame of *table* with each date column's bounds and validity (cached).

    For each date column: ``_min:<column>``, ``_max:<column>``
    (its earliest and latest day) and ``_valid:<column>`` (cached: the field checks use the
    validity, the order rules the bounds, and each value is parsed once for all of them).
    """

    def compute() -> pl.DataFrame:
        frame = ctx.frame(table)
        for column, interval in ctx.package.date_columns(table):
            parsed = _parsed(ctx, interval).rename(
                {
                    "value": column,
                    "min": f"_min:{column}",
                    "max": f"_max:{column}",
                    "valid": f"_valid:{column}",
                }
            )
            frame = frame.join(parsed, on=column, how="left", maintain_order="left")
        return frame

    return ctx.cached(f"bounds:{table}", compute)


def _parsed(ctx: Context, interval: bool) -> pl.DataFrame:
    """Every distinct value of the date (or period) columns of every table, with its bounds.

    And its validity (*interval*: the period columns). A date column repeats its values (a million events fall on
    some thousands of days), and each query that parses costs a few milliseconds however
    small its table, so all the values are parsed in one.
    """

    def compute() -> pl.DataFrame:
        values = [
            ctx.frame(table).lazy().select(pl.col(column).alias("value"))
            for table in ctx.package.resources
            for column, kind in ctx.package.date_columns(table)
            if kind == interval
        ]
        if not values:
            return pl.DataFrame(
                schema={"value": pl.String, "min": pl.Date, "max": pl.Date, "valid": pl.Boolean}
            )
        # Lazy, so that the three outputs share one evaluation of the derived struct.
        return (
            pl.concat(values)
            .unique()
            .drop_nulls()
            .with_columns(derived_exprs("value", interval=interval))
            .rename({"min:value": "min", "max:value": "max", "valid:value": "valid"})
            .collect(engine=ENGINE)
        )

    return ctx.cached(f"parsed-dates:{interval}", compute)


@rule(C.DATE_ORDER, tables=tuple(dict.fromkeys(table for table, _, _ in PAIRS)))
def check_order(ctx: Context) -> Iterator[Issue | Batch]:
    """Within a row: birth before death, start before end, attested within, disclosed or retrieved after."""
    for table, early, late in PAIRS:
        if not {early, late} <= {column for column, _ in ctx.package.date_columns(table)}:
            continue  # a descriptor without them, or typing them otherwise: nothing to order
        frame = with_bounds(ctx, table)
        bad = frame.filter(pl.col(f"_min:{early}") > pl.col(f"_max:{late}"))
        yield from emit(
            bad,
            C.DATE_ORDER,
            late,
            lambda r, e=early, lt=late: f"{lt} {r[lt]!r} is before {e} {r[e]!r}",
        )


@rule(C.DATE_ORDER, tables=("postings", "people"))
def check_posting_in_life(ctx: Context) -> Iterator[Issue | Batch]:
    """A posting lies within its holder's life."""
    people = (
        with_bounds(ctx, "people")
        .select(
            pl.col("id").alias("person_id"),
            "birth_date",
            "death_date",
            "_min:birth_date",
            "_max:death_date",
        )
        .unique("person_id", keep="first")
    )
    postings = with_bounds(ctx, "postings").join(people, on="person_id", how="inner")
    for column in ("start_date", "attested_date", "end_date"):
        before = postings.filter(pl.col(f"_max:{column}") < pl.col("_min:birth_date"))
        yield from emit(
            before,
            C.DATE_ORDER,
            column,
            lambda r, c=column: f"{c} {r[c]!r} is before the holder's birth {r['birth_date']!r}",
        )
        after = postings.filter(pl.col(f"_min:{column}") > pl.col("_max:death_date"))
        yield from emit(
            after,
            C.DATE_ORDER,
            column,
            lambda r, c=column: f"{c} {r[c]!r} is after the holder's death {r['death_date']!r}",
        )


@rule(C.DATE_BOUNDS)
def check_derived_bounds(ctx: Context) -> Iterator[Issue | Batch]:
    """In a release, ``<field>_min``/``_max``/``_kind`` equal those computed from the EDTF value."""
    for table in ctx.package.resources:
        frame = ctx.frame(table)
        for column, interval in ctx.package.date_columns(table):
            exprs = (*bounds_exprs(column, interval=interval), kind_expr(column, interval=interval))
            for end, expr in zip(("min", "max", "kind"), exprs, strict=True):
                derived = f"{column}_{end}"
                if derived not in frame.columns:
                    continue
                computed = expr.cast(pl.String).alias("_computed")
                checked = frame.with_columns(computed)
                bad = checked.filter(pl.col(derived).eq_missing(pl.col("_computed")).not_())
                yield from emit(
                    bad,
                    C.DATE_BOUNDS,
                    derived,
                    lambda r, d=derived, c=column: (
                        f"{d} is {r[d]!r} but {c} {r[c]!r} gives {r['_computed']!r}"
                    ),
                )


RULES = [check_order, check_posting_in_life, check_derived_bounds]
