"""Bar charts as PNG, drawn with matplotlib.

Every chart the project makes is of one kind: labelled horizontal bars, one row per
feature or bin and one bar per series (feature importance has one series, a drift
histogram two: reference and current). matplotlib is imported when the first chart is
drawn, not when this module is, so the commands that draw none do not pay the 0.6 s it
takes to load. Figures are drawn on the Agg canvas directly, without pyplot: there is no
global figure state to leak between charts and no display is needed.
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
INCHES_PER_BAR = 0.22
DPI = 100


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    note: str = "",
    value_format: Callable[[float], str] = "{:.3f}".format,
) -> bytes:
    """``bar_figure`` of the same arguments, as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = bar_figure(title, labels, series, note, value_format)
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
    bars_per_row = max(len(series), 1)
    height = 0.8 / bars_per_row
    size = (7.0, 1.2 + INCHES_PER_BAR * bars_per_row * max(len(rows), 1))
    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    axes = figure.subplots()
    for offset, ((name, values), colour) in enumerate(zip(series.items(), COLOURS, strict=False)):
        finite = [value if math.isfinite(value) else 0.0 for value in values]
        positions = [row + offset * height for row in range(len(rows))]
        drawn = axes.barh(positions, finite, height=height, color=colour, label=name)
        axes.bar_label(drawn, labels=[value_format(value) for value in finite], padding=3)
    axes.set_yticks([row + (bars_per_row - 1) * height / 2 for row in range(len(rows))], rows)
    axes.invert_yaxis()
    axes.axvline(0.0, color=AXIS, linewidth=0.8)
    axes.margins(x=0.2)
    axes.set_title(title, loc="left")
    axes.set_xlabel(note)
    if len(series) > 1:
        axes.legend()
    return figure


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 3] + "..."
