"""The timeline figure: every person's postings and the events they took part in, at honest precision.

People are rows. A posting is a grey bar: dark where the person certainly held it, pale over
the span in which it began or ended (a start of ``2019`` is a pale band over the whole year),
hatched where a source shows it held on some day of a range, a dot on a day it was held. An
event is a numbered mark in its type's colour: a marker on a known day, a band over the span the
day falls in (``2023-11`` is a band over November), a thin bar for something that lasted.
Defections are drawn larger, with a dark outline. Where a source gives no date (a posting's
start, an open end), a short arrow of fixed length says so: it is not a span of time, and
nothing is drawn for a time the sources do not give. The axis runs from shortly before the
earliest date the sources give to shortly after the latest. A key under the plot gives each
number's date, in words, and title.

Colours are Okabe and Ito's colour-blind-safe set (defections in vermillion), then Paul Tol's
muted set when a figure has more event types than it has colours; every type has its own
colour, and the numbers and the key make the figure readable without telling colours apart.
"""

from __future__ import annotations

import datetime
import io
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Fixed so that the SVG's ids, and so its bytes, do not change from one build to the next.
SVG_HASH_SALT = "nk-defections"
PNG_DPI = 150

#: Postings are drawn in greys, so that colour means an event's type alone.
POSTING_HELD = "#4d4d4d"
POSTING_WITHIN = "#bdbdbd"
POSTING_TEXT = "#262626"
DEFECTION = "defection"
OTHER = "other"
DEFECTION_COLOUR = "#D55E00"  # Okabe–Ito vermillion
OTHER_COLOUR = "#999999"
#: The rest of Okabe–Ito, then Paul Tol's muted colours (those least like the ones before first).
PALETTE = (
    "#E69F00",  # orange
    "#0072B2",  # blue
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
    "#882255",  # wine
    "#999933",  # olive
    "#332288",  # indigo
    "#CC6677",  # rose
    "#DDCC77",  # sand
    "#44AA99",  # teal
    "#117733",  # green
    "#AA4499",  # purple
    "#88CCEE",  # cyan
    "#661100",  # brown
    "#6699CC",  # steel blue
)
EDGE = "#1a1a1a"
#: An arrow for "no date given here": a fixed length on the page, never a span of time.
OPEN_POINTS = 11.0
FIGURE_WIDTH = 12.0
AXES_LEFT, AXES_WIDTH = 0.24, 0.7
POSTING_LANE = 0.5
EVENT_LANE = 0.3
KEY_LINE_INCHES = 0.155
KEY_COLUMNS = 2
TYPE_COLUMNS = 7


def _num(day: datetime.date) -> float:
    from matplotlib.dates import date2num

    return float(date2num(day))


def _span(row: Mapping[str, Any], column: str) -> tuple[float | None, float | None, bool]:
    """(earliest, end of latest day, present) of a date column of one row, as matplotlib numbers."""
    low, high = row.get(f"{column}_min"), row.get(f"{column}_max")
    return (
        _num(low) if low is not None else None,
        _num(high) + 1 if high is not None else None,
        row.get(column) is not None,
    )


_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_SINGLE = re.compile(r"([0-9]{4})(?:-([0-9]{2}))?(?:-([0-9]{2}))?([?~%])?")


def _day(text: str) -> str:
    match = _SINGLE.fullmatch(text)
    if not match:
        return text
    year, month, day, qualifier = match.groups()
    words = " ".join(
        part for part in (day and str(int(day)), month and _MONTHS[int(month) - 1], year) if part
    )
    if qualifier in ("~", "%"):
        words = "about " + words
    return words + ("?" if qualifier in ("?", "%") else "")


