"""The timeline figure says what it shows: numbered events with a key, one colour per type, and
nothing drawn outside the dates the sources give."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

import polars as pl
from matplotlib.colors import same_color, to_hex
from matplotlib.dates import date2num
from matplotlib.patches import Rectangle

from nk_defections import load_package
from nk_defections.model.package import load_package_descriptor
from nk_defections.release.figure import draw_timeline
from nk_defections.release.marks import DEFECTION, DEFECTION_COLOUR, event_colours, readable_date

from .conftest import ROOT

TABLES = load_package(ROOT)


def drawn_events() -> pl.DataFrame:
    """The events a person of the package took part in: those the figure draws."""
    return (
        TABLES["event_participants"]
        .join(TABLES["events"].rename({"id": "event_id"}), on="event_id")
        .filter(pl.col("participant_id").is_in(TABLES["people"]["id"].implode()))
        .unique("event_id")
    )


def date_limits() -> tuple[float, float]:
    """The earliest and the end of the latest day any drawn date can mean."""
    values = []
    for frame, columns in (
        (TABLES["postings"], ("start_date", "end_date", "attested_date")),
        (drawn_events(), ("date",)),
    ):
        for column in columns:
            for suffix in ("_min", "_max"):
                values += frame[column + suffix].drop_nulls().to_list()
    return float(date2num(min(values))), float(date2num(max(values))) + 1


@pytest.fixture(scope="module")
def figure():
    return draw_timeline(TABLES, "0.1.0")


def test_the_axis_ends_shortly_after_the_latest_date_the_sources_give(figure):
    first, last = date_limits()
    low, high = figure.axes[0].get_xlim()
    assert last < high <= last + 0.03 * (last - first)  # about four months on twelve years
    assert first - 0.05 * (last - first) <= low < first


def test_nothing_is_drawn_outside_the_dates_the_sources_give(figure):
    # An open end is an arrow of fixed length on the page, not a span of invented time.
    first, last = date_limits()
    ax = figure.axes[0]
    spans = [
        p for p in ax.patches if isinstance(p, Rectangle) and p.get_data_transform() == ax.transData
    ]
    assert spans
    for patch in spans:
        assert first <= patch.get_x() and patch.get_x() + patch.get_width() <= last, patch


def test_every_drawn_event_is_numbered_and_in_the_key(figure):
    events = drawn_events()
    key = figure.axes[-1]
    texts = [t.get_text() for t in key.texts]
    numbers = [int(t) for t in texts if t.isdigit()]
    assert numbers == list(range(1, events.height + 1))
    lines = [t for t in texts if ": " in t and not t.startswith("Key")]
    assert len(lines) == events.height
    for row in events.iter_rows(named=True):
        said = f"{readable_date(row['date'])}: {row['title']}"
        assert any(said.startswith(line.removesuffix("…")) for line in lines), said
    # The same numbers label the marks on the plot.
    on_plot = {t.get_text() for t in figure.axes[0].texts if t.get_text().isdigit()}
    assert on_plot == {str(n) for n in numbers}


def test_every_event_type_has_a_colour_of_its_own():
    vocabulary = load_package_descriptor(ROOT).field("events", "event_type")["constraints"]["enum"]
    colours = event_colours(vocabulary)
    assert len({to_hex(c) for c in colours.values()}) == len(vocabulary)
    assert colours[DEFECTION] == DEFECTION_COLOUR


def test_the_legend_shows_each_drawn_type_in_its_colour_and_defections_stand_out(figure):
    types = sorted(str(t) for t in drawn_events()["event_type"].unique())
    (legend,) = [g for g in figure.legends if g.get_title().get_text().startswith("event types")]
    shown = {
        t.get_text(): h for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }
    assert sorted(shown) == sorted(t.replace("_", " ") for t in types)
    faces = [to_hex(h.get_markerfacecolor()) for h in shown.values()]
    assert len(set(faces)) == len(faces)
    ax = figure.axes[0]
    heights: dict[bool, list[float]] = {True: [], False: []}
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_data_transform() == ax.transData:
            heights[same_color(patch.get_facecolor(), DEFECTION_COLOUR)].append(patch.get_height())
    assert heights[True] and min(heights[True]) > max(heights[False])
