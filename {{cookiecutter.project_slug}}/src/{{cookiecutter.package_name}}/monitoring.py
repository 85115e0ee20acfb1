"""Data drift between a reference set (the training data) and current data.

For each feature two views must agree before it counts as drifted: a statistical test
says the difference is real (Kolmogorov-Smirnov for numbers, chi-square for categories)
and the population stability index (PSI) says it is large enough to matter. Large
samples make tests flag tiny shifts; the PSI floor keeps those from raising alarms.
"""

from __future__ import annotations

import html
import itertools
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .artifacts import atomic_write_text, write_json
from .config import BooleanColumn, CategoricalColumn, Config, DatetimeColumn
from .data import (
    no_valid_row,
    read_configured,
    split_invalid,
    validate,
    write_table,
)
from .errors import CheckFailedError, ModelNotFoundError

BINS = 10
MAX_BARS = 20  # categories shown per plot; the rest only count in the statistics
EPSILON = 1e-4  # keeps empty bins from making the PSI infinite
STYLE = (
    "body { font-family: sans-serif; margin: 2em }"
    " td, th { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left }"
    " .drift { background: #fde2e1 }"
    " .share span { display: inline-block; height: 0.8em; margin-right: 6px }"
    " .reference span { background: #3b7dd8 } .current span { background: #e8833a }"
)
BAR_EM = 12  # the width of the largest share's bar, in the page's font size


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
    # Scores of the served model on the current rows, when they carry the target.
    performance: dict[str, float] | None = None
    model_version: str | None = None
    # Current rows set aside for breaking the schema (only with skip_invalid).
    rejected_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two distributions given as bin shares."""
    expected = np.clip(expected, EPSILON, None)
    actual = np.clip(actual, EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def numeric_drift(reference: pd.Series, current: pd.Series) -> tuple[str, float, float]:
    ref, cur = reference.dropna().to_numpy(float), current.dropna().to_numpy(float)
    if len(ref) == 0 or len(cur) == 0:
        return "ks", 1.0, 0.0
    p_value = float(stats.ks_2samp(ref, cur).pvalue)
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, BINS + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    expected = np.histogram(ref, edges)[0] / len(ref)
    actual = np.histogram(cur, edges)[0] / len(cur)
    return "ks", p_value, psi(expected, actual)


def categorical_drift(reference: pd.Series, current: pd.Series) -> tuple[str, float, float]:
    ref, cur = (
        values.astype(object).where(values.notna(), "(missing)").astype(str).value_counts()
        for values in (reference, current)
    )
    categories = sorted(set(ref.index) | set(cur.index))
    counts = np.array([[ref.get(c, 0) for c in categories], [cur.get(c, 0) for c in categories]])
    if len(categories) < 2:
        return "chi2", 1.0, 0.0
    p_value = float(stats.chi2_contingency(counts + 0.5).pvalue)
    return "chi2", p_value, psi(counts[0] / counts[0].sum(), counts[1] / counts[1].sum())


def as_compared(frame: pd.DataFrame, config: Config) -> pd.DataFrame:
    """The values drift is judged on: dates by their month. Dates move on by nature, so
    new rows always have later ones; what can drift and come back is the season."""
    dates = [c.name for c in config.data.features if isinstance(c, DatetimeColumn)]
    return frame.assign(**{name: frame[name].dt.month_name() for name in dates})


def drift_report(reference: pd.DataFrame, current: pd.DataFrame, config: Config) -> DriftReport:
    thresholds = config.monitoring
    results = []
    for column in config.data.features:
        measure = (
            categorical_drift
            if isinstance(column, CategoricalColumn | BooleanColumn | DatetimeColumn)
            else numeric_drift
        )
        test, p_value, index = measure(reference[column.name], current[column.name])
        if isinstance(column, DatetimeColumn):
            test += " of months"
        drifted = p_value < thresholds.p_value and index >= thresholds.min_psi
        results.append(FeatureDrift(column.name, test, p_value, index, drifted))
    share = sum(r.drifted for r in results) / len(results)
    alert = any(r.drifted for r in results) and share > thresholds.max_drifted_share
    return DriftReport(
        features=results,
        drifted_share=share,
        alert=alert,
        reference_rows=len(reference),
        current_rows=len(current),
        status=DRIFT if alert else NO_DRIFT,
    )


def too_few_rows(reference: pd.DataFrame, current: pd.DataFrame) -> DriftReport:
    """The report for current rows too few to judge: no tests run, no alert."""
    return DriftReport([], 0.0, False, len(reference), len(current), INSUFFICIENT_DATA)


def _distribution_table(name: str, reference: pd.Series, current: pd.Series) -> str:
    """Share of rows per bin (numbers) or per category, reference beside current, as an
    HTML table whose cells carry a bar as long as their share.

    A page of tables opens anywhere, is searchable and costs nothing to make, where an
    image per feature took a tenth of a second each to draw. Missing values are left
    out of numeric bins and shown as a "(missing)" category.
    """
    if pd.api.types.is_numeric_dtype(reference):
        reference, current = reference.dropna(), current.dropna()
        edges = np.histogram_bin_edges(pd.concat([reference, current]), bins=BINS)
        labels = [f"{low:.4g} to {high:.4g}" for low, high in itertools.pairwise(edges)]
        shares = {
            side: (np.histogram(values, edges)[0] / max(len(values), 1)).tolist()
            for side, values in (("reference", reference), ("current", current))
        }
    else:
        table = pd.DataFrame(
            {
                "reference": reference.fillna("(missing)").value_counts(normalize=True),
                "current": current.fillna("(missing)").value_counts(normalize=True),
            }
        ).fillna(0)
        table = table.sort_values("reference", ascending=False).head(MAX_BARS)
        labels = [str(value) for value in table.index]
        shares = {side: table[side].tolist() for side in ("reference", "current")}
    largest = max([*shares["reference"], *shares["current"], 1e-12])
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td>{_share_cell('reference', before, largest)}"
        f"{_share_cell('current', now, largest)}</tr>"
        for label, before, now in zip(labels, shares["reference"], shares["current"], strict=True)
    )
    return (
        f"<h3>{html.escape(name)}</h3><table><tr><th></th><th>reference</th>"
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
    return (
        f"<h2>Performance of model {version} on the current rows</h2>"
        f"<table><tr><th>metric</th><th>value</th></tr>{rows}</table>"
    )


def render_html(report: DriftReport, reference: pd.DataFrame, current: pd.DataFrame) -> str:
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
        _distribution_table(f.name, reference[f.name], current[f.name]) for f in report.features
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Drift report</title>
<style>{STYLE}</style></head><body>
<h1>Drift report: {verdict}</h1>
<p>Reference rows: {report.reference_rows}; current rows: {report.current_rows};
drifted features: {report.drifted_share:.0%}.</p>
<table><tr><th>feature</th><th>test</th><th>p-value</th><th>PSI</th><th>drifted</th></tr>{rows}</table>
{performance_section(report)}
<h2>Distributions</h2>{plots}
</body></html>
"""


