"""The release's SQLite database: typed, keyed, searchable, with views for the first questions.

``sqlite/nk-defections.db`` is built with sqlite-utils from the same typed rows as the CSV and
Parquet files, and everything in it is read off ``datapackage.json``:

* a table per resource, in an order where every referenced table comes first; its columns are
  the release's (the declared fields, then ``<date>_min``, ``<date>_max`` and ``<date>_kind``
  after each date), typed from the Table Schema: ``integer`` as INTEGER, ``number`` as REAL,
  everything else as TEXT (a date bound as an ISO date, ``YYYY-MM-DD``, which sorts and compares
  as a date); its primary key, its foreign keys, NOT NULL for a required field, and an index on
  every column that holds ids of another table (polymorphic ones, such as
  ``event_participants.participant_id`` or ``claims.record_id``, included);
* full-text search (SQLite FTS5, through sqlite-utils' ``enable_fts``) over the names, titles and
  summaries of :data:`FULL_TEXT`;
* the views of :func:`views`, each with the one ``SELECT`` that answers its question;
* the tables derived from the others that the release passes in (``disputes``: the disputed
  fields, one row per claim in a dispute).

The same rows give the same bytes: nothing in the file depends on the time or place of the
build, only on the data and the SQLite and sqlite-utils versions (as the Parquet files depend
on the polars version).
"""

from __future__ import annotations

import graphlib
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from nk_defections.model.package import CLAIM_KEY, CLAIMS, Package

#: Where the database lies in a release folder.
DATABASE_PATH = "sqlite/nk-defections.db"
#: Its name in Datasette, which names a database after its file.
DATABASE_NAME = Path(DATABASE_PATH).stem

#: Columns searchable by full-text search, per table: names, titles and summaries.
FULL_TEXT: dict[str, tuple[str, ...]] = {
    "people": ("name", "summary"),
    "person_names": ("name",),
    "organizations": ("name",),
    "events": ("title", "summary"),
    "postings": ("title",),
}

#: SQLite column types of the Table Schema types (anything else is TEXT).
_SQL_TYPES: dict[str, type] = {"integer": int, "number": float, "boolean": int}


class DatabaseError(Exception):
    """The descriptor lacks something the database is built from (a field, a vocabulary value)."""


class MissingDependency(Exception):
    """sqlite-utils, which builds the database, is not installed."""


@dataclass(frozen=True)
class View:
    """A view of the database, and the question it answers.

    Attributes
    ----------
    name
        The view's name.
    title
        The question, as a researcher asks it.
    description
        What a row is, and how the view finds it.
    sql
        The view's ``SELECT``.
    query
        The one ``SELECT`` from the view that answers the question (a Datasette canned query).
    query_name
        The name of that canned query.
    facets
        Columns to facet on in Datasette.
    columns
        Descriptions of the columns computed by the view; a column named as a field of one of
        the tables in *draws_from* takes that field's description.
    draws_from
        Tables whose field descriptions describe the view's other columns, in order of preference.
    """

    name: str
    title: str
    description: str
    sql: str
    query: str
    query_name: str
    facets: tuple[str, ...] = ()
    columns: Mapping[str, str] = field(default_factory=dict)
    draws_from: tuple[str, ...] = ()


def _value(package: Package, table: str, column: str, value: str) -> str:
    """*value* as an SQL literal, once checked to be in the vocabulary of ``table.column``."""
    try:
        vocabulary = package.field(table, column).get("constraints", {}).get("enum", [])
    except KeyError:
        raise DatabaseError(f"datapackage.json: {table} has no field {column!r}") from None
    if value not in vocabulary:
        raise DatabaseError(
            f"datapackage.json: {value!r} is not in the vocabulary of {table}.{column}"
        )
    return "'" + value.replace("'", "''") + "'"