def readable_date(text: str) -> str:
    """An EDTF value of the project's subset in words, for the key.

    Examples
    --------
    >>> [readable_date(t) for t in ("2023-11", "[..2024-07-16]", "../2023-11", "2019~")]
    ['Nov 2023', 'on or before 16 Jul 2024', 'until Nov 2023', 'about 2019']
    >>> readable_date("[2013-01..2023-11]"), readable_date("2016/2018")
    ('between Jan 2013 and Nov 2023', '2016 to 2018')
    """
    if text.startswith("[") and text.endswith("]") and ".." in text:
        low, _, high = text[1:-1].partition("..")
        if not low:
            return f"on or before {_day(high)}"
        if not high:
            return f"on or after {_day(low)}"
        return f"between {_day(low)} and {_day(high)}"
    if "/" in text:
        low, _, high = text.partition("/")
        if low == "..":
            return f"until {_day(high)}"
        if high == "..":
            return f"from {_day(low)}, no end given"
        return f"{_day(low)} to {_day(high)}"
    return _day(text)


def event_colours(types: Sequence[str]) -> dict[str, str]:
    """A colour for each event type, the most frequent first; defections vermillion, other grey.

    Examples
    --------
    >>> event_colours(["statement", "defection", "statement", "arrival", "other"])
    {'defection': '#D55E00', 'statement': '#E69F00', 'arrival': '#0072B2', 'other': '#999999'}
    """
    counts: dict[str, int] = {}
    for event_type in types:
        counts[event_type] = counts.get(event_type, 0) + 1
    ranked = sorted(
        (t for t in counts if t not in (DEFECTION, OTHER)), key=lambda t: (-counts[t], t)
    )
    colours = {DEFECTION: DEFECTION_COLOUR} if DEFECTION in counts else {}
    colours |= {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(ranked)}
    if OTHER in counts:
        colours[OTHER] = OTHER_COLOUR
    return colours


@dataclass(frozen=True)
class _Scale:
    """How many days one point of the page is, and where the axis ends (labels stay inside)."""

    days_per_point: float
    x_max: float

    def days(self, points: float) -> float:
        return points * self.days_per_point


def _rect(
    left: float,
    y: float,
    width: float,
    height: float,
    colour: str | tuple[float, float, float],
    **more: Any,
) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((left, y - height / 2), max(width, 0.0), height, facecolor=colour, **more)


def _arrow(ax: Axes, x: float, y: float, direction: int, colour: str) -> None:
    ax.annotate(
        "",
        xy=(x, y),
        xycoords="data",
        xytext=(direction * OPEN_POINTS, 0),
        textcoords="offset points",
        arrowprops={
            "arrowstyle": "<|-",
            "color": colour,
            "lw": 1.0,
            "shrinkA": 0,
            "shrinkB": 0,
            "mutation_scale": 7,
        },
        annotation_clip=False,
    )


