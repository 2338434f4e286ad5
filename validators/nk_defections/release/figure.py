"""The timeline figure: every person's postings and the events they took part in, at honest precision.

People are rows. A posting is a bar: solid where the person certainly held it, pale over the
span in which it started or ended (a start of ``2019`` is a pale band over the whole year),
hatched where a source shows it held on one unknown day of a range, and fading out with an
arrow where it is open. An event is a mark under the bar: a diamond on a known day, a band
over the span in which it happened (``2023-11`` is a band over November), a fading band with
an arrow where it is open at one end, and a line for something that lasted.
"""

from __future__ import annotations

import datetime
import io
import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

POSTING_COLOUR = "#3b6ea5"
#: How far an open bound fades, in days.
FADE_DAYS = 700
FADE_STEPS = 14
#: Fixed so that the SVG's ids, and so its bytes, do not change from one build to the next.
SVG_HASH_SALT = "nk-defections"
PNG_DPI = 150
EVENT_COLOURS = {
    "defection": "#c0392b",
    "arrival": "#e67e22",
    "resettlement": "#e67e22",
    "official_confirmation": "#8e44ad",
    "media_report": "#7f8c8d",
    "interview": "#16a085",
    "statement": "#95a5a6",
    "official_warning": "#d35400",
    "election": "#27ae60",
    "commendation": "#f1c40f",
    "negotiation": "#2c3e50",
    "leaflet_launch": "#a0522d",
    "balloon_launch": "#a0522d",
}
OTHER_EVENT_COLOUR = "#34495e"


def _num(day: datetime.date) -> float:
    from matplotlib.dates import date2num

    return float(date2num(day))


def _fade(
    ax: Axes, start: float, direction: int, y: float, height: float, colour: str, alpha: float
) -> None:
    """A band that fades out from *start* in *direction* (-1 left, +1 right), ending in an arrow."""
    step = FADE_DAYS / FADE_STEPS
    for i in range(FADE_STEPS):
        left = start + direction * i * step if direction > 0 else start - (i + 1) * step
        ax.add_patch(_rect(left, y, step, height, colour, alpha * (1 - i / FADE_STEPS)))
    tip = start + direction * FADE_DAYS
    ax.annotate(
        "",
        xy=(tip + direction * 60, y),
        xytext=(tip, y),
        arrowprops={"arrowstyle": "-|>", "color": colour, "alpha": 0.5, "lw": 1},
    )


def _rect(
    left: float, y: float, width: float, height: float, colour: str, alpha: float, **more: Any
):
    from matplotlib.patches import Rectangle

    return Rectangle(
        (left, y - height / 2), max(width, 0.0), height, facecolor=colour, alpha=alpha, lw=0, **more
    )


def _span(frame_row: Mapping[str, Any], column: str) -> tuple[float | None, float | None, bool]:
    """(min, max, present) of a date column of one row, as matplotlib numbers; ``max`` is its last day's end."""
    text = frame_row.get(column)
    low, high = frame_row.get(f"{column}_min"), frame_row.get(f"{column}_max")
    return (
        _num(low) if low is not None else None,
        _num(high) + 1 if high is not None else None,
        text is not None,
    )


