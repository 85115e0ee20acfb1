"""Baking helpers shared by both tiers: bake into a temp dir, run commands as a user would."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from cookiecutter.main import cookiecutter

sys.path.insert(0, str(Path(__file__).parent))

from matrix import TEMPLATE, Answers, load_module

Bake = Callable[..., Path]


def load_hook(name: str) -> ModuleType:
    """Import a hook script by path; its checks are plain functions."""
    return load_module(TEMPLATE / "hooks" / f"{name}.py")


def load_script(name: str) -> ModuleType:
    """Import one of the template's developer scripts by path."""
    return load_module(TEMPLATE / "scripts" / f"{name}.py")


def git(*args: str, cwd: Path) -> str:
    """Run git with a fixed identity; its output, stripped."""
    identity = ["-c", "user.name=Template Tests", "-c", "user.email=tests@example.com"]
    return subprocess.run(
        ["git", *identity, *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def template_checkout(destination: Path) -> str:
    """Copy the template as it is now into a new git repository; return its one commit.

    The copy is what a user would clone: committed, without caches or environments.
    """
    shutil.copytree(
        TEMPLATE,
        destination,
        ignore=shutil.ignore_patterns(".git", ".venv", ".nox", "__pycache__", "*_cache"),
    )
    git("init", "--quiet", "--initial-branch=main", cwd=destination)
    git("add", "--all", cwd=destination)
    git("commit", "--quiet", "-m", "first", cwd=destination)
    return git("rev-parse", "HEAD", cwd=destination)


def pyenv_python_dirs() -> list[str]:
    """bin folders of every CPython under the pyenv root (uv does not see pyenv shims)."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    return [str(path / "bin") for path in sorted(root.glob("3.1[0-9]*"))] if root.is_dir() else []


def user_env() -> dict[str, str]:
    """The environment a baked project's commands run in, as on a developer's machine."""
    # Drop what the test runner's own environment (nox, a virtualenv) would leak into
    # the baked project: UV_PYTHON, for one, would pin uv to the runner's interpreter.
    leaked = ("VIRTUAL_ENV", "UV_PROJECT", "UV_PYTHON", "UV_SYSTEM_PYTHON", "NOX_", "PYTHONHOME")
    env = {key: value for key, value in os.environ.items() if not key.startswith(leaked)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's Python caches bytecode; so do we
    env["UV_PYTHON_DOWNLOADS"] = "never"  # a missing interpreter fails fast and clearly
    env["PATH"] = os.pathsep.join([*pyenv_python_dirs(), env.get("PATH", "")])
    # These tests already run one bake per core; a bake's `pytest -n auto` would start a
    # worker per core on top. One worker each still runs the suite the xdist way.
    env.setdefault("PYTEST_XDIST_AUTO_NUM_WORKERS", "1")
    env.setdefault("GIT_AUTHOR_NAME", "Template Tests")
    env.setdefault("GIT_AUTHOR_EMAIL", "tests@example.com")
    env.setdefault("GIT_COMMITTER_NAME", "Template Tests")
    env.setdefault("GIT_COMMITTER_EMAIL", "tests@example.com")
    return env


def run(
    command: list[str],
    cwd: Path,
    timeout: float = 900,
    extra_env: dict[str, str] | None = None,
    *,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` like a user in ``cwd``; fail the test with its output if it fails
    (unless ``check`` is off: then the caller looks at the exit code)."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**user_env(), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"`{' '.join(command)}` exited {result.returncode}\n--- stdout\n{result.stdout[-6000:]}"
            f"\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result


@pytest.fixture
def bake(tmp_path: Path) -> Bake:
    """Bake the template with ``answers`` (the rest default) and return the project folder."""

    def _bake(**answers: str) -> Path:
        context: Answers = dict(answers)
        return Path(
            cookiecutter(
                str(TEMPLATE), no_input=True, extra_context=context, output_dir=str(tmp_path)
            )
        )

    return _bake


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        assert process.poll() is None, f"{process.args[0]} exited"
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.5)


@contextlib.contextmanager
def mlflow_server(project: Path, backend_store: str, artifacts: Path) -> Iterator[str]:
    """`mlflow server` on 127.0.0.1, from the project's own environment; yields its URL.

    The free port is found before the server takes it; should another process take it
    first, the server exits and is started again on another.
    """
    for attempt in range(3):
        port = free_port()
        process = subprocess.Popen(
            [
                *(str(project / ".venv" / "bin" / "mlflow"), "server", "--workers", "1"),
                *("--host", "127.0.0.1", "--port", str(port)),
                *("--backend-store-uri", backend_store, "--artifacts-destination", str(artifacts)),
            ],
            cwd=artifacts.parent,
            env=user_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{url}/health", process)
        except AssertionError:
            process.kill()
            process.wait(timeout=30)
            if process.returncode is not None and attempt < 2:
                continue
            raise
        try:
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
        return