@dataclass
class _Posting:
    row: Mapping[str, Any]

    def parts(self) -> dict[str, Any]:
        """What to draw, in days: pale spans, a certain span, a hatched span, a day, open ends."""
        s_lo, s_hi, has_s = _span(self.row, "start_date")
        e_lo, e_hi, has_e = _span(self.row, "end_date")
        a_lo, a_hi, has_a = _span(self.row, "attested_date")
        single = (
            a_lo if has_a and a_lo is not None and a_hi is not None and a_hi - a_lo <= 1 else None
        )
        core_lo = s_hi if has_s else None
        core_hi = e_lo if has_e else None
        if single is not None:
            core_lo = single if core_lo is None else min(core_lo, single)
            core_hi = single + 1 if core_hi is None else max(core_hi, single + 1)
        pale = [
            (lo, hi)
            for lo, hi, has in ((s_lo, s_hi, has_s), (e_lo, e_hi, has_e))
            if has and lo is not None and hi is not None
        ]
        hatched = (
            (a_lo, a_hi)
            if has_a and single is None and a_lo is not None and a_hi is not None
            else None
        )
        known = [v for v in (s_lo, s_hi, e_lo, e_hi, a_lo, a_hi) if v is not None]
        # No start given, or "[..B]": it began before what is drawn, the sources do not say when.
        # "[A..]" began on or after A: the arrow on the right says the rest.
        left_open = not has_s or s_lo is None
        if has_s and s_hi is None and s_lo is not None:
            left_open = False
        right_open = not has_e or e_hi is None
        return {
            "pale": pale,
            "core": (core_lo, core_hi)
            if core_lo is not None and core_hi is not None and core_hi > core_lo
            else None,
            "hatched": hatched,
            "day": single,
            "left": min(known) if known else None,
            "right": max(known) if known else None,
            "left_open": left_open and bool(known),
            "right_open": right_open and bool(known),
        }

    def _ends(self, scale: _Scale) -> tuple[float, float]:
        """The days its drawing covers, its open-end arrows included."""
        parts = self.parts()
        left = parts["left"] - (scale.days(OPEN_POINTS + 2) if parts["left_open"] else 0)
        right = parts["right"] + (scale.days(OPEN_POINTS + 2) if parts["right_open"] else 0)
        return left, right

    def _label_right_aligned(self, scale: _Scale, char_days: float) -> bool:
        left, _ = self._ends(scale)
        return left + len(str(self.row["title"])) * char_days > scale.x_max

    def extent(self, scale: _Scale, char_days: float) -> tuple[float, float]:
        """The days its drawing and its label cover (for packing lanes)."""
        if self.parts()["left"] is None:
            return 0.0, 0.0
        left, right = self._ends(scale)
        width = len(str(self.row["title"])) * char_days
        if self._label_right_aligned(scale, char_days):
            return min(left, right - width), right
        return left, max(right, left + width)

    def draw(self, ax: Axes, y: float, scale: _Scale, char_days: float) -> None:
        parts = self.parts()
        if parts["left"] is None:
            return
        height = 0.2
        for lo, hi in parts["pale"]:
            ax.add_patch(_rect(lo, y, hi - lo, height, POSTING_WITHIN, lw=0))
        if parts["hatched"]:
            lo, hi = parts["hatched"]
            ax.add_patch(
                _rect(
                    lo, y, hi - lo, height, "white", hatch="////", edgecolor=POSTING_WITHIN, lw=0.6
                )
            )
        if parts["core"]:
            lo, hi = parts["core"]
            ax.add_patch(_rect(lo, y, hi - lo, height, POSTING_HELD, lw=0))
        if parts["day"] is not None:
            ax.plot(
                [parts["day"] + 0.5],
                [y],
                marker="o",
                markersize=4.5,
                color=POSTING_HELD,
                lw=0,
                zorder=3,
            )
        if parts["left_open"]:
            _arrow(ax, parts["left"], y, -1, POSTING_HELD)
        if parts["right_open"]:
            _arrow(ax, parts["right"], y, 1, POSTING_HELD)
        right_aligned = self._label_right_aligned(scale, char_days)
        if right_aligned:
            at, offset = parts["right"], (OPEN_POINTS + 2) if parts["right_open"] else 0
        else:
            at, offset = parts["left"], -(OPEN_POINTS + 2) if parts["left_open"] else 0
        ax.annotate(
            str(self.row["title"]),
            xy=(at, y + 0.12),
            xytext=(offset, 0),
            textcoords="offset points",
            fontsize=7,
            va="bottom",
            ha="right" if right_aligned else "left",
            color=POSTING_TEXT,
            annotation_clip=False,
        )


