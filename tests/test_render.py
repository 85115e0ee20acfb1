"""Fast tier: bake across the pairwise matrix and check the result without installing it."""

from __future__ import annotations

import ast
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
import repo_review.processor
import yaml
from conftest import Bake, run
from markdown_it import MarkdownIt
from matrix import (
    FULL_TIER,
    MANIFEST,
    TEMPLATE,
    Answers,
    label,
    manifest_value,
    pairwise,
    resolved,
)
from validate_pyproject import api as pyproject_api
from validate_pyproject import errors as pyproject_errors

MATRIX = pairwise()
LEFTOVER_JINJA = re.compile(r"{{\s*cookiecutter|{%-?\s|cookiecutter\.")

COMMON_FILES = {
    ".cruft.json",  # the template under test is a git checkout
    ".gitignore",
    ".pre-commit-config.yaml",
    ".python-version",
    "README.md",
    "configs/config.yaml",
    "configs/tuned_params.yaml",
    "data/processed/.gitkeep",
    "data/raw/.gitkeep",
    "data/sample/README.md",
    "docs/mlops_maturity.md",
    "docs/project_charter.md",
    "noxfile.py",
    "pyproject.toml",
    "reports/.gitkeep",
    "tests/conftest.py",
    "tests/test_artifacts.py",
    "tests/test_charts.py",
    "tests/test_cli.py",
    "tests/test_cli_vocabulary.py",
    "tests/test_config.py",
    "tests/test_config_draft.py",
    "tests/test_data.py",
    "tests/test_features.py",
    "tests/test_lineage.py",
    "tests/test_maturity_map.py",
    "tests/test_monitoring.py",
    "tests/test_predict.py",
    "tests/test_spark_scoring.py",
    "tests/test_tasks.py",
    "tests/test_train.py",
    "tests/test_tuning.py",
}
PACKAGE_FILES = {
    "__init__.py",
    "__main__.py",
    "artifacts.py",
    "charts.py",
    "cli.py",
    "config.py",
    "config_draft.py",
    "data.py",
    "errors.py",
    "evaluate.py",
    "explain.py",
    "features.py",
    "json_lines.py",
    "leftovers.py",
    "lineage.py",
    "model_card.py",
    "monitoring.py",
    "predict.py",
    "profiles.py",
    "py.typed",
    "spark_scoring.py",
    "tasks.py",
    "train.py",
    "tuning.py",
}
# What the default bake and the bake with every option off have beyond the files every
# bake has, written out by hand: the option manifest is checked against these.
DEFAULT_BAKE_FILES = {
    ".dockerignore",
    ".github/CODEOWNERS",
    ".github/dependabot.yml",
    ".github/pull_request_template.md",
    ".github/workflows/ci.yml",
    ".github/workflows/release.yml",
    "Dockerfile",
    "LICENSE",
    "data/sample/churn.csv",
    # Without DVC, git keeps the empty models/ folder; a DVC bake leaves models/ to the
    # pipeline, whose train stage writes there (DVC will not manage a folder git tracks).
    "models/.gitkeep",
    "src/{package}/api.py",
    "src/{package}/api_guards.py",
    "src/{package}/api_models.py",
    "src/{package}/experiment_report.py",
    "src/{package}/experiments.py",
    "src/{package}/mlflow_store.py",
    "src/{package}/outcomes.py",
    "src/{package}/registry.py",
    "src/{package}/tracking.py",
    "src/{package}/tracking_worker.py",
    "tests/test_api.py",
    "tests/test_experiments.py",
    "tests/test_tracking.py",
}
EVERYTHING_OFF = {
    "experiment_tracking": "none",
    "serving": "none",
    "ci": "none",
    "docker": "no",
    "license": "Proprietary",
}
EVERYTHING_OFF_FILES = {"data/sample/churn.csv", "models/.gitkeep"}
PROJECT_TEMPLATE = TEMPLATE / "{{cookiecutter.project_slug}}"


def brought_files(option: str, value: str) -> set[str]:
    """The files the manifest says ``option=value`` brings, folders listed file by file."""
    files = set()
    for path in MANIFEST[option].get(manifest_value(option, value), {}).get("files", []):
        source = PROJECT_TEMPLATE / path.format(package="{{cookiecutter.package_name}}")
        inside = [source] if source.is_file() else sorted(source.rglob("*"))
        for found in inside:
            if found.is_file():
                relative = found.relative_to(PROJECT_TEMPLATE).as_posix()
                files.add(relative.replace("{{cookiecutter.package_name}}", "{package}"))
    return files


