"""The model registry: versions, the champion alias, promotion and rollback.

A run that passes the quality gate becomes a registered model version; it takes the
``champion`` alias only if it beats the current champion on the same held-out rows by the
configured margin. ``rollback`` gives the alias back to the previous champion. A version
is loaded with the project's own hash-checked loader, against the hash the registry keeps.
"""

from __future__ import annotations

import contextlib
import functools
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode

from .artifacts import METADATA_HASH, MODEL_FILE, MODEL_HASH, SavedModel, load_run
from .config import Config
from .errors import ModelNotFoundError, ProjectError
from .leftovers import abandoned, owner
from .mlflow_store import OWNER_TAG, session

CHAMPION = "champion"
HISTORY_TAG = "champion_history"
HELD_OUT_TAG = "held_out_fingerprint"  # which held-out rows the version's metrics came from


@dataclass(frozen=True)
class Promotion:
    """The outcome of comparing a challenger version with the champion."""

    version: str
    promoted: bool
    metric: str
    challenger_score: float
    champion_version: str | None
    champion_score: float | None

    def describe(self) -> str:
        if self.champion_version == self.version:
            return f"version {self.version} already holds the {CHAMPION} alias"
        if self.champion_version is None:
            return f"version {self.version} is the first champion ({self.metric}={self.challenger_score:.4f})"
        if self.champion_score is None:
            return (
                f"version {self.version} ({self.metric}={self.challenger_score:.4f}) takes the "
                f"{CHAMPION} alias from version {self.champion_version}, which the config no "
                "longer fits (other columns or types, or another task): not compared"
            )
        verdict = "takes" if self.promoted else "does not take"
        return (
            f"version {self.version} ({self.metric}={self.challenger_score:.4f}) {verdict} the "
            f"{CHAMPION} alias from version {self.champion_version} ({self.metric}={self.champion_score:.4f})"
        )


def register(client: MlflowClient, name: str, logged: Any, tags: dict[str, str]) -> str:
    """Create the next version of ``name`` from the logged model (and ``name`` if new)."""
    try:
        client.create_registered_model(name)
    except MlflowException as error:
        if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
            raise
    version = client.create_model_version(
        name, logged.model_uri, run_id=logged.run_id, tags=tags, model_id=logged.model_id
    )
    return str(version.version)


def load_version(config: Config, version: str) -> SavedModel:
    """A registered version's model, loaded with the project's own hash-checked loader.

    The model file must match the hash kept on the version in the registry, not only the
    one in the downloaded metadata: whoever can write to the artifact store alone
    cannot get a different model unpickled.
    """
    name = config.tracking.registered_model
    with session(config) as client:
        try:
            model_version = client.get_model_version(name, version)
        except MlflowException:
            raise ModelNotFoundError(f"no version {version} of registered model {name!r}") from None
        expected = model_version.tags.get(MODEL_HASH)
        expected_metadata = model_version.tags.get(METADATA_HASH)
        if expected is None or expected_metadata is None:
            raise ModelNotFoundError(
                f"version {version} of {name!r} lacks the {MODEL_HASH} or {METADATA_HASH} "
                "tag, so its model will not be unpickled"
            )
        # The model and metadata are in memory once loaded; the download need not outlive it.
        with tempfile.TemporaryDirectory(prefix="registered-") as download:
            mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{name}/{version}", dst_path=download
            )
            if not (Path(download) / MODEL_FILE).is_file():
                raise ModelNotFoundError(
                    f"version {version} of {name!r} holds no {MODEL_FILE}: it was not logged "
                    "by this project's train command"
                )
            return load_run(
                Path(download),
                download,
                expected_sha256=expected,
                expected_metadata_sha256=expected_metadata,
            )


def load_registered(config: Config, uri: str) -> SavedModel:
    """Load ``models:/<name>@<alias>`` or ``models:/<name>/<version>``."""
    reference = uri.removeprefix("models:/")
    by_alias = "@" in reference
    name, _, version_or_alias = reference.partition("@" if by_alias else "/")
    if name != config.tracking.registered_model:
        raise ModelNotFoundError(
            f"{uri}: this project registers {config.tracking.registered_model!r}"
        )
    if not by_alias:
        return load_version(config, version_or_alias)
    with session(config) as client:
        try:
            version = client.get_model_version_by_alias(name, version_or_alias).version
        except MlflowException:
            raise ModelNotFoundError(
                f"{uri}: no model version has alias {version_or_alias!r}"
            ) from None
    return load_version(config, version)


