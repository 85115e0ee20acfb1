"""Temporary names that say who wrote them, so a later run can clean up after a crash.

Files and run folders are written under a temporary name and renamed into place when
complete. A process killed in between leaves the temporary behind. Each temporary name
carries the host and process id of its writer (``.metrics.json.build-7-4242.k3j2h1x0.tmp``),
and every writer first removes the leftovers in its folder whose writer is gone: same
host, no such process. What a live process is writing is never touched, so two commands
at once never clean each other up.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "localhost"
# .<name>.<host>-<pid>.<random, from tempfile>[.tmp][.old]
LEFTOVER = re.compile(r"\..+\.(?P<owner>[A-Za-z0-9-]+-\d+)\.[a-z0-9_]{8}(\.tmp)?(\.old)?")


def owner() -> str:
    """This process, as temporary names and MLflow run tags record it."""
    return f"{HOST}-{os.getpid()}"


def temporary_prefix(name: str) -> str:
    """The prefix for a temporary stand-in for ``name``, written by this process."""
    return f".{name}.{owner()}."


def abandoned(recorded_owner: str) -> bool:
    """Whether the process ``recorded_owner`` names is gone (only knowable on this host)."""
    host, _, pid = recorded_owner.rpartition("-")
    if host != HOST or not pid.isdigit() or os.name == "nt":
        return False
    try:
        os.kill(int(pid), 0)  # signal 0 checks that the process exists, nothing more
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):  # another user's process, or no such pid
        return False
    return False


def sweep(folder: Path) -> None:
    """Remove the temporaries in ``folder`` that a process now gone left behind."""
    try:
        entries = [entry for entry in folder.iterdir() if entry.name.startswith(".")]
    except OSError:
        return
    for entry in entries:
        match = LEFTOVER.fullmatch(entry.name)
        if match is None or not abandoned(match["owner"]):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
