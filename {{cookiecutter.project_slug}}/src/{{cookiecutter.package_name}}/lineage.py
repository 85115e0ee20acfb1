"""Facts that tie a model to the exact code, data and environment that produced it."""

from __future__ import annotations

import platform
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

TRACKED_PACKAGES = (
    "{{ cookiecutter.project_slug }}",
    "scikit-learn",
    "pandas",
    "numpy",
    "pandera",
)


# `uv sync` writes the lock file on its first run, after the project's first commit: until
# it is committed, an untracked lock describes the environment, not a change to the code.
UNTRACKED_LOCK = "?? uv.lock"
{%- if cookiecutter.data_versioning == "dvc" %}
# What `dvc repro` itself writes and stages before its train stage runs: its record of
# the outputs, and the .gitignore entries that keep them out of git. Neither is code.
DVC_BOOKKEEPING = ("dvc.lock", ".gitignore")
{%- endif %}


def git_state(cwd: Path | None = None) -> dict[str, str | bool | None]:
    """The current commit and whether the work tree has uncommitted changes."""
    git = shutil.which("git")
    if git is None:
        return {"commit": None, "dirty": None}
    try:
        commit = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [git, "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [git, "status", "--porcelain"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout
    except subprocess.CalledProcessError:
        return {"commit": None, "dirty": None}
    changes = [line for line in status.splitlines() if line and line != UNTRACKED_LOCK]
{%- if cookiecutter.data_versioning == "dvc" %}
    changes = [line for line in changes if Path(line[3:]).name not in DVC_BOOKKEEPING]
{%- endif %}
    return {"commit": commit, "dirty": bool(changes)}


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions
