"""Identity and names: status and names agree, names and tags agree, duplicates are pointed out.

identity_status agrees with the names; each name agrees with its language tag; possible
duplicates of people, postings and organizations are warnings that name the other record.

A preferred name is *current* when it has no end_date: an end date is what a source reports of a
name that ended, and whether a name is current must not change with the day the check runs (a
build is the same bytes whenever it is made).
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from nk_defections.check.rules import Batch, Context, emit, rule
from nk_defections.check.rules.dates import with_bounds
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.frames import FILE, LINE, POINTER, REPORT
from nk_defections.model.names import SCRIPT_LETTERS, name_keys, read_tag

PEOPLE, NAMES, POSTINGS, ORGANIZATIONS = "people", "person_names", "postings", "organizations"
#: The statuses of a person who has a name to show, and of one who has none.
SHOWN, UNSHOWN = ("named", "pseudonymous"), ("unnamed", "withheld")
#: Ranks that do not tell one posting from another.
VAGUE_RANKS = ("other", "unknown")
#: The hidden columns a finding's place is read from, and the row's own id.
PLACE = ("id", FILE, LINE, POINTER, REPORT)


#: The columns each table must have for these rules to read it (a descriptor without one of them
#: is checked without the rules that read it, rather than stopped by a missing column).
COLUMNS = {
    PEOPLE: ("name", "identity_status"),
    NAMES: ("person_id", "name", "name_type", "lang", "romanization", "end_date"),
    ORGANIZATIONS: ("name", "country"),
    POSTINGS: ("person_id", "organization_id", "title", "rank", "start_date", "end_date"),
}


def _readable(ctx: Context, *tables: str) -> bool:
    """Whether every one of *tables* has the columns these rules read (:data:`COLUMNS`)."""
    return all(set(COLUMNS[table]) <= set(ctx.package.field_names(table)) for table in tables)


def _current_preferred(ctx: Context) -> pl.DataFrame:
    """The current preferred names, each id once: their rows' places, person and name."""
    return (
        ctx.frame(NAMES)
        .with_row_index("_row")
        .unique("id", keep="first", maintain_order=True)  # a repeated id is another rule's
        .filter(
            (pl.col("name_type") == "preferred")
            & pl.col("end_date").is_null()
            & pl.col("person_id").is_not_null()
        )
    )


def _people(ctx: Context) -> pl.DataFrame:
    """Each person's first row, with its status and name (a repeated id is another rule's)."""
    return (
        ctx.frame(PEOPLE)
        .with_row_index("_order")
        .filter(pl.col("id").is_not_null())
        .unique("id", keep="first", maintain_order=True)
    )


