"""The verdict of an online experiment: did the challenger beat the champion on live traffic?

``serve --challenger`` logs which model answered (or shadowed) each record; outcomes
sent to ``/feedback`` say what really happened. Per arm this reports the records
served, those with an outcome, the task's online metric (accuracy, or the mean absolute
error) with a confidence interval, the difference between the arms with its own, and
the p-value of a test suited to the metric: a two-proportion test for a share of right
answers (the chi-square test of the 2x2 table), Welch's t-test for an error. In shadow
mode both models predicted the same records, so the outcomes are paired and the tests
are their paired forms: McNemar's exact test, the paired t-test. It also says how many
outcomes per arm it takes to find the smallest effect worth finding.
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .config import Config
from .errors import DataError
from .experiments import CHALLENGER, CHAMPION
from .outcomes import read_outcomes

WINNERS = (CHAMPION, CHALLENGER, "undecided")


@dataclass(frozen=True)
class Arm:
    model_version: str
    requests: int  # records it answered, or predicted unseen in shadow mode
    labelled: int  # of those, records whose outcome came back
    value: float | None  # the online metric on the labelled records
    interval: tuple[float, float] | None


@dataclass(frozen=True)
class ExperimentReport:
    metric: str
    higher_is_better: bool
    test: str
    significance: float
    champion: Arm
    challenger: Arm
    difference: float | None  # challenger minus champion
    difference_interval: tuple[float, float] | None
    p_value: float | None
    winner: str  # one of WINNERS
    reason: str
    needed_per_arm: int | None  # outcomes per arm to find min_relative_effect
    still_needed_per_arm: int | None
    experiment: str | None = None  # the name its log lines carry

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def experiment_report(config: Config, prediction_log: Path, feedback_log: Path) -> ExperimentReport:
    """The report on the latest experiment in ``prediction_log``: its challenger against
    its champion, on the lines it logged alone."""
    outcomes = read_outcomes(prediction_log, feedback_log, latest_experiment=True)
    versions = {arm: _latest_version(outcomes.served, arm) for arm in (CHAMPION, CHALLENGER)}
    if versions[CHALLENGER] is None or versions[CHAMPION] is None:
        raise DataError(
            f"{prediction_log}: no prediction by a challenger (or a champion) in the log: "
            "serve with --challenger first"
        )
    metric = config.task.online_metric
    values = {}
    arms = {}
    for arm, version in versions.items():
        rows = outcomes.labelled
        rows = rows[(rows["arm"] == arm) & (rows["model_version"] == version)]
        values[arm] = pd.Series(
            config.task.outcome_values(rows["prediction"], rows["actual"]),
            index=pd.MultiIndex.from_frame(rows[["request_id", "index"]]),
        )
        requests = sum(n for (a, v, _), n in outcomes.served.items() if (a, v) == (arm, version))
        arms[arm] = _arm(str(version), requests, values[arm].to_numpy(), metric.proportion, config)
    plan = config.serving.experiment
    if _shadowed(outcomes.served, versions[CHALLENGER]):  # both models predicted each record
        once = {arm: value[~value.index.duplicated()] for arm, value in values.items()}
        paired = pd.concat(once, axis=1, join="inner")
        champion, challenger = paired[CHAMPION].to_numpy(), paired[CHALLENGER].to_numpy()
        compare = _compare_paired
    else:
        champion, challenger = values[CHAMPION].to_numpy(), values[CHALLENGER].to_numpy()
        compare = _compare
    enough = min(len(champion), len(challenger)) >= config.monitoring.min_rows
    comparison = compare(champion, challenger, metric.proportion, plan.significance)
    difference, interval, p_value, test = (
        comparison if enough else (None, None, None, comparison[3])
    )
    winner, reason = _verdict(difference, p_value, metric.higher_is_better, plan.significance)
    if not enough:
        reason = (
            f"too few outcomes to judge: {len(champion)} and {len(challenger)}, fewer than "
            f"monitoring.min_rows ({config.monitoring.min_rows}) in an arm"
        )
    needed = _needed_per_arm(champion, metric.proportion, config)
    return ExperimentReport(
        metric=metric.name,
        higher_is_better=metric.higher_is_better,
        test=test,
        significance=plan.significance,
        champion=arms[CHAMPION],
        challenger=arms[CHALLENGER],
        difference=difference,
        difference_interval=interval,
        p_value=p_value,
        winner=winner,
        reason=reason,
        needed_per_arm=needed,
        still_needed_per_arm=None
        if needed is None
        else max(0, needed - min(len(champion), len(challenger))),
        experiment=outcomes.experiment,
    )


def _shadowed(served: Any, challenger: str | None) -> bool:
    """Whether the challenger only ever predicted in the shadow of the champion."""
    shadows = {
        shadow for (arm, version, shadow) in served if (arm, version) == (CHALLENGER, challenger)
    }
    return shadows == {True}


def _latest_version(served: Any, arm: str) -> str | None:
    """The newest model version to have answered for ``arm``: the one that first
    appears last in the log, which is in time order."""
    versions = [version for (each, version, _) in served if each == arm]
    return versions[-1] if versions else None


def _arm(version: str, requests: int, values: np.ndarray, proportion: bool, config: Config) -> Arm:
    if len(values) < 2:
        return Arm(version, requests, len(values), None, None)
    level = 1 - config.serving.experiment.significance
    mean = float(values.mean())
    if proportion:
        found = stats.binomtest(int(values.sum()), len(values)).proportion_ci(level, "wilson")
        return Arm(version, requests, len(values), mean, (found.low, found.high))
    spread = float(stats.sem(values))
    if spread == 0:  # every error alike: the t interval is undefined, and shrinks to the mean
        return Arm(version, requests, len(values), mean, (mean, mean))
    low, high = stats.t.interval(level, len(values) - 1, mean, spread)
    return Arm(version, requests, len(values), mean, (float(low), float(high)))


def _compare(
    champion: np.ndarray, challenger: np.ndarray, proportion: bool, significance: float
) -> tuple[float | None, tuple[float, float] | None, float | None, str]:
    """The difference (challenger minus champion), its interval, the p-value, the test."""
    if proportion:
        test = "two-proportion test (chi-square of the 2x2 table)"
        if min(len(champion), len(challenger)) < 2:
            return None, None, None, test
        right = np.array([champion.sum(), challenger.sum()])
        table = np.array([right, [len(champion), len(challenger)] - right])
        p_value = (
            1.0
            if (table.sum(axis=1) == 0).any()
            else float(stats.chi2_contingency(table, correction=False).pvalue)
        )
        difference = float(challenger.mean() - champion.mean())
        spread = math.sqrt(
            sum(
                values.mean() * (1 - values.mean()) / len(values)
                for values in (champion, challenger)
            )
        )
        half = stats.norm.ppf(1 - significance / 2) * spread
        return difference, (difference - half, difference + half), p_value, test
    test = "Welch's t-test"
    if min(len(champion), len(challenger)) < 2:
        return None, None, None, test
    result = stats.ttest_ind(challenger, champion, equal_var=False)
    found = result.confidence_interval(1 - significance)
    p_value = 1.0 if math.isnan(result.pvalue) else float(result.pvalue)
    return float(challenger.mean() - champion.mean()), (found.low, found.high), p_value, test


def _compare_paired(
    champion: np.ndarray, challenger: np.ndarray, proportion: bool, significance: float
) -> tuple[float | None, tuple[float, float] | None, float | None, str]:
    """As ``_compare``, for outcomes paired record by record (both models predicted each
    record, as in shadow mode). Only the records the two models scored differently
    carry evidence: McNemar's exact test counts those one got right and the other
    wrong; the paired t-test takes the difference of the errors record by record."""
    if proportion:
        test = "McNemar's exact test (paired records)"
        if len(champion) < 2:
            return None, None, None, test
        won = int(((challenger == 1) & (champion == 0)).sum())
        lost = int(((challenger == 0) & (champion == 1)).sum())
        records = len(champion)
        p_value = 1.0 if won + lost == 0 else float(stats.binomtest(won, won + lost).pvalue)
        difference = (won - lost) / records
        spread = math.sqrt(won + lost - (won - lost) ** 2 / records) / records
        half = stats.norm.ppf(1 - significance / 2) * spread
        return difference, (difference - half, difference + half), p_value, test
    test = "paired t-test"
    if len(champion) < 2:
        return None, None, None, test
    differences = challenger - champion
    if np.ptp(differences) == 0:  # every record differs alike: no spread to test against
        difference = float(differences[0])
        return difference, (difference, difference), 1.0 if difference == 0 else 0.0, test
    result = stats.ttest_rel(challenger, champion)
    found = result.confidence_interval(1 - significance)
    return (
        float(differences.mean()),
        (float(found.low), float(found.high)),
        float(result.pvalue),
        test,
    )


def _verdict(
    difference: float | None, p_value: float | None, higher_is_better: bool, significance: float
) -> tuple[str, str]:
    if difference is None or p_value is None:
        return "undecided", "too few outcomes to judge"
    if p_value >= significance:
        return "undecided", f"no significant difference (p={p_value:.4g} >= {significance})"
    better = CHALLENGER if (difference > 0) == higher_is_better else CHAMPION
    return better, f"the {better} is better (p={p_value:.4g} < {significance})"


def _needed_per_arm(champion: np.ndarray, proportion: bool, config: Config) -> int | None:
    """Outcomes per arm to find a change of ``min_relative_effect`` of the champion's
    figure at the configured significance and power (normal approximation)."""
    if len(champion) < 2:
        return None
    plan = config.serving.experiment
    mean = float(champion.mean())
    effect = plan.min_relative_effect * abs(mean)
    if effect == 0:
        return None
    z = float(stats.norm.ppf(1 - plan.significance / 2) + stats.norm.ppf(plan.power))
    if proportion:
        other = mean + effect if mean + effect <= 1 else mean - effect
        variance = mean * (1 - mean) + other * (1 - other)
    else:
        variance = 2 * float(champion.var(ddof=1))
    return math.ceil(z**2 * variance / effect**2)


def render_html(report: ExperimentReport) -> str:
    """A self-contained page: the verdict, then each arm and the difference."""

    def figure(value: float | None, interval: tuple[float, float] | None) -> str:
        if value is None:
            return "n/a"
        around = "" if interval is None else f" ({interval[0]:.4f} to {interval[1]:.4f})"
        return f"{value:.4f}{around}"

    rows = "".join(
        f"<tr><td>{name}</td><td>{html.escape(arm.model_version)}</td><td>{arm.requests}</td>"
        f"<td>{arm.labelled}</td><td>{figure(arm.value, arm.interval)}</td></tr>"
        for name, arm in ((CHAMPION, report.champion), (CHALLENGER, report.challenger))
    )
    p_value = "n/a" if report.p_value is None else f"{report.p_value:.4g}"
    still = report.still_needed_per_arm
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Experiment report</title></head><body>
<h1>Experiment: {report.winner}</h1>
<p>{html.escape(report.experiment or "")}</p>
<p>{html.escape(report.reason)}</p>
<table><tr><th>arm</th><th>model version</th><th>records</th><th>outcomes</th>
<th>{report.metric} ({1 - report.significance:.0%} interval)</th></tr>{rows}</table>
<p>Difference, challenger minus champion: {figure(report.difference, report.difference_interval)};
{html.escape(report.test)}, p = {p_value}; {"higher" if report.higher_is_better else "lower"} is better.</p>
<p>Outcomes per arm to find the smallest effect worth finding: {report.needed_per_arm or "n/a"}
({"n/a" if still is None else still} still needed).</p>
</body></html>
"""


