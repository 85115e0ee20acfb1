"""Benchmark a baked project's `train` against a bare script doing only read, fit, score.

    python scripts/benchmark.py                      # bake the defaults, 10k/100k/1M rows
    python scripts/benchmark.py --rows 10000 100000 --repeats 3 --project path/to/bake

Both sides get the same synthetic churn data and the same preprocessing and estimator;
the difference is what the project adds: schema validation, permutation importance,
the plot, the model card, lineage, atomic artifacts and, when on, MLflow logging. Each
command runs in its own process. The commands take turns, one round at a time, so a
machine that speeds up or slows down mid-run shifts every column alike; a ratio is the
median of the per-round ratios, wall time the median and memory the largest peak RSS.
It also times importing the libraries `train` loads beyond the bare script's, which is
the part of the gap no change to the pipeline can remove. Needs uv.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from make_sample_data import churn

TEMPLATE = Path(__file__).resolve().parents[1]

# What `train` imports beyond the bare script: model format, schema checks, plotting, CLI.
EXTRA_IMPORTS = ["pandera.pandas", "PIL.ImageDraw, PIL.ImageFont", "pydantic, yaml, typer"]

# Runs a command in a child process and reports its wall time and peak memory.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - start
if done.returncode:
    sys.exit(done.stderr[-2000:])
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "peak_mib": peak_kib / 1024}))
"""

# The bare baseline: the same model and preprocessing, nothing else.
BARE_IMPORTS = """
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
"""
BARE = (
    BARE_IMPORTS
    + """
import sys

frame = pd.read_csv(sys.argv[1])
numeric = ["tenure_months", "monthly_charges", "support_calls"]
categorical = ["contract", "internet_service", "payment_method"]
pre = ColumnTransformer([
    ("n", Pipeline([("i", SimpleImputer(strategy="median")), ("s", StandardScaler())]), numeric),
    ("c", Pipeline([("i", SimpleImputer(strategy="constant", fill_value="missing")),
                    ("e", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]), categorical),
])
model = Pipeline([("p", pre), ("m", LogisticRegression(C=1.0, max_iter=1000))])
train, test = train_test_split(frame, test_size=0.2, random_state=42, stratify=frame["churned"])
model.fit(train[numeric + categorical], train["churned"])
print(roc_auc_score(test["churned"] == "yes", model.predict_proba(test[numeric + categorical])[:, 1]))
"""
)


def user_env() -> dict[str, str]:
    """The environment a user's shell would have: no trace of the venv (nox's, say) we run in."""
    inherited = ("VIRTUAL_ENV", "UV_PYTHON", "UV_PROJECT_ENVIRONMENT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def run_once(command: list[str], cwd: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
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
    commands: dict[str, list[str]], cwd: Path, repeats: int
) -> dict[str, dict[str, float]]:
    """Run the commands in turn ``repeats`` times; medians, and ratios to the first."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            runs[name].append(run_once(command, cwd))
    baseline = runs[next(iter(commands))]
    return {
        name: {
            "wall": statistics.median(r["wall"] for r in measured),
            "ratio": statistics.median(
                r["wall"] / b["wall"] for r, b in zip(measured, baseline, strict=True)
            ),
            "peak_mib": max(r["peak_mib"] for r in measured),
        }
        for name, measured in runs.items()
    }


# Imports the bare script's libraries, then times one more import statement.
TIMED_IMPORT = (
    BARE_IMPORTS
    + """
import sys, time
start = time.perf_counter()
exec(f"import {sys.argv[1]}")
print(time.perf_counter() - start)
"""
)


def measure_imports(python: Path, cwd: Path, repeats: int) -> dict[str, float]:
    """Seconds each of EXTRA_IMPORTS (and all together) adds, each in a fresh process."""
    statements = [*EXTRA_IMPORTS, ", ".join(EXTRA_IMPORTS)]
    seconds: dict[str, list[float]] = {names: [] for names in statements}
    for _ in range(repeats):
        for names in statements:
            done = subprocess.run(
                [str(python), "-c", TIMED_IMPORT, names],
                cwd=cwd,
                env=user_env(),
                capture_output=True,
                text=True,
                check=True,
            )
            seconds[names].append(float(done.stdout))
    return {names: statistics.median(values) for names, values in seconds.items()}


def bake(where: Path) -> Path:
    subprocess.run(
        ["cookiecutter", str(TEMPLATE), "--no-input", "-o", str(where), "git_init=no"],
        check=True,
        capture_output=True,
    )
    project = where / "ml-project"
    subprocess.run(["uv", "sync", "--quiet"], cwd=project, check=True, env=user_env())
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--project", type=Path, help="an already baked default project")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="benchmark-"))
    project = (args.project or bake(work)).resolve()
    python = project / ".venv" / "bin" / "python"
    command = project / ".venv" / "bin" / project.name
    import yaml

    base = yaml.safe_load((project / "configs" / "config.yaml").read_text(encoding="utf-8"))
    bare_script = work / "bare_train.py"
    bare_script.write_text(BARE, encoding="utf-8")
    # Warm the bytecode caches so the first measured run is not penalised.
    subprocess.run([str(command), "--help"], cwd=project, env=user_env(), capture_output=True)

    rows_out = []
    for rows in args.rows:
        data = work / f"churn_{rows}.csv"
        churn(np.random.default_rng(rows), rows).to_csv(data, index=False)
        commands = {"bare": [str(python), str(bare_script), str(data)]}
        for tracking in (False, True) if "tracking" in base else (False,):
            config = json.loads(json.dumps(base))
            config["data"]["path"] = str(data)
            config["paths"] = {"models": str(work / "models"), "reports": str(work / "reports")}
            config["model"].pop("params_file", None)
            if "tracking" in config:
                config["tracking"]["enabled"] = tracking
                config["tracking"]["uri"] = f"sqlite:///{work / 'mlflow.db'}"
            path = work / f"config_{rows}_{tracking}.yaml"
            path.write_text(yaml.safe_dump(config), encoding="utf-8")
            commands["tracked" if tracking else "train"] = [str(command), "train", "-c", str(path)]
        rows_out.append((rows, measure_in_turns(commands, project, args.repeats)))
        print(f"{rows} rows done", file=sys.stderr)

    import_costs = measure_imports(python, project, args.repeats)
    help_runs = []
    for _ in range(10):
        start = time.perf_counter()
        subprocess.run([str(command), "--help"], cwd=project, env=user_env(), capture_output=True)
        help_runs.append(time.perf_counter() - start)

    print(
        "| rows | bare script | `train` | ratio | `train` + MLflow | ratio "
        "| peak MiB bare / train / + MLflow |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for rows, result in rows_out:
        bare, plain, tracked = result["bare"], result["train"], result.get("tracked")
        mlflow_cells = (
            f"{tracked['wall']:.2f} s | {tracked['ratio']:.2f}x" if tracked else "n/a | n/a"
        )
        peaks = f"{bare['peak_mib']:.0f} / {plain['peak_mib']:.0f}" + (
            f" / {tracked['peak_mib']:.0f}" if tracked else ""
        )
        print(
            f"| {rows:,} | {bare['wall']:.2f} s | {plain['wall']:.2f} s | "
            f"{plain['ratio']:.2f}x | {mlflow_cells} | {peaks} |"
        )
    print("\nImport time on top of the bare script's imports (median, in-process):")
    for names, seconds in import_costs.items():
        print(f"- {names}: +{seconds:.2f} s")
    print(
        f"`{project.name} --help` start-up: median {statistics.median(help_runs):.3f} s over 10 runs"
    )


if __name__ == "__main__":
    main()
