"""The drift check passes data like the reference and flags a shifted batch."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.artifacts import TrainingRun
from {{ cookiecutter.package_name }}.config import (
    CategoricalColumn,
    Config,
    NumericColumn,
)
from {{ cookiecutter.package_name }}.data import REASON, read_table
from {{ cookiecutter.package_name }}.errors import (
    CheckFailedError,
    DataError,
    ModelNotFoundError,
)
from {{ cookiecutter.package_name }}.monitoring import REJECTED_FILE, monitor


def shifted(config: Config, frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers moved by two standard deviations; categories, booleans and dates collapsed
    onto one value each."""
    moved = frame.copy()
    for column in config.data.features:
        values = moved[column.name]
        if isinstance(column, NumericColumn):
            moved[column.name] = values + 2 * values.std()
        else:
            moved[column.name] = values.dropna().iloc[0]
    return moved


def test_unshifted_batch_passes(config: Config, sample: pd.DataFrame, tmp_path: Path) -> None:
    current = tmp_path / "current.csv"
    sample.sample(frac=0.5, random_state=1).to_csv(current, index=False)
    report = monitor(config, config.data.path, current, tmp_path / "report")
    assert not report.alert
    saved = json.loads((tmp_path / "report" / "drift.json").read_text(encoding="utf-8"))
    assert saved["alert"] is False
    assert "no drift" in (tmp_path / "report" / "drift.html").read_text(encoding="utf-8")


def test_shifted_batch_raises_the_alert(
    config: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    current = tmp_path / "current.csv"
    shifted(config, sample.head(500)).to_csv(current, index=False)
    with pytest.raises(CheckFailedError, match="drift detected"):
        monitor(config, config.data.path, current, tmp_path / "report")
    saved = json.loads((tmp_path / "report" / "drift.json").read_text(encoding="utf-8"))
    assert saved["alert"] is True
    assert all(feature["drifted"] for feature in saved["features"])


def test_labelled_current_rows_get_scored(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    config, run = trained
    current = tmp_path / "current.csv"
    sample.sample(frac=0.3, random_state=2).to_csv(current, index=False)
    report = monitor(config, config.data.path, current, tmp_path / "report")
    assert report.model_version == run.run_id
    assert report.performance is not None
    assert set(report.performance) == set(run.metrics)
    assert "Performance of model" in (tmp_path / "report" / "drift.html").read_text(
        encoding="utf-8"
    )


def test_unlabelled_rows_get_no_scores(
    config: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    current = tmp_path / "current.csv"
    sample.drop(columns=config.data.target.name).to_csv(current, index=False)
    assert monitor(config, config.data.path, current, tmp_path / "report").performance is None


def test_too_few_rows_are_not_judged(config: Config, sample: pd.DataFrame, tmp_path: Path) -> None:
    """Three shifted rows say nothing yet: no alert, and the report says why."""
    current = tmp_path / "current.csv"
    few = config.monitoring.min_rows - 1
    shifted(config, sample.head(few)).to_csv(current, index=False)
    report = monitor(config, config.data.path, current, tmp_path / "report")
    assert (report.status, report.alert, report.current_rows) == ("insufficient_data", False, few)
    saved = json.loads((tmp_path / "report" / "drift.json").read_text(encoding="utf-8"))
    assert saved["status"] == "insufficient_data"
    page = (tmp_path / "report" / "drift.html").read_text(encoding="utf-8")
    assert "not enough data to judge" in page


def test_a_model_named_for_scoring_must_be_there(
    config: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    """Without --model a missing model means no scores; a model the user named must load."""
    current = tmp_path / "current.csv"
    sample.sample(frac=0.3, random_state=2).to_csv(current, index=False)
    with pytest.raises(ModelNotFoundError, match="no model found at 'nonexistent'"):
        monitor(config, config.data.path, current, tmp_path / "report", "nonexistent")


def test_invalid_current_rows_are_set_aside_on_request(
    config: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    """With ``skip_invalid`` the drift is judged on the valid rows; the others are counted
    in the report and written, each with its reason, beside it."""
    categorical = next(c.name for c in config.data.features if isinstance(c, CategoricalColumn))
    rows = sample.sample(n=300, random_state=3).reset_index(drop=True)
    rows.loc[[5, 50], categorical] = "never-seen"
    current = tmp_path / "current.csv"
    rows.to_csv(current, index=False)
    with pytest.raises(DataError, match="never-seen"):
        monitor(config, config.data.path, current, tmp_path / "strict")

    report = monitor(config, config.data.path, current, tmp_path / "report", skip_invalid=True)

    assert (report.current_rows, report.rejected_rows) == (298, 2)
    saved = json.loads((tmp_path / "report" / "drift.json").read_text(encoding="utf-8"))
    assert saved["rejected_rows"] == 2
    rejected = read_table(tmp_path / "report" / REJECTED_FILE)
    assert rejected[REASON].tolist() == [f"{categorical}: 'never-seen' is not an allowed value"] * 2

    rows.drop(index=[5, 50]).to_csv(current, index=False)
    monitor(config, config.data.path, current, tmp_path / "report")
    assert not (tmp_path / "report" / REJECTED_FILE).exists(), "an earlier run's rows are gone"

    rows.assign(**{categorical: "never-seen"}).to_csv(current, index=False)
    with pytest.raises(DataError, match="no row is valid; all 300"):
        monitor(config, config.data.path, current, tmp_path / "report", skip_invalid=True)
    assert len(read_table(tmp_path / "report" / REJECTED_FILE)) == 300


def test_the_report_shows_each_category_share_before_and_after(
    config: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    column = next(c.name for c in config.data.features if isinstance(c, CategoricalColumn))
    common = str(sample[column].mode().iloc[0])
    current = tmp_path / "current.csv"
    sample.assign(**{column: common}).to_csv(current, index=False)
    with pytest.raises(CheckFailedError, match=f"drift detected in {column}"):
        monitor(config, config.data.path, current, tmp_path / "report")

    page = (tmp_path / "report" / "drift.html").read_text(encoding="utf-8")
    table = page.split(f"<h3>{column}</h3>", 1)[1].split("</table>", 1)[0]
    cell = r'<td class="share {}"><span style="width: ([\d.]+)em"></span>([\d.]+)%</td>'
    rows = re.findall(
        rf"<tr><td>([^<]*)</td>{cell.format('reference')}{cell.format('current')}", table
    )
    shown = {label: (float(before), float(now)) for label, _, before, _, now in rows}
    before = sample[column].fillna("(missing)").astype(str).value_counts(normalize=True)
    assert set(shown) == set(before.index)
    for label, (reference_share, current_share) in shown.items():
        # shown to a tenth of a percent: off by at most half of that, and the float's error
        assert reference_share == pytest.approx(100 * before[label], abs=0.051)
        assert current_share == (100.0 if label == common else 0.0)
    widths = {label: float(width) for label, width, _, _, _ in rows}
    assert widths[common] == max(widths.values()), "bars are as long as their shares"
