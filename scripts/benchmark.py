"""Benchmark a baked project's `train` against a bare script doing only read, fit, score.

    python scripts/benchmark.py                      # bake the defaults, 10k/100k/1M rows
    python scripts/benchmark.py --rows 10000 100000 --repeats 3 --project path/to/bake

Both sides get the same synthetic churn data and the same preprocessing and estimator;
the difference is what the project adds: schema validation, permutation importance,
the chart, the model card, lineage, atomic artifacts and, when on, MLflow logging.

`train` runs from the runtime install (no dev group, as the Dockerfile builds it) and,
in its own column, from the development install `uv sync` makes, whose test tools
slow pandera's first validation down. The bare script runs in the runtime install.

Each command runs in its own process. The commands take turns, one round at a time, so
a machine that speeds up or slows down mid-run shifts every column alike; a ratio is
the median of the per-round ratios, what MLflow adds the median of the per-round
differences between `train` with tracking on and off, wall time the median and memory
the largest peak RSS of any one process (with tracking on, `train` and the process that
logs for it run side by side). It also times importing the libraries `train` loads beyond the
bare script's, which is the part of the gap no change to the pipeline can remove.
Needs uv.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from make_sample_data import churn

TEMPLATE = Path(__file__).resolve().parents[1]

# What `train` imports beyond the bare script: schema checks, charts, config and CLI.
EXTRA_IMPORTS = [
    "pandera.pandas",
    "matplotlib.figure, matplotlib.backends.backend_agg",
    "pydantic, yaml, typer",
]
# What pandera's first validation also imports when the dev group (the API's property
# tests) has installed it.
DEV_ONLY_IMPORTS = ["hypothesis.extra.pandas, hypothesis.strategies"]

SCRIPTS = Path(__file__).parent
# Each runs in a process of its own: one command timed; the bare baseline; one import timed.
MEASURE = SCRIPTS / "measure_command.py"
BARE = SCRIPTS / "bare_train.py"
TIMED_IMPORT = SCRIPTS / "timed_import.py"


def user_env() -> dict[str, str]:
    """The environment a user's shell would have: no trace of the venv (nox's, say) we run in."""
    inherited = ("VIRTUAL_ENV", "UV_PYTHON", "UV_PROJECT_ENVIRONMENT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def run_once(command: list[str], cwd: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, str(MEASURE), *command],
        cwd=cwd,
        env=user_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.exit(f"`{' '.join(command)}` failed:\n{done.stderr}")
    return json.loads(done.stdout)


def measure_in_turns(
    commands: dict[str, list[str]], cwd: Path, repeats: int, warm_up: bool = False
) -> dict[str, list[dict[str, float]]]:
    """Run the commands in turn ``repeats`` times; every round's wall time and peak memory.

    ``warm_up`` first runs each once untimed, so that no measured run pays for writing
    bytecode caches or creating the MLflow database.
    """
    for command in commands.values() if warm_up else ():
        run_once(command, cwd)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            runs[name].append(run_once(command, cwd))
    return runs


def summarise(runs: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Medians of wall time, of the per-round ratio to the bare script and, for the
    MLflow column, of the per-round seconds it adds to plain `train`; the largest peak."""
    bare = [r["wall"] for r in runs["bare"]]
    summary = {}
    for name, measured in runs.items():
        walls = [r["wall"] for r in measured]
        summary[name] = {
            "wall": statistics.median(walls),
            "ratio": statistics.median(w / b for w, b in zip(walls, bare, strict=True)),
            "peak_mib": max(r["peak_mib"] for r in measured),
        }
    if "tracked" in runs:
        plain = [r["wall"] for r in runs["train"]]
        tracked = [r["wall"] for r in runs["tracked"]]
        summary["tracked"]["added"] = statistics.median(
            t - p for t, p in zip(tracked, plain, strict=True)
        )
    return summary


def measure_imports(
    python: Path, cwd: Path, repeats: int, imports: list[str] = EXTRA_IMPORTS
) -> dict[str, float]:
    """Seconds each of ``imports`` (and, if several, all together) adds, in fresh processes."""
    statements = [*imports, ", ".join(imports)] if len(imports) > 1 else imports
    seconds: dict[str, list[float]] = {names: [] for names in statements}
    for _ in range(repeats):
        for names in statements:
            done = subprocess.run(
                [str(python), str(TIMED_IMPORT), names],
                cwd=cwd,
                env=user_env(),
                capture_output=True,
                text=True,
                check=True,
            )
            seconds[names].append(float(done.stdout))
    return {names: statistics.median(values) for names, values in seconds.items()}


def bake(where: Path) -> Path:
    """Bake the defaults into ``where`` and sync its development environment, as a user would."""
    if importlib.util.find_spec("cookiecutter") is None:
        sys.exit("baking needs cookiecutter: run `nox -s benchmark`, or pass --project")
    command = [sys.executable, "-m", "cookiecutter", str(TEMPLATE), "--no-input"]
    subprocess.run([*command, "-o", str(where), "git_init=no"], check=True, capture_output=True)
    project = where / "ml-project"
    subprocess.run(["uv", "sync", "--quiet"], cwd=project, check=True, env=user_env())
    return project


