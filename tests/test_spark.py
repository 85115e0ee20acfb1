"""Integration tier: a baked project scores on Spark in local mode, as its README says.

The lines of the first block of the README's "Score on Spark" section run as a user
would type them, in order: the ``spark`` dependency group, the project's Spark tests
(``nox -s spark``: Spark's predictions equal ``predict``'s row for row, invalid rows
fail the job or are set aside with their reasons), ``predict --engine spark`` in local
mode and under ``spark-submit --master``. The cluster commands after it are not run.
Spark needs Java: ``.ci/run`` installs Debian's ``openjdk-17-jre-headless`` when
``java`` is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import Bake, run

pytestmark = pytest.mark.integration

CONSOLE_BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def local_spark_lines(project: Path) -> list[str]:
    """The lines of the first console block under the README's Spark heading."""
    readme = (project / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n### Score on Spark\n", 1)[1].split("\n### ", 1)[0]
    first = CONSOLE_BLOCK.search(section)
    assert first is not None, "the section opens with the commands for this machine"
    return [line for line in first[1].splitlines() if line.strip()]


def test_a_baked_project_scores_on_spark_as_its_readme_says(bake: Bake) -> None:
    project = bake(project_slug="spark-scoring")
    run(["uv", "sync"], project)
    run(["uv", "run", "spark-scoring", "train"], project)
    lines = local_spark_lines(project)
    assert lines[0].startswith("uv sync --group spark")

    printed = {line: run(["bash", "-c", line], project, timeout=1200).stdout for line in lines}

    [tests] = [out for line, out in printed.items() if "nox -s spark" in line]
    [summary] = [line for line in tests.splitlines() if " deselected in " in line]
    assert re.search(r"= \d+ passed, \d+ deselected in ", summary), tests
    wrote = "wrote 2000 predictions to reports/scored (1 Parquet part; Spark {})"
    [local] = [out for line, out in printed.items() if line.startswith("uv run spark-scoring ")]
    assert wrote.format("local[*]") in local.splitlines(), "local mode on every core"
    [submitted] = [out for line, out in printed.items() if line.startswith("uv run spark-submit ")]
    assert wrote.format("local[2]") in submitted.splitlines(), "spark-submit's master"
    parts = [path.name for path in (project / "reports" / "scored").iterdir()]
    assert "_SUCCESS" in parts
    staging = [path for path in (project / "reports").iterdir() if path.name.startswith(".scored")]
    assert not staging, "the folders written beside the output were renamed into place"
