"""Shape the baked project to the answers: prune what they turned off, then git init.

Files for every option live in the template; this hook deletes those that the answers
do not use, so the template needs no empty-file tricks. Which file belongs to which
option value is said once, in the option manifest (``_options`` in cookiecutter.json).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# What cookiecutter itself takes for a repository rather than a folder: git+, file://,
# https://, ssh:// and user@host: forms.
REPOSITORY_URL = re.compile(r"^((git|hg)\+)?(git|ssh|file|https?):(//)?|^\w+@[\w.]+")


def prune(root: Path, unused: list[str]) -> None:
    """Delete the paths that only option values not chosen bring (see ``_options`` in
    cookiecutter.json); ``local_extensions.unused_paths`` works them out."""
    for relative in unused:
        path = root / relative
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def cruft_record(answers: dict[str, object], template_root: Path) -> dict[str, object] | None:
    """What `cruft check` and `cruft update` need: template source, commit and answers.

    None when the template is not the top of a git checkout (a zip, say): there is no
    commit to compare with. A template given as a folder, by any relative or absolute
    path, is recorded by its absolute path; a URL as given. The answers replay later
    with ``git_init`` off: a re-render for an update must not create a repository inside
    the one being updated.
    """
    git = shutil.which("git")
    if git is None or not (template_root / "cookiecutter.json").is_file():
        return None
    found = subprocess.run(
        [git, "-C", str(template_root), "rev-parse", "--show-toplevel", "HEAD"],
        capture_output=True,
        text=True,
    )
    lines = found.stdout.split()
    if found.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != template_root:
        return None
    template = str(answers["_template"])
    if not REPOSITORY_URL.match(template):  # a folder, named from wherever the user was
        template = str(template_root)
    public = {key: value for key, value in answers.items() if not key.startswith("_")}
    return {
        "template": template,
        "commit": lines[1],
        "checkout": answers.get("_checkout"),
        "context": {"cookiecutter": {**public, "git_init": False, "_template": template}},
        "directory": None,
    }


def git_init(root: Path, author: str, email: str) -> bool:
    """Create a repository with a first commit; False (and a note) when git is missing."""
    git = shutil.which("git")
    if git is None:
        print("note: git not found, skipped `git init`", file=sys.stderr)
        return False
    found = subprocess.run(
        [git, "config", "--get-regexp", r"^user\.(name|email)$"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    configured = {line.split(" ", 1)[0] for line in found.stdout.splitlines()}
    identity = []
    for key, fallback in (("user.name", author), ("user.email", email)):
        if key not in configured:
            identity += ["-c", f"{key}={fallback}"]
    for command in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        [
            *identity,
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            "Initial commit from cookiecutter-mlops",
        ],
    ):
        subprocess.run([git, *command], cwd=root, check=True, capture_output=True)
    return True


def where_to_cd(root: Path) -> str:
    """The project folder as seen from the shell that ran cookiecutter (``-o`` included).

    Hooks run inside the new project; the shell's own ``PWD`` still names where the user is.
    """
    launched = os.environ.get("PWD")
    location = str(root)
    if launched:
        with contextlib.suppress(ValueError, OSError):
            location = str(root.relative_to(Path(launched).resolve()))
    return shlex.quote(location)


def next_steps(answers: dict[str, str], root: Path) -> str:
    slug = answers["project_slug"]
    return "\n".join(
        [
            f"Created {slug}. Next:",
            f"  cd {where_to_cd(root)}",
            "  uv sync",
            f"  uv run {slug} train",
            "  uv run nox",
        ]
    )


def remove_own_copy(script: Path) -> None:
    """Delete the rendered copy of this hook that cookiecutter left in the temp folder.

    Cookiecutter writes each hook, answers filled in, to a temporary file and never
    removes it; every bake would otherwise leave the answers (e-mail included) behind.
    """
    if script.parent == Path(tempfile.gettempdir()) and script.name.startswith("tmp"):
        script.unlink(missing_ok=True)


def main() -> int:
    answers = json.loads({{cookiecutter | tojson | python_string}})  # noqa: F821 (filled in by cookiecutter)
    root = Path.cwd()
    prune(root, json.loads({{cookiecutter | unused_paths | tojson | python_string}}))  # noqa: F821
    # cruft renders the template itself for `cruft update` (with the commit under
    # ``_commit``) and writes .cruft.json on its own; a copy from here would clash.
    rendered_by_cruft = "_commit" in answers
    template = Path({{template_folder() | python_string}})  # noqa: F821 (filled in by cookiecutter)
    record = None if rendered_by_cruft else cruft_record(answers, template)
    if record is not None:
        (root / ".cruft.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if answers["git_init"]:
        git_init(root, answers["author_name"], answers["author_email"])
    if not rendered_by_cruft:  # its folder is a temporary one
        print(next_steps(answers, root))
    remove_own_copy(Path(sys.argv[0]).resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
