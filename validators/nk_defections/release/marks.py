"""The marks of the timeline figure: a posting's bar, an event's numbered mark, their colours.

:mod:`nk_defections.release.figure` lays them out, one row per person, and adds the key.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from matplotlib.axes import Axes

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


def num(day: datetime.date) -> float:
    """The day as matplotlib's date number."""
    from matplotlib.dates import date2num

    return float(date2num(day))


def span(row: Mapping[str, Any], column: str) -> tuple[float | None, float | None, bool]:
    """(earliest, end of latest day, present) of a date column of one row, as matplotlib numbers."""
    low, high = row.get(f"{column}_min"), row.get(f"{column}_max")
    return (
        num(low) if low is not None else None,
        num(high) + 1 if high is not None else None,
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
class Scale:
    """How many days one point of the page is, and where the axis ends (labels stay inside)."""

    days_per_point: float
    x_max: float

    def days(self, points: float) -> float:
        """How many days *points* of width stand for."""
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
class Posting:
    """A posting's bar: held, begun or ended within a span, attested, or open."""

    row: Mapping[str, Any]

    def parts(self) -> dict[str, Any]:
        """What to draw, in days: pale spans, a certain span, a hatched span, a day, open ends."""
        s_lo, s_hi, has_s = span(self.row, "start_date")
        e_lo, e_hi, has_e = span(self.row, "end_date")
        a_lo, a_hi, has_a = span(self.row, "attested_date")
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

    def _ends(self, scale: Scale) -> tuple[float, float]:
        """The days its drawing covers, its open-end arrows included."""
        parts = self.parts()
        left = parts["left"] - (scale.days(OPEN_POINTS + 2) if parts["left_open"] else 0)
        right = parts["right"] + (scale.days(OPEN_POINTS + 2) if parts["right_open"] else 0)
        return left, right

    def _label_right_aligned(self, scale: Scale, char_days: float) -> bool:
        left, _ = self._ends(scale)
        return left + len(str(self.row["title"])) * char_days > scale.x_max

    def extent(self, scale: Scale, char_days: float) -> tuple[float, float]:
        """The days its drawing and its label cover (for packing lanes)."""
        if self.parts()["left"] is None:
            return 0.0, 0.0
        left, right = self._ends(scale)
        width = len(str(self.row["title"])) * char_days
        if self._label_right_aligned(scale, char_days):
            return min(left, right - width), right
        return left, max(right, left + width)

    def draw(self, ax: Axes, y: float, scale: Scale, char_days: float) -> None:
        """Draw the bar, centred on *y*."""
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
class Event:
    """An event's numbered mark in its type's colour."""

    row: Mapping[str, Any]
    number: int
    colour: str

    @property
    def is_defection(self) -> bool:
        """Whether the event is a defection (drawn larger)."""
        return str(self.row["event_type"]) == DEFECTION

    def bounds(self) -> tuple[float | None, float | None]:
        """The earliest and latest day the event's date can mean (None: open)."""
        low, high, _ = span(self.row, "date")
        return low, high

    def label_at(self, scale: Scale) -> tuple[float, float]:
        """Where the number goes (in days), and its offset in points."""
        low, high = self.bounds()
        if high is None:
            return low, OPEN_POINTS + 3  # type: ignore[return-value]
        if low is not None and high - low <= 1:
            return low + 0.5, 6
        return high, 3

    def extent(self, scale: Scale, char_days: float) -> tuple[float, float]:
        """The days its drawing and its number cover (for packing lanes)."""
        low, high = self.bounds()
        if low is None and high is None:
            return 0.0, 0.0
        left = low if low is not None else high - scale.days(OPEN_POINTS + 2)  # type: ignore[operator]
        x, offset = self.label_at(scale)
        right = x + scale.days(offset) + (len(str(self.number)) + 1) * char_days
        return left - scale.days(5), right

    def draw(self, ax: Axes, y: float, scale: Scale) -> None:
        """Draw the mark, centred on *y*."""
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
                face = self.colour if defection else pale(self.colour)
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


def pale(colour: str) -> tuple[float, float, float]:
    """*colour* mostly white: one day somewhere within the band, not every day of it."""
    from matplotlib.colors import to_rgb

    return tuple(0.6 + 0.4 * c for c in to_rgb(colour))  # type: ignore[return-value]


def lanes(extents: list[tuple[float, float]]) -> list[int]:
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


def date_bounds(frame: pl.DataFrame, columns: Sequence[str]) -> list[float]:
    """Every known bound of the *columns* of *frame*, as date numbers."""
    return [
        v
        for row in frame.iter_rows(named=True)
        for column in columns
        for v in span(row, column)[:2]
        if v is not None
    ]
