"""The template's own checks: ``nox -s tests`` bakes projects and runs their suites.

nox -s tests                 # both tiers (what CI runs)
nox -s tests -- -m "not full"  # the fast tier only: render and static checks
nox -s lint                  # ruff on the template's own code
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]

# The generated project is Jinja, not Python, until baked: the tests lint each bake instead.
TEMPLATE_CODE = ["hooks", "tests", "scripts", "local_extensions.py", "noxfile.py"]


def install_group(session: nox.Session, group: str) -> None:
    """Install a dependency group from uv.lock into the session's environment."""
    session.run_install(
        "uv",
        "sync",
        "--locked",
        "--only-group",
        group,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


@nox.session
def lint(session: nox.Session) -> None:
    install_group(session, "test")
    session.run("ruff", "check", *TEMPLATE_CODE)
    session.run("ruff", "format", "--check", *TEMPLATE_CODE)


@nox.session
def tests(session: nox.Session) -> None:
    install_group(session, "test")
    session.run("pytest", "-n", "auto", "--durations=15", *session.posargs)


@nox.session
def benchmark(session: nox.Session) -> None:
    """Time a baked project's `train` against a bare script; prints the README table."""
    install_group(session, "bench")
    session.run("python", "scripts/benchmark.py", *session.posargs)
