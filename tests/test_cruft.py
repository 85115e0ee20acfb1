"""Template updates reach existing projects: bake from one commit, update to the next.

A baked project records the template's source, commit and answers in `.cruft.json`, so
`cruft check` tells when the template moved on and `cruft update` brings the change in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import git, template_checkout
from cookiecutter.main import cookiecutter

CHARTER = "{{cookiecutter.project_slug}}/docs/project_charter.md"


def cruft(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("cruft")), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def test_update_round_trip(tmp_path: Path) -> None:
    template = tmp_path / "template"
    first = template_checkout(template)

    project = Path(cookiecutter(str(template), no_input=True, output_dir=str(tmp_path / "out")))
    record = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert record["commit"] == first
    assert record["context"]["cookiecutter"]["project_slug"] == project.name
    assert git("status", "--porcelain", cwd=project) == "", "the bake is committed"
    assert cruft("check", cwd=project).returncode == 0

    charter = template / CHARTER
    charter.write_text(
        charter.read_text(encoding="utf-8") + "\n## Review cadence\n\nQuarterly.\n",
        encoding="utf-8",
    )
    git("commit", "--quiet", "--all", "-m", "second", cwd=template)
    second = git("rev-parse", "HEAD", cwd=template)

    assert cruft("check", cwd=project).returncode != 0, "the project is behind the template"
    updated = cruft("update", "--skip-apply-ask", "--allow-untracked-files", cwd=project)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "## Review cadence" in (project / "docs/project_charter.md").read_text(encoding="utf-8")
    assert json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["commit"] == second
    assert not (project / ".git" / "MERGE_HEAD").exists()
    assert not list(project.rglob("*.rej")), "cruft writes .cruft.json; the hook leaves it alone"
    assert "Next:" not in updated.stdout, "no hint naming cruft's temporary folder"
    assert cruft("check", cwd=project).returncode == 0
