"""The option matrix, derived from cookiecutter.json, the one source of truth.

``pairwise()`` covers every pair of values of every two options in a small set of bakes
(for the fast tier); ``FULL_TIER`` is the hand-picked set whose projects run their own
suites, and a test checks that it uses every value of every option at least once.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from pathlib import Path
from types import ModuleType

TEMPLATE = Path(__file__).resolve().parents[1]
COOKIECUTTER = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
Answers = dict[str, str]


def load_module(path: Path) -> ModuleType:
    """Import a Python file of the template by path."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


# The option manifest: what files, dependencies and README sections each value brings.
MANIFEST: dict[str, dict[str, dict[str, list[str]]]] = COOKIECUTTER["_options"]
TEMPLATE_FILTERS = load_module(TEMPLATE / "local_extensions.py")


def _values(default: object) -> list[str] | None:
    """An option's values as a command line gives them, the default first; None if free text.

    A list is a numbered menu; ``true``/``false`` is a yes/no question, answered
    ``yes`` or ``no`` on the command line.
    """
    if isinstance(default, bool):
        return ["yes", "no"] if default else ["no", "yes"]
    if isinstance(default, list):
        return [str(value) for value in default]
    return None


CHOICES: dict[str, list[str]] = {
    key: values
    for key, default in COOKIECUTTER.items()
    if not key.startswith("_") and (values := _values(default)) is not None
}

# Chosen so every value appears at least once and the options that change the same files
# (tracking, serving, docker, dvc, ci) meet in different combinations.
FULL_TIER: list[Answers] = [
    {},  # every default: classification, mlflow, fastapi, github, docker, MIT
    {
        "python_version": "3.12",
        "task": "regression",
        "experiment_tracking": "none",
        "serving": "none",
        "ci": "gitlab",
        "data_versioning": "dvc",
        "docker": "no",
        "license": "Apache-2.0",
    },
    {
        "python_version": "3.13",
        "task": "regression",
        "experiment_tracking": "mlflow",
        "serving": "none",
        "ci": "none",
        "docker": "yes",
        "license": "BSD-3-Clause",
    },
    {
        "task": "classification",
        "experiment_tracking": "none",
        "serving": "fastapi",
        "ci": "github",
        "data_versioning": "dvc",
        "docker": "no",
        "license": "Proprietary",
        "git_init": "no",
    },
]


def resolved(answers: Answers) -> Answers:
    """``answers`` with every unset choice at its default."""
    return {key: answers.get(key, values[0]) for key, values in CHOICES.items()}


def as_hooks_see(answers: Answers) -> dict[str, object]:
    """``answers`` typed as cookiecutter hands them on: yes/no questions as booleans, and
    the manifest beside them."""
    typed: dict[str, object] = {
        key: value == "yes" if isinstance(COOKIECUTTER.get(key), bool) else value
        for key, value in answers.items()
    }
    return {**typed, "_options": MANIFEST}


def manifest_value(option: str, value: str) -> str:
    """How the manifest names a command-line value: yes/no as ``true``/``false``, as the
    template's own filters (``local_extensions.option_value``) read an answer."""
    return str(TEMPLATE_FILTERS.option_value(as_hooks_see({option: value})[option]))


def pairwise() -> list[Answers]:
    """A greedy covering set: every value pair of every two options appears in some bake."""
    keys = list(CHOICES)
    uncovered = {
        ((a, va), (b, vb))
        for a, b in itertools.combinations(keys, 2)
        for va in CHOICES[a]
        for vb in CHOICES[b]
    }
    chosen: list[Answers] = []
    while uncovered:
        best: Answers = {}
        best_gain = -1
        for candidate in itertools.islice(_candidates(keys, uncovered), 2000):
            gain = sum(
                1 for (a, va), (b, vb) in uncovered if candidate[a] == va and candidate[b] == vb
            )
            if gain > best_gain:
                best, best_gain = candidate, gain
        chosen.append(best)
        uncovered = {
            ((a, va), (b, vb))
            for (a, va), (b, vb) in uncovered
            if not (best[a] == va and best[b] == vb)
        }
    return chosen


def _candidates(keys: list[str], uncovered: set[tuple[tuple[str, str], tuple[str, str]]]):
    """Candidate bakes seeded from each uncovered pair, the other options filled greedily."""
    for (a, va), (b, vb) in sorted(uncovered):
        candidate = {a: va, b: vb}
        for key in keys:
            if key in candidate:
                continue
            candidate[key] = max(
                CHOICES[key],
                key=lambda value, key=key: sum(
                    1
                    for (x, vx), (y, vy) in uncovered
                    if (x == key and vx == value and candidate.get(y) == vy)
                    or (y == key and vy == value and candidate.get(x) == vx)
                ),
            )
        yield candidate


def label(answers: Answers) -> str:
    """A short test id naming only what differs from the defaults."""
    defaults = resolved({})
    changed = [f"{k}={v}" for k, v in resolved(answers).items() if v != defaults[k]]
    return ",".join(changed) or "defaults"
