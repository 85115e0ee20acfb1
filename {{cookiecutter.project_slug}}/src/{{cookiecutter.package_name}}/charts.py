"""Bar charts as PNG, drawn with Pillow.

Every chart the project makes is of one kind: labelled horizontal bars, one row per
feature or bin and one bar per series (feature importance has one series, a drift
histogram two: reference and current). Pillow draws that in milliseconds and loads in a
tenth of the time a plotting library takes, a cost every ``train`` would otherwise pay.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont

COLOURS = ("#3b7dd8", "#e8833a", "#4daf4a", "#984ea3")  # one per series, in order
INK, AXIS = "#222222", "#999999"
FONT_SIZE = 13
BAR = 14  # bar thickness in pixels
GAP = 8  # space between rows
PAD = 14  # margin around the chart and between its parts
PLOT_WIDTH = 380  # the longest bar
MAX_LABEL = 32  # characters of a row label shown; longer ones end in "..."


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 3] + "..."


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    note: str = "",
    value_format: Callable[[float], str] = "{:.3f}".format,
) -> bytes:
    """Rows of horizontal bars, one row per label and one bar per series, as PNG bytes.

    Bars grow from zero, so negative values point left. Each bar carries its value; a
    legend names the series when there are several, and ``note`` (say, what the values
    measure) goes under the bars.
    """
    if any(len(values) != len(labels) for values in series.values()):
        raise ValueError("every series needs one value per label")
    if len(series) > len(COLOURS):
        raise ValueError(f"at most {len(COLOURS)} series fit in one chart")
    font = ImageFont.load_default(size=FONT_SIZE)
    rows = [_shorten(str(label)) for label in labels]
    values = {name: [v if math.isfinite(v) else 0.0 for v in vs] for name, vs in series.items()}
    every_value = [v for vs in values.values() for v in vs]
    low, high = min([0.0, *every_value]), max([0.0, *every_value])
    span = (high - low) or 1.0

    label_width = max((font.getlength(row) for row in rows), default=0) + PAD
    value_width = max((font.getlength(value_format(v)) for v in every_value), default=0) + 6
    left_room = value_width if low < 0 else 0  # values of negative bars sit left of them
    plot_left = PAD + label_width + left_room
    row_height = BAR * len(values) + GAP
    legend_height = FONT_SIZE + PAD if len(values) > 1 else 0
    rows_top = PAD + FONT_SIZE + PAD + legend_height
    rows_bottom = rows_top + row_height * len(rows)
    width = int(plot_left + PLOT_WIDTH + value_width + PAD)
    height = int(rows_bottom + (FONT_SIZE + PAD if note else 0) + PAD)

    def x(value: float) -> float:
        return plot_left + (value - low) / span * PLOT_WIDTH

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((PAD, PAD), title, fill=INK, font=font)
    if legend_height:
        legend_x, top = float(PAD), PAD + FONT_SIZE + PAD
        for name, colour in zip(values, COLOURS, strict=False):
            draw.rectangle((legend_x, top, legend_x + FONT_SIZE, top + FONT_SIZE), fill=colour)
            draw.text((legend_x + FONT_SIZE + 4, top), name, fill=INK, font=font)
            legend_x += FONT_SIZE + 4 + font.getlength(name) + PAD
    draw.line((x(0.0), rows_top - GAP / 2, x(0.0), rows_bottom - GAP / 2), fill=AXIS)
    for index, row in enumerate(rows):
        top = rows_top + index * row_height
        draw.text((PAD, top + (row_height - GAP) / 2), row, fill=INK, font=font, anchor="lm")
        for offset, (vs, colour) in enumerate(zip(values.values(), COLOURS, strict=False)):
            value, bar_top = vs[index], top + offset * BAR
            start, end = x(min(value, 0.0)), x(max(value, 0.0))
            if end - start >= 1:
                draw.rectangle((start, bar_top, end, bar_top + BAR - 2), fill=colour)
            middle, text = bar_top + BAR / 2, value_format(value)
            if value < 0:
                draw.text((start - 3, middle), text, fill=INK, font=font, anchor="rm")
            else:
                draw.text((end + 3, middle), text, fill=INK, font=font, anchor="lm")
    if note:
        draw.text((plot_left, rows_bottom + PAD / 2), note, fill=INK, font=font)
    buffer = io.BytesIO()
    # Light compression: a few percent larger than the best, five times faster to write.
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
