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
import tempfile
import unicodedata
from email.errors import HeaderParseError
from email.headerregistry import Address
from pathlib import Path

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Longer names would push generated import lines past the formatter's line length.
MAX_NAME_LENGTH = 40

# Written by scripts/reserved_names.py from a bake's environment: the import names of
# every dependency (all groups) and tool, which a package of the same name would shadow.
RESERVED_NAMES = "reserved_names.txt"
# Soft keywords of every Python a project may choose, not only the one baking it.
SOFT_KEYWORDS = frozenset(["_", "case", "match", "type", *keyword.softkwlist])
ONE_LINE_FIELDS = ("project_name", "description", "author_name", "author_email")
# The bidirectional overrides and isolates: text holding them reads in another order
# than the one it is stored in.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Control characters (C0, DEL, C1), lone surrogates (bytes a terminal could not decode)
# and the line and paragraph separators.
UNSAFE_CATEGORIES = frozenset(["Cc", "Cs", "Zl", "Zp"])
# How to name what Unicode leaves nameless.
UNNAMED = {
    "\t": "a tab",
    "\n": "a line break",
    "\r": "a carriage return",
    "\x00": "a NUL byte",
    "Cc": "a control character",
    "Cs": "a byte that is not UTF-8 text",
}


def unsafe_character(text: str) -> str | None:
    """The first character of ``text`` that no generated file may hold, described."""
    for char in text:
        category = unicodedata.category(char)
        if char in BIDI_CONTROLS or category in UNSAFE_CATEGORIES:
            name = unicodedata.name(char, "") or UNNAMED.get(char) or UNNAMED[category]
            return f"U+{ord(char):04X} ({name.lower()})"
    return None


def valid_email(address: str) -> bool:
    """Whether packaging metadata can carry ``address``: one plain ``name@domain.tld``.

    The standard library's parser refuses what the build backend would choke on later
    (``<a@b.c>``, ``a..b@c.d``, ``a,b@c.d``); package metadata also wants an ASCII name.
    """
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError, HeaderParseError):
        return False
    return bool(EMAIL.match(address)) and parsed.username.isascii()


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
    if keyword.iskeyword(name) or name in SOFT_KEYWORDS:
        return f"package_name {name!r} is a Python keyword: choose another name"
    if name.startswith("__") and name.endswith("__"):
        return f"package_name {name!r} is a name Python itself gives modules: choose another"
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
    slug, package = str(answers.get("project_slug", "")), str(answers.get("package_name", ""))
    slug_refused = slug_problem(slug)
    found += filter(None, [slug_refused])
    if not (slug_refused and package == slug.replace("-", "_")):  # derived: said once
        found += filter(None, [package_problem(package, reserved)])
    email = str(answers.get("author_email", ""))
    if email.strip() and not valid_email(email):
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
    # Cookiecutter leaves this rendered copy, answers included, in the temp folder.
    script = Path(sys.argv[0]).resolve()
    if script.parent == Path(tempfile.gettempdir()) and script.name.startswith("tmp"):
        script.unlink(missing_ok=True)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
