"""Reject answers that would bake a broken project, before any file is written.

Cookiecutter runs this with the answers rendered in. The options with a fixed set of
values are cookiecutter's own menus and yes/no questions, which it checks itself; this
hook checks the free-text answers. Each problem is reported on one line naming the field
and what is allowed; a non-zero exit makes cookiecutter delete the half-made project
folder. The checks are plain functions so the template's tests import them directly.
"""

from __future__ import annotations

import json
import keyword
import re
import sys

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Longer names would push generated import lines past the formatter's line length.
MAX_NAME_LENGTH = 40

# Import names of the generated project's dependencies and tools: a package named like
# one of them would shadow it.
DEPENDENCY_IMPORTS = frozenset(
    [
        "fastapi",
        "hatchling",
        "joblib",
        "mlflow",
        "mypy",
        "nox",
        "numpy",
        "optuna",
        "pandas",
        "pandera",
        "pre_commit",
        "pre_commit_hooks",
        "pyarrow",
        "pydantic",
        "pytest",
        "ruff",
        "scipy",
        "pil",  # Pillow imports as PIL; a case-insensitive file system would confuse them
        "sklearn",
        "starlette",
        "typer",
        "uvicorn",
        "yaml",
        "httpx",
        "httpx2",
        "dvc",
        "cruft",
        "tests",
        "test",
    ]
)
ONE_LINE_FIELDS = ("project_name", "description", "author_name", "author_email")


def slug_problem(slug: str) -> str | None:
    if SLUG.match(slug) and len(slug) <= MAX_NAME_LENGTH:
        return None
    return (
        f"project_slug {slug!r} is not allowed: use lowercase letters, digits and single "
        f"hyphens, starting with a letter, at most {MAX_NAME_LENGTH} characters (e.g. 'churn-model')"
    )


def package_problem(name: str) -> str | None:
    if not PACKAGE.match(name) or len(name) > MAX_NAME_LENGTH:
        return (
            f"package_name {name!r} is not allowed: use lowercase letters, digits and "
            f"underscores, not starting with a digit, at most {MAX_NAME_LENGTH} characters "
            "(e.g. 'churn_model')"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"package_name {name!r} is a Python keyword: choose another name"
    if name in sys.stdlib_module_names:
        return f"package_name {name!r} would shadow the standard library module of that name"
    if name in DEPENDENCY_IMPORTS:
        return f"package_name {name!r} would shadow a dependency or tool of the project"
    return None


def problems(answers: dict[str, object]) -> list[str]:
    """Every problem with ``answers``, one readable line each (empty when all is well)."""
    found = []
    for field in ONE_LINE_FIELDS:
        value = str(answers.get(field, ""))
        if not value.strip():
            found.append(f"{field} must not be empty")
        elif any(ord(char) < 32 or ord(char) == 127 for char in value):
            found.append(f"{field} must be a single line without control characters")
    found += filter(None, [slug_problem(str(answers.get("project_slug", "")))])
    found += filter(None, [package_problem(str(answers.get("package_name", "")))])
    email = str(answers.get("author_email", ""))
    if email.strip() and not EMAIL.match(email):
        found.append(
            f"author_email {email!r} does not look like an e-mail address (name@example.com)"
        )
    return found


def main() -> int:
    answers = json.loads({{cookiecutter | tojson | python_string}})  # noqa: F821 (filled in by cookiecutter)
    found = problems(answers)
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
