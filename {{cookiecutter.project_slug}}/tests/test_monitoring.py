"""The drift check passes data like the reference and flags a shifted batch."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
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
from {{ cookiecutter.package_name }}.monitoring import (
    REJECTED_FILE,
    Labelled,
    monitor,
    served_model,
)
from {{ cookiecutter.package_name }}.profiles import (
    BINS,
    MAX_CATEGORIES,
    MISSING,
    OTHER,
    DataProfile,
    profile,
)


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


def shifted_file(config: Config, sample: pd.DataFrame, folder: Path) -> Path:
    """500 rows of the sample, shifted, as a CSV file in ``folder``."""
    current = folder / "current.csv"
    shifted(config, sample.head(500)).to_csv(current, index=False)
    return current


def test_unshifted_batch_passes(config: Config, sample: pd.DataFrame, tmp_path: Path) -> None:
    current = tmp_path / "current.csv"
    sample.sample(frac=0.5, random_state=1).to_csv(current, index=False)
    report = monitor(config, current, tmp_path / "report")
    assert not report.alert
    saved = json.loads((tmp_path / "report" / "drift.json").read_text(encoding="utf-8"))
    assert saved["alert"] is False
    assert "no drift" in (tmp_path / "report" / "drift.html").read_text(encoding="utf-8")


def test_shifted_batch_raises_the_alert(
    config: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    current = shifted_file(config, sample, tmp_path)
    with pytest.raises(CheckFailedError, match="drift detected"):
        monitor(config, current, tmp_path / "report")
    saved = json.loads((tmp_path / "report" / "drift.json").read_text(encoding="utf-8"))
    assert saved["alert"] is True
    assert all(feature["drifted"] for feature in saved["features"])


def test_labelled_current_rows_get_scored(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    """Read in batches or whole, the file gets the same report and the same scores."""
    config, run = trained
    current = tmp_path / "current.csv"
    sample.sample(n=600, random_state=2).to_csv(current, index=False)
    report = monitor(config, current, tmp_path / "report")
    assert (report.model_version, report.labelled_rows) == (run.run_id, 600)
    assert report.scored_rows == 600
    assert report.performance is not None
    assert set(report.performance) == set(run.metrics)
    assert "Performance of model" in (tmp_path / "report" / "drift.html").read_text(
        encoding="utf-8"
    )
    batched = monitor(config, current, tmp_path / "batched", batch_rows=64)
    assert (batched.features, batched.labelled_rows) == (report.features, 600)
    assert batched.performance == pytest.approx(report.performance, rel=1e-12)


def with_scoring_limit(config: Config, rows: int) -> Config:
    limited = config.monitoring.model_copy(update={"max_scored_rows": rows})
    return config.model_copy(update={"monitoring": limited})


def test_past_the_limit_the_model_is_scored_on_a_uniform_sample(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    """Memory stays bounded: past max_scored_rows, the rows scored are drawn from the
    whole file (not its first rows), the same ones on every run, and the report says so."""
    config, run = trained
    limited = with_scoring_limit(config, 50)
    current = tmp_path / "current.csv"
    sample.sample(n=600, random_state=2).to_csv(current, index=False)
    report = monitor(limited, current, tmp_path / "report", batch_rows=40)
    assert (report.labelled_rows, report.scored_rows) == (600, 50)
    assert report.performance is not None
    assert set(report.performance) == set(run.metrics)
    page = (tmp_path / "report" / "drift.html").read_text(encoding="utf-8")
    assert "a uniform sample of 50 of the 600 current rows" in page

    def kept_rows() -> pd.Index:
        saved = served_model(limited, None, allow_external=False)
        assert saved is not None
        labelled = Labelled(saved, limited)
        rows = sample.head(600)
        for start in range(0, len(rows), 40):
            labelled.add(rows.iloc[start : start + 40], "current.csv")
            assert sum(len(outcomes) for outcomes in labelled.outcomes) < 2 * 50
        labelled.keep_sample()
        assert labelled.rows == 600
        return labelled.outcomes[0].index

    kept = kept_rows()
    assert len(kept) == kept.nunique() == 50
    assert kept.is_monotonic_increasing, "kept in the order they were read"
    assert kept.min() < 150, "drawn from the whole file"
    assert kept.max() >= 450, "drawn from the whole file"
    assert kept.equals(kept_rows()), "the same sample on every run"


def test_unlabelled_rows_get_no_scores(
    config: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    current = tmp_path / "current.csv"
    sample.drop(columns=config.data.target.name).to_csv(current, index=False)
    assert monitor(config, current, tmp_path / "report").performance is None


def test_too_few_rows_are_not_judged(config: Config, sample: pd.DataFrame, tmp_path: Path) -> None:
    """Three shifted rows say nothing yet: no alert, and the report says why."""
    current = tmp_path / "current.csv"
    few = config.monitoring.min_rows - 1
    shifted(config, sample.head(few)).to_csv(current, index=False)
    report = monitor(config, current, tmp_path / "report")
    assert (report.status, report.alert, report.current_rows) == ("insufficient_data", False, few)
    saved = json.loads((tmp_path / "report" / "drift.json").read_text(encoding="utf-8"))
    assert saved["status"] == "insufficient_data"
    page = (tmp_path / "report" / "drift.html").read_text(encoding="utf-8")
    assert "not enough data to judge" in page

    few_rows = current.rename(tmp_path / "few.csv")
    small = monitor(
        config, shifted_file(config, sample, tmp_path), tmp_path / "small", reference_path=few_rows
    )
    assert (small.status, small.alert, small.reference_rows) == ("insufficient_data", False, few)


def test_a_model_named_for_scoring_must_be_there(
    config: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    """Without --model a missing model means no scores; a model the user named must load."""
    current = tmp_path / "current.csv"
    sample.sample(frac=0.3, random_state=2).to_csv(current, index=False)
    with pytest.raises(ModelNotFoundError, match="no model found at 'nonexistent'"):
        monitor(config, current, tmp_path / "report", "nonexistent")


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
        monitor(config, current, tmp_path / "strict")

    report = monitor(config, current, tmp_path / "report", skip_invalid=True)

    assert (report.current_rows, report.rejected_rows) == (298, 2)
    saved = json.loads((tmp_path / "report" / "drift.json").read_text(encoding="utf-8"))
    assert saved["rejected_rows"] == 2
    rejected = read_table(tmp_path / "report" / REJECTED_FILE)
    assert rejected[REASON].tolist() == [f"{categorical}: 'never-seen' is not an allowed value"] * 2

    rows.drop(index=[5, 50]).to_csv(current, index=False)
    monitor(config, current, tmp_path / "report")
    assert not (tmp_path / "report" / REJECTED_FILE).exists(), "an earlier run's rows are gone"

    rows.assign(**{categorical: "never-seen"}).to_csv(current, index=False)
    with pytest.raises(DataError, match="no row is valid; all 300"):
        monitor(config, current, tmp_path / "report", skip_invalid=True)
    assert len(read_table(tmp_path / "report" / REJECTED_FILE)) == 300


def test_the_report_shows_each_category_share_before_and_after(
    config: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    column = next(c.name for c in config.data.features if isinstance(c, CategoricalColumn))
    common = str(sample[column].mode().iloc[0])
    current = tmp_path / "current.csv"
    sample.assign(**{column: common}).to_csv(current, index=False)
    with pytest.raises(CheckFailedError, match=f"drift detected in {column}"):
        monitor(config, current, tmp_path / "report")

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


def test_the_model_carries_its_reference_so_the_training_file_is_not_needed(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    """A container or a scheduled job has the model, not the training data."""
    config, run = trained
    current = shifted_file(config, sample, tmp_path)
    gone = config.model_copy(
        update={"data": config.data.model_copy(update={"path": tmp_path / "absent.csv"})}
    )
    with pytest.raises(CheckFailedError, match="drift detected"):
        monitor(gone, current, tmp_path / "report")
    saved = json.loads((tmp_path / "report" / "drift.json").read_text(encoding="utf-8"))
    assert saved["reference"] == f"the training data of model {run.run_id}"
    assert saved["reference_rows"] == run.metadata["data"]["train_rows"]


def test_a_reference_file_is_profiled_in_place_of_the_model_s(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    config, _ = trained
    current = shifted_file(config, sample, tmp_path)
    report = monitor(config, current, tmp_path / "report", reference_path=current)
    assert (report.reference, report.reference_rows, report.alert) == (str(current), 500, False)
    assert all(feature.psi == 0.0 for feature in report.features)


def test_a_profile_counts_numbers_by_decile_and_keeps_the_commonest_values(
    config: Config, validated: pd.DataFrame
) -> None:
    numeric = next(c.name for c in config.data.features if isinstance(c, NumericColumn))
    categorical = next(c.name for c in config.data.features if isinstance(c, CategoricalColumn))
    rows = len(validated)
    frame = validated.copy()
    frame[numeric] = np.where(np.arange(rows) < 10, np.nan, np.arange(rows, dtype=float))
    frame[categorical] = [f"v{i % (MAX_CATEGORIES + 10)}" for i in range(rows)]
    reference = profile(frame, config)

    deciles = reference.features[numeric]
    assert (deciles.kind, len(deciles.counts), deciles.counts[-1]) == ("deciles", BINS + 1, 10)
    assert max(deciles.counts[:-1]) - min(deciles.counts[:-1]) <= 1, "a tenth in each"
    values = reference.features[categorical]
    assert values.labels[-2:] == [OTHER, MISSING]
    assert len(values.labels) == MAX_CATEGORIES + 2
    kept = sum(values.counts[:-2])
    assert 0 < values.counts[-2] == rows - kept
    assert values.counts[-1] == 0

    later = reference.counted(frame.assign(**{categorical: "never seen"}), config)
    assert later.features[categorical].counts[-2:] == [rows, 0], "a new value counts as other"
    assert later.features[numeric].counts == deciles.counts, "the same bins, the same counts"
    assert DataProfile.from_dict(json.loads(json.dumps(reference.to_dict()))) == reference