def _column(package: Package, table: str, column: str) -> str:
    """*column*, once checked to be a field of *table*."""
    if column not in package.field_names(table):
        raise DatabaseError(f"datapackage.json: {table} has no field {column!r}")
    return column


def _sources_of(record: str) -> str:
    """SQL: the ids of the sources whose claims cite *record*, sorted, comma-separated."""
    return (
        f"(SELECT group_concat(source_id, ', ') FROM (SELECT DISTINCT source_id FROM {CLAIMS} "
        f"WHERE {CLAIM_KEY} = {record} ORDER BY source_id))"
    )


def _defections(package: Package) -> View:
    defection = _value(package, "events", "event_type", "defection")
    defector = _value(package, "event_participants", "role", "defector")
    receiving = _value(package, "event_participants", "role", "receiving_state")
    defected = _value(package, "postings", "end_reason", "defected")
    unknown = _value(package, "postings", "end_reason", "unknown")
    # A posting that may have been held when the defection happened: nothing says it began,
    # was seen held, or ended after the defection's latest day, or ended before its earliest.
    possible = """(s.start_date_min IS NULL OR d.date_max IS NULL OR s.start_date_min <= d.date_max)
      AND (s.attested_date_min IS NULL OR d.date_max IS NULL OR s.attested_date_min <= d.date_max)
      AND (s.end_date_min IS NULL OR d.date_max IS NULL OR s.end_date_min <= d.date_max)
      AND (s.end_date_max IS NULL OR d.date_min IS NULL OR s.end_date_max >= d.date_min)"""
    sql = f"""WITH defection AS (
  SELECT * FROM events WHERE event_type = {defection}
),
defector AS (
  SELECT ep.event_id, ep.participant_id AS person_id FROM event_participants ep
  JOIN people p ON p.id = ep.participant_id
  WHERE ep.role = {defector}
),
candidate AS (
  -- the post held when defecting, best evidence first
  SELECT d.id AS event_id, s.person_id, s.id AS posting_id,
    1 AS evidence_rank, 'end_event_id' AS posting_evidence
  FROM defection d JOIN postings s ON s.end_event_id = d.id
  UNION ALL
  SELECT d.id, f.person_id, s.id, 2, 'end_reason'
  FROM defection d JOIN defector f ON f.event_id = d.id
  JOIN postings s ON s.person_id = f.person_id
  WHERE s.end_event_id IS NULL AND s.end_reason = {defected}
    AND {possible}
  UNION ALL
  SELECT d.id, f.person_id, s.id, 3, 'dates'
  FROM defection d JOIN defector f ON f.event_id = d.id
  JOIN postings s ON s.person_id = f.person_id
  WHERE s.end_event_id IS NULL AND (s.end_reason IS NULL OR s.end_reason = {unknown})
    AND {possible}
  UNION ALL
  SELECT f.event_id, f.person_id, NULL, 4, NULL FROM defector f
  UNION ALL
  SELECT d.id, NULL, NULL, 5, NULL FROM defection d
),
chosen AS (
  SELECT c.*, row_number() OVER (
    PARTITION BY c.event_id
    ORDER BY c.evidence_rank, s.end_date_max DESC NULLS LAST, c.posting_id, c.person_id
  ) AS n
  FROM candidate c LEFT JOIN postings s ON s.id = c.posting_id
)
SELECT
  d.id AS event_id,
  d.title AS event_title,
  c.person_id,
  p.name AS person_name,
  (SELECT group_concat(name, '; ') FROM (
    SELECT o.name FROM defector f JOIN people o ON o.id = f.person_id
    WHERE f.event_id = d.id AND f.person_id IS NOT c.person_id ORDER BY o.name, o.id
  )) AS other_defectors,
  c.posting_id,
  s.title AS posting_title,
  s.rank,
  s.organization_id,
  org.name AS organization_name,
  s.sending_state,
  s.receiving_state,
  c.posting_evidence,
  d.date,
  d.date_min,
  d.date_max,
  d.date_kind,
  d.disclosed_date,
  d.country AS destination_country,
  r.participant_id AS receiving_state_id,
  rs.name AS receiving_state_name,
  {_sources_of("d.id")} AS source_ids
FROM defection d
JOIN chosen c ON c.event_id = d.id AND c.n = 1
LEFT JOIN people p ON p.id = c.person_id
LEFT JOIN postings s ON s.id = c.posting_id
LEFT JOIN organizations org ON org.id = s.organization_id
LEFT JOIN event_participants r ON r.id = (
  SELECT id FROM event_participants
  WHERE event_id = d.id AND role = {receiving} ORDER BY participant_id, id LIMIT 1
)
LEFT JOIN organizations rs ON rs.id = r.participant_id
ORDER BY d.date_min, d.date_max, d.id"""
    query = """SELECT person_name, posting_title, rank, organization_name, sending_state,
  receiving_state, date, date_min, date_max, date_kind, destination_country,
  receiving_state_name, source_ids
FROM defections
ORDER BY date_min, date_max, event_id"""
    return View(
        name="defections",
        title="Who defected, from which post, when, to where, and on whose word?",
        description=(
            "One row per defection (an event of type defection): the defector, the post held "
            "when defecting (the posting the defection ended; failing that, the defector's "
            "posting that ended in a defection, then one the dates allow: posting_evidence "
            "says which), the date with its bounds and kind, the destination, and the sources "
            "that cite the defection."
        ),
        sql=sql,
        query=query,
        query_name="who_defected",
        facets=("rank", "destination_country", "date_kind", "posting_evidence"),
        columns={
            "event_id": "The defection (an event).",
            "event_title": "The defection's title.",
            "person_id": "The defector (a participant in the role defector).",
            "person_name": "The defector's display name.",
            "other_defectors": "Any further defectors of the same event, '; '-separated.",
            "posting_id": "The post held when defecting.",
            "posting_title": "Its title, as the source words it.",
            "organization_name": "Where the post was held.",
            "posting_evidence": (
                "How the post was found: end_event_id (the posting says this defection ended "
                "it), end_reason (a posting of the defector that ended in a defection, dates "
                "not against it), dates (a posting of the defector the dates allow); empty "
                "when none was."
            ),
            "destination_country": "Where the defector went: the event's country.",
            "receiving_state_id": "The participant in the role receiving_state.",
            "receiving_state_name": "Its name.",
            "source_ids": "The sources whose claims cite the defection, comma-separated.",
        },
        draws_from=("events", "postings"),
    )


