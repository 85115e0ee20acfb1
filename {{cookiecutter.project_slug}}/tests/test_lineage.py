"""Lineage: a run names the commit it was trained from, and whether the code had changed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.lineage import git_state


def git(repository: Path, *arguments: str) -> None:
    executable = shutil.which("git")
    assert executable is not None, "lineage is read from git, which must be installed"
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    command = [executable, *identity, *arguments]
    subprocess.run(command, cwd=repository, check=True, capture_output=True)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A project as the bake leaves it: one commit, before ``uv sync`` wrote the lock."""
    git(tmp_path, "init", "--quiet")
    (tmp_path / "model.py").write_text("WEIGHT = 1\n", encoding="utf-8")
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "first")
    return tmp_path


def test_the_first_lock_file_leaves_the_project_clean(repository: Path) -> None:
    (repository / "uv.lock").write_text("version = 1\n", encoding="utf-8")
    state = git_state(repository)
    assert state["commit"] is not None
    assert state["dirty"] is False


@pytest.mark.parametrize(
    ("path", "text"),
    [("model.py", "WEIGHT = 2\n"), ("features.py", "NEW = True\n")],
    ids=["edited tracked code", "new untracked code"],
)
def test_uncommitted_code_makes_the_run_dirty(repository: Path, path: str, text: str) -> None:
    (repository / "uv.lock").write_text("version = 1\n", encoding="utf-8")
    (repository / path).write_text(text, encoding="utf-8")
    assert git_state(repository)["dirty"] is True


{%- if cookiecutter.data_versioning == "dvc" %}


def test_what_dvc_repro_writes_leaves_the_project_clean(repository: Path) -> None:
    """Its lock file and .gitignore entries, staged as DVC's autostage does; not code."""
    (repository / "dvc.lock").write_text("schema: '2.0'\n", encoding="utf-8")
    (repository / "data").mkdir()
    (repository / "data" / ".gitignore").write_text("/dataset.parquet\n", encoding="utf-8")
    git(repository, "add", "dvc.lock", "data/.gitignore")
    assert git_state(repository)["dirty"] is False
    (repository / "model.py").write_text("WEIGHT = 3\n", encoding="utf-8")
    assert git_state(repository)["dirty"] is True
{%- endif %}


def test_no_repository_means_no_commit(tmp_path: Path) -> None:
    assert git_state(tmp_path) == {"commit": None, "dirty": None}