def expected_files(answers: Answers, package: str) -> set[str]:
    chosen = resolved(answers)
    files = COMMON_FILES | {f"src/{package}/{name}" for name in PACKAGE_FILES}
    for option in MANIFEST:
        files |= {path.format(package=package) for path in brought_files(option, chosen[option])}
    return files


def project_files(root: Path) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


@pytest.mark.parametrize("answers", MATRIX, ids=[label(a) for a in MATRIX])
def test_bake_is_complete_clean_and_parses(bake: Bake, answers: Answers) -> None:
    root = bake(**answers)
    files = project_files(root)
    assert files == expected_files(answers, "ml_project")
    for name in files:
        path = root / name
        if path.suffix == ".csv":
            continue
        text = path.read_text(encoding="utf-8")
        assert not LEFTOVER_JINJA.search(text), f"unrendered Jinja in {name}"
        if path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            yaml.safe_load(text)
        elif path.suffix == ".py":
            ast.parse(text, filename=name)
    assert (root / ".git").is_dir() == (resolved(answers)["git_init"] == "yes")
    ruff(root)
    validate_pyproject(root)
    check_ci_and_container(root, resolved(answers))
    lint_markdown(root / "README.md")
    assert repo_review_failures(root) == []
    check_the_cli_vocabulary(root)


def check_the_cli_vocabulary(root: Path) -> None:
    """The baked vocabulary test, run alone: it needs only typer, a test dependency here."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--noconftest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_cli_vocabulary.py",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def repo_review_failures(root: Path) -> list[str]:
    """Scientific Python's repo-review checks that fail and are not ignored with a reason."""
    _, results = repo_review.processor.process(root)
    return [f"{r.name}: {r.description}" for r in results if r.result is False]


def lint_markdown(readme: Path) -> None:
    """The baked README under pymarkdown's default rules, line length aside."""
    result = subprocess.run(
        [tool("pymarkdown"), "--disable-rules", "md013", "scan", str(readme)],
        capture_output=True,
        text=True,
        cwd=readme.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def tool(name: str) -> str:
    """A command-line tool installed beside the test runner's Python."""
    return str(Path(sys.executable).with_name(name))


def check_ci_and_container(root: Path, chosen: Answers) -> None:
    """CI files against their schemas (and zizmor), the Dockerfile against hadolint."""
    commands: list[list[str]] = []
    if chosen["ci"] == "github":
        workflows = sorted(str(p) for p in (root / ".github" / "workflows").glob("*.yml"))
        commands += [
            [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflows],
            [
                tool("check-jsonschema"),
                "--builtin-schema",
                "vendor.dependabot",
                str(root / ".github" / "dependabot.yml"),
            ],
            [tool("zizmor"), "--offline", "--no-progress", *workflows],
        ]
    if chosen["ci"] == "gitlab":
        commands.append(
            [
                tool("check-jsonschema"),
                "--builtin-schema",
                "vendor.gitlab-ci",
                str(root / ".gitlab-ci.yml"),
            ]
        )
    if chosen["docker"] == "yes":
        commands.append([tool("hadolint"), str(root / "Dockerfile")])
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, cwd=root)
        assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}{result.stderr}"


def ruff(root: Path) -> None:
    for command in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command], cwd=root, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def validate_pyproject(root: Path) -> None:
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    try:
        pyproject_api.Validator()(pyproject)
    except pyproject_errors.ValidationError as error:
        pytest.fail(f"pyproject.toml is invalid: {error.message}")


def test_license_metadata_matches_the_file(bake: Bake) -> None:
    for choice in ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"):
        root = bake(
            license=choice, project_slug=f"lic-{choice.lower().replace('.', '')}", git_init="no"
        )
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        if choice == "Proprietary":
            assert project["license"] == "LicenseRef-Proprietary"
            assert "Private :: Do Not Upload" in project["classifiers"]
            assert not (root / "LICENSE").exists()
        else:
            assert project["license"] == choice
            assert project["license-files"] == ["LICENSE"]
            assert (root / "LICENSE").read_text(encoding="utf-8").strip()