def _champion(client: MlflowClient, name: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


def _history(client: MlflowClient, name: str) -> list[str]:
    tags = client.get_registered_model(name).tags
    return [v for v in tags.get(HISTORY_TAG, "").split(",") if v]


def _crown(client: MlflowClient, name: str, version: str, history: list[str]) -> None:
    client.set_registered_model_alias(name, CHAMPION, version)
    client.set_registered_model_tag(name, HISTORY_TAG, ",".join([*history, version]))


# A tag on a version a rollback took the champion alias from: an old verdict cannot give
# it back; only a new comparison that it wins (``promote``) clears it.
ROLLED_BACK_TAG = "rolled_back"
PROMOTION_LOCK = "{name}.promotion-lock"
LOCK_WAIT_SECONDS = 60.0
LOCK_STALE_SECONDS = 600.0  # a lock this old, held from another host, is taken as abandoned


def _lock_is_abandoned(client: MlflowClient, lock: str) -> bool:
    try:
        held = client.get_registered_model(lock)
    except MlflowException:
        return False  # released meanwhile: simply try again
    holder = held.tags.get(OWNER_TAG, "")
    age = time.time() - (held.creation_timestamp or 0) / 1000
    return abandoned(holder) or age > LOCK_STALE_SECONDS


@contextlib.contextmanager
def promotion_lock(client: MlflowClient, name: str) -> Iterator[None]:
    """Hold the lock on ``name``'s champion alias while comparing and setting it.

    MLflow has no compare-and-set, but creating a registered model either succeeds or
    fails because it exists, on a tracking server as on a file: the lock is a registered
    model that exists while a promotion holds it. Two promotions racing thus compare in
    turn, and neither overwrites a champion it did not compare against. A lock whose
    holder died is taken over.
    """
    lock = PROMOTION_LOCK.format(name=name)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            client.create_registered_model(
                lock,
                tags={OWNER_TAG: owner()},
                description=f"Held while a promotion sets the champion of {name}; deleted after.",
            )
            break
        except MlflowException as error:
            if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
        if _lock_is_abandoned(client, lock):
            with contextlib.suppress(MlflowException):
                client.delete_registered_model(lock)
            continue
        if time.monotonic() > deadline:
            raise ProjectError(
                f"registry: another promotion of {name!r} held {lock!r} for over "
                f"{LOCK_WAIT_SECONDS:.0f} s; if none is running, delete that registered model"
            )
        time.sleep(random.uniform(0.05, 0.25))  # noqa: S311 - jitter only
    try:
        yield
    finally:
        client.delete_registered_model(lock)


@dataclass(frozen=True)
class HeldOut:
    """The rows a challenger and the champion are compared on, named by their fingerprint.

    The rows are read only if a model has to be scored on them: a score recorded with the
    same fingerprint was measured on these very rows.
    """

    fingerprint: str
    read_rows: Callable[[], pd.DataFrame]

    @classmethod
    def of_configured_data(cls, config: Config) -> HeldOut:
        """The rows ``train`` holds out of ``data.path``: the split is deterministic."""
        from .data import file_sha256
        from .train import held_out_fingerprint, held_out_rows

        path = config.data.path
        fingerprint = held_out_fingerprint(config, file_sha256(path))
        return cls(fingerprint, lambda: held_out_rows(config, path))

    @functools.cached_property
    def rows(self) -> pd.DataFrame:
        return self.read_rows()


def _recorded_score(
    client: MlflowClient, name: str, version: str, metric: str, held_out: HeldOut
) -> float | None:
    """The version's ``metric`` from its own training run, if measured on these very rows."""
    model_version = client.get_model_version(name, version)
    if model_version.tags.get(HELD_OUT_TAG) != held_out.fingerprint or not model_version.run_id:
        return None
    recorded = client.get_run(model_version.run_id).data.metrics.get(metric)
    return None if recorded is None else float(recorded)


def promote(
    config: Config, version: str, held_out: HeldOut, challenger_score: float | None = None
) -> Promotion:
    """Give ``version`` the champion alias if it beats the champion on the held-out rows.

    ``challenger_score`` is the version's score when the caller already measured it, as
    training does. The champion is scored again only if its recorded score came from
    other rows (other data, another split): on a large held-out set that is most of
    what a comparison costs.
    """
    with session(config) as client:
        name = config.tracking.registered_model
        rule = config.tracking.promotion

        def measure(version: str) -> float | None:
            """The version's score on the held-out rows; None if it cannot take them."""
            recorded = _recorded_score(client, name, version, rule.metric, held_out)
            if recorded is not None:
                return recorded
            from .predict import fits_config

            saved = load_version(config, version)
            if not fits_config(saved, config):
                return None
            model = saved.model
            rows = held_out.rows
            features, target = rows[config.data.feature_names], rows[config.data.target.name]
            return config.task.scores(model, features, target)[rule.metric]

        if challenger_score is None:
            challenger_score = measure(version)
            if challenger_score is None:
                raise ProjectError(
                    f"version {version} of {name!r} takes other columns or another task "
                    "than the config: it cannot be compared on this data"
                )
        with promotion_lock(client, name):
            champion = _champion(client, name)
            if champion == version:
                return Promotion(
                    version, True, rule.metric, challenger_score, version, challenger_score
                )
            if champion is None:
                _crown(client, name, version, _history(client, name))
                return Promotion(version, True, rule.metric, challenger_score, None, None)
            champion_score = measure(champion)
            promoted = champion_score is None or config.task.is_better(
                rule.metric, challenger_score, champion_score, rule.min_improvement
            )
            if promoted:
                _crown(client, name, version, _history(client, name))
        promotion = Promotion(
            version, promoted, rule.metric, challenger_score, champion, champion_score
        )
        client.set_model_version_tag(
            name, version, "promotion", "champion" if promoted else "rejected"
        )
        client.set_model_version_tag(name, version, "promotion_reason", promotion.describe())
        if promoted and ROLLED_BACK_TAG in client.get_model_version(name, version).tags:
            client.delete_model_version_tag(name, version, ROLLED_BACK_TAG)
        return promotion


def crown(config: Config, run_id: str, reason: str) -> tuple[str, bool]:
    """Give the champion alias to the version the project's run ``run_id`` registered,
    with ``reason`` kept on the version; return the version, and whether it was not the
    champion already."""
    with session(config) as client:
        name = config.tracking.registered_model
        found = client.search_model_versions(f"name = '{name}' and tags.run_id = '{run_id}'")
        if not found:
            raise ModelNotFoundError(f"no version of {name!r} was registered by run {run_id}")
        version = str(found[0].version)
        if ROLLED_BACK_TAG in found[0].tags:
            raise ProjectError(
                f"version {version} of {name!r} was rolled back from {CHAMPION} since: not "
                f"promoted again by an old verdict (`promote {version}` compares it anew)"
            )
        with promotion_lock(client, name):
            changed = _champion(client, name) != version
            if changed:
                _crown(client, name, version, _history(client, name))
        client.set_model_version_tag(name, version, "promotion", "champion")
        client.set_model_version_tag(name, version, "promotion_reason", reason)
        return version, changed


def registered_run(config: Config, version: str) -> str | None:
    """The id of the project's run that registered ``version``, if one did."""
    with session(config) as client:
        tags = client.get_model_version(config.tracking.registered_model, version).tags
        return tags.get("run_id")


def rollback(config: Config) -> str:
    """Give the champion alias back to the previous champion; return its version."""
    with session(config) as client:
        name = config.tracking.registered_model
        try:
            client.get_registered_model(name)
        except MlflowException:
            raise ProjectError(
                f"registered model {name!r} does not exist yet: train first"
            ) from None
        with promotion_lock(client, name):
            history = _history(client, name)
            if len(history) < 2:
                raise ProjectError(f"{name!r} has no earlier champion to roll back to")
            previous = history[-2]
            client.set_registered_model_alias(name, CHAMPION, previous)
            client.set_model_version_tag(name, history[-1], ROLLED_BACK_TAG, "true")
            client.set_registered_model_tag(name, HISTORY_TAG, ",".join(history[:-1]))
        return previous