@dataclass
class _Event:
    row: Mapping[str, Any]
    number: int
    colour: str

    @property
    def is_defection(self) -> bool:
        return str(self.row["event_type"]) == DEFECTION

    def bounds(self) -> tuple[float | None, float | None]:
        low, high, _ = _span(self.row, "date")
        return low, high

    def label_at(self, scale: _Scale) -> tuple[float, float]:
        """Where the number goes (in days), and its offset in points."""
        low, high = self.bounds()
        if high is None:
            return low, OPEN_POINTS + 3  # type: ignore[return-value]
        if low is not None and high - low <= 1:
            return low + 0.5, 6
        return high, 3

    def extent(self, scale: _Scale, char_days: float) -> tuple[float, float]:
        """The days its drawing and its number cover (for packing lanes)."""
        low, high = self.bounds()
        if low is None and high is None:
            return 0.0, 0.0
        left = low if low is not None else high - scale.days(OPEN_POINTS + 2)  # type: ignore[operator]
        x, offset = self.label_at(scale)
        right = x + scale.days(offset) + (len(str(self.number)) + 1) * char_days
        return left - scale.days(5), right

    def draw(self, ax: Axes, y: float, scale: _Scale) -> None:
        low, high = self.bounds()
        lasting = "/" in str(self.row["date"])
        defection = self.is_defection
        height = 0.22 if defection else 0.15
        edge = {"edgecolor": EDGE if defection else self.colour, "lw": 0.9 if defection else 0.5}
        if low is not None and high is not None and high - low <= 1:
            ax.plot(
                [low + 0.5],
                [y],
                marker="D" if defection else "o",
                markersize=8 if defection else 5.5,
                markerfacecolor=self.colour,
                markeredgecolor=EDGE,
                markeredgewidth=0.8 if defection else 0.4,
                lw=0,
                zorder=4,
            )
        elif low is not None and high is not None:
            if lasting:
                ax.add_patch(_rect(low, y, high - low, height * 0.45, self.colour, lw=0, zorder=3))
            else:
                face = self.colour if defection else _pale(self.colour)
                ax.add_patch(_rect(low, y, high - low, height, face, zorder=3, **edge))
        else:
            x = high if high is not None else low
            if x is None:  # neither end known: nothing to draw
                return
            direction = -1 if high is not None else 1
            ax.plot([x], [y], marker="|", markersize=8, color=self.colour, mew=2, lw=0, zorder=4)
            _arrow(ax, x, y, direction, self.colour)
        x, offset = self.label_at(scale)
        ax.annotate(
            str(self.number),
            xy=(x, y),
            xytext=(offset, 0),
            textcoords="offset points",
            fontsize=7 if defection else 6.5,
            fontweight="bold" if defection else "normal",
            va="center",
            ha="left",
            color=POSTING_TEXT,
            annotation_clip=False,
            zorder=5,
        )


def _pale(colour: str) -> tuple[float, float, float]:
    """*colour* mostly white: one day somewhere within the band, not every day of it."""
    from matplotlib.colors import to_rgb

    return tuple(0.6 + 0.4 * c for c in to_rgb(colour))  # type: ignore[return-value]


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


