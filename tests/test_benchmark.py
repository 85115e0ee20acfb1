"""Integration tier: the benchmarks run end to end, the way the README runs them.

One small round (2,000 rows) is enough to show that it bakes, installs both environments,
times every column and prints the table whose header the README's Speed section uses.
The figures themselves depend on the machine, so nothing here compares one time with
another: the checks are that every printed cell is the raw measurement it claims to be.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import pytest
from conftest import Bake, run
from matrix import TEMPLATE

pytestmark = pytest.mark.integration

COLUMNS = ("bare", "train", "dev", "tracked")


def test_benchmark_prints_the_table_the_readme_shows(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    figures_file = tmp_path / "figures.json"
    benchmark = ["uv", "run", "--only-group", "bench", "python", "scripts/benchmark.py"]
    done = run(
        [*benchmark, "--rows", "2000", "--repeats", "2", "--json", str(figures_file)],
        TEMPLATE,
        extra_env={"UV_PROJECT_ENVIRONMENT": str(tmp_path / "bench-env"), "TMPDIR": str(scratch)},
    )
    lines = done.stdout.splitlines()
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] in readme, "the README shows the table the script prints"

    figures = json.loads(figures_file.read_text(encoding="utf-8"))
    (size,) = figures["sizes"]
    assert size["rows"] == 2000
    rounds, summary = size["rounds"], size["summary"]
    assert set(rounds) == set(COLUMNS), "bare, runtime, dev install and MLflow were all timed"
    assert all(len(rounds[column]) == 2 for column in COLUMNS), "two rounds each"
    walls = {column: [r["wall"] for r in rounds[column]] for column in COLUMNS}
    for column in COLUMNS:
        assert summary[column]["wall"] == pytest.approx(statistics.median(walls[column]))
        ratios = [w / b for w, b in zip(walls[column], walls["bare"], strict=True)]
        assert summary[column]["ratio"] == pytest.approx(statistics.median(ratios))
        assert summary[column]["peak_mib"] > 50, "peak memory of a real Python process"
    added = [t - p for t, p in zip(walls["tracked"], walls["train"], strict=True)]
    assert summary["tracked"]["added"] == pytest.approx(statistics.median(added))

    def cells(column: str, key: str, unit: str) -> str:
        return f"{summary[column][key]:.2f}{unit}"

    expected_row = " | ".join(
        [
            "| 2,000",
            cells("bare", "wall", " s"),
            cells("train", "wall", " s"),
            cells("train", "ratio", "x"),
            cells("dev", "wall", " s"),
            cells("dev", "ratio", "x"),
            cells("tracked", "wall", " s"),
            "+" + cells("tracked", "added", " s"),
            " / ".join(f"{summary[c]['peak_mib']:.0f}" for c in ("bare", "train", "tracked")),
        ]
    )
    assert expected_row + " |" in lines, "the table prints the measured figures"

    assert f"- pandera.pandas: +{figures['imports']['pandera.pandas']:.2f} s" in lines
    assert figures["help_seconds"] > 0
    assert f"median {figures['help_seconds']:.3f} s over 10 runs" in done.stdout
    assert not list(scratch.glob("benchmark-*")), "the bake and data are cleaned up"


def test_bake_benchmark_times_both_templates_in_turns(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    bench = ["uv", "run", "--only-group", "bench", "python", "scripts/bench_bake.py"]
    env = {"UV_PROJECT_ENVIRONMENT": str(tmp_path / "bench-env"), "TMPDIR": str(scratch)}
    done = run([*bench, "--rounds", "2", "--against", "HEAD"], TEMPLATE, extra_env=env)
    lines = done.stdout.splitlines()
    assert lines[0] == "| template | median of 2 | fastest | slowest |"
    seconds = r"(\d+\.\d\d) s"
    for row, name in zip(lines[2:4], ("HEAD", "this checkout"), strict=True):
        match = re.fullmatch(rf"\| {name} \| {seconds} \| {seconds} \| {seconds} \|", row)
        assert match, row
        median, fastest, slowest = map(float, match.groups())
        assert 0 < fastest <= median <= slowest
    assert re.fullmatch(r"this checkout / HEAD: \d+\.\d\dx", lines[-1])
    assert not list(scratch.glob("bench-bake-*")), "the bakes are cleaned up"

    wrong = run([*bench, "--against", "no-such-revision"], TEMPLATE, extra_env=env, check=False)
    assert wrong.returncode == 1
    assert "cannot export 'no-such-revision'" in wrong.stderr
    assert "Traceback" not in wrong.stderr


READS = ("whole file", "in batches")


def test_the_batch_and_tuning_benchmarks_print_their_tables(bake: Bake, tmp_path: Path) -> None:
    """One small round of each on one bake: every row of the tables, figures well formed."""
    project = bake(project_slug="bench-team")
    run(["uv", "sync"], project)
    env = {"UV_PROJECT_ENVIRONMENT": str(tmp_path / "bench-env")}
    bench = ["uv", "run", "--only-group", "bench", "python"]

    scored = run(
        [
            *bench,
            "scripts/bench_predict.py",
            "--project",
            str(project),
            *("--rows", "500", "--repeats", "1"),
        ],
        TEMPLATE,
        extra_env=env,
    ).stdout.splitlines()
    assert scored[0].startswith("| rows | command | read | time | per million rows |")
    number = r"\d[\d,]*(\.\d+)?"
    runs = [(command, read) for command in ("predict", "monitor") for read in READS]
    for row, (command, read) in zip(scored[2:], runs, strict=True):
        cells = rf"\| 500 \| `{command}` \| {read} \| {number} s \| {number} s \| {number} MiB "
        assert re.fullmatch(rf"{cells}\| {number}x \| {number}x \|", row), row
    for whole in (scored[2], scored[4]):
        assert whole.endswith("| 1.00x | 1.00x |"), "each whole-file run is its yardstick"

    tuned = run(
        [
            *bench,
            "scripts/bench_tuning.py",
            "--project",
            str(project),
            *("--trials", "4", "--repeats", "1"),
        ],
        TEMPLATE,
        extra_env=env,
    ).stdout.splitlines()
    assert tuned[0] == "| workers | trials | time | trials per minute | time ratio |"
    for row, workers in zip(tuned[2:], ("1", "2"), strict=True):
        assert re.fullmatch(rf"\| {workers} \| 4 \| {number} s \| \d+ \| {number}x \|", row), row


def test_the_spark_benchmark_prints_its_table(bake: Bake, tmp_path: Path) -> None:
    """One small round: `predict` and Spark's local mode each time the same Parquet file."""
    project = bake(project_slug="bench-spark")
    run(["uv", "sync"], project)
    bench = ["uv", "run", "--only-group", "bench", "python", "scripts/bench_spark.py"]
    arguments = ["--project", str(project), "--rows", "500", "--repeats", "1"]
    env = {"UV_PROJECT_ENVIRONMENT": str(tmp_path / "bench-env")}
    lines = run([*bench, *arguments], TEMPLATE, extra_env=env).stdout.splitlines()
    assert lines[0] == "| rows | scored by | time | per million rows | time ratio |"
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] in readme, "the README shows the table the script prints"
    number = r"\d[\d,]*\.\d+"
    for row, name in zip(lines[2:], ("predict", r"Spark local\[\*\]"), strict=True):
        assert re.fullmatch(rf"\| 500 \| {name} \| {number} s \| {number} s \| {number}x \|", row)
    assert lines[2].endswith("| 1.00x |"), "`predict` is the yardstick"
    assert len(lines) == 4