def promote_winner(config: Config, report: ExperimentReport) -> str:
    """Settle the experiment as the report decided; what was done, in words.

    A challenger the report declared the winner becomes the champion, the verdict kept
    as the reason. Any other verdict keeps the champion, and ``models/latest``, which
    training the challenger moved to it, names the champion again: without ``--model``,
    ``predict``, ``serve`` and ``monitor`` use the model that won or stayed.
    """
    from .artifacts import point_latest_at

    models = config.paths.models
    if report.winner != CHALLENGER:
        kept = point_latest_at(models, report.champion.model_version)
        return f"not promoted: the winner is {report.winner}; {kept}"
    reason = f"experiment-report: {report.reason}"
    run_id = report.challenger.model_version
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    if config.tracking.enabled:
        from .registry import crown

        version, changed = crown(config, run_id, reason)
        moved = point_latest_at(models, run_id)
        if not changed:
            return f"already the champion: version {version} (run {run_id}); {moved}"
        return f"promoted: version {version} (run {run_id}) is the champion; {moved}"
{%- endif %}
    from .artifacts import mark_latest, resolve_run_dir

    resolve_run_dir(models, run_id)  # a run of this project, or a clear error
    mark_latest(models, run_id)
    return f"promoted: run {run_id} is the latest model ({reason})"
