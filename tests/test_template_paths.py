"""Every way of naming the template bakes the same project, as the README says.

A folder by absolute or relative path (``./x``, ``../x``, ``x``, ``.``), a ``file://``
URL of a bare repository and a zip. Where the template is a git checkout, the bake
records it in ``.cruft.json`` and ``cruft check`` agrees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git, template_checkout


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git checkout of the template as it is now, and the commit it is at."""
    root = tmp_path_factory.mktemp("sources")
    checkout = root / "cookiecutter-mlops"
    commit = template_checkout(checkout)
    git("clone", "--quiet", "--bare", str(checkout), str(root / "bare.git"), cwd=root)
    git(
        "archive",
        "--format=zip",
        "--prefix=cookiecutter-mlops/",
        "-o",
        str(root / "t.zip"),
        "HEAD",
        cwd=checkout,
    )
    (root / "elsewhere").mkdir()
    return checkout, commit


def bake_from(template: str, cwd: Path, output: Path) -> subprocess.CompletedProcess[str]:
    settings = output.parent / f"{output.name}-cookiecutterrc.yaml"
    settings.write_text(
        f"cookiecutters_dir: {output.parent / (output.name + '-clones')}\n"
        f"replay_dir: {output.parent / (output.name + '-replay')}\n",
        encoding="utf-8",
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            template,
            "--no-input",
            "-o",
            str(output),
            "git_init=no",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PWD": str(cwd), "COOKIECUTTER_CONFIG": str(settings)},
    )


FORMS = {
    # form: (where the command runs, relative to the sources folder; the template argument)
    "absolute": ("elsewhere", "{checkout}"),
    "dot-slash": (".", "./cookiecutter-mlops"),
    "dot-dot": ("elsewhere", "../cookiecutter-mlops"),
    "bare name": (".", "cookiecutter-mlops"),
    "dot": ("cookiecutter-mlops", "."),
    "file URL": ("elsewhere", "file://{root}/bare.git"),
}


@pytest.mark.parametrize("form", FORMS)
def test_every_path_form_bakes_and_records_the_template(
    sources: tuple[Path, str], tmp_path: Path, form: str
) -> None:
    checkout, commit = sources
    where, template = FORMS[form]
    template = template.format(checkout=checkout, root=checkout.parent)
    result = bake_from(template, checkout.parent / where, tmp_path / "out")
    assert result.returncode == 0, result.stdout + result.stderr
    project = tmp_path / "out" / "ml-project"
    assert (project / "pyproject.toml").is_file()
    record = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert record["commit"] == commit
    expected = str(checkout) if "://" not in template else template
    assert record["template"] == expected


def test_a_relative_bake_passes_cruft_check(sources: tuple[Path, str], tmp_path: Path) -> None:
    checkout, _ = sources
    result = bake_from("./cookiecutter-mlops", checkout.parent, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    project = tmp_path / "out" / "ml-project"
    git("init", "--quiet", cwd=project)
    checked = subprocess.run(
        [str(Path(sys.executable).with_name("cruft")), "check"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_zip_bakes_without_a_record(sources: tuple[Path, str], tmp_path: Path) -> None:
    checkout, _ = sources
    result = bake_from(str(checkout.parent / "t.zip"), checkout.parent, tmp_path / "out")
    assert result.returncode == 0, result.stdout + result.stderr
    project = tmp_path / "out" / "ml-project"
    assert (project / "pyproject.toml").is_file()
    assert not (project / ".cruft.json").exists(), "a zip has no commit to compare with"
