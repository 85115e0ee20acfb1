"""Integration tier: each baked CI file's jobs, replayed as their runner would run them.

No GitLab runner, no GitHub Actions and no images here. Each job's shell commands run in
order in a clean clone of the baked project, started afresh for the job (`git clean`),
with the file's environment variables, uv pointed at the job's Python from this machine
the way the job's image or `setup-uv` points it, and the CI cache restored into the
folder the file names. Only package installs that need the job's image (`apt-get`) are
skipped. After each job that installs the project, its environment must run the job's
Python, and a built source distribution must hold neither a cache nor a virtual environment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Bake, run

pytestmark = pytest.mark.integration

GITLAB_KEYWORDS = {"stages", "default", "variables", "workflow", "include"}
NEEDS_THE_IMAGE = ("apt-get",)
VARIABLE = re.compile(r"\$\{?(\w+)\}?")
EXPRESSION = re.compile(r"\$\{\{\s*matrix\.(\w+)\s*\}\}")


@dataclass
class Job:
    """One job as its runner would start it: a name, its environment and its commands."""

    name: str
    python: str
    env: dict[str, str] = field(default_factory=dict)
    commands: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def expand(value: Any, env: dict[str, str]) -> str:
    return VARIABLE.sub(lambda match: env.get(match.group(1), match.group(0)), str(value))


def gitlab_jobs(root: Path, default_python: str) -> list[Job]:
    """The jobs of ``.gitlab-ci.yml``, ``extends`` merged and ``parallel: matrix`` expanded."""
    pipeline = yaml.safe_load((root / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    variables = {key: str(value) for key, value in pipeline.get("variables", {}).items()}
    jobs = []
    for name, spec in pipeline.items():
        if name in GITLAB_KEYWORDS or name.startswith(".") or "services" in spec:
            continue  # keywords, templates, and the job that needs a Docker daemon
        merged: dict[str, Any] = {}
        for template in [spec.get("extends")] if isinstance(spec.get("extends"), str) else []:
            merged.update(pipeline[template])
        merged.update(spec)
        cells = [{}]
        for entry in merged.get("parallel", {}).get("matrix", []):
            cells = [{key: str(value)} for key, values in entry.items() for value in values]
        for cell in cells:
            env = {**variables, **cell}
            env.update({k: expand(v, env) for k, v in merged.get("variables", {}).items()})
            python = cell.get("PYTHON", default_python)
            lines = [*merged.get("before_script", []), *merged["script"]]
            lines += merged.get("after_script", [])
            job = Job(f"{name} {python}", python, env, [(line, {}) for line in lines])
            jobs.append(job)
    return jobs


def github_jobs(root: Path, default_python: str) -> list[Job]:
    """The jobs of the CI workflow: ``run`` steps with their ``env``, matrix expanded.

    ``astral-sh/setup-uv`` with ``python-version`` sets ``UV_PYTHON``; that is the one
    action whose effect the commands depend on.
    """
    workflow = yaml.safe_load((root / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    jobs = []
    for name, spec in workflow["jobs"].items():
        matrix = spec.get("strategy", {}).get("matrix", {})
        cells = [{key: str(value)} for key, values in matrix.items() for value in values] or [{}]
        for cell in cells:
            env = {key: str(value) for key, value in workflow.get("env", {}).items()}
            env.update({key: str(value) for key, value in spec.get("env", {}).items()})
            python = default_python
            commands = []
            for step in spec["steps"]:
                wanted = step.get("with", {}).get("python-version")
                if step.get("uses", "").startswith("astral-sh/setup-uv@") and wanted:
                    python = EXPRESSION.sub(
                        lambda match, cell=cell: cell[match.group(1)], str(wanted)
                    )
                    env["UV_PYTHON"] = python
                if "run" in step:
                    step_env = {key: str(value) for key, value in step.get("env", {}).items()}
                    commands.append((step["run"], step_env))
            jobs.append(Job(f"{name} {python}", python, env, commands))
    return jobs


def restore_cache(source: Path, destination: Path) -> None:
    """The CI cache, restored into the project: a hard-linked copy of uv's cache here.

    Jobs prune their copy (``uv cache prune --ci``); this machine's cache is untouched.
    """
    if destination.exists():
        return

    def link(original: str, copy: str) -> None:
        if original.endswith(".lock"):  # files uv locks: the copy gets locks of its own
            shutil.copyfile(original, copy)
        else:
            os.link(original, copy)

    try:
        shutil.copytree(source, destination, copy_function=link, symlinks=True)
    except OSError:  # another file system: the jobs fill an empty cache from the index
        shutil.rmtree(destination, ignore_errors=True)
        destination.mkdir()


def environment_python(clone: Path) -> str:
    interpreter = clone / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(interpreter), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def replay(root: Path, jobs: list[Job], tmp_path: Path) -> None:
    run(["git", "add", "--all"], root)
    run(["git", "commit", "--quiet", "-m", "Lock the environment"], root)
    clone = tmp_path / "clone"
    run(["git", "clone", "--quiet", str(root), str(clone)], tmp_path)
    uv_cache = Path(run(["uv", "cache", "dir"], tmp_path).stdout.strip())
    for job in jobs:
        cache = job.env.get("UV_CACHE_DIR")
        keep = ["-e", cache] if cache else []
        run(["git", "clean", "-xdf", "--quiet", *keep], clone)
        if cache:
            restore_cache(uv_cache, clone / cache)
        for command, step_env in job.commands:
            if command.startswith(NEEDS_THE_IMAGE):
                continue
            run(["bash", "-e", "-c", command], clone, extra_env={**job.env, **step_env})
        if (clone / ".venv").is_dir():  # the jobs that install the project
            assert environment_python(clone) == job.python, f"{job.name} ran another Python"
        for sdist in (clone / "dist").glob("*.tar.gz"):
            with tarfile.open(sdist) as archive:
                names = archive.getnames()
            assert not [n for n in names if "/.venv/" in n or "/.uv-cache/" in n], sdist


@pytest.mark.parametrize("ci", ["gitlab", "github"])
def test_ci_jobs_pass_as_their_runner_runs_them(bake: Bake, ci: str, tmp_path: Path) -> None:
    answers = {
        "ci": ci,
        "python_version": "3.12",
        "experiment_tracking": "none",
        "serving": "none",
        "task": "regression",
    }
    root = bake(**answers)
    run(["uv", "sync"], root)  # writes uv.lock, which CI installs from
    jobs = (gitlab_jobs if ci == "gitlab" else github_jobs)(root, "3.12")
    assert sorted(job.python for job in jobs if job.name.startswith("tests")) == ["3.12", "3.13"]
    if ci == "gitlab":
        pipeline = yaml.safe_load((root / ".gitlab-ci.yml").read_text(encoding="utf-8"))
        assert pipeline["package"]["rules"] == [{"if": "$CI_COMMIT_TAG =~ /^v/"}], "tags only"
    replay(root, jobs, tmp_path)