@rule(
    C.IDENTITY_NO_PREFERRED_NAME,
    C.IDENTITY_SEVERAL_PREFERRED_NAMES,
    C.IDENTITY_NAME_MISMATCH,
    C.IDENTITY_UNNAMED_WITH_NAME,
    tables=(PEOPLE, NAMES),
)
def check_identity(ctx: Context) -> Iterator[Issue | Batch]:
    """A named or pseudonymous person has one current preferred name, and people.name is it.

    An unnamed or withheld person has none. A finding goes to the row a contribution brought:
    the person's, or the name's where the person is the package's.
    """
    if not (ctx.reported(PEOPLE) or ctx.reported(NAMES)) or not _readable(ctx, PEOPLE, NAMES):
        return
    people = _people(ctx)
    preferred = _current_preferred(ctx)
    person = people.select(
        pl.col("id").alias("person_id"),
        pl.col("name").alias("_shown"),
        "identity_status",
        pl.col(REPORT).alias("_person_reported"),
    )
    named = preferred.join(person, on="person_id", how="inner", maintain_order="left")
    counted = named.with_columns(pl.int_range(pl.len()).over("person_id").alias("_nth"))
    first = counted.filter(pl.col("_nth") == 0)

    missing = people.filter(
        pl.col("identity_status").is_in(SHOWN) & ~pl.col("id").is_in(first["person_id"].implode())
    )
    yield from emit(
        missing,
        C.IDENTITY_NO_PREFERRED_NAME,
        "identity_status",
        lambda r: (
            f"{r['id']} is {r['identity_status']} but has no current preferred name in "
            f"person_names (name_type preferred, no end_date); add one that reads {r['name']!r}"
        ),
    )
    several = counted.filter(pl.col("_nth") > 0).join(
        first.select("person_id", pl.col("name").alias("_first"), pl.col("id").alias("_first_id")),
        on="person_id",
        how="left",
        maintain_order="left",
    )
    yield from emit(
        several,
        C.IDENTITY_SEVERAL_PREFERRED_NAMES,
        "name_type",
        lambda r: (
            f"{r['person_id']} already has a current preferred name, {r['_first']!r} "
            f"({r['_first_id']}): make {r['name']!r} an alias or a former name, or end one"
        ),
    )
    shown = first.filter(
        pl.col("identity_status").is_in(SHOWN) & (pl.col("name") != pl.col("_shown"))
    )
    mismatch = people.join(
        shown.select(
            pl.col("person_id").alias("id"),
            pl.col("name").alias("_preferred"),
            pl.col("id").alias("_name_id"),
        ),
        on="id",
        how="inner",
        maintain_order="left",
    )
    yield from emit(
        mismatch,
        C.IDENTITY_NAME_MISMATCH,
        "name",
        lambda r: (
            f"name {r['name']!r} is not {r['id']}'s current preferred name, "
            f"{r['_preferred']!r} ({r['_name_id']}): they must read alike"
        ),
    )
    yield from emit(
        shown.filter(~pl.col("_person_reported")),
        C.IDENTITY_NAME_MISMATCH,
        "name",
        lambda r: (
            f"{r['name']!r}, the current preferred name of {r['person_id']}, is not its "
            f"people.name {r['_shown']!r}: they must read alike"
        ),
    )
    unshown = counted.filter(pl.col("identity_status").is_in(UNSHOWN))
    on_name = unshown.filter(pl.col(REPORT))
    yield from emit(
        on_name,
        C.IDENTITY_UNNAMED_WITH_NAME,
        "name_type",
        lambda r: (
            f"{r['person_id']} is {r['identity_status']} but {r['name']!r} is its current "
            "preferred name: name the person (identity_status named, people.name the name) "
            "or make this name an alias"
        ),
    )
    on_person = people.join(
        unshown.filter(~pl.col(REPORT)).select(
            pl.col("person_id").alias("id"), pl.col("name").alias("_preferred")
        ),
        on="id",
        how="inner",
        maintain_order="left",
    ).unique("id", keep="first", maintain_order=True)
    yield from emit(
        on_person,
        C.IDENTITY_UNNAMED_WITH_NAME,
        "identity_status",
        lambda r: (
            f"{r['id']} is {r['identity_status']} but {r['_preferred']!r} is its current "
            "preferred name in person_names"
        ),
    )