def _date_bounds(frame: pl.DataFrame, columns: Sequence[str]) -> list[float]:
    return [
        v
        for row in frame.iter_rows(named=True)
        for column in columns
        for v in _span(row, column)[:2]
        if v is not None
    ]


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

    people = tables["people"]
    postings = tables["postings"].sort("id")
    events = tables["events"].rename({"id": "event_id"})
    taking_part = (
        tables["event_participants"]
        .join(events, on="event_id", how="inner")
        .filter(pl.col("participant_id").is_in(people["id"].implode()))
        .sort("event_id", "id")
    )
    shown = taking_part.unique("event_id", keep="first").sort(
        pl.col("date_min").fill_null(pl.col("date_max")), "date_max", "event_id", nulls_last=True
    )
    numbers = {row["event_id"]: n for n, row in enumerate(shown.iter_rows(named=True), start=1)}
    colours = event_colours([str(t) for t in shown["event_type"]])

    everything = _date_bounds(postings, ("start_date", "end_date", "attested_date"))
    everything += _date_bounds(shown, ("date",))
    first, last = (
        (min(everything), max(everything))
        if everything
        else (_num(datetime.date(2000, 1, 1)), _num(datetime.date(2001, 1, 1)))
    )
    # Room for the open-end arrows and the numbers, and no more: the axis ends shortly after
    # the latest date the sources give.
    axes_points = FIGURE_WIDTH * AXES_WIDTH * 72
    before, after = OPEN_POINTS + 6, OPEN_POINTS + 3  # numbers may run into the right margin
    days_per_point = max(last - first, 60.0) / (axes_points - before - after)
    x_min, x_max = first - before * days_per_point, last + after * days_per_point
    scale = _Scale(days_per_point, x_max)
    char_days = scale.days(4.2)

    earliest: dict[str, float] = {}
    for frame, key, columns in (
        (postings, "person_id", ("start_date", "end_date", "attested_date")),
        (taking_part, "participant_id", ("date",)),
    ):
        for row in frame.iter_rows(named=True):
            values = [v for c in columns for v in _span(row, c)[:2] if v is not None]
            if values:
                earliest[row[key]] = min([*values, earliest.get(row[key], values[0])])
    order = sorted(
        people.select("id", "name").iter_rows(named=True),
        key=lambda p: (earliest.get(p["id"], float("inf")), str(p["name"]), p["id"]),
    )

    plan = []
    for person in order:
        own_postings = [
            _Posting(row)
            for row in postings.filter(pl.col("person_id") == person["id"]).iter_rows(named=True)
        ]
        own_events = [
            _Event(row, numbers[row["event_id"]], colours[str(row["event_type"])])
            for row in taking_part.filter(pl.col("participant_id") == person["id"]).iter_rows(
                named=True
            )
        ]
        posting_lanes = _lanes([p.extent(scale, char_days) for p in own_postings])
        event_lanes = _lanes([e.extent(scale, char_days) for e in own_events])
        posting_rows = max(posting_lanes, default=-1) + 1
        event_rows = max(event_lanes, default=-1) + 1
        height = max(posting_rows * POSTING_LANE + event_rows * EVENT_LANE, 0.45) + 0.2
        plan.append(
            (
                person,
                list(zip(own_postings, posting_lanes, strict=True)),
                list(zip(own_events, event_lanes, strict=True)),
                posting_rows,
                height,
            )
        )
    total = max(sum(item[-1] for item in plan), 1.0)

    key_rows = -(-len(numbers) // KEY_COLUMNS)
    types_rows = -(-len(colours) // TYPE_COLUMNS)
    legend_inches = 0.62 + (0.22 + 0.17 * types_rows if colours else 0.0)
    key_inches = 0.35 + key_rows * KEY_LINE_INCHES if numbers else 0.0
    plot_inches = 0.62 * total
    top_inches, axis_inches = 0.5, 0.3
    inches = top_inches + plot_inches + axis_inches + legend_inches + key_inches
    figure = Figure(figsize=(FIGURE_WIDTH, inches))
    ax = figure.add_axes(
        (AXES_LEFT, 1 - (top_inches + plot_inches) / inches, AXES_WIDTH, plot_inches / inches)
    )

    top_of_row = total
    ticks, labels = [], []
    for index, (person, placed_postings, placed_events, posting_rows, height) in enumerate(plan):
        row_bottom = top_of_row - height
        if index % 2 == 0:
            ax.axhspan(row_bottom, top_of_row, color="#f2f2f2", lw=0, zorder=0)
        ticks.append(top_of_row - height / 2)
        labels.append("\n".join(textwrap.wrap(str(person["name"]), 34)))
        posting_top = top_of_row - 0.1
        for posting, lane in placed_postings:
            posting.draw(ax, posting_top - (lane + 0.5) * POSTING_LANE - 0.06, scale, char_days)
        event_top = posting_top - posting_rows * POSTING_LANE
        for event, lane in placed_events:
            event.draw(ax, event_top - (lane + 0.5) * EVENT_LANE, scale)
        if not placed_postings and not placed_events:
            ax.text(
                first,
                top_of_row - height / 2,
                "no dated posting or event",
                fontsize=6.5,
                fontstyle="italic",
                color="#8c8c8c",
                va="center",
            )
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
        f"nk-defections {version}: people, their postings and the events they took part in "
        "(numbers: see the key below)",
        fontsize=10.5,
        loc="left",
        pad=8,
    )
    _legends(figure, colours, inches, key_inches, legend_inches)
    if numbers:
        _key(figure, shown, numbers, colours, key_inches / inches)
    return figure


def _legends(
    figure: Figure, colours: Mapping[str, str], inches: float, key: float, height: float
) -> None:
    """How postings and events are drawn, and the colour of each event type."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    drawn = [
        Patch(facecolor=POSTING_HELD, label="posting: certainly held"),
        Patch(facecolor=POSTING_WITHIN, label="posting: began or ended some day within"),
        Patch(
            facecolor="white",
            hatch="////",
            edgecolor=POSTING_WITHIN,
            label="posting: held some day within",
        ),
        Line2D(
            [],
            [],
            color=POSTING_HELD,
            marker="o",
            markersize=4.5,
            lw=0,
            label="posting: held that day",
        ),
        Line2D(
            [],
            [],
            color=POSTING_HELD,
            marker=">",
            markersize=4,
            lw=1,
            label="no date given past here (arrow length means nothing)",
        ),
        Line2D(
            [],
            [],
            color=OTHER_COLOUR,
            marker="o",
            markersize=5.5,
            markeredgecolor=EDGE,
            markeredgewidth=0.4,
            lw=0,
            label="event on a known day",
        ),
        Patch(
            facecolor=_pale(OTHER_COLOUR), edgecolor=OTHER_COLOUR, label="event on some day within"
        ),
        Patch(facecolor=OTHER_COLOUR, label="event lasting (thin bar)"),
        Line2D(
            [],
            [],
            color=OTHER_COLOUR,
            marker="|",
            markersize=8,
            mew=2,
            lw=0,
            label="event on or before / after (arrow)",
        ),
    ]
    types = [
        Line2D(
            [],
            [],
            lw=0,
            marker="D" if t == DEFECTION else "o",
            markersize=7 if t == DEFECTION else 6,
            markerfacecolor=colour,
            markeredgecolor=EDGE,
            markeredgewidth=0.8 if t == DEFECTION else 0.4,
            label=t.replace("_", " "),
        )
        for t, colour in colours.items()
    ]
    top = (key + height) / inches
    figure.legend(
        handles=drawn,
        loc="upper left",
        ncol=3,
        fontsize=7,
        frameon=False,
        bbox_to_anchor=(0.02, top),
    )
    if types:
        figure.legend(
            handles=types,
            loc="upper left",
            ncol=TYPE_COLUMNS,
            fontsize=7,
            frameon=False,
            title="event types (each its own colour)",
            title_fontsize=7,
            alignment="left",
            bbox_to_anchor=(0.02, top - 0.6 / inches),
        )


def _key(
    figure: Figure,
    shown: pl.DataFrame,
    numbers: Mapping[str, int],
    colours: Mapping[str, str],
    height: float,
) -> None:
    """The key: each number's date in words, and the event's title."""
    ax = figure.add_axes((0.03, 0.0, 0.95, height))
    ax.set_axis_off()
    rows = -(-len(numbers) // KEY_COLUMNS)
    ax.set_xlim(0, KEY_COLUMNS)
    ax.set_ylim(rows + 0.5, -1.5)
    ax.text(
        0,
        -0.9,
        "Key: each numbered event, its date in words and its title",
        fontsize=7.5,
        fontweight="bold",
        va="center",
    )
    for row in shown.iter_rows(named=True):
        number = numbers[row["event_id"]]
        column, line = divmod(number - 1, rows)
        defection = str(row["event_type"]) == DEFECTION
        weight = "bold" if defection else "normal"
        ax.text(
            column + 0.02,
            line,
            f"{number}",
            fontsize=6.8,
            va="center",
            ha="right",
            fontweight=weight,
        )
        ax.plot(
            [column + 0.032],
            [line],
            marker="D" if defection else "o",
            markersize=5 if defection else 4.5,
            markerfacecolor=colours[str(row["event_type"])],
            markeredgecolor=EDGE,
            markeredgewidth=0.5,
            lw=0,
        )
        text = textwrap.shorten(
            f"{readable_date(str(row['date']))}: {row['title']}", width=88, placeholder="…"
        )
        ax.text(column + 0.045, line, text, fontsize=6.8, va="center", fontweight=weight)


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