def _draw_posting(ax: Axes, posting: Mapping[str, Any], y: float) -> list[float]:
    """Draw one posting on row *y*; return the days it marks, for the axis limits."""
    height = 0.2
    s_lo, s_hi, has_start = _span(posting, "start_date")
    e_lo, e_hi, has_end = _span(posting, "end_date")
    a_lo, a_hi, has_attested = _span(posting, "attested_date")
    marks = [v for v in (s_lo, s_hi, e_lo, e_hi, a_lo, a_hi) if v is not None]
    # Where it was certainly held: from the latest possible start to the earliest possible end,
    # widened to an attested day when that day is known exactly.
    attested_day = (
        a_lo
        if has_attested and a_lo is not None and a_hi is not None and a_hi - a_lo <= 1
        else None
    )
    core_lo = s_hi if has_start and s_hi is not None else attested_day
    core_hi = e_lo if has_end and e_lo is not None else (a_hi if attested_day is not None else None)
    if core_lo is None and core_hi is not None and has_end:
        core_lo = core_hi
    if core_hi is None and core_lo is not None:
        core_hi = attested_day + 1 if attested_day is not None else core_lo
    if has_start and s_lo is not None and s_hi is not None:
        ax.add_patch(_rect(s_lo, y, s_hi - s_lo, height, POSTING_COLOUR, 0.3))
    if has_end and e_lo is not None and e_hi is not None:
        ax.add_patch(_rect(e_lo, y, e_hi - e_lo, height, POSTING_COLOUR, 0.3))
    if core_lo is not None and core_hi is not None and core_hi > core_lo:
        ax.add_patch(_rect(core_lo, y, core_hi - core_lo, height, POSTING_COLOUR, 0.95))
    if has_attested and attested_day is None and a_lo is not None and a_hi is not None:
        ax.add_patch(
            _rect(
                a_lo, y, a_hi - a_lo, height, POSTING_COLOUR, 0.35, hatch="////", edgecolor="white"
            )
        )
    if not has_start and core_lo is not None:
        _fade(ax, core_lo, -1, y, height, POSTING_COLOUR, 0.8)
    elif has_start and s_lo is None and s_hi is not None:  # "[..B]": started on or before B
        _fade(ax, s_hi, -1, y, height, POSTING_COLOUR, 0.5)
    if has_start and s_hi is None and s_lo is not None:  # "[A..]": started on or after A
        _fade(ax, s_lo, 1, y, height, POSTING_COLOUR, 0.5)
    end_from = core_hi if core_hi is not None else s_hi
    if not has_end and end_from is not None:
        _fade(ax, end_from, 1, y, height, POSTING_COLOUR, 0.8)
    elif has_end and e_hi is None and e_lo is not None:  # "[A..]": ended on or after A
        _fade(ax, e_lo, 1, y, height, POSTING_COLOUR, 0.5)
    # The label starts where the drawing does, so that it stays inside the axes.
    open_start = (not has_start and core_lo is not None) or (has_start and s_lo is None)
    label_at = min(marks) - (FADE_DAYS if open_start else 0) if marks else None
    if label_at is not None:
        ax.text(
            label_at,
            y + 0.11,
            str(posting["title"]),
            fontsize=7,
            va="bottom",
            ha="left",
            color="#1f3b5c",
        )
    return marks


def _draw_event(ax: Axes, event: Mapping[str, Any], y: float) -> list[float]:
    """Draw one event the person took part in, on the lane under row *y*."""
    colour = EVENT_COLOURS.get(str(event["event_type"]), OTHER_EVENT_COLOUR)
    low, high, _ = _span(event, "date")
    lasting = "/" in str(event["date"])
    height = 0.15
    if low is not None and high is not None and high - low <= 1:
        ax.plot([low + 0.5], [y], marker="D", markersize=5, color=colour, lw=0, zorder=3)
    elif low is not None and high is not None:
        if lasting:
            ax.add_patch(_rect(low, y, high - low, height * 0.5, colour, 0.9))
        else:
            ax.add_patch(_rect(low, y, high - low, height, colour, 0.45))
    elif high is not None:
        _fade(ax, high, -1, y, height * (0.5 if lasting else 1), colour, 0.6)
    elif low is not None:
        _fade(ax, low, 1, y, height * (0.5 if lasting else 1), colour, 0.6)
    return [v for v in (low, high) if v is not None]


def _bounds(row: Mapping[str, Any], columns: tuple[str, ...]) -> list[float]:
    return [v for column in columns for v in _span(row, column)[:2] if v is not None]


def _posting_extent(posting: Mapping[str, Any], char_days: float) -> tuple[float, float]:
    """The days a posting's drawing covers, fades and label included (for packing lanes)."""
    values = _bounds(posting, ("start_date", "end_date", "attested_date"))
    if not values:
        return 0.0, 0.0
    s_lo, _, has_start = _span(posting, "start_date")
    e_lo, e_hi, has_end = _span(posting, "end_date")
    left = min(values) - (FADE_DAYS + 80 if not has_start or s_lo is None else 0)
    right = max(values) + (FADE_DAYS + 80 if not has_end or e_hi is None else 0)
    return left, max(right, min(values) + len(str(posting["title"])) * char_days)


