"""Write hooks/reserved_names.txt: the import names a baked project's package may not take.

    python scripts/reserved_names.py

A package named like something the project imports (``sklearn``, ``filelock``,
``schemathesis``) would shadow it. Rather than a list kept by hand, this bakes the
template with every combination of the options that change the dependencies, installs
every dependency group with uv for each Python version the template offers, and writes
down every top-level import name those environments hold. The full
tier checks each of its bakes against the file, so a new dependency that is missing from
it fails the template's CI until this script is run again. Needs uv.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
RESERVED = TEMPLATE / "hooks" / "reserved_names.txt"


def optional_parts() -> dict[str, list[str]]:
    """The options some value of which brings dependencies, as the option manifest
    (``_options`` in cookiecutter.json) says, with every value of each.

    Every combination is resolved: without one part the resolver may pick other
    versions of the rest, which bring other packages.
    """
    manifest = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    return {
        option: list(values)
        for option, values in manifest["_options"].items()
        if any(
            brings.get("dependencies") or brings.get("dev_dependencies")
            for brings in values.values()
        )
    }


# Names the environment does not list but the project still uses by name.
NOT_INSTALLED = {
    "conftest": "pytest's per-folder plugin file, tests/conftest.py",
    "tests": "the project's test folder",
    "test": "pytest's name for the same",
    "uv": "the tool that runs every command",
}
PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")  # what package_name may be at all
LIST_IMPORT_NAMES = (
    "import importlib.metadata, json;"
    "print(json.dumps(sorted(importlib.metadata.packages_distributions())))"
)


def import_names(python: Path) -> set[str]:
    """Top-level import names in the environment of ``python``, lowercased."""
    listed = subprocess.run(
        [str(python), "-c", LIST_IMPORT_NAMES], check=True, capture_output=True, text=True
    ).stdout
    return {name.lower() for name in json.loads(listed)}


def interpreters() -> list[Path]:
    """One Python for each version a project may choose (uv finds none through pyenv shims)."""
    versions = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = []
    for version in versions["python_version"]:
        candidates = sorted(root.glob(f"{version}.*/bin/python{version}"))
        found.append(candidates[-1] if candidates else Path(shutil.which(f"python{version}") or ""))
    missing = [
        v for v, path in zip(versions["python_version"], found, strict=True) if not path.is_file()
    ]
    if missing:
        sys.exit(f"error: no Python {', '.join(missing)} found (pyenv or PATH): each is needed")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0], epilog=__doc__.split("\n\n", 2)[2]
    )
    parser.parse_args()  # no options: --help says what running it does, and does nothing
    names: set[str] = set()
    pythons = interpreters()
    parts = optional_parts()
    for values in itertools.product(*parts.values()):
        answers = [f"{key}={value}" for key, value in zip(parts, values, strict=True)]
        with tempfile.TemporaryDirectory() as scratch:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "cookiecutter",
                    str(TEMPLATE),
                    "--no-input",
                    "-o",
                    scratch,
                    "project_slug=reserved-probe",
                    "git_init=no",
                    *answers,
                ],
                check=True,
                capture_output=True,
            )
            project = Path(scratch) / "reserved-probe"
            for python in pythons:  # what a dependency pulls in can differ by version too
                subprocess.run(
                    ["uv", "sync", "--all-groups", "-q", "--python", str(python)],
                    cwd=project,
                    check=True,
                )
                names |= import_names(project / ".venv" / "bin" / "python")
        print(f"{' '.join(answers)}: {len(names)} names so far")
    names = {name for name in names if PACKAGE.match(name)} - {"reserved_probe"}
    lines = [
        "# Import names a baked project's package may not take: every top-level name in the",
        "# environments of bakes with every combination of optional parts and every offered",
        "# Python, all dependency groups installed.",
        "# Generated by scripts/reserved_names.py; the full tier checks its bakes against it.",
        *(f"{name}  # {why}" for name, why in sorted(NOT_INSTALLED.items())),
        *sorted(names - set(NOT_INSTALLED)),
    ]
    RESERVED.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(names) + len(NOT_INSTALLED)} names to {RESERVED.relative_to(TEMPLATE)}")


if __name__ == "__main__":
    main()
