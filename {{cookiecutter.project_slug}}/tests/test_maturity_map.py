"""docs/mlops_maturity.md names only tests, commands and files this project has."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from typer.main import get_command

from {{ cookiecutter.package_name }}.cli import app

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MAP = PROJECT_ROOT / "docs" / "mlops_maturity.md"
TEST = re.compile(r"`(tests/test_\w+\.py)::(test_\w+)`")
COMMAND = re.compile(r"`uv run {{ cookiecutter.project_slug }} ([a-z-]+)")
FILE = re.compile(r"`((?:src|tests|docs|configs)/[\w/.]+\.\w+|[\w.-]+\.(?:md|toml|yaml|yml|py))`")


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_every_test_the_map_names_exists() -> None:
    named = TEST.findall(MAP.read_text(encoding="utf-8"))
    assert len(named) >= 10
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (PROJECT_ROOT / path).is_file() or name not in defined_tests(PROJECT_ROOT / path)
    ]
    assert not missing, f"named in {MAP.name} but not in the suite: {missing}"


def test_every_command_the_map_names_is_in_the_cli() -> None:
    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    named = set(COMMAND.findall(MAP.read_text(encoding="utf-8")))
    assert {"train", "monitor", "predict"} <= named
    assert named <= commands, f"not commands: {sorted(named - commands)}"


def test_every_file_the_map_names_is_in_the_project() -> None:
    named = set(FILE.findall(MAP.read_text(encoding="utf-8")))
    written_later = {"uv.lock", "reports/model_card.md", "reports/feature_importance.png"}
    missing = sorted(name for name in named - written_later if not (PROJECT_ROOT / name).exists())
    assert not missing, f"named in {MAP.name} but not in the project: {missing}"
