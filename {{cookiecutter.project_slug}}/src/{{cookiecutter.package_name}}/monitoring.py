"""Data drift between the data a model was trained on and current data.

The reference is the profile saved with the model at training time (``profiles``): the
training data's deciles for numbers and its values for everything else. Current rows
are counted into the same bins a batch at a time, so neither the training file nor
memory that grows with the rows is needed. For each feature two views must agree before
it counts as drifted: a chi-square test on those binned counts says the difference is
real, and the population stability index (PSI) says it is large enough to matter.
Large samples make tests flag tiny shifts; the PSI floor keeps those from raising alarms.
"""

from __future__ import annotations

import contextlib
import html
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .artifacts import SavedModel, atomic_write_text, write_json
from .config import Config
from .data import (
    TableWriter,
    checked_rows,
    no_valid_row_error,
    read_batches,
    read_configured,
    validate,
)
from .errors import CheckFailedError, ModelNotFoundError
from .profiles import PROFILE, DataProfile, FeatureProfile, profile
from .tasks import Predictions

MAX_BARS = 20  # values shown per feature; the rest only count in the statistics
EPSILON = 1e-4  # keeps empty bins from making the PSI infinite
BATCH_ROWS = 100_000  # current rows read, checked and counted at a time
STYLE = (
    "body { font-family: sans-serif; margin: 2em }"
    " td, th { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left }"
    " .drift { background: #fde2e1 }"
    " .share span { display: inline-block; height: 0.8em; margin-right: 6px }"
    " .reference span { background: #3b7dd8 } .current span { background: #e8833a }"
)
BAR_EM = 12  # the width of the largest share's bar, in the page's font size
TESTS = {"deciles": "chi2 of deciles", "values": "chi2", "months": "chi2 of months"}


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    test: str
    p_value: float
    psi: float
    drifted: bool


DRIFT, NO_DRIFT, INSUFFICIENT_DATA = "drift", "no_drift", "insufficient_data"
REJECTED_FILE = "rejected.csv"