def runtime_environment(project: Path, where: Path) -> Path:
    """The project installed without its dev group, as its Dockerfile does, in ``where``."""
    subprocess.run(
        ["uv", "sync", "--quiet", "--frozen", "--no-dev"],
        cwd=project,
        check=True,
        env={**user_env(), "UV_PROJECT_ENVIRONMENT": str(where)},
    )
    return where


def train_configs(base: dict[str, Any], data: Path, work: Path) -> dict[str, Path]:
    """The project's own config pointed at ``data``, with MLflow off and, if it has it, on."""
    configs = {}
    for tracking in (False, True) if "tracking" in base else (False,):
        config = json.loads(json.dumps(base))
        config["data"]["path"] = str(data)
        config["paths"] = {"models": str(work / "models"), "reports": str(work / "reports")}
        config["model"].pop("params_file", None)
        if "tracking" in config:
            config["tracking"]["enabled"] = tracking
            config["tracking"]["uri"] = f"sqlite:///{work / 'mlflow.db'}"
        path = work / f"{data.stem}_{'tracked' if tracking else 'plain'}.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        configs["tracked" if tracking else "train"] = path
    return configs


TABLE_HEADER = (
    "| rows | bare script | `train` | ratio | `train`, dev install | ratio "
    "| `train` + MLflow | MLflow adds | peak MiB bare / train / + MLflow |"
)


def table_row(rows: int, summary: dict[str, dict[str, float]]) -> str:
    """One line of the README's table, every figure formatted from ``summary``."""
    cells = [f"{rows:,}", f"{summary['bare']['wall']:.2f} s"]
    for column in ("train", "dev"):
        cells += [f"{summary[column]['wall']:.2f} s", f"{summary[column]['ratio']:.2f}x"]
    tracked = summary.get("tracked")
    cells += [f"{tracked['wall']:.2f} s", f"+{tracked['added']:.2f} s"] if tracked else ["n/a"] * 2
    peaks = [summary[c]["peak_mib"] for c in ("bare", "train", "tracked") if c in summary]
    cells.append(" / ".join(f"{peak:.0f}" for peak in peaks))
    return f"| {' | '.join(cells)} |"


def print_report(
    name: str,
    results: list[tuple[int, dict[str, dict[str, float]]]],
    imports: dict[str, float],
    help_seconds: float,
) -> None:
    """The README's tables, in Markdown."""
    print(TABLE_HEADER)
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rows, summary in results:
        print(table_row(rows, summary))
    print("\nImport time on top of the bare script's imports (median, in-process):")
    for names, seconds in imports.items():
        print(f"- {names}: +{seconds:.2f} s")
    print(f"`{name} --help` start-up: median {help_seconds:.3f} s over 10 runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--project", type=Path, help="an already baked default project")
    parser.add_argument("--json", type=Path, help="also write every round's figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="benchmark-") as temporary:
        work = Path(temporary)
        project = (args.project or bake(work)).resolve()
        dev = project / ".venv" / "bin"
        runtime = runtime_environment(project, work / "runtime") / "bin"
        name = project.name
        base = yaml.safe_load((project / "configs" / "config.yaml").read_text(encoding="utf-8"))
        results = []
        raw: list[dict[str, Any]] = []
        for rows in args.rows:
            data = work / f"churn_{rows}.csv"
            churn(np.random.default_rng(rows), rows).to_csv(data, index=False)
            configs = train_configs(base, data, work)
            commands = {
                "bare": [str(runtime / "python"), str(BARE), str(data)],
                "train": [str(runtime / name), "train", "-c", str(configs["train"])],
                "dev": [str(dev / name), "train", "-c", str(configs["train"])],
            }
            if "tracked" in configs:
                commands["tracked"] = [str(runtime / name), "train", "-c", str(configs["tracked"])]
            warm_up = rows == args.rows[0]
            runs = measure_in_turns(commands, project, args.repeats, warm_up)
            results.append((rows, summarise(runs)))
            raw.append({"rows": rows, "rounds": runs, "summary": results[-1][1]})
            print(f"{rows} rows done", file=sys.stderr)

        imports = measure_imports(runtime / "python", project, args.repeats)
        imports |= measure_imports(dev / "python", project, args.repeats, DEV_ONLY_IMPORTS)
        help_runs = []
        for _ in range(10):
            start = time.perf_counter()
            subprocess.run(
                [runtime / name, "--help"],
                cwd=project,
                env=user_env(),
                check=True,
                capture_output=True,
            )
            help_runs.append(time.perf_counter() - start)
        help_seconds = statistics.median(help_runs)
        print_report(name, results, imports, help_seconds)
        if args.json:
            figures = {"sizes": raw, "imports": imports, "help_seconds": help_seconds}
            args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