def _participants(package: Package) -> View:
    targets = package.reference_targets("event_participants", "participant_id")
    if not targets:
        raise DatabaseError("datapackage.json: event_participants.participant_id names no table")
    aliases = [f"t{i}" for i in range(len(targets))]
    names = ", ".join(
        f"{a}.{_column(package, t, 'name')}" for a, t in zip(aliases, targets, strict=True)
    )
    which = " ".join(
        f"WHEN {a}.id IS NOT NULL THEN '{t}'" for a, t in zip(aliases, targets, strict=True)
    )
    joins = "\n".join(
        f"LEFT JOIN {t} {a} ON {a}.id = ep.participant_id"
        for a, t in zip(aliases, targets, strict=True)
    )
    name = f"coalesce({names})" if len(targets) > 1 else names
    sql = f"""SELECT
  ep.id,
  ep.event_id,
  e.event_type,
  e.title AS event_title,
  e.date AS event_date,
  e.date_min AS event_date_min,
  e.date_max AS event_date_max,
  e.date_kind AS event_date_kind,
  ep.participant_id,
  CASE {which} END AS participant_table,
  {name} AS participant_name,
  ep.role,
  ep.count,
  ep.note
FROM event_participants ep
JOIN events e ON e.id = ep.event_id
{joins}
ORDER BY e.date_min, e.date_max, ep.event_id, ep.role, participant_name, ep.id"""
    query = """SELECT event_date, event_title, role, participant_name, participant_table
FROM event_participants_named
ORDER BY event_date_min, event_date_max, event_id, role, participant_name, id"""
    return View(
        name="event_participants_named",
        title="Who took part in each event, and in what role?",
        description=(
            "Every participant of every event, with the participant's name whatever it is: "
            f"a participant_id is the id of one of {', '.join(targets)}, resolved here."
        ),
        sql=sql,
        query=query,
        query_name="who_took_part",
        facets=("event_type", "role", "participant_table"),
        columns={
            "id": "The participation (a row of event_participants).",
            "event_title": "The event's title.",
            "event_date": "When the event happened (EDTF).",
            "event_date_min": "Earliest day the event's date can mean; empty when open.",
            "event_date_max": "Latest day the event's date can mean; empty when open.",
            "event_date_kind": "What the event's bounds mean (see the codebook, Dates).",
            "participant_table": f"Which table the participant is in: {', '.join(targets)}.",
            "participant_name": "The participant's name (a person's display name, or an "
            "organization's name).",
        },
        draws_from=("event_participants", "events"),
    )


