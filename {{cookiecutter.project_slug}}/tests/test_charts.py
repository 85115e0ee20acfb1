"""The bar charts: bars as long as their values, in the labels' order, every series drawn."""

from __future__ import annotations

import io
from typing import Any

import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.image import imread
from matplotlib.patches import Rectangle

from {{ cookiecutter.package_name }}.charts import (
    COLOURS,
    MAX_LABEL,
    bar_figure,
    png,
)


def _axes(labels: list[str], series: dict[str, list[float]]) -> Axes:
    (axes,) = bar_figure("t", labels, series, value_format="{:.1f}".format).axes
    return axes


def _bars(axes: Axes) -> list[Rectangle]:
    return [patch for patch in axes.patches if isinstance(patch, Rectangle)]


def test_bars_are_as_long_as_their_values_and_missing_ones_are_zero() -> None:
    axes = _axes(["big", "half", "down", "unknown"], {"s": [2.0, 1.0, -0.5, float("nan")]})
    assert [bar.get_width() for bar in _bars(axes)] == [2.0, 1.0, -0.5, 0.0]
    assert {bar.get_x() for bar in _bars(axes)} == {0.0}  # every bar starts at zero
    assert [text.get_text() for text in axes.texts] == ["2.0", "1.0", "-0.5", "0.0"]


def test_the_first_label_is_on_top() -> None:
    axes = _axes(["first", "second", "third"], {"s": [1.0, 2.0, 3.0]})
    shown = [tick.get_text() for tick in axes.get_yticklabels()]
    assert shown == ["first", "second", "third"]
    screen_heights = [axes.transData.transform((0, bar.get_y()))[1] for bar in _bars(axes)]
    assert screen_heights == sorted(screen_heights, reverse=True)


def test_each_series_has_its_own_colour_and_a_legend_names_them() -> None:
    axes = _axes(["a", "b", "c"], {"reference": [0.2, 0.3, 0.5], "current": [0.5, 0.3, 0.2]})
    colours = [to_hex(bar.get_facecolor()) for bar in _bars(axes)]
    assert colours == [COLOURS[0]] * 3 + [COLOURS[1]] * 3
    legend = axes.get_legend()
    assert legend is not None
    assert [text.get_text() for text in legend.get_texts()] == ["reference", "current"]
    assert _axes(["a"], {"only": [1.0]}).get_legend() is None


def test_long_labels_are_shortened() -> None:
    axes = _axes(["x" * 100], {"s": [1.0]})
    (label,) = [tick.get_text() for tick in axes.get_yticklabels()]
    assert len(label) == MAX_LABEL
    assert label.endswith("...")


def test_the_png_grows_with_the_rows() -> None:
    def pixels(labels: list[str]) -> Any:
        chart = png(bar_figure("t", labels, {"s": [1.0] * len(labels)}))
        return imread(io.BytesIO(chart), format="png")

    short, tall = pixels(["a"]), pixels(list("abcdefghij"))
    assert tall.shape[1] == short.shape[1]
    assert tall.shape[0] > short.shape[0] * 2


def test_mismatched_or_too_many_series_are_refused() -> None:
    with pytest.raises(ValueError, match="one value per label"):
        bar_figure("t", ["a", "b"], {"s": [1.0]})
    with pytest.raises(ValueError, match="at most 4 series"):
        bar_figure("t", ["a"], {str(index): [1.0] for index in range(5)})