@rule(C.NAME_LANG, C.NAME_SCRIPT, C.NAME_ROMANIZATION, tables=(NAMES,))
def check_name_tags(ctx: Context) -> Iterator[Issue | Batch]:
    """A name's lang is a sound BCP 47 tag with a script, and its letters are of that script.

    And it has a romanization exactly when it is Korean in Latin letters (ko-Latn).
    """
    if not ctx.reported(NAMES) or not _readable(ctx, NAMES):
        return
    names = ctx.frame(NAMES).filter(pl.col(REPORT) & pl.col("lang").is_not_null())
    tags = [(tag, read_tag(tag)) for tag in names["lang"].unique().to_list()]
    read = pl.DataFrame(
        {
            "lang": [tag for tag, _ in tags],
            "_problem": [found.problem for _, found in tags],
            "_script": [found.script for _, found in tags],
            "_romanized": [found.romanized for _, found in tags],
        },
        schema={
            "lang": pl.String,
            "_problem": pl.String,
            "_script": pl.String,
            "_romanized": pl.Boolean,
        },
    )
    names = names.join(read, on="lang", how="left", maintain_order="left")
    yield from emit(
        names.filter(pl.col("_problem").is_not_null()),
        C.NAME_LANG,
        "lang",
        lambda r: str(r["_problem"]),
    )
    sound = names.filter(pl.col("_problem").is_null())
    for script, letters in SCRIPT_LETTERS.items():
        # A letter of any script but this one's, and but Common and Inherited (a modifier
        # apostrophe, ʼ, is a letter of no script).
        foreign = rf"[\p{{L}}--[{letters}\p{{sc=Zyyy}}\p{{sc=Zinh}}]]"
        bad = sound.filter((pl.col("_script") == script) & pl.col("name").str.contains(foreign))
        yield from emit(
            bad,
            C.NAME_SCRIPT,
            "name",
            lambda r: (
                f"{r['name']!r} holds letters of another script than {r['lang']!r} names "
                f"({r['_script']}); give each script its own name row and tag"
            ),
        )
    systems = ", ".join(ctx.package.field(NAMES, "romanization")["constraints"]["enum"])
    yield from emit(
        sound.filter(pl.col("_romanized") & pl.col("romanization").is_null()),
        C.NAME_ROMANIZATION,
        "romanization",
        lambda r: (
            f"{r['name']!r} is a Korean name in Latin letters ({r['lang']}): say how it was "
            f"romanized ({systems})"
        ),
    )
    yield from emit(
        sound.filter(~pl.col("_romanized") & pl.col("romanization").is_not_null()),
        C.NAME_ROMANIZATION,
        "romanization",
        lambda r: (
            f"romanization {r['romanization']!r} is for a Korean name in Latin letters (ko-Latn), "
            f"not for one tagged {r['lang']!r}"
        ),
    )


@rule(C.SCHEMA_PATTERN)
def check_pattern_by(ctx: Context) -> Iterator[Issue | Batch]:
    """A value matches the pattern its row's other column chooses (an identifier's scheme)."""
    for table in ctx.reported_tables():
        for column, by, patterns in ctx.package.patterns_by(table):
            frame = ctx.frame(table).filter(pl.col(REPORT) & pl.col(column).is_not_null())
            for choice, pattern in patterns.items():
                bad = frame.filter(
                    (pl.col(by) == choice) & ~pl.col(column).str.contains(f"^(?:{pattern})$")
                )
                yield from emit(
                    bad,
                    C.SCHEMA_PATTERN,
                    column,
                    lambda r, c=column, b=by, p=pattern: (
                        f"{c} {r[c]!r} is not an id of {b} {r[b]!r}: those match {p}"
                    ),
                )


# ---- possible duplicates -----------------------------------------------------------------------