def _statistics(package: Package) -> View:
    value = _column(package, "statistics", "value")
    sql = f"""SELECT
  st.id,
  st.measure,
  st.value,
  st.qualifier,
  st.unit,
  st.period,
  st.period_min,
  st.period_max,
  st.period_kind,
  st.country,
  st.attributed_to,
  o.name AS attributed_to_name,
  {_sources_of("st.id")} AS source_ids,
  (SELECT group_concat(source_id || ' ¶' || paragraph, '; ') FROM (
    SELECT DISTINCT source_id, paragraph FROM {CLAIMS} WHERE {CLAIM_KEY} = st.id
    ORDER BY source_id, paragraph
  )) AS citations,
  (SELECT group_concat(original_text, ' | ') FROM (
    SELECT DISTINCT original_text FROM {CLAIMS}
    WHERE {CLAIM_KEY} = st.id AND field = '{value}' AND original_text IS NOT NULL
    ORDER BY original_text
  )) AS value_as_stated,
  st.note
FROM statistics st
LEFT JOIN organizations o ON o.id = st.attributed_to
ORDER BY st.measure, st.id"""
    query = """SELECT measure, qualifier, value, unit, period, period_min, period_max,
  attributed_to_name, citations, value_as_stated
FROM statistics_cited
ORDER BY measure, id"""
    return View(
        name="statistics_cited",
        title="What figures do the sources give, for which period, on whose authority?",
        description=(
            "Every statistic with its value, qualifier, unit and period (with its bounds), "
            "who it is attributed to, and the sources and paragraphs that state it."
        ),
        sql=sql,
        query=query,
        query_name="figures_and_sources",
        facets=("qualifier", "unit", "country"),
        columns={
            "attributed_to_name": "The name of the organization the figure comes from.",
            "source_ids": "The sources whose claims cite the statistic, comma-separated.",
            "citations": "Every source and paragraph a claim about the statistic cites "
            "('src-… ¶12'), '; '-separated.",
            "value_as_stated": "The source's own words for the figure (the original_text of "
            "the claims on value).",
        },
        draws_from=("statistics",),
    )


def views(package: Package) -> list[View]:
    """The views of the database, each checked against *package*'s fields and vocabularies.

    Raises
    ------
    DatabaseError
        If a field or vocabulary value a view relies on is not in the descriptor.

    Examples
    --------
    >>> from nk_defections.read.bundle import open_bundle
    >>> [view.name for view in views(open_bundle().package)]
    ['defections', 'event_participants_named', 'statistics_cited']
    """
    return [_defections(package), _participants(package), _statistics(package)]


