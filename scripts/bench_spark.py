"""Benchmark a baked project's `predict --engine spark` in local mode against `predict`.

    python scripts/bench_spark.py                               # bake the defaults, train, measure
    python scripts/bench_spark.py --project path/to/bake --rows 1000 1000000 --repeats 3

For each size, one Parquet file of that many rows drawn from the project's sample data
(written in row groups of 100,000 rows, the unit Spark splits a file by, so that it can
use every core) is scored by `predict` (one process, 100,000 rows at a time) and by
`predict --engine spark` (Spark's local mode on every core: a JVM, and a Python worker
per core running the same checks and pipeline). Both run with OMP_NUM_THREADS=1, so
numerical libraries do not add threads of their own, and with the project's default
estimator. The two take turns, each in a fresh process, so a change in the machine's
speed hits both alike; the table gives the median wall time, the time per million rows
and the median of the per-round ratios to `predict`. Spark's time includes starting the
JVM and its workers: the smallest size shows that overhead on its own. Needs uv and Java.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_predict import parse_arguments, trained_project
from benchmark import measure_in_turns, user_env

ROW_GROUP = 100_000
# Run by the project's own Python, which has pandas and pyarrow: the rows to score.
WRITE_ROWS = """
import sys
import numpy as np
import pandas as pd
sample, rows, path = pd.read_csv(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
picked = np.random.default_rng(0).integers(0, len(sample), rows)
sample.iloc[picked].to_parquet(path, index=False, row_group_size=int(sys.argv[4]))
"""
ENGINES = ("predict", "Spark local[*]")


def write_rows(project: Path, rows: int, path: Path) -> None:
    """``rows`` rows drawn with replacement from the project's sample data, as Parquet."""
    sample = next((project / "data" / "sample").glob("*.csv"))
    python = project / ".venv" / "bin" / "python"
    arguments = [str(sample), str(rows), str(path), str(ROW_GROUP)]
    subprocess.run([str(python), "-c", WRITE_ROWS, *arguments], check=True, env=user_env())


def table(results: dict[int, dict[str, list[dict[str, float]]]]) -> str:
    lines = [
        "| rows | scored by | time | per million rows | time ratio |",
        "|---:|---|---:|---:|---:|",
    ]
    for rows, runs in results.items():
        local = runs[ENGINES[0]]
        for name, measured in runs.items():
            wall = statistics.median(r["wall"] for r in measured)
            ratio = statistics.median(
                r["wall"] / w["wall"] for r, w in zip(measured, local, strict=True)
            )
            lines.append(
                f"| {rows:,} | {name} | {wall:.1f} s | {wall / rows * 1e6:.2f} s | {ratio:.2f}x |"
            )
    return "\n".join(lines)


def main() -> None:
    arguments = parse_arguments(__doc__.splitlines()[0], [1_000, 1_000_000])
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as scratch:
        work = Path(scratch)
        project = trained_project(arguments.project, work)
        subprocess.run(
            ["uv", "sync", "--quiet", "--inexact", "--group", "spark"],
            cwd=project,
            env=user_env(),
            check=True,
        )
        command = [str(project / ".venv" / "bin" / project.name)]
        # `env` sets it for the command and all it starts: Spark's JVM and its workers.
        one_thread = ["env", "OMP_NUM_THREADS=1", *command]
        results = {}
        for rows in arguments.rows:
            data = work / f"rows_{rows}.parquet"
            write_rows(project, rows, data)
            predict = [*one_thread, "predict", "-i", str(data)]
            commands = {
                ENGINES[0]: [*predict, "-o", str(work / "local.parquet")],
                ENGINES[1]: [*predict, "--engine", "spark", "-o", str(work / "scored")],
            }
            results[rows] = measure_in_turns(commands, project, arguments.repeats)
            data.unlink()
        print(table(results))


if __name__ == "__main__":
    main()
