"""What the database views should hold, worked out in plain Python from the CSV tables.

An independent reading of the same rules as the SQL of ``nk_defections.release.database``, from the rows
``load_table`` gives, so that the tests compare the views (in SQLite, and in the browser) with
what the data says rather than with themselves.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

import polars as pl

Row = dict[str, Any]


def _rows(frame: pl.DataFrame) -> list[Row]:
    """Rows as SQLite gives them back: dates as ISO text, vocabularies as text."""
    return [
        {k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in row.items()}
        for row in frame.cast(
            {n: pl.String for n, t in frame.schema.items() if isinstance(t, pl.Enum)}
        ).iter_rows(named=True)
    ]


def _nulls_first(*values: Any) -> tuple:
    """A sort key as SQLite orders ascending: empty values first."""
    return tuple((value is not None, value if value is not None else "") for value in values)


def _sources(claims: Iterable[Row], record: str) -> str | None:
    found = sorted({c["source_id"] for c in claims if c["record_id"] == record})
    return ", ".join(found) or None


def _possible(posting: Row, event: Row) -> bool:
    """Nothing says the posting began, was seen held, or ended after the event's latest day, or
    ended before its earliest."""

    def after(day: str | None, limit: str | None) -> bool:
        return day is not None and limit is not None and day > limit

    return not (
        after(posting["start_date_min"], event["date_max"])
        or after(posting["attested_date_min"], event["date_max"])
        or after(posting["end_date_min"], event["date_max"])
        or after(event["date_min"], posting["end_date_max"])
    )


def defections(tables: dict[str, pl.DataFrame]) -> list[Row]:
    """One row per defection, as the view ``defections`` should have it."""
    people = {r["id"]: r for r in _rows(tables["people"])}
    organizations = {r["id"]: r for r in _rows(tables["organizations"])}
    participants = _rows(tables["event_participants"])
    postings = _rows(tables["postings"])
    claims = _rows(tables["claims"])
    out = []
    for event in _rows(tables["events"]):
        if event["event_type"] != "defection":
            continue
        defectors = sorted(
            p["participant_id"]
            for p in participants
            if p["event_id"] == event["id"]
            and p["role"] == "defector"
            and p["participant_id"] in people
        )
        candidates = [(1, s, s["person_id"]) for s in postings if s["end_event_id"] == event["id"]]
        for person in defectors:
            mine = [s for s in postings if s["person_id"] == person and s["end_event_id"] is None]
            candidates += [
                (2, s, person)
                for s in mine
                if s["end_reason"] == "defected" and _possible(s, event)
            ]
            candidates += [
                (3, s, person)
                for s in mine
                if s["end_reason"] in (None, "unknown") and _possible(s, event)
            ]
            candidates.append((4, None, person))
        candidates.append((5, None, None))

        def order(candidate: tuple[int, Row | None, str | None]) -> tuple:
            rank, posting, person = candidate
            end = posting["end_date_max"] if posting else None
            # latest end first, an empty end last; then posting and person, empty first
            latest_first = -datetime.date.fromisoformat(end).toordinal() if end else 0
            return (
                rank,
                end is None,
                latest_first,
                *_nulls_first(posting["id"] if posting else None, person),
            )

        rank, posting, person = min(candidates, key=order)
        receiving = sorted(
            (p["participant_id"], p["id"])
            for p in participants
            if p["event_id"] == event["id"] and p["role"] == "receiving_state"
        )
        receiving_id = receiving[0][0] if receiving else None
        others = sorted((people[d]["name"], d) for d in defectors if person is None or d != person)
        out.append(
            {
                "event_id": event["id"],
                "event_title": event["title"],
                "person_id": person,
                "person_name": people[person]["name"] if person else None,
                "other_defectors": "; ".join(name for name, _ in others) or None,
                "posting_id": posting["id"] if posting else None,
                "posting_title": posting["title"] if posting else None,
                "rank": posting["rank"] if posting else None,
                "organization_id": posting["organization_id"] if posting else None,
                "organization_name": organizations[posting["organization_id"]]["name"]
                if posting
                else None,
                "sending_state": posting["sending_state"] if posting else None,
                "receiving_state": posting["receiving_state"] if posting else None,
                "posting_evidence": {1: "end_event_id", 2: "end_reason", 3: "dates"}.get(rank),
                "date": event["date"],
                "date_min": event["date_min"],
                "date_max": event["date_max"],
                "date_kind": event["date_kind"],
                "disclosed_date": event["disclosed_date"],
                "destination_country": event["country"],
                "receiving_state_id": receiving_id,
                "receiving_state_name": organizations[receiving_id]["name"]
                if receiving_id in organizations
                else None,
                "source_ids": _sources(claims, event["id"]),
            }
        )
    return sorted(out, key=lambda r: _nulls_first(r["date_min"], r["date_max"], r["event_id"]))


def participants(tables: dict[str, pl.DataFrame]) -> list[Row]:
    """Every participant of every event with its name, as ``event_participants_named`` has it."""
    names = {r["id"]: ("people", r["name"]) for r in _rows(tables["people"])}
    names |= {r["id"]: ("organizations", r["name"]) for r in _rows(tables["organizations"])}
    events = {r["id"]: r for r in _rows(tables["events"])}
    out = []
    for p in _rows(tables["event_participants"]):
        event = events[p["event_id"]]
        table, name = names.get(p["participant_id"], (None, None))
        out.append(
            {
                "id": p["id"],
                "event_id": p["event_id"],
                "event_type": event["event_type"],
                "event_title": event["title"],
                "event_date": event["date"],
                "event_date_min": event["date_min"],
                "event_date_max": event["date_max"],
                "event_date_kind": event["date_kind"],
                "participant_id": p["participant_id"],
                "participant_table": table,
                "participant_name": name,
                "role": p["role"],
                "count": p["count"],
                "note": p["note"],
            }
        )
    return sorted(
        out,
        key=lambda r: _nulls_first(
            r["event_date_min"],
            r["event_date_max"],
            r["event_id"],
            r["role"],
            r["participant_name"],
            r["id"],
        ),
    )


def statistics(tables: dict[str, pl.DataFrame]) -> list[Row]:
    """Every statistic with its attribution and citations, as ``statistics_cited`` has it."""
    organizations = {r["id"]: r["name"] for r in _rows(tables["organizations"])}
    claims = _rows(tables["claims"])
    out = []
    for s in _rows(tables["statistics"]):
        mine = [c for c in claims if c["record_id"] == s["id"]]
        cited = sorted({(c["source_id"], c["paragraph"]) for c in mine})
        stated = sorted(
            {c["original_text"] for c in mine if c["field"] == "value" and c["original_text"]}
        )
        out.append(
            {
                "id": s["id"],
                "measure": s["measure"],
                "value": s["value"],
                "qualifier": s["qualifier"],
                "unit": s["unit"],
                "period": s["period"],
                "period_min": s["period_min"],
                "period_max": s["period_max"],
                "period_kind": s["period_kind"],
                "country": s["country"],
                "attributed_to": s["attributed_to"],
                "attributed_to_name": organizations.get(s["attributed_to"]),
                "source_ids": _sources(claims, s["id"]),
                "citations": "; ".join(f"{src} ¶{par}" for src, par in cited) or None,
                "value_as_stated": " | ".join(stated) or None,
                "note": s["note"],
            }
        )
    return sorted(out, key=lambda r: _nulls_first(r["measure"], r["id"]))
