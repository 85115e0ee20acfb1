"""Integration tier: a baked project's online experiment at full scale (``nox -s e2e``).

The default ``uv run nox`` of a bake leaves out the tests marked ``e2e`` for the minute
they take; here they run as the project's README says: two models behind a real
server, 2,000 requests of one record each and an outcome for every one, the report's
verdict and the promotion it allows, once with a truly better challenger and once
with two equal models.
"""

from __future__ import annotations

import re

import pytest
from conftest import Bake, run

pytestmark = pytest.mark.integration


def test_a_baked_project_runs_its_experiment_at_full_scale(bake: Bake) -> None:
    project = bake(project_slug="ab-loop")
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "`uv run nox -s e2e`" in readme, "the README says how to run it"
    run(["uv", "sync"], project)

    tests = run(["uv", "run", "nox", "-s", "e2e"], project, timeout=1200).stdout

    # pytest-xdist's workers deselect, so the summary may not count what they left out.
    [summary] = [line for line in tests.splitlines() if re.search(r"= \d+ \w+.* in ", line)]
    assert re.search(r"= 2 passed(, \d+ deselected)? in ", summary), tests