def performance(
    config: Config,
    labelled: pd.DataFrame,
    source: str,
    model: str | None,
    *,
    allow_external_model: bool = False,
) -> dict[str, Any]:
    """How the model scores on current rows that carry the true outcome (empty: no model)."""
    from .predict import load_for_inference

    rows = labelled[labelled[config.data.target.name].notna()]
    if len(rows) < 2:
        return {}
    try:
        saved = load_for_inference(config, model, allow_external=allow_external_model)
    except ModelNotFoundError:
        if model is not None:  # the user named it: not finding it is an error, not a skip
            raise
        return {}
    checked = validate(rows, config.data, with_target=True, source=source)
    features, target = checked[config.data.feature_names], checked[config.data.target.name]
    return {
        "performance": config.task.scores(saved.model, features, target),
        "model_version": saved.version,
    }


def monitor(
    config: Config,
    reference_path: Path,
    current_path: Path,
    output_dir: Path,
    model: str | None = None,
    *,
    allow_external_model: bool = False,
    skip_invalid: bool = False,
) -> DriftReport:
    """Compare two data files, write ``drift.json`` and ``drift.html``; raise on drift.

    One current row that breaks the schema fails the check, unless ``skip_invalid``:
    then it is left out, and written with its reason to ``rejected.csv`` beside the report.
    """
    reference = validate(
        read_configured(reference_path, config.data),
        config.data,
        with_target=False,
        source=str(reference_path),
    )
    current_rows = read_configured(current_path, config.data)
    rejected = None
    if skip_invalid:
        current, rejected = split_invalid(
            current_rows, config.data, with_target=False, source=str(current_path)
        )
        current_rows = current_rows.drop(index=rejected.index)
        if current.empty and not rejected.empty:
            raise no_valid_row(rejected, output_dir / REJECTED_FILE, source=str(current_path))
    else:
        current = validate(current_rows, config.data, with_target=False, source=str(current_path))
    reference, current = as_compared(reference, config), as_compared(current, config)
    if len(current) < config.monitoring.min_rows:
        report = too_few_rows(reference, current)
    else:
        report = drift_report(reference, current, config)
    if rejected is None:  # a rejected.csv from an earlier run would contradict this report
        (output_dir / REJECTED_FILE).unlink(missing_ok=True)
    else:
        write_table(rejected, output_dir / REJECTED_FILE)
        report = replace(report, rejected_rows=len(rejected))
    if config.data.target.name in current_rows.columns:
        scored = performance(
            config,
            current_rows,
            str(current_path),
            model,
            allow_external_model=allow_external_model,
        )
        report = replace(report, **scored)
    write_json(output_dir / "drift.json", report.to_dict())
    atomic_write_text(output_dir / "drift.html", render_html(report, reference, current))
    if report.alert:
        drifted = ", ".join(f.name for f in report.features if f.drifted)
        raise CheckFailedError(f"drift detected in {drifted} (report: {output_dir / 'drift.html'})")
    return report
