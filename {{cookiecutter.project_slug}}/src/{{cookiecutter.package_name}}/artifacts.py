"""Run directories: the saved model, its metadata and its reports, written atomically.

A run is assembled in a hidden staging folder and renamed into ``runs/`` in one step, so
a crash never leaves a half-written run behind. ``latest`` names the newest run that
passed the quality gate; it is replaced atomically too.

Models are plain pickles, the format scikit-learn documents and the one MLflow's
scikit-learn flavour reads, so with tracking on MLflow logs this very file instead of
serializing the model again. The SHA-256 of the file is recorded in the run's metadata
(and, with tracking, on the registered version). Unpickling runs whatever code the file
asks for, so ``load_model`` hashes the bytes first and unpickles them only if they
match: a truncated, corrupted or swapped model file is refused with a clear message
instead of being executed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import DataError, ModelNotFoundError, ProjectError
from .leftovers import sweep, temporary_prefix

MODEL_FILE = "model.pkl"
METADATA_FILE = "metadata.json"
MODEL_HASH = "model_sha256"  # the metadata key holding the model file's SHA-256
# The metadata key holding the SHA-256 of all the other keys, the model's hash among them:
# the version label, metrics and schema a load trusts are covered as the model is.
METADATA_HASH = "metadata_sha256"
COPY_MARKER = ".run-copy"  # marks a folder that train --output-dir may replace
EXAMPLE_ROWS = 3  # held-out rows saved with a logged model as its input example


@dataclass(frozen=True)
class SavedModel:
    """A loaded model with the metadata written beside it at training time."""

    model: Any
    metadata: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.metadata["run_id"])


@dataclass(frozen=True)
class TrainingRun:
    """What a training run produced; ``passed`` tells whether it became the latest model."""

    run_id: str
    run_dir: Path
    metrics: dict[str, float]
    passed: bool
    failures: list[str]
    metadata: dict[str, Any]
    promotion: str | None = None  # what the model registry decided, when tracking is on

    @classmethod
    def from_folder(cls, run_dir: Path) -> TrainingRun:
        """The run as its folder records it (the registry's decision is not in there)."""
        metadata = json.loads((run_dir / METADATA_FILE).read_text(encoding="utf-8"))
        gate = metadata["quality_gate"]
        return cls(
            metadata["run_id"],
            run_dir,
            metadata["metrics"],
            gate["passed"],
            gate["failures"],
            metadata,
        )


def _current_umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it, so set it straight back
    os.umask(mask)
    return mask


UMASK = _current_umask()


def as_if_created(path: Path, *, folder: bool = False) -> None:
    """Give ``path`` the mode the user's umask gives a new file or folder.

    ``tempfile`` creates its files 0600 and its folders 0700, private to their owner
    whatever the umask says; a model must stay readable by whoever else the user's files
    are readable by, a container's user or a scheduler's, say.
    """
    path.chmod((0o777 if folder else 0o666) & ~UMASK)


def refuse_overwriting(output: Path, *reads: Path | None) -> None:
    """Refuse an ``output`` that is one of the files the command reads: writing it would
    destroy the command's own input."""
    for read in reads:
        if read is not None and output.resolve() == read.resolve():
            raise ProjectError(f"{output}: is a file this command reads; write to another")


def new_run_id() -> str:
    """Sortable by time, unique even for runs started in the same second."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def temporary_beside(path: Path) -> tuple[int, str]:
    """An open temporary file beside ``path``, named for this process (see ``leftovers``).

    Every atomic write starts here: written in full, it is renamed over ``path``.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep(path.parent)
        return tempfile.mkstemp(dir=path.parent, prefix=temporary_prefix(path.name), suffix=".tmp")
    except OSError as error:
        raise DataError(f"{path}: cannot write here ({error.strerror or error})") from None


def staging_folder_beside(destination: Path) -> Path:
    """A new empty folder beside ``destination``, named for this process (see ``leftovers``):
    a folder is built there in full, then put in place by ``put_folder_in_place``."""
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        sweep(destination.parent)
        staging = Path(
            tempfile.mkdtemp(dir=destination.parent, prefix=temporary_prefix(destination.name))
        )
    except OSError as error:
        raise DataError(f"{destination}: cannot write here ({error.strerror or error})") from None
    as_if_created(staging, folder=True)
    return staging


def missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, innermost first: what a
    write into ``folder`` creates, and so what a failed one removes."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def atomic_write_text(path: Path, text: str) -> None:
    handle, temporary = temporary_beside(path)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        as_if_created(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_copy(source: Path, destination: Path) -> None:
    """Copy ``source`` over ``destination`` in one step: readers see the old or the new."""
    handle, temporary = temporary_beside(destination)
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        as_if_created(Path(temporary))
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def as_json(payload: Any) -> Any:
    """``payload`` as standard JSON reads it back: objects it cannot hold as text, and
    NaN and the infinities, which JSON has no words for, as null."""

    def finite(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {key: finite(item) for key, item in value.items()}
        if isinstance(value, list):
            return [finite(item) for item in value]
        return value

    return finite(json.loads(json.dumps(payload, default=str)))


def write_json(path: Path, payload: Any) -> None:
    text = json.dumps(as_json(payload), indent=2, sort_keys=True, allow_nan=False)
    atomic_write_text(path, text + "\n")


@contextmanager
def staged_run(models_dir: Path, run_id: str) -> Iterator[Path]:
    """Yield an empty staging folder; on success it becomes ``runs/<run_id>``, else vanishes."""
    runs = models_dir / "runs"
    try:
        runs.mkdir(parents=True, exist_ok=True)
        sweep(runs)
        staging = Path(tempfile.mkdtemp(dir=runs, prefix=temporary_prefix(run_id)))
    except OSError as error:
        raise ProjectError(f"{runs}: cannot write here ({error.strerror or error})") from None
    as_if_created(staging, folder=True)
    try:
        yield staging
        staging.rename(runs / run_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def ensure_replaceable(destination: Path) -> None:
    """Refuse a copy destination unless it is absent, an empty folder or an earlier copy.

    An earlier copy is recognised by the marker ``copy_run`` leaves in it, never by its
    contents: a run folder or any other folder with a ``metadata.json`` is not a copy.
    """
    if destination.exists() and not (
        destination.is_dir()
        and (not any(destination.iterdir()) or (destination / COPY_MARKER).is_file())
    ):
        raise ProjectError(
            f"{destination}: exists and is not a copy made by --output-dir; choose another folder"
        )


def copy_run(run_dir: Path, destination: Path) -> None:
    """Make ``destination`` a copy of ``run_dir``, replacing an earlier copy in one step.

    For pipelines that track a single model folder (DVC's ``models/pipeline``), so the run
    history stays out of their reach. Only an earlier copy is ever replaced: this never
    deletes what it did not write.
    """
    ensure_replaceable(destination)
    staging = staging_folder_beside(destination)
    try:
        shutil.copytree(run_dir, staging, dirs_exist_ok=True)
        (staging / COPY_MARKER).write_text(f"a copy of run {run_dir.name}\n", encoding="utf-8")
        put_folder_in_place(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def put_folder_in_place(staging: Path, destination: Path) -> None:
    """Rename the complete folder ``staging`` to ``destination``, replacing an earlier one.

    A folder cannot be renamed over another, so the earlier one is first renamed aside
    (under a temporary name a later sweep recognises) and removed once the new one is in
    place: at no moment does ``destination`` hold a mix of the two.
    """
    if destination.exists():
        replaced = staging.with_name(staging.name + ".old")
        destination.rename(replaced)
        staging.rename(destination)
        shutil.rmtree(replaced)
    else:
        staging.rename(destination)


def save_model(model: Any, path: Path) -> str:
    """Write ``model`` to ``path``; return the file's SHA-256, which loading will demand."""
    content = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest()


def load_model(path: Path, expected_sha256: str) -> Any:
    """Unpickle ``path`` only if its bytes hash to ``expected_sha256``.

    The bytes are read once, then hashed and unpickled from memory, so the file cannot
    change between the check and the load.
    """
    try:
        content = path.read_bytes()
    except OSError as error:
        raise ModelNotFoundError(f"{path}: cannot read the model ({error.strerror})") from None
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected_sha256:
        raise ModelNotFoundError(
            f"{path}: refusing to unpickle: its SHA-256 {actual[:12]}... is not the "
            f"{expected_sha256[:12]}... recorded when the model was trained"
        )
    return pickle.loads(content)  # noqa: S301 - the bytes match the recorded hash


def metadata_sha256(metadata: dict[str, Any]) -> str:
    """The SHA-256 of ``metadata`` without its own hash, as ``write_json`` writes it."""
    covered = {key: value for key, value in metadata.items() if key != METADATA_HASH}
    canonical = json.dumps(covered, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def sealed(metadata: dict[str, Any]) -> dict[str, Any]:
    """``metadata`` as JSON will read it back, with its hash added under ``METADATA_HASH``."""
    plain: dict[str, Any] = as_json(metadata)
    return {**plain, METADATA_HASH: metadata_sha256(plain)}


def mark_latest(models_dir: Path, run_id: str) -> None:
    atomic_write_text(models_dir / "latest", run_id + "\n")


def point_latest_at(models_dir: Path, run_id: str) -> str:
    """Point ``latest`` at ``run_id`` if that run is in ``models_dir`` on this machine, so
    that everything run without ``--model`` uses the model a promotion or rollback chose;
    what was done, in words."""
    try:
        run_dir = resolve_run_dir(models_dir, run_id)
    except ModelNotFoundError:
        return f"{models_dir / 'latest'} unchanged: run {run_id} is not in {models_dir / 'runs'}"
    mark_latest(models_dir, run_dir.name)
    return f"{models_dir / 'latest'}: run {run_dir.name}"


def _latest_run_id(models_dir: Path) -> str:
    pointer = models_dir / "latest"
    if not pointer.is_file():
        raise ModelNotFoundError(_why_no_latest(models_dir))
    try:
        return pointer.read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        raise ModelNotFoundError(f"{pointer}: unreadable; train again to rewrite it") from None


def _why_no_latest(models_dir: Path) -> str:
    """Either nothing was trained, or nothing passed the gate: say which, and by how much."""
    runs = models_dir / "runs"
    trained = (
        sorted(run.name for run in runs.iterdir() if not run.name.startswith("."))
        if runs.is_dir()
        else []
    )
    if not trained:
        return f"no trained model in {models_dir}: run the train command first"
    last = runs / trained[-1]
    try:
        failures = "; ".join(TrainingRun.from_folder(last).failures)
    except (OSError, ValueError, KeyError, TypeError):
        failures = "see its metadata.json"
    return (
        f"no run in {models_dir} has passed the quality gate yet ({len(trained)} tried); "
        f"the last, {last.name}, missed it: {failures}"
    )


def _holds_a_model(folder: Path) -> bool:
    try:
        return (folder / MODEL_FILE).is_file()
    except (OSError, ValueError):  # a name the file system cannot even look up
        return False


def resolve_run_dir(
    models_dir: Path, reference: str | None = None, *, allow_external: bool = False
) -> Path:
    """A run folder from a run id, a path, or (by default) the latest good run.

    Unpickling runs code, so the folder must lie inside ``models_dir`` once every
    symlink and ``..`` is resolved, unless ``allow_external``: no reference, and no
    ``latest`` pointer, can send a load to a folder somebody else filled.
    """
    if reference is None:
        reference = _latest_run_id(models_dir)
    home = models_dir.resolve()
    for run_dir in (models_dir / "runs" / reference, Path(reference)):
        if not _holds_a_model(run_dir):
            continue
        read = (run_dir, run_dir / MODEL_FILE, run_dir / METADATA_FILE)
        if not allow_external and not all(path.resolve().is_relative_to(home) for path in read):
            raise ModelNotFoundError(
                f"{reference}: outside {models_dir}, the models folder; models are loaded "
                "from there only (--allow-external-model loads it anyway)"
            )
        return run_dir
    raise ModelNotFoundError(f"no model found at {reference!r} (a run folder or a run id)")


def load_run(
    models_dir: Path,
    reference: str | None = None,
    *,
    expected_sha256: str | None = None,
    expected_metadata_sha256: str | None = None,
    allow_external: bool = False,
) -> SavedModel:
    """Load a run's model and metadata; both must match the hashes the run recorded.

    The ``expected_*`` hashes override those in the run's own metadata; the registry
    passes the ones it holds, so a run folder edited in the artifact store is refused too.
    """
    run_dir = resolve_run_dir(models_dir, reference, allow_external=allow_external)
    try:
        metadata = json.loads((run_dir / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        reason = "nested too deep" if isinstance(error, RecursionError) else error
        raise ModelNotFoundError(f"{run_dir / METADATA_FILE}: unreadable ({reason})") from None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("run_id"), str):
        raise ModelNotFoundError(f"{run_dir / METADATA_FILE}: not a run's metadata (no run_id)")
    recorded = expected_metadata_sha256 or metadata.get(METADATA_HASH)
    if recorded is None:
        raise ModelNotFoundError(
            f"{run_dir / METADATA_FILE}: no {METADATA_HASH} recorded (trained by an earlier "
            "version of the project?): train again"
        )
    if recorded != metadata_sha256(metadata):
        raise ModelNotFoundError(
            f"{run_dir / METADATA_FILE}: changed since training (its {METADATA_HASH} does not "
            "match), so the model will not be loaded"
        )
    expected = expected_sha256 or metadata.get(MODEL_HASH)
    if not isinstance(expected, str):
        raise ModelNotFoundError(
            f"{run_dir}: no {MODEL_HASH} recorded for the model, so it will not be unpickled"
        )
    model = load_model(run_dir / MODEL_FILE, expected)
    return SavedModel(model=model, metadata=metadata)
