"""Full tier: bake, then do exactly what the baked README tells a user, then ``uv run nox``.

Every ```bash block of the baked README is run line by line, in order, so a README that
promises a command the project cannot run fails here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

import pytest
import yaml
from conftest import Bake, load_hook, load_script, run
from matrix import FULL_TIER, TEMPLATE, Answers, label, resolved

pytestmark = pytest.mark.full
reserved_names = load_script("reserved_names")
pre_gen = load_hook("pre_gen_project")
RESERVED = pre_gen.read_reserved(TEMPLATE / "hooks" / pre_gen.RESERVED_NAMES)

BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def ci_commands(root: Path) -> list[list[str]]:
    """The shell steps of the baked CI files that need no CI service, in order."""
    lines: list[str] = []
    workflow = root / ".github" / "workflows" / "ci.yml"
    if workflow.is_file():
        for job in yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"].values():
            lines += [step["run"] for step in job["steps"] if "run" in step]
    gitlab = root / ".gitlab-ci.yml"
    if gitlab.is_file():
        for name, job in yaml.safe_load(gitlab.read_text(encoding="utf-8")).items():
            if isinstance(job, dict) and name != "container-image":
                lines += job.get("before_script", []) + job.get("script", [])
    commands = []
    for line in lines:
        words = shlex.split(line, comments=True)
        if words and words[0] == "uv" and words not in commands:
            commands.append(words)
    return commands


def default_sessions(root: Path) -> set[str]:
    """The nox sessions a bare `uv run nox` runs in the baked project."""
    listed = run(["uv", "run", "nox", "--list", "--json"], root).stdout
    return {session["name"] for session in json.loads(listed)}


def covered_by_full_nox(command: list[str], defaults: set[str]) -> bool:
    """`uv run nox -s tests`, `uv run nox -s lint typecheck` and the like: sessions that
    `uv run nox`, which every README runs, runs as well, with the same arguments."""
    sessions = command[4:]
    return (
        command[:4] == ["uv", "run", "nox", "-s"] and bool(sessions) and set(sessions) <= defaults
    )


def readme_commands(root: Path) -> list[list[str]]:
    """The commands of every ```bash block in the README, comments stripped."""
    commands = []
    for block in BASH_BLOCK.findall((root / "README.md").read_text(encoding="utf-8")):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(words)
    return commands


def runs(root: Path) -> set[str]:
    """The run folders in the project (run ids sort by the time they started)."""
    return {path.name for path in (root / "models" / "runs").iterdir()} - {".gitkeep"}


def latest(root: Path) -> str:
    return (root / "models" / "latest").read_text(encoding="utf-8").strip()


def train_stage_is_stale(root: Path) -> bool:
    status = run(["uv", "run", "dvc", "status", "train"], root).stdout
    return "train:" in status


def check_dvc_and_the_command_line_share_the_runs(root: Path, slug: str) -> None:
    """Runs trained by either path stay; DVC sees the tuned parameters and every model key.

    The README has run ``train`` and ``dvc repro`` once each already.
    """
    again = run(["uv", "run", "dvc", "repro"], root)
    assert "Data and pipelines are up to date" in again.stdout + again.stderr
    for _ in range(2):  # train, repro, train, repro
        before = runs(root)
        run(["uv", "run", slug, "train"], root)
        [trained] = runs(root) - before
        run(["uv", "run", "dvc", "repro"], root)
        assert before | {trained} <= runs(root), "dvc repro deleted no run"
        assert latest(root) == max(runs(root)), "latest is the newest good run"

    tuned = root / "configs" / "tuned_params.yaml"
    config_file = root / "configs" / "config.yaml"
    [(name, value)] = list(
        yaml.safe_load(config_file.read_text(encoding="utf-8"))["model"]["params"].items()
    )[:1]
    shipped_tuned, shipped_config = (
        tuned.read_text(encoding="utf-8"),
        config_file.read_text(encoding="utf-8"),
    )
    tuned.write_text(f"{name}: {value * 2}\n", encoding="utf-8")
    assert train_stage_is_stale(root), "a tuned parameter changes the model"
    tuned.write_text(shipped_tuned, encoding="utf-8")
    assert not train_stage_is_stale(root)
    config_file.write_text(
        shipped_config.replace("cv_folds: 0", "cv_folds: 3", 1), encoding="utf-8"
    )
    assert train_stage_is_stale(root), "cv_folds changes the run's metrics"

    # The stages run from the project's environment alone, without uv on the PATH.
    before = runs(root)
    environment = f"{root / '.venv' / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin"
    run([str(root / ".venv" / "bin" / "dvc"), "repro"], root, extra_env={"PATH": environment})
    [trained] = runs(root) - before
    assert latest(root) == trained
    assert (
        json.loads((root / "models" / "pipeline" / "metadata.json").read_text(encoding="utf-8"))[
            "run_id"
        ]
        == trained
    )

    # A run that misses the gate fails the stage and leaves the copy DVC records in place.
    strict = yaml.safe_load(shipped_config)
    gate = strict["quality_gate"]
    gate["minimum"] = dict.fromkeys(gate["minimum"], 2.0)  # no model scores that
    config_file.write_text(yaml.safe_dump(strict), encoding="utf-8")
    failed = run(["uv", "run", "dvc", "repro"], root, check=False)
    assert failed.returncode != 0
    copied = json.loads((root / "models" / "pipeline" / "metadata.json").read_text("utf-8"))
    assert copied["run_id"] == trained, "the last good copy stays"
    assert "deleted" not in run(["uv", "run", "dvc", "status"], root).stdout
    config_file.write_text(shipped_config, encoding="utf-8")


@pytest.mark.parametrize("answers", FULL_TIER, ids=[label(a) for a in FULL_TIER])
def test_baked_project_works_as_its_readme_says(bake: Bake, answers: Answers) -> None:
    root = bake(**answers)
    slug = root.name
    if resolved(answers)["git_init"] == "no":
        # What the README asks of a user who baked without git: pre-commit needs a repo.
        run(["git", "init", "--quiet"], root)
        run(["git", "add", "--all"], root)

    commands = readme_commands(root)
    assert ["uv", "sync"] in commands
    assert ["uv", "run", slug, "train"] in commands
    assert ["uv", "run", "nox"] in commands
    defaults: set[str] = set()
    for command in commands:
        if command == ["uv", "run", "nox"]:
            defaults = default_sessions(root)
        if not covered_by_full_nox(command, defaults):
            run(command, root)
    for command in ci_commands(root):
        if command not in commands and not covered_by_full_nox(command, defaults):
            run(command, root)  # e.g. `uv sync --locked`, `uv build`

    if resolved(answers)["git_init"] == "yes":
        first = root / "models" / "runs" / min(runs(root)) / "metadata.json"
        lineage = json.loads(first.read_text(encoding="utf-8"))["git"]
        assert lineage["commit"], "the bake's first commit"
        assert lineage["dirty"] is False, "bake, uv sync, train: nothing the user changed"

    if resolved(answers)["experiment_tracking"] == "none":
        lock = (root / "uv.lock").read_text(encoding="utf-8")
        assert 'name = "mlflow' not in lock, "no MLflow in the locked dependencies"
        sources = [p.read_text(encoding="utf-8") for p in (root / "src").rglob("*.py")]
        assert not any("mlflow" in text for text in sources), "no MLflow in the code"

    if resolved(answers)["data_versioning"] == "dvc":
        check_dvc_and_the_command_line_share_the_runs(root, slug)

    assert (root / "uv.lock").is_file(), "uv sync locks the environment"
    assert (root / "models" / "latest").is_file(), "train marks a good model"
    assert (root / "reports" / "model_card.md").is_file()
    package = next((root / "src").iterdir()).name
    installed = reserved_names.import_names(root / ".venv" / "bin" / "python")
    unreserved = installed - RESERVED - {package}
    unreserved = {name for name in unreserved if reserved_names.PACKAGE.match(name)}
    assert not unreserved, "run scripts/reserved_names.py: a new dependency may be shadowed"
    version = run(["uv", "run", slug, "--version"], root).stdout
    assert version.strip() == f"{slug} 0.1.0"