AWKWARD = {
    "project_name": 'Ünïcode "Quoted" {{ name }} \\ Project',
    "project_slug": "awkward-project",
    "description": 'It\'s "quoted", has a back\\slash, {braces}, {{ jinja }}, {% tag %} and ünïcødé ✓',
    "author_name": 'O\'Brien "Data" Team {#',
    "author_email": "o.brien+ml@example.co.uk",
}


def cookiecutter_cli(
    *arguments: str, cwd: Path, typed: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the ``cookiecutter`` command on the template as a user would, output captured.

    With a temporary folder of its own, in which no rendered hook may be left.
    """
    scratch = cwd / ".scratch"
    scratch.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", str(TEMPLATE), *arguments],
        input=typed,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PWD": str(cwd), "TMPDIR": str(scratch)},  # PWD as a shell sets it
    )
    hook_copies = [path.name for path in scratch.glob("*.py")]
    shutil.rmtree(scratch)  # Jinja's bytecode cache stays behind, on purpose
    assert hook_copies == [], "the rendered hooks, answers and all, are removed"
    return result


def test_a_package_name_of_its_own_builds_into_the_wheel(bake: Bake, tmp_path: Path) -> None:
    """The import name need not be the distribution's: the wheel still holds the package."""
    root = bake(project_slug="churn-model", package_name="churnpkg", git_init="no")
    run(["uv", "build", "--wheel", "--out-dir", str(tmp_path / "dist")], root)
    [wheel] = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as built:
        names = built.namelist()
    assert "churnpkg/cli.py" in names
    assert wheel.name.startswith("churn_model-")


def test_awkward_free_text_bakes_verbatim(bake: Bake) -> None:
    root = bake(**AWKWARD, git_init="yes")
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["description"] == AWKWARD["description"]
    assert project["authors"] == [
        {"name": AWKWARD["author_name"], "email": AWKWARD["author_email"]}
    ]
    config = yaml.safe_load((root / "configs/config.yaml").read_text(encoding="utf-8"))
    assert config["model_card"]["owners"] == [AWKWARD["author_name"]]
    cli = ast.parse((root / "src/awkward_project/cli.py").read_text(encoding="utf-8"))
    strings = {node.value for node in ast.walk(cli) if isinstance(node, ast.Constant)}
    assert AWKWARD["description"] in strings
    api = ast.parse((root / "src/awkward_project/api.py").read_text(encoding="utf-8"))
    titles = [k.value for k in ast.walk(api) if isinstance(k, ast.keyword) and k.arg == "title"]
    assert [ast.literal_eval(title) for title in titles] == [AWKWARD["project_name"]]
    readme = MarkdownIt("commonmark").parse((root / "README.md").read_text(encoding="utf-8"))
    heading, description = [token for token in readme if token.type == "inline"][:2]
    assert heading.children is not None
    assert [child.content for child in heading.children] == [AWKWARD["project_name"]]
    assert description.children is not None
    assert description.children[0].content == AWKWARD["description"], "read back as written"
    ruff(root)


@pytest.mark.parametrize(
    ("task", "subject", "other"),
    [("classification", "customers", "homes"), ("regression", "homes", "customers")],
)
def test_the_model_card_speaks_of_the_chosen_task(
    bake: Bake, task: str, subject: str, other: str
) -> None:
    root = bake(task=task, project_slug=f"card-{task}", git_init="no")
    config = yaml.safe_load((root / "configs/config.yaml").read_text(encoding="utf-8"))
    card = config["model_card"]["intended_use"] + " " + config["model_card"]["limitations"]
    assert subject in card
    assert other not in card


def test_the_description_promises_only_the_chosen_parts(bake: Bake) -> None:
    root = bake(experiment_tracking="none", serving="none", git_init="no")
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert (
        project["description"]
        == "A machine-learning project with training and monitoring built in."
    )
    readme = (root / "README.md").read_text(encoding="utf-8").lower()
    for absent in ("mlflow", "fastapi", "tracking", "serving", "model registry", "post /predict"):
        assert absent not in readme, absent


def test_longest_allowed_names_stay_formatted(bake: Bake) -> None:
    slug = "a" + "-bcd" * 9 + "xyz"  # 40 characters, the longest allowed
    root = bake(project_slug=slug, git_init="no")
    assert (root / "src" / slug.replace("-", "_")).is_dir()
    ruff(root)


BAD_ANSWERS = [
    (["project_slug=My Project"], "project_slug"),
    (["project_slug=../escape"], "project_slug"),
    (["package_name=class"], "package_name"),
    (["package_name=os"], "package_name"),
    (["package_name=pandas"], "package_name"),
    (["author_email=nobody"], "author_email"),
    (["project_name=123"], "project_slug"),
    (["description=two\nlines"], "description"),
    (["author_name=A\udcffB"], "author_name"),  # the byte 0xff, not UTF-8 text
    (["project_name=Churn \u202emodel"], "project_name"),
    (["project_name="], "project_slug"),
    (["project_name=%} {{"], "project_slug"),
    (["project_slug=.."], "project_slug"),
    (["project_name=" + "Very Long Project Name " * 20], "project_slug"),  # past NAME_MAX
]


@pytest.mark.parametrize(("answers", "field"), BAD_ANSWERS, ids=[a[0][0] for a in BAD_ANSWERS])
def test_bad_answer_fails_cleanly(tmp_path: Path, answers: list[str], field: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = cookiecutter_cli("--no-input", "-o", str(out), *answers, cwd=tmp_path)
    assert result.returncode != 0
    output = result.stderr + result.stdout
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert errors, output
    assert errors[0].startswith(f"error: {field} "), errors
    assert "Traceback" not in output
    assert list(out.iterdir()) == [], "a failed bake leaves nothing behind"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_existing_project_folder_is_left_untouched(tmp_path: Path) -> None:
    existing = tmp_path / "ml-project"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine", encoding="utf-8")
    result = cookiecutter_cli("--no-input", "-o", str(tmp_path), cwd=tmp_path)
    assert result.returncode != 0
    assert "already exists" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert [p.name for p in existing.iterdir()] == ["notes.txt"]
    assert (existing / "notes.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize(
    ("answer", "refusal"),
    [
        (
            "python_version=3.9",
            "ValueError: 3.9 provided for choice variable python_version, "
            "but the choices are ['3.11', '3.12', '3.13'].",
        ),
        (
            "docker=maybe",
            "ValueError: maybe provided for variable docker could not be converted to a boolean.",
        ),
    ],
)
def test_a_value_outside_a_menu_is_cookiecutters_refusal(
    tmp_path: Path, answer: str, refusal: str
) -> None:
    """Checked by cookiecutter before any template code runs; the README shows the line."""
    result = cookiecutter_cli("--no-input", "-o", str(tmp_path), answer, cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == refusal
    assert refusal.split(": ", 1)[1] in (TEMPLATE / "README.md").read_text(encoding="utf-8")
    assert list(tmp_path.iterdir()) == []


def test_yes_and_no_still_work_on_the_command_line(bake: Bake) -> None:
    root = bake(docker="no", git_init="no")
    assert not (root / "Dockerfile").exists()
    assert not (root / ".git").exists()
    record = json.loads((root / ".cruft.json").read_text(encoding="utf-8"))
    assert record["context"]["cookiecutter"]["docker"] is False


def test_answers_typed_at_the_prompts_bake(tmp_path: Path) -> None:
    """What a user at a terminal does: Enter for the defaults, a typed value for the task."""
    typed = {"task": "2", "git_init": "n"}  # the second menu entry, regression; no git
    from matrix import COOKIECUTTER

    options = [key for key in COOKIECUTTER if not key.startswith("_")]
    lines = [typed.get(option, "") for option in options]
    output = tmp_path / "projects"
    result = cookiecutter_cli("-o", str(output), typed="\n".join(lines) + "\n", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "\n  cd projects/ml-project\n" in result.stdout, "the hint names the real path"
    root = output / "ml-project"
    assert (root / "data/sample/house_prices.csv").is_file()
    assert not (root / "data/sample/churn.csv").exists()
    assert not (root / ".git").exists()


def test_every_prompt_names_its_values() -> None:
    from matrix import CHOICES, COOKIECUTTER

    for option, values in CHOICES.items():
        prompt = COOKIECUTTER["__prompts__"][option]
        missing = [value for value in values if value not in prompt]
        assert not missing, f"the prompt for {option} does not offer {missing}"


def test_full_tier_uses_every_value_of_every_option() -> None:
    from matrix import CHOICES

    for option, values in CHOICES.items():
        used = {resolved(answers)[option] for answers in FULL_TIER}
        assert used == set(values), f"full tier never bakes {option}={set(values) - used}"


def test_pairwise_matrix_covers_every_pair() -> None:
    from itertools import combinations

    from matrix import CHOICES

    seen = {
        (a, answers[a], b, answers[b])
        for answers in map(resolved, MATRIX)
        for a, b in combinations(CHOICES, 2)
    }
    for a, b in combinations(CHOICES, 2):
        for va in CHOICES[a]:
            for vb in CHOICES[b]:
                assert (a, va, b, vb) in seen


def test_cookiecutter_json_prompts_every_option() -> None:
    config = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    visible = {key for key in config if not key.startswith("_")}
    assert visible == set(config["__prompts__"])


def answer_in_a_terminal(fd: int, script: list[tuple[str, str]], deadline: float) -> str:
    """Wait for each expected text on the terminal, then type the line that goes with it."""
    seen = ""
    for expected, typed in script:
        while expected not in seen:
            assert time.monotonic() < deadline, f"no {expected!r} in:\n{seen}"
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                try:
                    seen += os.read(fd, 4096).decode(errors="replace")
                except OSError:  # the child closed the terminal
                    break
        seen = seen[seen.index(expected) + len(expected) :]
        os.write(fd, typed.encode() + b"\r")
    while time.monotonic() < deadline:  # read to the end, so the child never blocks writing
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk.decode(errors="replace")
    return seen


def test_a_typo_at_a_prompt_is_asked_again(tmp_path: Path) -> None:
    """In a real terminal: a wrong menu number or yes/no answer is re-asked on the spot."""
    output = tmp_path / "out"
    pid, fd = pty.fork()
    if pid == 0:  # the child: cookiecutter in a pseudo-terminal, as a user runs it
        os.chdir(tmp_path)
        os.execv(
            sys.executable, [sys.executable, "-m", "cookiecutter", str(TEMPLATE), "-o", str(output)]
        )
    script = [
        ("Project name", ""),
        ("Repository folder", ""),
        ("Python import name", ""),
        ("Author or team name", ""),
        ("Author or team e-mail", ""),
        ("Oldest supported Python", "7"),
        ("Please select one of the available options", "1"),
        ("Task:", "2"),
        ("Experiment tracking", ""),
        ("Online prediction API", ""),
        ("Continuous integration", ""),
        ("Data versioning", ""),
        ("Add a Dockerfile?", "maybe"),
        ("Please enter Y or N", "n"),
        ("License", ""),
        ("Run git init", "n"),
        ("One-line description", ""),
    ]
    try:
        answer_in_a_terminal(fd, script, time.monotonic() + 60)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    root = output / "ml-project"
    assert (root / "data/sample/house_prices.csv").is_file(), "the task menu took 2"
    assert not (root / "Dockerfile").exists(), "the re-asked question took n"


@pytest.mark.parametrize(
    ("answers", "golden"),
    [({}, DEFAULT_BAKE_FILES), (EVERYTHING_OFF, EVERYTHING_OFF_FILES)],
    ids=["defaults", "everything-off"],
)
def test_the_option_manifest_gives_the_files_written_out_by_hand(
    answers: Answers, golden: set[str]
) -> None:
    common = COMMON_FILES | {f"src/pkg/{name}" for name in PACKAGE_FILES}
    assert expected_files(answers, "pkg") - common == {p.format(package="pkg") for p in golden}


def test_the_option_manifest_names_every_value_and_nothing_else() -> None:
    from matrix import CHOICES

    kinds = {"files", "dependencies", "dev_dependencies", "readme"}
    for option, values in MANIFEST.items():
        assert option in CHOICES, f"the manifest names {option}, which is not an option"
        assert set(values) == {manifest_value(option, value) for value in CHOICES[option]}
        for value, brings in values.items():
            assert set(brings) <= kinds, f"{option}={value}: unknown {set(brings) - kinds}"
            for path in brings.get("files", []):
                template_path = PROJECT_TEMPLATE / path.format(
                    package="{{cookiecutter.package_name}}"
                )
                assert template_path.exists(), (
                    f"{option}={value} brings {path}, not in the template"
                )


def dependency_names(root: Path) -> tuple[set[str], set[str]]:
    """The names of a bake's runtime and development dependencies."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))

    def names(requirements: list[str]) -> set[str]:
        return {
            re.split(r"[<>=!~ ;\[]", requirement, maxsplit=1)[0] for requirement in requirements
        }

    return names(project["project"]["dependencies"]), names(project["dependency-groups"]["dev"])


def test_the_option_manifest_brings_the_dependencies_written_out_by_hand(bake: Bake) -> None:
    full_runtime, full_dev = dependency_names(bake(data_versioning="dvc"))
    off_runtime, off_dev = dependency_names(bake(**EVERYTHING_OFF, project_slug="off"))
    assert full_runtime - off_runtime == {"filelock", "mlflow", "fastapi", "uvicorn"}
    assert full_dev - off_dev == {"dvc", "httpx2", "schemathesis"}
    assert off_runtime <= full_runtime
    assert off_dev <= full_dev


def test_the_readme_sections_an_option_brings_are_those_the_manifest_names(bake: Bake) -> None:
    """The headings only the default bake has, or only the one with everything off, are
    exactly those the manifest lists for the values that differ between them."""

    def headings(root: Path) -> set[str]:
        lines = (root / "README.md").read_text(encoding="utf-8").splitlines()
        return {line.lstrip("#").strip() for line in lines if line.startswith("#")}

    def listed(answers: Answers) -> set[str]:
        chosen = resolved(answers)
        return {
            section
            for option, values in MANIFEST.items()
            for section in values[manifest_value(option, chosen[option])].get("readme", [])
        }

    default, off = headings(bake()), headings(bake(**EVERYTHING_OFF, project_slug="off"))
    assert default - off == listed({}) - listed(EVERYTHING_OFF)
    assert off - default == listed(EVERYTHING_OFF) - listed({})
    dvc = {"data_versioning": "dvc"}
    assert headings(bake(**dvc, project_slug="versioned")) - default == listed(dvc) - listed({})


def test_ci_files_test_the_python_versions_cookiecutter_json_offers() -> None:
    from matrix import CHOICES

    template_ci = (TEMPLATE / ".github" / "workflows" / "template.yml").read_text(encoding="utf-8")
    assert f"uv python install {' '.join(CHOICES['python_version'])}" in template_ci


def test_an_option_added_as_the_readme_says_bakes_both_ways(tmp_path: Path) -> None:
    """The README's "Add an option", step by step, on a copy of the template."""
    from cookiecutter.main import cookiecutter

    template = tmp_path / "template"
    shutil.copytree(
        TEMPLATE,
        template,
        ignore=shutil.ignore_patterns(".git", ".venv", ".nox", "*cache*", "__pycache__"),
    )
    settings = json.loads((template / "cookiecutter.json").read_text(encoding="utf-8"))
    # 1. the key, its values and a prompt that names them
    keys = list(settings)
    at = keys.index("description")
    settings = {
        **{key: settings[key] for key in keys[:at]},
        "notebooks": ["none", "jupyter"],
        **{key: settings[key] for key in keys[at:]},
    }
    settings["__prompts__"]["notebooks"] = "Notebooks folder: none or jupyter"
    # 2. the files it owns, and what each value brings
    project = template / "{{cookiecutter.project_slug}}"
    (project / "notebooks").mkdir()
    (project / "notebooks" / "explore.ipynb").write_text("{}\n", encoding="utf-8")
    settings["_options"]["notebooks"] = {
        "jupyter": {
            "files": ["notebooks"],
            "dev_dependencies": ["jupyterlab>=4"],
            "readme": ["Notebooks"],
        },
        "none": {},
    }
    (template / "cookiecutter.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
    # 3. the baked side: a README section only the jupyter bakes have
    readme = project / "README.md"
    section = (
        '{%- if cookiecutter.notebooks == "jupyter" %}\n\n### Notebooks\n\n'
        "Explore in `notebooks/`.\n{%- endif %}\n\n## License\n"
    )
    readme.write_text(
        readme.read_text(encoding="utf-8").replace("\n## License\n", section, 1),
        encoding="utf-8",
    )

    for value, present in (("jupyter", True), ("none", False)):
        root = Path(
            cookiecutter(
                str(template),
                no_input=True,
                extra_context={"notebooks": value, "git_init": "no"},
                output_dir=str(tmp_path / value),
            )
        )
        assert (root / "notebooks" / "explore.ipynb").is_file() == present
        _, dev = dependency_names(root)
        assert ("jupyterlab" in dev) == present
        headings = (root / "README.md").read_text(encoding="utf-8").splitlines()
        assert ("### Notebooks" in headings) == present