def _other_records(pairs: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """The pairs of rows whose ids differ: a row repeated under one id is table.duplicate-id's."""
    return pairs.filter(ids.gather(pairs["_a"]).ne_missing(ids.gather(pairs["_b"])))


def _reported_pairs(pairs: pl.DataFrame, flags: pl.Series) -> pl.DataFrame:
    """Where each pair of rows (``_a`` before ``_b``, indices into one frame) is reported.

    At the later row where it is reported (a contribution's row that repeats the package's),
    else at the earlier one where that is; each reported row once, naming its first partner.
    Returns ``_at`` (the row reported) and ``_other`` (the row it names).
    """
    flagged = pairs.with_columns(
        flags.gather(pairs["_a"]).alias("_ra"), flags.gather(pairs["_b"]).alias("_rb")
    )
    at_later = flagged.filter(pl.col("_rb")).select(
        pl.col("_b").alias("_at"), pl.col("_a").alias("_other")
    )
    at_earlier = flagged.filter(pl.col("_ra") & ~pl.col("_rb")).select(
        pl.col("_a").alias("_at"), pl.col("_b").alias("_other")
    )
    return (
        pl.concat([at_later, at_earlier])
        .sort("_at", "_other")
        .unique("_at", keep="first", maintain_order=True)
    )


def _findings_at(frame: pl.DataFrame, found: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The rows of *frame* at ``found['_at']``, each with *columns* of its ``_other`` row after ``_other:``."""
    here = frame.select(pl.all().gather(found["_at"]))
    there = frame.select(pl.col(columns).gather(found["_other"])).rename(
        {column: f"_other:{column}" for column in columns}
    )
    return pl.concat([here, there], how="horizontal")


def _pairs_in_groups(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Pairs of rows that share *keys* (not null), enough to name another for every row.

    Each row with the first of its group, and the first with the second.
    """
    indexed = (
        frame.select(keys)
        .with_row_index("_index")
        .drop_nulls(keys)
        .with_columns(pl.col("_index").rank("ordinal").over(keys).alias("_nth"))
    )
    first = indexed.filter(pl.col("_nth") == 1).select(*keys, pl.col("_index").alias("_a"))
    second = indexed.filter(pl.col("_nth") == 2).select(*keys, pl.col("_index").alias("_b"))
    later = (
        indexed.filter(pl.col("_nth") > 1)
        .join(first, on=keys)
        .select("_a", pl.col("_index").alias("_b"))
    )
    return pl.concat([later, first.join(second, on=keys).select("_a", "_b")]).unique()


def _person_names_frame(ctx: Context) -> pl.DataFrame:
    """Every name of every person, one row each: people.name and each person_names.name.

    With the row's place (its own id, file, line, pointer, ``_report``), ``person_id``,
    ``name``, its ``_key`` (:func:`~nk_defections.model.names.name_keys`) and ``_order``
    (the person's place among people, so that the package's come first).
    """
    people = _people(ctx)
    order = people.select(pl.col("id").alias("person_id"), "_order")
    own = people.select(*PLACE, pl.col("id").alias("person_id"), "name", "_order")
    names = (
        ctx.frame(NAMES)
        .select(*PLACE, "person_id", "name")
        .join(order, on="person_id", how="inner", maintain_order="left")
    )
    entries = pl.concat([own, names])
    return entries.with_columns(name_keys(entries["name"]).alias("_key")).filter(
        pl.col("_key") != ""
    )


@rule(C.DUPLICATE_PERSON, tables=(PEOPLE, NAMES))
def check_duplicate_person(ctx: Context) -> Iterator[Issue | Batch]:
    """Warn of a person any of whose names has the name key of another person's name."""
    if not (ctx.reported(PEOPLE) or ctx.reported(NAMES)) or not _readable(ctx, PEOPLE, NAMES):
        return
    entries = _person_names_frame(ctx)
    # One entry per person and key (the person's first), so that pairs are of people.
    first = (
        entries.with_row_index("_entry")
        .with_columns(pl.col(REPORT).any().over("_key", "person_id"))
        .unique(["_key", "person_id"], keep="first", maintain_order=True)
    )
    first = first.sort("_order", "_entry")
    pairs = _pairs_in_groups(first, ["_key"])
    # A person's other entries with the same key stand where the first does.
    found = _reported_pairs(pairs, first[REPORT])
    if found.is_empty():
        return
    # Reported at every reported entry of the person with that key, naming the other person.
    reported = _findings_at(first, found, ["person_id", "name"]).select(
        "person_id", "_key", "_other:person_id", "_other:name"
    )
    rows = entries.join(reported, on=["person_id", "_key"], how="inner", maintain_order="left")
    rows = rows.filter(pl.col(REPORT)).unique(
        ["person_id", "_other:person_id"], keep="first", maintain_order=True
    )
    yield from emit(
        rows,
        C.DUPLICATE_PERSON,
        "name",
        lambda r: (
            f"{r['person_id']} may be {r['_other:person_id']}: {r['name']!r} and "
            f"{r['_other:name']!r} are spellings of one name; if they are one person, merge them"
        ),
    )


@rule(C.DUPLICATE_ORGANIZATION, tables=(ORGANIZATIONS,))
def check_duplicate_organization(ctx: Context) -> Iterator[Issue | Batch]:
    """Warn of an organization with the name key and the country of another."""
    if not ctx.reported(ORGANIZATIONS) or not _readable(ctx, ORGANIZATIONS):
        return
    frame = ctx.frame(ORGANIZATIONS)
    keyed = frame.with_columns(name_keys(frame["name"]).alias("_key")).with_columns(
        pl.when(pl.col("_key") != "").then(pl.col("_key")).alias("_key")
    )
    pairs = _other_records(_pairs_in_groups(keyed, ["_key", "country"]), keyed["id"])
    found = _reported_pairs(pairs, keyed[REPORT])
    if found.is_empty():
        return
    yield from emit(
        _findings_at(keyed, found, ["id", "name"]),
        C.DUPLICATE_ORGANIZATION,
        "name",
        lambda r: (
            f"{r['id']} may be {r['_other:id']}: {r['name']!r} and {r['_other:name']!r} of "
            f"{r['country']} are spellings of one name; if they are one organization, merge them"
        ),
    )


@rule(C.DUPLICATE_POSTING, tables=(POSTINGS,))
def check_duplicate_posting(ctx: Context) -> Iterator[Issue | Batch]:
    """Warn of two postings of one person at one organization that may be one.

    Their dates may overlap, and their ranks are one, or one of them (other, unknown) does not
    tell them apart.

    A posting may have been held from its start's earliest day to its end's latest (an open end
    is open). Two ranks at one embassy (third secretary, then counsellor) are a career, not a
    repeat, though the sources rarely date the promotion.
    """
    if not ctx.reported(POSTINGS) or not _readable(ctx, POSTINGS):
        return
    if not {"start_date", "end_date"} <= {c for c, _ in ctx.package.date_columns(POSTINGS)}:
        return  # the overlap is read from their bounds
    frame = with_bounds(ctx, POSTINGS)
    rows = frame.select(
        "person_id",
        "organization_id",
        "rank",
        pl.col("_min:start_date").alias("_from"),
        pl.col("_max:end_date").alias("_to"),
    ).with_row_index("_index")
    rows = rows.drop_nulls(["person_id", "organization_id"])
    pairs = (
        rows.join(rows, on=["person_id", "organization_id"], suffix="_b")
        .filter(pl.col("_index") < pl.col("_index_b"))
        .filter(
            (
                pl.col("_from").is_null()
                | pl.col("_to_b").is_null()
                | (pl.col("_from") <= pl.col("_to_b"))
            )
            & (
                pl.col("_from_b").is_null()
                | pl.col("_to").is_null()
                | (pl.col("_from_b") <= pl.col("_to"))
            )
            & (
                pl.col("rank").eq_missing(pl.col("rank_b"))
                | pl.col("rank").is_in(VAGUE_RANKS)
                | pl.col("rank_b").is_in(VAGUE_RANKS)
            )
        )
        .select(pl.col("_index").alias("_a"), pl.col("_index_b").alias("_b"))
    )
    found = _reported_pairs(_other_records(pairs, frame["id"]), frame[REPORT])
    if found.is_empty():
        return
    yield from emit(
        _findings_at(frame, found, ["id", "title"]),
        C.DUPLICATE_POSTING,
        "organization_id",
        lambda r: (
            f"{r['id']} ({r['title']!r}) may be {r['_other:id']} ({r['_other:title']!r}): one "
            f"person at {r['organization_id']}, dates that may overlap; if they are one posting, "
            "merge them"
        ),
    )


RULES = [
    check_pattern_by,
    check_identity,
    check_name_tags,
    check_duplicate_person,
    check_duplicate_organization,
    check_duplicate_posting,
]
