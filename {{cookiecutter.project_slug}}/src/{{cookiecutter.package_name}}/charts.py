"""Bar charts as PNG, drawn with matplotlib: the feature-importance chart of every run.

Labelled horizontal bars, one row per label and one bar per series. matplotlib is
imported when the first chart is drawn, not when this module is, so the commands that
draw none do not pay the 0.6 s it takes to load. Figures are drawn on the Agg canvas
directly, without pyplot: there is no global figure state to leak between charts and no
display is needed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = ("#3b7dd8", "#e8833a", "#4daf4a", "#984ea3")  # one per series, in order
AXIS = "#999999"
MAX_LABEL = 32  # characters of a row label shown; longer ones end in "..."
WIDTH = 7.0  # inches, at matplotlib's 100 dots per inch
INCHES_PER_BAR = 0.22
CHARACTER_WIDTH = 0.075  # inches, of a label at matplotlib's default font size


def png(figure: Figure) -> bytes:
    """``figure`` drawn on the Agg canvas, as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)  # draws on Agg, whatever backend the environment names
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def bar_figure(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    note: str = "",
    value_format: Callable[[float], str] = "{:.3f}".format,
) -> Figure:
    """Rows of horizontal bars, the first label on top, one bar per series in each row.

    Bars grow from zero, so negative values point left. Each bar carries its value (a
    missing or infinite one is drawn as 0); a legend names the series when there are
    several, and ``note`` (say, what the values measure) labels the value axis.
    """
    if any(len(values) != len(labels) for values in series.values()):
        raise ValueError("every series needs one value per label")
    if len(series) > len(COLOURS):
        raise ValueError(f"at most {len(COLOURS)} series fit in one chart")
    from matplotlib.figure import Figure

    rows = [_shorten(str(label)) for label in labels]
    values = {name: [v if math.isfinite(v) else 0.0 for v in vs] for name, vs in series.items()}
    bars_per_row = max(len(values), 1)
    height = 0.8 / bars_per_row
    figure = Figure(figsize=(WIDTH, 1.0 + INCHES_PER_BAR * bars_per_row * max(len(rows), 1)))
    axes = figure.subplots()
    for offset, ((name, finite), colour) in enumerate(zip(values.items(), COLOURS, strict=False)):
        positions = [row + offset * height for row in range(len(rows))]
        drawn = axes.barh(positions, finite, height=height, color=colour, label=name)
        axes.bar_label(drawn, labels=[value_format(value) for value in finite], padding=3)
    axes.set_yticks([row + (bars_per_row - 1) * height / 2 for row in range(len(rows))], rows)
    axes.invert_yaxis()
    axes.set_xticks([])  # every bar carries its value
    every_value = [value for finite in values.values() for value in finite]
    low, high = min([0.0, *every_value]), max([0.0, *every_value])
    room = 0.25 * ((high - low) or 1.0)  # for the values written beside the bars
    axes.set_xlim(low - (room if low < 0 else 0.0), high + room)
    axes.axvline(0.0, color=AXIS, linewidth=0.8)
    axes.set_title(title, loc="left")
    axes.set_xlabel(note)
    if len(values) > 1:
        axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=len(values), frameon=False)
    _leave_room_for_the_text(figure, rows)
    return figure


def _leave_room_for_the_text(figure: Figure, rows: list[str]) -> None:
    """Margins sized from the labels' length, in inches: matplotlib's own layout engines
    measure every text first, which doubles the time a chart takes."""
    width, height = figure.get_size_inches()
    left = 0.3 + CHARACTER_WIDTH * max((len(row) for row in rows), default=0)
    figure.subplots_adjust(
        left=left / width, right=1 - 0.2 / width, top=1 - 0.45 / height, bottom=0.4 / height
    )


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 3] + "..."
