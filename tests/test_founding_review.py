"""The founding records as reviewed against the article (applied-contributions/founding-review.json).

Each test states one corrected fact and checks that data/ holds it: dates no more precise than
the text, claims attributed to whoever the text says said them, and no row the text does not
state.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from nk_defections import load_package, resolve_id

from .conftest import ROOT

REVIEW = ROOT / "applied-contributions" / "founding-review.json"

JO_DEFECTION = "evt-04ybrtrc"
JO_ITALY_POSTING = "pst-b9ppqwd5"
KUWAIT_POSTING = "pst-2pdf71f3"
PANAMA = "org-dgd10ws2"
UNITED_KINGDOM = "org-j22xxprb"
CHOSUN_ILBO = "org-2356ke3j"
RI = "per-zrsr3bfv"
THIRD_SECRETARY_POSTING = "pst-fjzmbf92"
INTERVIEW = "evt-b8a213eh"
SUNDAY_WARNING = "evt-1qwqnnas"
RECENT_MONTHS = ("evt-g8pmrsm2", "evt-xa7zaf7w")


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return load_package(ROOT)


def one(frame: pl.DataFrame, **equal: str) -> dict[str, object]:
    (row,) = frame.filter(*(pl.col(k) == v for k, v in equal.items())).to_dicts()
    return row


def test_jo_song_gil_defection_is_dated_no_more_precisely_than_his_arrival(
    tables: dict[str, pl.DataFrame],
) -> None:
    """The article dates his arrival ("In 2019 … arrived"); the defection came on or before it."""
    (arrival_id,) = (
        tables["event_links"]
        .filter(pl.col("related_event_id") == JO_DEFECTION, pl.col("relation") == "part_of")
        .get_column("event_id")
    )
    arrival = one(tables["events"], id=arrival_id)
    defection = one(tables["events"], id=JO_DEFECTION)
    posting = one(tables["postings"], id=JO_ITALY_POSTING)
    assert posting["end_event_id"] == JO_DEFECTION
    assert defection["date_max"] == arrival["date_max"]
    assert defection["date_min"] is None or defection["date_min"] < arrival["date_min"]
    assert posting["end_date_max"] == arrival["date_max"]
    assert posting["end_date_min"] is None or posting["end_date_min"] < arrival["date_min"]


def test_the_kuwait_posting_ends_no_later_than_his_going_to_south_korea(
    tables: dict[str, pl.DataFrame],
) -> None:
    posting = one(tables["postings"], id=KUWAIT_POSTING)
    defection = one(tables["events"], id=posting["end_event_id"])
    assert posting["end_date_max"] == defection["date_max"]
    assert posting["end_date_min"] is None or posting["end_date_min"] < defection["date_min"]


def test_panama_is_a_party_to_the_talks_only(tables: dict[str, pl.DataFrame]) -> None:
    """Paragraph 11 names Panama as the other side of the negotiations, nothing more."""
    roles = (
        tables["event_participants"]
        .filter(pl.col("participant_id") == PANAMA)
        .join(tables["events"].select("id", "event_type"), left_on="event_id", right_on="id")
    )
    assert roles.select("event_type", "role").rows() == [("negotiation", "party")]


def test_the_united_kingdom_is_retired(tables: dict[str, pl.DataFrame]) -> None:
    assert UNITED_KINGDOM not in tables["organizations"]["id"]
    assert one(tables["redirects"], old_id=UNITED_KINGDOM)["new_id"] is None
    assert resolve_id(UNITED_KINGDOM, path=ROOT) is None


def test_claims_name_who_said_them(tables: dict[str, pl.DataFrame]) -> None:
    """'The report said … at the time Mr Ri was a third secretary' (para 11) is Chosun Ilbo's; the
    interview's date is read from the report, not said by Ri."""
    claims = tables["claims"]
    status = one(claims, record_id=THIRD_SECRETARY_POSTING, field="status")
    assert (status["attributed_to"], status["paragraph"]) == (CHOSUN_ILBO, 11)
    interview_date = one(claims, record_id=INTERVIEW, field="date")
    assert interview_date["attributed_to"] == CHOSUN_ILBO
    assert RI not in (interview_date["attributed_to"], interview_date["relayed_by"])


def test_no_comment_is_dated_to_a_day_the_article_does_not_give(
    tables: dict[str, pl.DataFrame],
) -> None:
    statements = tables["events"].filter(pl.col("event_type") == "statement")
    assert statements.height > 0
    assert statements.filter(pl.col("date_min") == pl.col("date_max")).is_empty()


def test_in_recent_months_has_a_start(tables: dict[str, pl.DataFrame]) -> None:
    """'In recent months' begins some months before the publication: not an open start."""
    published = one(tables["sources"], id="src-1ekndjem")["published_date_max"]
    for event_id in RECENT_MONTHS:
        event = one(tables["events"], id=event_id)
        assert event["date_min"] is not None and event["date_max"] == published


def test_the_sunday_warning_names_no_target(tables: dict[str, pl.DataFrame]) -> None:
    """'A similar warning on Sunday' (para 26) does not say to whom."""
    participants = tables["event_participants"].filter(pl.col("event_id") == SUNDAY_WARNING)
    assert participants.filter(pl.col("role") == "target").is_empty()
    assert participants.height > 0


def test_every_id_the_review_retired_stays_retired(tables: dict[str, pl.DataFrame]) -> None:
    """Ids are never reused: each retirement of the review is in redirects, its row gone."""
    review = json.loads(REVIEW.read_text(encoding="utf-8"))
    retired = {a["record_id"] for a in review["amendments"] if a["op"] == "retire"}
    assert retired
    redirects = tables["redirects"].filter(pl.col("old_id").is_in(list(retired)))
    assert set(redirects["old_id"]) == retired
    assert redirects["new_id"].is_null().all()
    remaining = {
        record_id
        for name, frame in tables.items()
        if name != "redirects" and "id" in frame.columns
        for record_id in frame["id"]
    }
    assert not retired & remaining
