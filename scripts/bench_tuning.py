"""Benchmark a baked project's shared tuning: one worker against two on one PostgreSQL study.

    python scripts/bench_tuning.py                               # bake the defaults, measure
    python scripts/bench_tuning.py --project path/to/bake --trials 120 --repeats 3

A PostgreSQL server of its own is started for the run (scripts/local_postgres.py; the
``postgresql`` package must be installed) and the project gets its ``postgres`` group.
Each round gives one worker a fresh study with the budget, then two workers another
fresh study with the same budget, started together; the table gives the median wall
time until the last worker is done, trials per minute, and the two workers' time as a
ratio of one worker's in the same round. ``--config`` names another config (one with
tracking off, say).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from benchmark import bake, user_env
from local_postgres import LocalPostgres, local_postgres


def run_workers(
    project: Path, server: LocalPostgres, study: str, workers: int, options: list[str]
) -> float:
    """Seconds until ``workers`` processes, started together, fill a new study."""
    env = {**user_env(), "TUNING_STORAGE": server.create_database(study)}
    command = [str(project / ".venv" / "bin" / project.name), "tune", "--study", study, *options]
    start = time.perf_counter()
    processes = [
        subprocess.Popen(
            command,
            cwd=project,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    for process in processes:
        _, errors = process.communicate()
        if process.returncode:
            sys.exit(f"a tuning worker failed:\n{errors}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="an already baked project")
    parser.add_argument("--trials", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--config", type=Path, help="the config tune reads (default: the project's)"
    )
    arguments = parser.parse_args()
    # Each worker may run the whole budget; the cap stops both once the study holds it.
    options = ["--trials", str(arguments.trials), "--max-study-trials", str(arguments.trials)]
    if arguments.config:
        options += ["--config", str(arguments.config.resolve())]
    with tempfile.TemporaryDirectory(prefix="bench-tuning-") as scratch:
        project = arguments.project.resolve() if arguments.project else bake(Path(scratch))
        subprocess.run(
            ["uv", "sync", "--quiet", "--group", "postgres"],
            cwd=project,
            env=user_env(),
            check=True,
        )
        seconds: dict[int, list[float]] = {1: [], 2: []}
        with local_postgres() as server:
            for round_number in range(arguments.repeats):
                for workers in seconds:
                    study = f"bench_{round_number}_{workers}"
                    seconds[workers].append(run_workers(project, server, study, workers, options))
    ratios = [two / one for one, two in zip(seconds[1], seconds[2], strict=True)]
    print("| workers | trials | time | trials per minute | time ratio |")
    print("|---:|---:|---:|---:|---:|")
    for workers, measured in seconds.items():
        wall = statistics.median(measured)
        ratio = 1.0 if workers == 1 else statistics.median(ratios)
        print(
            f"| {workers} | {arguments.trials} | {wall:.1f} s "
            f"| {arguments.trials / wall * 60:.0f} | {ratio:.2f}x |"
        )


if __name__ == "__main__":
    main()
