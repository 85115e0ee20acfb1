"""A throwaway PostgreSQL server for the tests and benchmarks: real, private, on a socket.

The server listens on a Unix socket in a temporary folder only, so no port can clash;
its data sit in that folder and go with it. PostgreSQL refuses to run as root, so when
the caller is root the server runs as the ``postgres`` user that Debian's package
creates. Install the server with ``apt-get install postgresql`` (``.ci/run`` does).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

USER = "mlops"  # the database role the tests connect as (trust authentication)


@dataclass(frozen=True)
class LocalPostgres:
    socket_dir: Path
    bin_dir: Path

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        """An SQLAlchemy URL for ``database`` over the server's socket."""
        return f"{driver}://{USER}@/{database}?host={self.socket_dir}"

    def create_database(self, name: str) -> str:
        """Create ``name``; return its SQLAlchemy URL."""
        self.psql("postgres", f'CREATE DATABASE "{name}"')
        return self.url(name)

    def psql(self, database: str, sql: str) -> str:
        """Run ``sql`` with psql; its rows, unaligned, one per line."""
        done = subprocess.run(
            [
                *(str(self._client("psql")), "-h", str(self.socket_dir), "-U", USER),
                *("-d", database, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def _client(self, name: str) -> Path:
        own = self.bin_dir / name
        return own if own.exists() else Path(shutil.which(name) or name)


def server_bin_dir() -> Path:
    """Where ``initdb`` and ``pg_ctl`` are: Debian keeps them out of PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError(
            "PostgreSQL is not installed: apt-get install postgresql (.ci/run does it)"
        )
    return Path(initdb).resolve().parent


@contextlib.contextmanager
def local_postgres() -> Iterator[LocalPostgres]:
    """Start a fresh server; stop it and delete its data on the way out."""
    bin_dir = server_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="postgres-"))
    data = root / "data"
    as_owner: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    root.chmod(0o755)  # the socket must be reachable by every client

    def pg(*command: str) -> None:
        subprocess.run(as_owner + list(command), check=True, capture_output=True, text=True)

    try:
        pg(str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "--no-sync")
        options = f"-c listen_addresses='' -k {root} -F -c max_connections=200"
        log = str(root / "server.log")
        pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", log, "-w", "start")
        yield LocalPostgres(root, bin_dir)
    finally:
        if data.exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
