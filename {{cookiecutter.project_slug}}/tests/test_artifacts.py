"""Model files are unpickled only when their bytes match the hash recorded at training."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }} import leftovers
from {{ cookiecutter.package_name }}.artifacts import (
    METADATA_FILE,
    METADATA_HASH,
    MODEL_FILE,
    MODEL_HASH,
    UMASK,
    TrainingRun,
    load_run,
    save_model,
    sealed,
    write_json,
)
from {{ cookiecutter.package_name }}.config import Config
from {{ cookiecutter.package_name }}.errors import ModelNotFoundError, ProjectError
from {{ cookiecutter.package_name }}.train import train


class _Payload:
    """Unpickling this object creates ``marker``: what a hostile model file could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


@pytest.fixture
def run_copy(trained: tuple[Config, TrainingRun], tmp_path: Path) -> Path:
    """A copy of a trained run folder that a test may damage."""
    _, run = trained
    return Path(shutil.copytree(run.run_dir, tmp_path / run.run_id))


def _metadata(run_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((run_dir / METADATA_FILE).read_text(encoding="utf-8"))
    return loaded


def _write_metadata(run_dir: Path, metadata: dict[str, Any]) -> None:
    (run_dir / METADATA_FILE).write_text(json.dumps(metadata), encoding="utf-8")


def test_untouched_run_loads(run_copy: Path) -> None:
    saved = load_run(run_copy.parent, str(run_copy))
    assert hasattr(saved.model, "predict")


def test_changed_model_file_is_refused(run_copy: Path) -> None:
    content = bytearray((run_copy / MODEL_FILE).read_bytes())
    content[len(content) // 2] ^= 0xFF
    (run_copy / MODEL_FILE).write_bytes(bytes(content))
    with pytest.raises(ModelNotFoundError, match="refusing to unpickle"):
        load_run(run_copy.parent, str(run_copy))


def test_the_hostile_payload_works_when_unpickled(tmp_path: Path) -> None:
    """Proves the tests below would notice if loading ran the payload."""
    marker = tmp_path / "code-ran"
    pickle.loads(pickle.dumps(_Payload(marker)))  # noqa: S301 - the point of the test
    assert marker.exists()


def test_hostile_pickle_is_never_run(run_copy: Path, tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    (run_copy / MODEL_FILE).write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ModelNotFoundError, match="refusing to unpickle"):
        load_run(run_copy.parent, str(run_copy))
    assert not marker.exists()


def test_run_without_a_recorded_hash_is_refused(run_copy: Path) -> None:
    metadata = _metadata(run_copy)
    del metadata[MODEL_HASH]
    _write_metadata(run_copy, sealed(metadata))
    with pytest.raises(ModelNotFoundError, match=f"no {MODEL_HASH} recorded"):
        load_run(run_copy.parent, str(run_copy))


def test_a_figure_json_has_no_word_for_is_written_as_null(run_copy: Path) -> None:
    """NaN and the infinities (a metric undefined on one class, say) are not JSON: every
    file the project writes holds null in their place, and a run holding one still
    loads, its hash computed on what the file says."""
    metadata = _metadata(run_copy)
    metadata["metrics"] = {**metadata["metrics"], "undefined": float("nan")}
    metadata["bounds"] = [float("-inf"), 0.5, float("inf")]
    write_json(run_copy / METADATA_FILE, sealed(metadata))

    def refuse(word: str) -> None:
        pytest.fail(f"{word} is not JSON")

    written = json.loads(
        (run_copy / METADATA_FILE).read_text(encoding="utf-8"), parse_constant=refuse
    )
    assert (written["metrics"]["undefined"], written["bounds"]) == (None, [None, 0.5, None])
    loaded = load_run(run_copy.parent, str(run_copy)).metadata
    assert (loaded["metrics"]["undefined"], loaded["bounds"]) == (None, [None, 0.5, None])


@pytest.mark.parametrize(
    "change",
    [
        {"run_id": "20990101T000000Z-forged"},  # the version label the API reports
        {"metrics": {"roc_auc": 1.0, "r2": 1.0}},
        {"created_at": "1999-12-31T23:59:59+00:00"},
    ],
)
def test_edited_metadata_is_refused(run_copy: Path, change: dict[str, Any]) -> None:
    _write_metadata(run_copy, {**_metadata(run_copy), **change})
    with pytest.raises(ModelNotFoundError, match=rf"changed since training .its {METADATA_HASH}"):
        load_run(run_copy.parent, str(run_copy))


def test_metadata_without_its_hash_is_refused(run_copy: Path) -> None:
    metadata = _metadata(run_copy)
    del metadata[METADATA_HASH]
    _write_metadata(run_copy, metadata)
    with pytest.raises(ModelNotFoundError, match=rf"no {METADATA_HASH} recorded .* train again"):
        load_run(run_copy.parent, str(run_copy))


@pytest.mark.parametrize("content", ["[]", "{}", '{"run_id": 7}', "not json", "[" * 100_000])
def test_malformed_metadata_is_one_clear_error(run_copy: Path, content: str) -> None:
    (run_copy / METADATA_FILE).write_text(content, encoding="utf-8")
    with pytest.raises(ModelNotFoundError, match=rf"^{run_copy / METADATA_FILE}: "):
        load_run(run_copy.parent, str(run_copy))


def test_an_unreadable_latest_pointer_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "latest").write_bytes(b"\xff\xfe not text")
    with pytest.raises(ModelNotFoundError, match="latest: unreadable; train again"):
        load_run(tmp_path)


def test_hash_from_elsewhere_overrides_the_folder(run_copy: Path, tmp_path: Path) -> None:
    """A folder whose model and metadata were both replaced fails against the registry's hash."""
    metadata = _metadata(run_copy)
    marker = tmp_path / "code-ran"
    forged_hash = save_model(_Payload(marker), run_copy / MODEL_FILE)
    _write_metadata(run_copy, sealed({**metadata, MODEL_HASH: forged_hash}))
    with pytest.raises(ModelNotFoundError, match="refusing to unpickle"):
        load_run(run_copy.parent, str(run_copy), expected_sha256=metadata[MODEL_HASH])
    with pytest.raises(ModelNotFoundError, match="changed since training"):
        load_run(
            run_copy.parent,
            str(run_copy),
            expected_sha256=metadata[MODEL_HASH],
            expected_metadata_sha256=metadata[METADATA_HASH],
        )
    assert not marker.exists()


def outside_references(run_copy: Path, models: Path) -> dict[str, str]:
    """Ways to name ``run_copy`` from a models folder it is not in."""
    (models / "runs").mkdir(parents=True)
    (models / "runs" / "linked").symlink_to(run_copy, target_is_directory=True)
    relative = os.path.relpath(run_copy, models / "runs")
    inside = models / "runs" / "files-linked"
    inside.mkdir()
    for name in (MODEL_FILE, METADATA_FILE):
        (inside / name).symlink_to(run_copy / name)
    return {
        "absolute": str(run_copy),
        "dotdot": relative,
        "symlink": "linked",
        "file symlinks": "files-linked",
    }


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink", "file symlinks", "latest"])
def test_models_outside_the_models_folder_need_the_opt_in(
    run_copy: Path, tmp_path: Path, how: str
) -> None:
    models = tmp_path / "elsewhere" / "models"
    references = outside_references(run_copy, models)
    reference: str | None = references.get(how)
    if how == "latest":
        (models / "latest").write_text(references["dotdot"] + "\n", encoding="utf-8")
    with pytest.raises(
        ModelNotFoundError, match=r"outside .*\(--allow-external-model loads it anyway\)"
    ):
        load_run(models, reference)
    assert load_run(models, reference, allow_external=True).version == run_copy.name


def test_what_a_run_writes_follows_the_umask(trained: tuple[Config, TrainingRun]) -> None:
    """Readable by the group and others under the usual umask, as a container's user needs."""
    config, run = trained
    expected_file, expected_folder = 0o666 & ~UMASK, 0o777 & ~UMASK
    assert stat.S_IMODE(run.run_dir.stat().st_mode) == expected_folder
    for path in run.run_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == expected_file, path.name
    latest = config.paths.models / "latest"
    assert stat.S_IMODE(latest.stat().st_mode) == expected_file


NEVER_A_PID = 4_194_305  # above the largest process id Linux or macOS hands out


def test_the_next_run_cleans_up_only_after_dead_writers(config: Config) -> None:
    """What a killed command left goes; what a live one is writing stays."""
    runs = config.paths.models / "runs"
    runs.mkdir(parents=True)
    reports = config.paths.reports
    reports.mkdir(parents=True)
    dead, alive = f"{leftovers.HOST}-{NEVER_A_PID}", leftovers.owner()
    elsewhere = f"another-host-{NEVER_A_PID}"
    left = {
        runs / f".20260101T000000Z-abcdef.{dead}.k3j2h1x0": "dead",
        runs / f".20260101T000000Z-abcdef.{alive}.k3j2h1x0": "alive",
        runs / f".20260101T000000Z-abcdef.{elsewhere}.k3j2h1x0": "elsewhere",
        reports / f".metrics.json.{dead}.a1b2c3d4.tmp": "dead",
        reports / f".metrics.json.{alive}.a1b2c3d4.tmp": "alive",
        reports / ".notes.md": "not a temporary",
    }
    for path in left:
        if path.parent == runs:
            path.mkdir()
            (path / MODEL_FILE).write_bytes(b"half a model")
        else:
            path.write_text("half a file", encoding="utf-8")
    train(config)
    assert {path for path in left if path.exists()} == {
        path for path, who in left.items() if who != "dead"
    }


def test_a_models_folder_that_cannot_be_written_is_one_error(config: Config) -> None:
    config.paths.models.parent.mkdir(parents=True, exist_ok=True)
    config.paths.models.write_text("a file where the models folder should be", encoding="utf-8")
    with pytest.raises(ProjectError, match=f"^{config.paths.models / 'runs'}: cannot write here"):
        train(config)