@dataclass(frozen=True)
class DriftReport:
    features: list[FeatureDrift]
    drifted_share: float
    alert: bool
    reference_rows: int
    current_rows: int
    status: str  # DRIFT, NO_DRIFT, or INSUFFICIENT_DATA: too few current rows to judge
    reference: str = ""  # what the current rows were compared with
    # Scores of the served model on the current rows, when they carry the target.
    performance: dict[str, float] | None = None
    model_version: str | None = None
    labelled_rows: int = 0  # the current rows that carry the target
    scored_rows: int = 0  # those the performance was scored on (a sample past the limit)
    # Current rows set aside for breaking the schema (only with skip_invalid).
    rejected_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two distributions given as bin shares."""
    expected = np.clip(expected, EPSILON, None)
    actual = np.clip(actual, EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def feature_drift(reference: FeatureProfile, current: FeatureProfile) -> tuple[float, float]:
    """The chi-square test's p-value and the PSI of one feature's two sets of counts."""
    counts = np.array([reference.counts, current.counts], dtype=float)
    counts = counts[:, counts.sum(axis=0) > 0]  # a bin neither side has says nothing
    if counts.shape[1] < 2 or not counts[0].sum() or not counts[1].sum():
        return 1.0, 0.0
    p_value = float(stats.chi2_contingency(counts + 0.5).pvalue)
    return p_value, psi(counts[0] / counts[0].sum(), counts[1] / counts[1].sum())


def drift_report(
    reference: DataProfile, current: DataProfile, config: Config, described: str
) -> DriftReport:
    if min(current.rows, reference.rows) < config.monitoring.min_rows:
        return DriftReport(
            [], 0.0, False, reference.rows, current.rows, INSUFFICIENT_DATA, described
        )
    thresholds = config.monitoring
    results = []
    for name, before in reference.features.items():
        p_value, index = feature_drift(before, current.features[name])
        drifted = p_value < thresholds.p_value and index >= thresholds.min_psi
        results.append(FeatureDrift(name, TESTS[before.kind], p_value, index, drifted))
    share = sum(r.drifted for r in results) / len(results)
    alert = any(r.drifted for r in results) and share > thresholds.max_drifted_share
    return DriftReport(
        features=results,
        drifted_share=share,
        alert=alert,
        reference_rows=reference.rows,
        current_rows=current.rows,
        status=DRIFT if alert else NO_DRIFT,
        reference=described,
    )


def _distribution_table(reference: FeatureProfile, current: FeatureProfile) -> str:
    """Share of rows per bin (numbers) or per value, reference beside current, as an
    HTML table whose cells carry a bar as long as their share.

    A page of tables opens anywhere, is searchable and costs nothing to make, where an
    image per feature took a tenth of a second each to draw.
    """
    shown = [
        (label, before, now)
        for label, before, now in zip(
            reference.labels, reference.shares(), current.shares(), strict=True
        )
        if before or now
    ][:MAX_BARS]
    largest = max([share for _, *shares in shown for share in shares] + [1e-12])
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td>{_share_cell('reference', before, largest)}"
        f"{_share_cell('current', now, largest)}</tr>"
        for label, before, now in shown
    )
    return (
        f"<h3>{html.escape(reference.name)}</h3><table><tr><th></th><th>reference</th>"
        f"<th>current</th></tr>{rows}</table>"
    )


def _share_cell(side: str, share: float, largest: float) -> str:
    width = share / largest * BAR_EM
    return f'<td class="share {side}"><span style="width: {width:.2f}em"></span>{share:.1%}</td>'


def performance_section(report: DriftReport) -> str:
    if not report.performance:
        return ""
    rows = "".join(
        f"<tr><td>{name}</td><td>{value:.4f}</td></tr>"
        for name, value in report.performance.items()
    )
    version = html.escape(report.model_version or "")
    scored = (
        f"a uniform sample of {report.scored_rows:,} of the {report.labelled_rows:,}"
        if report.scored_rows < report.labelled_rows
        else f"the {report.labelled_rows:,}"
    )
    return (
        f"<h2>Performance of model {version} on {scored} current rows with outcomes</h2>"
        f"<table><tr><th>metric</th><th>value</th></tr>{rows}</table>"
    )


def render_html(report: DriftReport, reference: DataProfile, current: DataProfile) -> str:
    """A self-contained HTML page: verdict, per-feature table and each feature's distribution."""
    verdict = {
        DRIFT: "DRIFT DETECTED",
        NO_DRIFT: "no drift",
        INSUFFICIENT_DATA: "not enough data to judge",
    }[report.status]
    rows = "".join(
        f"<tr class={'drift' if f.drifted else 'ok'}><td>{html.escape(f.name)}</td><td>{f.test}</td>"
        f"<td>{f.p_value:.4g}</td><td>{f.psi:.3f}</td><td>{'yes' if f.drifted else 'no'}</td></tr>"
        for f in report.features
    )
    plots = "".join(
        _distribution_table(reference.features[f.name], current.features[f.name])
        for f in report.features
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Drift report</title>
<style>{STYLE}</style></head><body>
<h1>Drift report: {verdict}</h1>
<p>Compared with {html.escape(report.reference)}: {report.reference_rows} reference rows,
{report.current_rows} current rows; drifted features: {report.drifted_share:.0%}.
Numbers are counted by the reference's deciles, other values by value and dates by
month; each feature's two sets of counts are compared with a chi-square test.</p>
<table><tr><th>feature</th><th>test</th><th>p-value</th><th>PSI</th><th>drifted</th></tr>{rows}</table>
{performance_section(report)}
<h2>Distributions</h2>{plots}
</body></html>
"""


def served_model(
    config: Config, model: str | None, *, allow_external: bool = False
) -> SavedModel | None:
    """The model ``model`` names, or the latest good one; None if there is none yet."""
    from .predict import load_for_inference

    try:
        return load_for_inference(config, model, allow_external=allow_external)
    except ModelNotFoundError:
        if model is not None:  # the user named it: not finding it is an error, not a skip
            raise
        return None


def reference_profile(
    config: Config, reference_path: Path | None, saved: SavedModel | None
) -> tuple[DataProfile, str]:
    """What current rows are compared with, and how to say so: the profile saved with
    the model, or one taken from ``reference_path`` (``data.path`` when there is neither).
    """
    if reference_path is None and saved is not None and PROFILE in saved.metadata:
        described = f"the training data of model {saved.version}"
        return DataProfile.from_dict(saved.metadata[PROFILE]), described
    path = reference_path or config.data.path
    frame = validate(
        read_configured(path, config.data), config.data, with_target=False, source=str(path)
    )
    return profile(frame, config), str(path)


@dataclass
class Labelled:
    """The served model's predictions for the current rows that carry the outcome, kept
    batch by batch and scored once at the end.

    Each row keeps its outcome and prediction, not its features: a few numbers a row.
    Past ``monitoring.max_scored_rows`` rows a uniform sample of that many is kept, so a
    file of any length takes bounded memory: every row draws a random rank, and when
    twice the limit has piled up, only the rows of the lowest ranks stay.
    """

    saved: SavedModel
    config: Config
    rows: int = 0  # labelled rows seen, kept or not
    predictions: list[Predictions] = field(default_factory=list)
    outcomes: list[pd.Series] = field(default_factory=list)
    ranks: list[np.ndarray] = field(default_factory=list)
    random: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.random = np.random.default_rng(self.config.seed)

    @property
    def limit(self) -> int:
        return self.config.monitoring.max_scored_rows

    def add(self, rows: pd.DataFrame, source: str) -> None:
        data = self.config.data
        rows = rows[rows[data.target.name].notna()]
        if rows.empty:
            return
        checked = validate(rows, data, with_target=True, source=source)
        self.predictions.append(
            self.config.task.predict(self.saved.model, checked[data.feature_names])
        )
        self.outcomes.append(checked[data.target.name])
        self.ranks.append(self.random.random(len(checked)))
        self.rows += len(checked)
        if sum(len(ranks) for ranks in self.ranks) >= 2 * self.limit:
            self.keep_sample()

    def keep_sample(self) -> None:
        """Down to one batch of at most ``limit`` rows, those of the lowest ranks, in the
        order they were read."""
        ranks = np.concatenate(self.ranks)
        kept = np.arange(len(ranks))
        if len(ranks) > self.limit:
            kept = np.sort(np.argpartition(ranks, self.limit - 1)[: self.limit])
        self.predictions = [Predictions.joined(self.predictions).take(kept)]
        self.outcomes = [pd.concat(self.outcomes).iloc[kept]]
        self.ranks = [ranks[kept]]

    def scores(self) -> dict[str, Any]:
        if self.rows < 2:
            return {}
        self.keep_sample()
        outcomes = self.outcomes[0]
        return {
            "performance": self.config.task.scores_of(
                self.saved.model, self.predictions[0], outcomes
            ),
            "model_version": self.saved.version,
            "labelled_rows": self.rows,
            "scored_rows": len(outcomes),
        }


def monitor(
    config: Config,
    current_path: Path,
    output_dir: Path,
    model: str | None = None,
    *,
    reference_path: Path | None = None,
    allow_external_model: bool = False,
    skip_invalid: bool = False,
    batch_rows: int | None = None,
) -> DriftReport:
    """Compare current rows with the reference, write ``drift.json`` and ``drift.html``;
    raise on drift.

    The reference is the profile saved with ``model`` (default: the latest good one), or
    ``reference_path``'s rows. The current file is read ``batch_rows`` rows at a time
    (``BATCH_ROWS`` by default). One current row that breaks the schema fails the check,
    unless ``skip_invalid``: then it is left out, and written with its reason to
    ``rejected.csv`` beside the report. Rows that carry the target also score the model.
    """
    saved = served_model(config, model, allow_external=allow_external_model)
    reference, described = reference_profile(config, reference_path, saved)
    current = reference.empty()
    labelled = None if saved is None else Labelled(saved, config)
    source, rejected_path = str(current_path), output_dir / REJECTED_FILE
    with contextlib.ExitStack() as open_files:
        rejected = open_files.enter_context(TableWriter(rejected_path)) if skip_invalid else None
        for frame in read_batches(current_path, config.data, batch_rows or BATCH_ROWS):
            rows, features = checked_rows(frame, config.data, source, rejected)
            current += reference.counted(features, config)
            if labelled is not None and config.data.target.name in rows.columns:
                labelled.add(rows, source)
        if rejected is not None and current.rows == 0:
            rejected.close()
            raise no_valid_row_error(rejected.rows, rejected_path, source=source)
    report = drift_report(reference, current, config, described)
    if rejected is None:  # a rejected.csv from an earlier run would contradict this report
        rejected_path.unlink(missing_ok=True)
    else:
        report = replace(report, rejected_rows=rejected.rows)
    if labelled is not None:
        report = replace(report, **labelled.scores())
    write_json(output_dir / "drift.json", report.to_dict())
    atomic_write_text(output_dir / "drift.html", render_html(report, reference, current))
    if report.alert:
        drifted = ", ".join(f.name for f in report.features if f.drifted)
        raise CheckFailedError(f"drift detected in {drifted} (report: {output_dir / 'drift.html'})")
    return report
