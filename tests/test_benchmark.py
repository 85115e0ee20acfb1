"""Full tier: the training benchmark runs end to end, as the README tells people to run it.

One small round (2,000 rows) is enough to show that it bakes, installs both environments,
times every column and prints the table whose header the README's Speed section uses.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run
from matrix import TEMPLATE

pytestmark = pytest.mark.full

NUMBER = r"(\d+\.\d+)"


def test_benchmark_prints_the_table_the_readme_shows(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    benchmark = ["uv", "run", "--only-group", "bench", "python", "scripts/benchmark.py"]
    done = run(
        [*benchmark, "--rows", "2000", "--repeats", "1"],
        TEMPLATE,
        extra_env={"UV_PROJECT_ENVIRONMENT": str(tmp_path / "bench-env"), "TMPDIR": str(scratch)},
    )
    table_header = done.stdout.splitlines()[0]
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    assert table_header in readme.splitlines(), "the README shows the table the script prints"

    seconds_and_ratio = rf"{NUMBER} s \| {NUMBER}x"
    row = re.search(
        rf"^\| 2,000 \| {NUMBER} s \| {seconds_and_ratio} \| {seconds_and_ratio} "
        rf"\| {seconds_and_ratio} \| (\d+) / (\d+) / (\d+) \|$",
        done.stdout,
        re.MULTILINE,
    )
    assert row, done.stdout
    bare, train, ratio, dev, dev_ratio, tracked, tracked_ratio = map(float, row.groups()[:7])
    assert ratio == pytest.approx(train / bare, abs=0.01)
    assert dev_ratio == pytest.approx(dev / bare, abs=0.01)
    assert tracked_ratio == pytest.approx(tracked / bare, abs=0.01)
    assert tracked > train, "logging to MLflow takes time"
    assert all(int(peak) > 50 for peak in row.groups()[7:]), "peak memory of real processes"

    help_line = re.search(rf"`ml-project --help` start-up: median {NUMBER} s", done.stdout)
    assert help_line
    assert 0 < float(help_line.group(1)) < 5
    assert re.search(rf"^- pandera\.pandas: \+{NUMBER} s$", done.stdout, re.MULTILINE)
    assert not list(scratch.glob("benchmark-*")), "the bake and data are cleaned up"
