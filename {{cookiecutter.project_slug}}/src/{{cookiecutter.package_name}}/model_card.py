"""The model card: a Markdown page written by every training run from its metadata.

It says what the model is for, what it was trained on, how well it did on held-out
data and what drives it, so a reviewer can judge the model without running code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .artifacts import MODEL_FILE, MODEL_HASH
from .config import Config, portable_path

SAMPLE_DATA = Path("data/sample")


def describes_other_data(config: Config, source: Path) -> str | None:
    """Why the card's words would not be true of a model trained on ``source``, if so.

    The shipped card speaks of the synthetic sample; once the data is the user's own, a
    card that still says so misleads whoever reads it.
    """
    words = f"{config.model_card.intended_use} {config.model_card.limitations}".lower()
    where = portable_path(source)
    if "synthetic" not in words or Path(where).is_relative_to(SAMPLE_DATA):
        return None
    return (
        f"model_card in the config speaks of synthetic sample data, but the model is trained "
        f"on {where}: say what holds for it there, or draft it with init-config"
    )


def _table(header: tuple[str, str], rows: list[tuple[str, str]]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| {left} | {right} |" for left, right in rows]
    return "\n".join(lines)


def render(metadata: dict[str, Any], config: Config) -> str:
    """The Markdown text of the card for one run."""
    gate = metadata["quality_gate"]
    verdict = "passed" if gate["passed"] else "FAILED: " + "; ".join(gate["failures"])
    git = metadata["git"]
    commit = f"commit `{git['commit']}`" if git["commit"] else "not a git repository"
    if git["dirty"]:
        commit += " (with uncommitted changes)"
    features = _table(
        ("column", "type"),
        [
            (c.name, c.type + (", may be missing" if c.nullable else ""))
            for c in config.data.features
        ],
    )
    scores = _table(
        ("metric", "held-out value"),
        [(name, f"{value:.4f}") for name, value in metadata["metrics"].items()],
    )
    importance = _table(
        ("column", "importance"),
        [(name, f"{value:.4f}") for name, value in metadata["feature_importance"].items()],
    )
    owners = ", ".join(config.model_card.owners) or "not set"
    return f"""# Model card: {config.data.target.name} ({config.task})

## Model details

- Version (run id): `{metadata["run_id"]}`
- Trained: {metadata["created_at"]}
- Estimator: `{config.model.estimator}` with `{config.model.params}`
- Owners: {owners}
- Code: {commit}
- Config hash: `{metadata["config_sha256"]}`
- Model file: `{MODEL_FILE}` (sha256 `{metadata[MODEL_HASH]}`, checked before every load)

## Intended use

{config.model_card.intended_use}

## Limitations

{config.model_card.limitations}

## Training data

- Source: `{metadata["data"]["path"]}` (sha256 `{metadata["data"]["sha256"]}`)
- Rows: {metadata["data"]["train_rows"]} for training, {metadata["data"]["test_rows"]} held out
- Target: `{config.data.target.name}`

{features}

## Evaluation on held-out data

Quality gate: {verdict}.

{scores}

## What drives the predictions

Permutation importance on held-out rows (see `feature_importance.png`):

{importance}
"""
