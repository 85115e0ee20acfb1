"""The PNG bar charts: bars proportional to their values, every series drawn."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageColor

from {{ cookiecutter.package_name }}.charts import COLOURS, bar_chart


def _pixels(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB"))


def _bars(png: bytes, colour: str) -> list[tuple[int, int]]:
    """(left, right) pixel columns of each bar of ``colour``, top to bottom."""
    mask = np.all(_pixels(png) == ImageColor.getrgb(colour), axis=2)
    bars, inside = [], False
    for line in mask:
        if line.any() and not inside:
            columns = np.flatnonzero(line)
            bars.append((int(columns[0]), int(columns[-1])))
        inside = bool(line.any())
    return bars


def test_bar_lengths_follow_the_values() -> None:
    png = bar_chart("t", ["big", "half", "zero"], {"s": [2.0, 1.0, 0.0]})
    bars = _bars(png, COLOURS[0])
    assert len(bars) == 2  # a zero value draws no bar
    (left_a, right_a), (left_b, right_b) = bars
    assert left_a == left_b
    assert (right_a - left_a) == pytest.approx(2 * (right_b - left_b), abs=2)


def test_negative_values_point_left_of_zero() -> None:
    png = bar_chart("t", ["up", "down"], {"s": [1.0, -0.5]})
    (up_left, _), (down_left, down_right) = _bars(png, COLOURS[0])
    assert down_right == pytest.approx(up_left, abs=1)
    assert down_left < up_left


def test_each_series_has_its_own_colour() -> None:
    series = {"reference": [0.2, 0.3, 0.5], "current": [0.5, 0.3, 0.2]}
    png = bar_chart("t", ["a", "b", "c"], series)
    for colour in COLOURS[:2]:
        legend_key, *bars = _bars(png, colour)
        assert len(bars) == 3
        assert legend_key[1] - legend_key[0] < bars[0][1] - bars[0][0]


def test_more_rows_make_a_taller_chart() -> None:
    short = _pixels(bar_chart("t", ["a"], {"s": [1.0]}))
    tall = _pixels(bar_chart("t", list("abcdefghij"), {"s": [1.0] * 10}))
    assert tall.shape[0] > short.shape[0] * 2


def test_all_zero_or_missing_values_still_draw() -> None:
    png = bar_chart("t", ["a", "b"], {"s": [0.0, float("nan")]})
    assert _bars(png, COLOURS[0]) == []


def test_mismatched_series_is_refused() -> None:
    with pytest.raises(ValueError, match="one value per label"):
        bar_chart("t", ["a", "b"], {"s": [1.0]})
