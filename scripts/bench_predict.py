"""Benchmark a baked project's `predict` and `monitor`: in batches against read whole.

    python scripts/bench_predict.py                              # bake the defaults, train, measure
    python scripts/bench_predict.py --project path/to/bake --rows 1000000 10000000

For each size, a CSV of that many rows drawn from the project's sample data (target
included, so `monitor` also scores the model) is scored by `predict` and checked for
drift by `monitor`, each as it ships (100,000 rows at a time) and with `--batch-rows`
set to the whole file, which reads and checks every row at once. The four run in turns,
each in a fresh process; the table gives the median wall time, the time per million
rows, the peak resident memory and the ratio of each to the same command's whole-file
run in the same round. Needs uv.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from benchmark import bake, measure_in_turns, user_env


def sample_rows(project: Path, rows: int, path: Path) -> None:
    """``rows`` rows drawn with replacement from the project's sample data, as a CSV."""
    sample = pd.read_csv(next((project / "data" / "sample").glob("*.csv")))
    picked = np.random.default_rng(0).integers(0, len(sample), rows)
    sample.iloc[picked].to_csv(path, index=False)


def table(results: dict[int, dict[str, list[dict[str, float]]]]) -> str:
    lines = [
        "| rows | command | read | time | per million rows | peak memory | time ratio "
        "| memory ratio |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for rows, runs in results.items():
        for name, measured in runs.items():
            command, read = name.split(", ")
            whole = runs[f"{command}, {WHOLE}"]
            wall = statistics.median(r["wall"] for r in measured)
            peak = max(r["peak_mib"] for r in measured)
            ratio = statistics.median(
                r["wall"] / w["wall"] for r, w in zip(measured, whole, strict=True)
            )
            memory = peak / max(r["peak_mib"] for r in whole)
            lines.append(
                f"| {rows:,} | `{command}` | {read} | {wall:.1f} s | {wall / rows * 1e6:.2f} s "
                f"| {peak:,.0f} MiB | {ratio:.2f}x | {memory:.2f}x |"
            )
    return "\n".join(lines)


WHOLE, BATCHES = "whole file", "in batches"


def commands_for(command: str, data: Path, work: Path, rows: int) -> dict[str, list[str]]:
    """Both commands, each reading the whole file at once and as it ships."""
    shipped = {
        "predict": [command, "predict", "-i", str(data), "-o", str(work / "out.csv")],
        "monitor": [command, "monitor", "-i", str(data), "-d", str(work / "report")],
    }
    return {
        f"{name}, {read}": [*line, "--batch-rows", str(rows)] if read == WHOLE else line
        for name, line in shipped.items()
        for read in (WHOLE, BATCHES)
    }


def parse_arguments(description: str, rows: list[int]) -> argparse.Namespace:
    """The options of the batch-scoring benchmarks: a baked project, sizes, rounds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--project", type=Path, help="an already baked project")
    parser.add_argument("--rows", type=int, nargs="+", default=rows)
    parser.add_argument("--repeats", type=int, default=3)
    return parser.parse_args()


def trained_project(project: Path | None, work: Path) -> Path:
    """``project``, or the defaults baked into ``work``, with a trained model."""
    project = project.resolve() if project else bake(work)
    command = project / ".venv" / "bin" / project.name
    subprocess.run(
        [str(command), "train"], cwd=project, env=user_env(), check=True, capture_output=True
    )
    return project


def main() -> None:
    arguments = parse_arguments(__doc__.splitlines()[0], [1_000_000, 10_000_000])
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as scratch:
        work = Path(scratch)
        project = trained_project(arguments.project, work)
        command = project / ".venv" / "bin" / project.name
        results = {}
        for rows in arguments.rows:
            data = work / f"rows_{rows}.csv"
            sample_rows(project, rows, data)
            commands = commands_for(str(command), data, work, rows)
            results[rows] = measure_in_turns(commands, project, arguments.repeats, warm_up=False)
            data.unlink()
        print(table(results))


if __name__ == "__main__":
    main()