def _table_order(package: Package) -> list[str]:
    """The tables, every referenced one before those that refer to it (else descriptor order)."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for table in package.resources:
        sorter.add(table, *(t for _, t in package.foreign_keys(table) if t != table))
    return list(sorter.static_order())


def _sql_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The typed rows as SQLite stores them: dates as ISO text, vocabularies as text."""
    return frame.with_columns(
        [
            pl.col(name).dt.strftime("%Y-%m-%d")
            if dtype == pl.Date()
            else pl.col(name).cast(pl.String)
            for name, dtype in frame.schema.items()
            if dtype == pl.Date() or isinstance(dtype, pl.Enum)
        ]
    )


def build_database(
    package: Package,
    fields: Mapping[str, list[dict[str, Any]]],
    frames: Mapping[str, pl.DataFrame],
    target: Path,
    *,
    derived: Mapping[str, pl.DataFrame] | None = None,
) -> None:
    """Write the database of *package* to *target*, which must not exist yet.

    Parameters
    ----------
    package
        The package as the project declares it (keys, references, vocabularies).
    fields
        The Table Schema fields of each table as released (the declared fields and the derived
        date fields), in column order.
    frames
        The typed rows of each table, as :func:`nk_defections.load_table` gives them.
    target
        The file to write.
    derived
        Tables derived from the others (the disputes), written as they are, each with an index
        on its ``record_id``.

    Raises
    ------
    MissingDependency
        If sqlite-utils is not installed.
    DatabaseError
        If the descriptor lacks a field or vocabulary value the views rely on.
    """
    try:
        import sqlite_utils
    except ImportError as exc:
        raise MissingDependency(
            f"the release database needs sqlite-utils: pip install 'nk-defections[release]' ({exc})"
        ) from exc

    if target.exists():
        raise FileExistsError(f"{target} exists; the database is written into a new file")
    planned = views(package)  # checked before anything is written
    for table, columns in FULL_TEXT.items():
        for column in columns:
            _column(package, table, column)
    target.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(target)
    # A new file that nothing reads until it is whole: no need to wait for the disk after every
    # step. Neither setting is stored in the file.
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA journal_mode = MEMORY")
    try:
        for table in _table_order(package):
            schema = package.resources[table]["schema"]
            primary = schema.get("primaryKey", ["id"])
            primary = primary[0] if isinstance(primary, list) and len(primary) == 1 else primary
            db.table(table).create(
                {f["name"]: _SQL_TYPES.get(f["type"], str) for f in fields[table]},
                pk=primary,
                foreign_keys=[
                    (column, target_table, "id")
                    for column, target_table in package.foreign_keys(table)
                ],
                not_null=[
                    f["name"] for f in fields[table] if f.get("constraints", {}).get("required")
                ],
            )
            rows = _sql_rows(frames[table].select(f["name"] for f in fields[table]))
            db.table(table).insert_all(rows.iter_rows(named=True), batch_size=1000)
            for column in package.reference_columns(table):
                db.table(table).create_index([column], index_name=f"idx_{table}_{column}")
        for table, columns in FULL_TEXT.items():
            db.table(table).enable_fts(list(columns), fts_version="FTS5", create_triggers=False)
        for name, frame in (derived or {}).items():
            db.table(name).create(
                {c: int if dtype.is_integer() else str for c, dtype in frame.schema.items()}
            )
            db.table(name).insert_all(frame.iter_rows(named=True), batch_size=1000)
            if CLAIM_KEY in frame.columns:
                db.table(name).create_index([CLAIM_KEY], index_name=f"idx_{name}_{CLAIM_KEY}")
        for view in planned:
            try:
                db.create_view(view.name, view.sql)
                db.execute(f'SELECT * FROM "{view.name}" LIMIT 0')
            except sqlite3.OperationalError as exc:
                raise DatabaseError(
                    f"the view {view.name} does not fit datapackage.json: {exc}"
                ) from exc
    finally:
        db.close()
