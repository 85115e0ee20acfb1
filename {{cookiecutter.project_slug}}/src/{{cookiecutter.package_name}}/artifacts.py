"""Run directories: the saved model, its metadata and its reports, written atomically.

A run is assembled in a hidden staging folder and renamed into ``runs/`` in one step, so
a crash never leaves a half-written run behind. ``latest`` names the newest run that
passed the quality gate; it is replaced atomically too.

Models are stored with skops rather than pickle: loading a pickle runs whatever code the
file asks for, while skops only rebuilds the types it is told to trust (here scikit-learn
and NumPy), so a tampered model file fails to load instead of taking over the machine.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import ModelNotFoundError

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
TRUSTED_MODULES = ("sklearn.", "numpy.", "builtins.", "collections.")


@dataclass(frozen=True)
class SavedModel:
    """A loaded model with the metadata written beside it at training time."""

    model: Any
    metadata: dict[str, Any]
    run_dir: Path

    @property
    def version(self) -> str:
        return str(self.metadata["run_id"])


def new_run_id() -> str:
    """Sortable by time, unique even for runs started in the same second."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, payload: Any) -> None:
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


@contextmanager
def staged_run(models_dir: Path, run_id: str) -> Iterator[Path]:
    """Yield an empty staging folder; on success it becomes ``runs/<run_id>``, else vanishes."""
    runs = models_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=runs, prefix=f".{run_id}."))
    try:
        yield staging
        staging.rename(runs / run_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# skops is imported where it is used: it takes half a second to load, and commands that
# only read or write JSON here should not pay for it.


def save_model(model: Any, path: Path) -> None:
    import skops.io

    skops.io.dump(model, path)


def _allowed(untrusted: list[str], source: str) -> list[str]:
    refused = [name for name in untrusted if not name.startswith(TRUSTED_MODULES)]
    if refused:
        raise ModelNotFoundError(f"{source}: refusing to load untrusted types {', '.join(refused)}")
    return untrusted


def trusted_types(model: Any) -> list[str]:
    """The types skops must be told to trust for ``model``: only allowed ones."""
    import skops.io

    return _allowed(skops.io.get_untrusted_types(data=skops.io.dumps(model)), "model")


def load_model(path: Path) -> Any:
    """Load a skops file, trusting only scikit-learn, NumPy and builtin types."""
    import skops.io

    return skops.io.load(path, trusted=_allowed(skops.io.get_untrusted_types(file=path), str(path)))


def mark_latest(models_dir: Path, run_id: str) -> None:
    atomic_write_text(models_dir / "latest", run_id + "\n")


def resolve_run_dir(models_dir: Path, reference: str | None = None) -> Path:
    """A run folder from a path, a run id, or (by default) the latest good run."""
    if reference is None:
        pointer = models_dir / "latest"
        if not pointer.is_file():
            raise ModelNotFoundError(
                f"no trained model in {models_dir}: run the train command first"
            )
        reference = pointer.read_text(encoding="utf-8").strip()
    candidate = Path(reference)
    for run_dir in (candidate, models_dir / "runs" / reference):
        if (run_dir / MODEL_FILE).is_file():
            return run_dir
    raise ModelNotFoundError(f"no model found at {reference!r} (a run folder or a run id)")


def load_run(models_dir: Path, reference: str | None = None) -> SavedModel:
    run_dir = resolve_run_dir(models_dir, reference)
    metadata = json.loads((run_dir / METADATA_FILE).read_text(encoding="utf-8"))
    return SavedModel(model=load_model(run_dir / MODEL_FILE), metadata=metadata, run_dir=run_dir)