def _event_extent(event: Mapping[str, Any]) -> tuple[float, float]:
    low, high, _ = _span(event, "date")
    if low is None and high is None:
        return 0.0, 0.0
    if low is None:
        return high - FADE_DAYS - 80, high  # type: ignore[operator]
    if high is None:
        return low, low + FADE_DAYS + 80
    return low - 25, max(high, low + 25) + 25


def _lanes(extents: list[tuple[float, float]]) -> list[int]:
    """Greedy interval packing: the lane of each extent, so that no two in a lane overlap."""
    ends: list[float] = []
    lanes = [0] * len(extents)
    for index in sorted(range(len(extents)), key=lambda i: (extents[i][0], i)):
        left, right = extents[index]
        lane = next((n for n, end in enumerate(ends) if end < left), len(ends))
        if lane == len(ends):
            ends.append(right)
        ends[lane] = right
        lanes[index] = lane
    return lanes


POSTING_LANE = 0.5
EVENT_LANE = 0.24


def draw_timeline(tables: Mapping[str, pl.DataFrame], version: str) -> Figure:
    """Draw the timeline of every person from the typed tables of a package.

    Parameters
    ----------
    tables
        Typed frames as :func:`nk_defections.load_package` returns them (``people``,
        ``postings``, ``events`` and ``event_participants`` are used).
    version
        The package version, for the title.

    Examples
    --------
    >>> from nk_defections import load_package
    >>> figure = draw_timeline(load_package(), "0.1.0")
    >>> len(figure.axes[0].get_yticklabels()) == load_package()["people"].height
    True
    """
    from matplotlib.dates import YearLocator, num2date
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    people = tables["people"]
    postings = tables["postings"].sort("id")
    events = tables["events"].rename({"id": "event_id"})
    taking_part = (
        tables["event_participants"]
        .join(events, on="event_id", how="inner")
        .filter(pl.col("participant_id").is_in(people["id"].implode()))
        .sort("event_id", "id")
    )
    everything = _bounds_all(postings, ("start_date", "end_date", "attested_date")) + _bounds_all(
        taking_part, ("date",)
    )
    first, last = (
        (min(everything), max(everything))
        if everything
        else (_num(datetime.date(2000, 1, 1)), _num(datetime.date(2001, 1, 1)))
    )
    x_min, x_max = first - FADE_DAYS - 200, last + FADE_DAYS + 200
    char_days = (x_max - x_min) / 150

    earliest = {}
    for person_id, values in _group_bounds(
        postings, "person_id", ("start_date", "end_date", "attested_date")
    ).items():
        earliest[person_id] = min(values)
    for person_id, values in _group_bounds(taking_part, "participant_id", ("date",)).items():
        earliest[person_id] = min([*values, earliest.get(person_id, values[0])])
    order = sorted(
        people.select("id", "name").iter_rows(named=True),
        key=lambda p: (earliest.get(p["id"], float("inf")), str(p["name"]), p["id"]),
    )

    plan = []  # (person, postings with lanes, events with lanes, height)
    for person in order:
        own_postings = list(
            postings.filter(pl.col("person_id") == person["id"]).iter_rows(named=True)
        )
        own_events = list(
            taking_part.filter(pl.col("participant_id") == person["id"]).iter_rows(named=True)
        )
        posting_lanes = _lanes([_posting_extent(p, char_days) for p in own_postings])
        event_lanes = _lanes([_event_extent(e) for e in own_events])
        height = (
            max(1 + max(posting_lanes, default=-1), 1) * POSTING_LANE
            + max(1 + max(event_lanes, default=-1), 1) * EVENT_LANE
            + 0.2
        )
        plan.append(
            (
                person,
                list(zip(own_postings, posting_lanes, strict=False)),
                list(zip(own_events, event_lanes, strict=False)),
                height,
            )
        )
    total = sum(height for *_, height in plan)

    inches = 1.9 + 0.62 * total
    figure = Figure(figsize=(12, inches))
    bottom, top = 1.25 / inches, 0.55 / inches
    ax = figure.add_axes((0.26, bottom, 0.72, 1 - bottom - top))
    top_of_row = total
    ticks, labels, used_types = [], [], set()
    for index, (person, own_postings, own_events, height) in enumerate(plan):
        row_bottom = top_of_row - height
        if index % 2 == 0:
            ax.axhspan(row_bottom, top_of_row, color="#f4f6f8", lw=0, zorder=0)
        ticks.append(top_of_row - height / 2)
        labels.append("\n".join(textwrap.wrap(str(person["name"]), 34)))
        posting_top = top_of_row - 0.1
        for posting, lane in own_postings:
            _draw_posting(ax, posting, posting_top - (lane + 0.5) * POSTING_LANE - 0.06)
        lanes_used = max((lane for _, lane in own_postings), default=0) + 1
        event_top = posting_top - lanes_used * POSTING_LANE
        for event, lane in own_events:
            _draw_event(ax, event, event_top - (lane + 0.5) * EVENT_LANE)
            used_types.add(str(event["event_type"]))
        top_of_row = row_bottom
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(0, total)
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.set_major_locator(YearLocator())
    ax.xaxis.set_major_formatter(lambda value, _pos: str(num2date(value).year))
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(
        f"nk-defections {version}: people, their postings and the events they took part in",
        fontsize=11,
        loc="left",
        pad=8,
    )
    handles = [
        Patch(facecolor=POSTING_COLOUR, alpha=0.95, label="posting: certainly held"),
        Patch(facecolor=POSTING_COLOUR, alpha=0.3, label="posting: started or ended within"),
        Patch(
            facecolor=POSTING_COLOUR,
            alpha=0.35,
            hatch="////",
            edgecolor="white",
            label="posting: held on some day within",
        ),
        Line2D(
            [], [], color=POSTING_COLOUR, alpha=0.5, marker=">", lw=1, label="open end: fades out"
        ),
        Line2D(
            [],
            [],
            color=OTHER_EVENT_COLOUR,
            marker="D",
            markersize=5,
            lw=0,
            label="event on a known day",
        ),
        Patch(facecolor=OTHER_EVENT_COLOUR, alpha=0.45, label="event on some day within"),
        Patch(facecolor=OTHER_EVENT_COLOUR, alpha=0.9, label="event lasting (thin)"),
    ]
    handles += [
        Patch(
            facecolor=EVENT_COLOURS.get(t, OTHER_EVENT_COLOUR), alpha=0.7, label=t.replace("_", " ")
        )
        for t in sorted(used_types)
    ]
    figure.legend(
        handles=handles,
        loc="lower left",
        ncol=5,
        fontsize=7,
        frameon=False,
        bbox_to_anchor=(0.02, 0.0),
    )
    return figure


def _bounds_all(frame: pl.DataFrame, columns: tuple[str, ...]) -> list[float]:
    return [v for row in frame.iter_rows(named=True) for v in _bounds(row, columns)]


def _group_bounds(
    frame: pl.DataFrame, key: str, columns: tuple[str, ...]
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for row in frame.iter_rows(named=True):
        values = _bounds(row, columns)
        if values:
            out.setdefault(row[key], []).extend(values)
    return out


def write_figure(figure: Figure, image_format: str) -> bytes:
    """Render *figure* as ``svg`` or ``png`` bytes that do not change from one build to the next."""
    from matplotlib import rc_context

    metadata: dict[str, Any] = (
        {"Date": None, "Creator": None, "Contributor": None, "Identifier": None}
        if image_format == "svg"
        else {"Software": None}
    )
    buffer = io.BytesIO()
    with rc_context({"svg.hashsalt": SVG_HASH_SALT, "svg.fonttype": "path", "pdf.fonttype": 42}):
        figure.savefig(buffer, format=image_format, dpi=PNG_DPI, metadata=metadata)
    return buffer.getvalue()
