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
import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from nk_defections.release.marks import (
    AXES_LEFT,
    AXES_WIDTH,
    DEFECTION,
    EDGE,
    EVENT_LANE,
    FIGURE_WIDTH,
    KEY_COLUMNS,
    KEY_LINE_INCHES,
    OPEN_POINTS,
    OTHER_COLOUR,
    POSTING_HELD,
    POSTING_LANE,
    POSTING_WITHIN,
    TYPE_COLUMNS,
    Event,
    Posting,
    Scale,
    date_bounds,
    event_colours,
    lanes,
    num,
    pale,
    readable_date,
    span,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Fixed so that the SVG's ids, and so its bytes, do not change from one build to the next.
SVG_HASH_SALT = "nk-defections"
PNG_DPI = 150


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

    everything = date_bounds(postings, ("start_date", "end_date", "attested_date"))
    everything += date_bounds(shown, ("date",))
    first, last = (
        (min(everything), max(everything))
        if everything
        else (num(datetime.date(2000, 1, 1)), num(datetime.date(2001, 1, 1)))
    )
    # Room for the open-end arrows and the numbers, and no more: the axis ends shortly after
    # the latest date the sources give.
    axes_points = FIGURE_WIDTH * AXES_WIDTH * 72
    before, after = OPEN_POINTS + 6, OPEN_POINTS + 3  # numbers may run into the right margin
    days_per_point = max(last - first, 60.0) / (axes_points - before - after)
    x_min, x_max = first - before * days_per_point, last + after * days_per_point
    scale = Scale(days_per_point, x_max)
    char_days = scale.days(4.2)

    earliest: dict[str, float] = {}
    for frame, key, columns in (
        (postings, "person_id", ("start_date", "end_date", "attested_date")),
        (taking_part, "participant_id", ("date",)),
    ):
        for row in frame.iter_rows(named=True):
            values = [v for c in columns for v in span(row, c)[:2] if v is not None]
            if values:
                earliest[row[key]] = min([*values, earliest.get(row[key], values[0])])
    order = sorted(
        people.select("id", "name").iter_rows(named=True),
        key=lambda p: (earliest.get(p["id"], float("inf")), str(p["name"]), p["id"]),
    )

    plan = []
    for person in order:
        own_postings = [
            Posting(row)
            for row in postings.filter(pl.col("person_id") == person["id"]).iter_rows(named=True)
        ]
        own_events = [
            Event(row, numbers[row["event_id"]], colours[str(row["event_type"])])
            for row in taking_part.filter(pl.col("participant_id") == person["id"]).iter_rows(
                named=True
            )
        ]
        posting_lanes = lanes([p.extent(scale, char_days) for p in own_postings])
        event_lanes = lanes([e.extent(scale, char_days) for e in own_events])
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
            facecolor=pale(OTHER_COLOUR), edgecolor=OTHER_COLOUR, label="event on some day within"
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
