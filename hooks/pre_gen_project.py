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
import unicodedata
from pathlib import Path

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Longer names would push generated import lines past the formatter's line length.
MAX_NAME_LENGTH = 40

# Written by scripts/reserved_names.py from a bake's environment: the import names of
# every dependency (all groups) and tool, which a package of the same name would shadow.
RESERVED_NAMES = "reserved_names.txt"
ONE_LINE_FIELDS = ("project_name", "description", "author_name", "author_email")
# The bidirectional overrides and isolates: text holding them reads in another order
# than the one it is stored in.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Control characters (C0, DEL, C1), lone surrogates (bytes a terminal could not decode)
# and the line and paragraph separators.
UNSAFE_CATEGORIES = frozenset(["Cc", "Cs", "Zl", "Zp"])


def unsafe_character(text: str) -> str | None:
    """The first character of ``text`` that no generated file may hold, described."""
    for char in text:
        if char in BIDI_CONTROLS or unicodedata.category(char) in UNSAFE_CATEGORIES:
            name = unicodedata.name(char, "a control character or an undecodable byte")
            return f"U+{ord(char):04X} ({name.lower()})"
    return None


def slug_problem(slug: str) -> str | None:
    if SLUG.match(slug) and len(slug) <= MAX_NAME_LENGTH:
        return None
    return (
        f"project_slug {slug!r} is not allowed: use lowercase letters, digits and single "
        f"hyphens, starting with a letter, at most {MAX_NAME_LENGTH} characters (e.g. 'churn-model')"
    )


def read_reserved(path: Path) -> frozenset[str]:
    """The import names in ``path`` (reserved_names.txt), comments dropped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.split("#")[0].strip() for line in lines) - {""}


def package_problem(name: str, reserved: frozenset[str]) -> str | None:
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
    if name in reserved:
        return f"package_name {name!r} would shadow a dependency or tool of the project"
    return None


def problems(answers: dict[str, object], reserved: frozenset[str]) -> list[str]:
    """Every problem with ``answers``, one readable line each (empty when all is well).

    ``reserved`` holds the import names the package may not take.
    """
    found = []
    for field in ONE_LINE_FIELDS:
        value = str(answers.get(field, ""))
        if not value.strip():
            found.append(f"{field} must not be empty")
        elif (unsafe := unsafe_character(value)) is not None:
            found.append(
                f"{field} holds {unsafe}: use printable text on a single line, "
                "without control or direction-changing characters"
            )
    found += filter(None, [slug_problem(str(answers.get("project_slug", "")))])
    found += filter(None, [package_problem(str(answers.get("package_name", "")), reserved)])
    email = str(answers.get("author_email", ""))
    if email.strip() and not EMAIL.match(email):
        found.append(
            f"author_email {email!r} does not look like an e-mail address (name@example.com)"
        )
    return found


def main() -> int:
    answers = json.loads({{cookiecutter | tojson | python_string}})  # noqa: F821 (filled in by cookiecutter)
    template = Path({{template_folder() | python_string}})  # noqa: F821 (filled in by cookiecutter)
    found = problems(answers, read_reserved(template / "hooks" / RESERVED_NAMES))
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
