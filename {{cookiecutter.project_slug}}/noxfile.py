"""Developer checks: ``uv run nox`` runs them all, ``uv run nox -s tests`` just one.

``uv run nox -s spark`` also runs the Spark tests, which need PySpark and Java: the
default run leaves them out, so a project that never uses Spark never installs it.
{%- if cookiecutter.serving == "fastapi" %}
``uv run nox -s e2e`` runs an A/B experiment of thousands of requests over HTTP, which
the default run leaves out for the minute it takes.
{%- endif %}

The sessions run in the project's own environment, the one ``uv sync`` builds from the
lockfile, instead of building a fresh one each: the checks then see exactly the versions
the project ships with, and a run costs seconds rather than an install.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "none"
nox.options.error_on_external_run = False

PROJECT_ENV = Path(__file__).parent / ".venv"


def _require_project_env(session: nox.Session) -> None:
    if Path(sys.prefix).resolve() != PROJECT_ENV.resolve() and "VIRTUAL_ENV" not in os.environ:
        session.error("run the checks through uv: `uv run nox` (after `uv sync`)")


@nox.session
def lint(session: nox.Session) -> None:
    """Every pre-commit hook on every file: ruff, formatting, file hygiene.

    The mypy hook is skipped here because the typecheck session runs mypy; a commit
    still runs it, and ``uv run pre-commit run --all-files`` runs every hook.
    """
    _require_project_env(session)
    if not Path(".git").exists():
        session.error("pre-commit needs a git repository: run `git init` first")
    session.run(
        "pre-commit",
        "run",
        "--all-files",
        "--show-diff-on-failure",
        *session.posargs,
        env={"SKIP": "mypy"},
    )


@nox.session
def typecheck(session: nox.Session) -> None:
    """Static types with mypy (strict), settings in pyproject.toml."""
    _require_project_env(session)
    session.run("mypy", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite with branch coverage and the fail-under gate from pyproject.toml."""
    _require_project_env(session)
    # One worker per core; a test file stays on one worker, so its module fixtures (a
    # trained model, a live server, background trainings) are built once.
    workers = ["-n", "auto", "--dist", "loadfile"]
    session.run("pytest", *workers, "--cov", "--cov-report=term-missing", *session.posargs)


@nox.session(default=False)
def spark(session: nox.Session) -> None:
    """The Spark tests (marked ``spark``), which the other sessions leave out: Spark in
    local mode scores as ``predict`` does. Installs the spark group into the project's
    environment first; needs Java 17 or newer."""
    _require_project_env(session)
    session.run_install("uv", "sync", "--inexact", "--group", "spark", external=True)
    session.run("pytest", "-m", "spark", "-p", "no:xdist", *session.posargs)
{%- if cookiecutter.serving == "fastapi" %}


@nox.session(default=False)
def e2e(session: nox.Session) -> None:
    """The experiment loop at full scale (tests marked ``e2e``): two models served over
    HTTP, thousands of requests and their outcomes, the verdict and the promotion."""
    _require_project_env(session)
    session.run("pytest", "-m", "e2e", "-n", "2", *session.posargs)
{%- endif %}
