"""What the training data looked like, in counts small enough to travel with the model.

``monitor`` compares new rows with the data the model learned from. Keeping that data
beside the model would tie monitoring to a file a container or a scheduled job does not
have, and to memory that grows with it. A profile is a few counts per feature, taken
once at training time: numbers by the training data's deciles, everything else by
value, missing values on their own. New rows are counted into the same bins a batch at
a time, so a file of any length takes the memory of one batch.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .config import BooleanColumn, CategoricalColumn, Config, DatetimeColumn

MISSING = "(missing)"
OTHER = "(other)"  # values outside a profile's categories: new ones, or the rarest
BINS = 10  # numbers are counted by the reference's deciles
MAX_CATEGORIES = 50  # the commonest values a profile keeps; the rest count as OTHER
PROFILE = "drift_profile"  # the training data's profile, in a run's metadata


@dataclass(frozen=True)
class FeatureProfile:
    """One feature's counts per bin (numbers) or per value (everything else).

    ``edges`` are the inner bin edges of a number; its bins run from below the first
    edge to above the last. ``labels`` name the bins in order, then OTHER (values only)
    and MISSING; ``counts`` go with them.
    """

    name: str
    kind: str  # "deciles", "values" or "months": how the values were counted
    labels: list[str]
    counts: list[int]
    edges: list[float] = field(default_factory=list)

    def counted(self, values: pd.Series) -> FeatureProfile:
        """``values`` counted into this profile's bins."""
        missing = int(values.isna().sum())
        present = values.dropna()
        if self.kind == "deciles":
            positions = np.searchsorted(self.edges, present.to_numpy(float), side="right")
            counts = np.bincount(positions, minlength=len(self.edges) + 1).tolist()
        else:
            shown = _value_counts(present)
            categories = self.labels[:-2]
            known = [int(shown.get(label, 0)) for label in categories]
            counts = [*known, int(shown.sum()) - sum(known)]
        return FeatureProfile(self.name, self.kind, self.labels, [*counts, missing], self.edges)

    def __add__(self, other: FeatureProfile) -> FeatureProfile:
        counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        return FeatureProfile(self.name, self.kind, self.labels, counts, self.edges)

    @property
    def rows(self) -> int:
        return sum(self.counts)

    def shares(self) -> list[float]:
        total = self.rows
        return [count / total if total else 0.0 for count in self.counts]


@dataclass(frozen=True)
class DataProfile:
    """Every feature's profile, and the number of rows counted."""

    rows: int
    features: dict[str, FeatureProfile]

    def counted(self, frame: pd.DataFrame, config: Config) -> DataProfile:
        """The rows of a checked ``frame`` counted into this profile's bins."""
        compared = as_compared(frame, config)
        return DataProfile(
            len(frame),
            {name: feature.counted(compared[name]) for name, feature in self.features.items()},
        )

    def empty(self) -> DataProfile:
        """The same bins, no rows: what counting new rows starts from."""
        return DataProfile(
            0,
            {
                name: FeatureProfile(f.name, f.kind, f.labels, [0] * len(f.counts), f.edges)
                for name, f in self.features.items()
            },
        )

    def __add__(self, other: DataProfile) -> DataProfile:
        return DataProfile(
            self.rows + other.rows,
            {name: feature + other.features[name] for name, feature in self.features.items()},
        )

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "features": [asdict(f) for f in self.features.values()]}

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> DataProfile:
        features = [FeatureProfile(**feature) for feature in saved["features"]]
        return cls(int(saved["rows"]), {feature.name: feature for feature in features})


def profile(frame: pd.DataFrame, config: Config) -> DataProfile:
    """The profile of a checked ``frame``: the bins come from its own values."""
    compared = as_compared(frame, config)
    features = {}
    for column in config.data.features:
        values = compared[column.name]
        if isinstance(column, CategoricalColumn | BooleanColumn | DatetimeColumn):
            kind = "months" if isinstance(column, DatetimeColumn) else "values"
            common = _value_counts(values.dropna()).head(MAX_CATEGORIES)
            empty = FeatureProfile(column.name, kind, [*common.index, OTHER, MISSING], [])
        else:
            edges = _deciles(values.dropna().to_numpy(float))
            labels = [*_bin_labels(edges), MISSING]
            empty = FeatureProfile(column.name, "deciles", labels, [], edges)
        features[column.name] = empty.counted(values)
    return DataProfile(len(frame), features)


def _value_counts(values: pd.Series) -> pd.Series:
    """How often each value occurs, commonest first, keyed by the value as text.

    Counting comes before the conversion to text, so only the distinct values are
    converted: on categories that is the difference between counting codes and
    writing a million strings.
    """
    counts = values.value_counts()
    counts = counts[counts > 0]  # a categorical counts its unused categories too
    counts.index = counts.index.map(str)
    return counts.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")


def _deciles(values: np.ndarray) -> list[float]:
    """The inner edges that split ``values`` into tenths (fewer where values repeat)."""
    if len(values) == 0:
        return []
    inner = np.quantile(values, np.linspace(0, 1, BINS + 1)[1:-1])
    return [float(edge) for edge in np.unique(inner)]


def _bin_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["any value"]
    between = [f"{low:.4g} to {high:.4g}" for low, high in itertools.pairwise(edges)]
    return [f"under {edges[0]:.4g}", *between, f"{edges[-1]:.4g} and over"]


def as_compared(frame: pd.DataFrame, config: Config) -> pd.DataFrame:
    """The values drift is judged on: dates by their month. Dates move on by nature, so
    new rows always have later ones; what can drift and come back is the season."""
    dates = [c.name for c in config.data.features if isinstance(c, DatetimeColumn)]
    return frame.assign(**{name: frame[name].dt.month_name() for name in dates})
