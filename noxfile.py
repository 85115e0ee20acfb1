"""The template's own checks: ``nox -s tests`` bakes projects and runs their suites.

nox -s lint tests            # what CI runs: ruff, then every tier, one after the other
nox -s tests -- fast         # one tier: fast, full or integration
nox -s tests -- -k cruft     # anything else is handed to pytest as it is
"""

from __future__ import annotations

import time

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


# Each tier's marker expression; a test without a tier marker belongs to the fast one.
TIERS = {
    "fast": "not full and not integration",
    "full": "full",
    "integration": "integration",
}


@nox.session
def tests(session: nox.Session) -> None:
    """The tiers in turn, each on every core, each timed: the budgets are per tier."""
    install_group(session, "test")
    chosen = [tier for tier in session.posargs if tier in TIERS]
    if session.posargs and not chosen:
        session.run("pytest", "-n", "auto", "--durations=15", *session.posargs)
        return
    took = {}
    for tier in chosen or TIERS:
        start = time.perf_counter()
        session.run("pytest", "-n", "auto", "--durations=10", "-m", TIERS[tier])
        took[tier] = time.perf_counter() - start
    session.log(", ".join(f"{tier} tier: {seconds:.0f} s" for tier, seconds in took.items()))


@nox.session
def benchmark(session: nox.Session) -> None:
    """Time a baked project's `train` against a bare script; prints the README table."""
    install_group(session, "bench")
    session.run("python", "scripts/benchmark.py", *session.posargs)
