"""JSON-lines files{{ ", such as the API's prediction log," if cookiecutter.serving == "fastapi" }} read whole even after a crash mid-write.

A process killed while appending can leave its last line cut short. Readers skip a line
that is not a whole JSON object, with a warning naming it, instead of failing on it.
{%- if cookiecutter.serving == "fastapi" %}
The next append starts on a fresh line, so it is never glued to the torn one.

A log that would grow past its size limit is renamed, with the time, beside itself
(``predictions.jsonl`` becomes ``predictions.20261129T101500123456Z.jsonl``) and a new
one starts; only the newest rotated files are kept. Reading a log reads the files it
was rotated into first, oldest to newest, so ``monitor -i logs/predictions.jsonl`` sees
them all.
{%- endif %}
"""

from __future__ import annotations

import json
import re
{%- if cookiecutter.serving == "fastapi" %}
import threading
{%- endif %}
import warnings
from collections.abc import Iterator
{%- if cookiecutter.serving == "fastapi" %}
from datetime import UTC, datetime
{%- endif %}
from pathlib import Path
from typing import Any
{%- if cookiecutter.serving == "fastapi" %}

from pydantic_core import to_json
{%- endif %}

from .errors import ProjectWarning

# Marks a logged prediction no client received (a shadow model's): not a row of traffic.
SHADOW_ENTRY = "shadow"
# Names the champion-against-challenger experiment a logged prediction was made in.
EXPERIMENT = "experiment"


def rotated_files(path: Path) -> list[Path]:
    """The files ``path`` was rotated into, oldest first."""
    stamp = re.compile(re.escape(path.stem) + r"\.\d{8}T\d{12}Z" + re.escape(path.suffix))
    if not path.parent.is_dir():
        return []
    return sorted(file for file in path.parent.iterdir() if stamp.fullmatch(file.name))


def log_files(path: Path) -> list[Path]:
    """The files of the log at ``path``: those it was rotated into, oldest first, then
    itself if it exists."""
    return [*rotated_files(path), *([path] if path.is_file() else [])]


def read_entries(path: Path) -> Iterator[dict[str, Any]]:
    """Every whole JSON object in the log at ``path`` and its rotated files, oldest first.

    A line that is not a whole JSON object (cut short by a crash, or edited by hand) is
    skipped with a ``ProjectWarning`` that names the file and the line; past
    ``NAMED_BAD_LINES`` of them in a file (a file that is no log at all), one more
    warning counts the rest.
    """
    for file in log_files(path):
        skipped = 0
        with file.open("rb") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested deep
                    entry = None
                if isinstance(entry, dict):
                    yield entry
                    continue
                skipped += 1
                if skipped <= NAMED_BAD_LINES:
                    warnings.warn(
                        f"{file}:{number}: not a whole JSON record (cut short?); skipped",
                        ProjectWarning,
                        stacklevel=2,
                    )
        if skipped > NAMED_BAD_LINES:
            warnings.warn(
                f"{file}: {skipped - NAMED_BAD_LINES} more lines that are not whole JSON "
                "records skipped",
                ProjectWarning,
                stacklevel=2,
            )


NAMED_BAD_LINES = 5  # unreadable lines of a log warned of one by one
{%- if cookiecutter.serving == "fastapi" %}


class JsonLinesLog:
    """An append-only JSON-lines file, shared by the server's threads.

    One process appends to a log at a time: the API server that owns it.
    """

    def __init__(self, path: Path, *, rotate_bytes: int, keep: int) -> None:
        self.path = path
        self.rotate_bytes = rotate_bytes
        self.keep = keep
        self._lock = threading.Lock()

    def writable(self) -> str | None:
        """Why the log cannot be appended to, or None when it can (it is created if need be)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab"):
                pass
        except OSError as error:
            return f"cannot write {self.path}: {error.strerror or error}"
        return None

    def append(self, entries: list[dict[str, Any]]) -> None:
        """Add one line per entry, in a single write, starting on a line of its own."""
        lines = b"".join(to_json(entry) + b"\n" for entry in entries)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            size = self.path.stat().st_size if self.path.is_file() else 0
            if size and size + len(lines) > self.rotate_bytes:
                self._rotate()
                size = 0
            with self.path.open("ab+") as stream:
                if size:
                    stream.seek(-1, 2)
                    if stream.read(1) != b"\n":  # a crash cut the last line short
                        lines = b"\n" + lines
                stream.write(lines)

    def _rotate(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.path.rename(self.path.with_name(f"{self.path.stem}.{stamp}{self.path.suffix}"))
        for expired in rotated_files(self.path)[: -self.keep]:
            expired.unlink(missing_ok=True)
{%- endif %}
