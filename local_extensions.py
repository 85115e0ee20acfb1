"""Jinja filters that make free-text answers safe wherever the template pastes them.

A project name or description may hold quotes, backslashes, braces or non-ASCII text.
Pasted raw into TOML, YAML or Python it would break the file, so the templates pass
free text through one of these filters instead.

Cookiecutter also renders every answer given on the command line (``--no-input
key=value``) as a Jinja template, so a description such as ``uses {{ braces }}`` would
fail to bake. ``preprocess`` keeps such answers literal; only strings that refer to
``cookiecutter`` inside a Jinja tag (the derived defaults in cookiecutter.json, file
names, hooks) are rendered.

``folder_name`` is the one check made while the answers are read rather than in the
pre-generation hook: cookiecutter creates the project folder before that hook runs.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from cookiecutter.exceptions import FailedHookException
from jinja2 import Environment, FileSystemBytecodeCache
from jinja2.ext import Extension

_REFERS_TO_CONTEXT = re.compile(r"\{[{%][^}]*\bcookiecutter\b")


def toml_string(value: object) -> str:
    """Quote ``value`` as a TOML basic string (JSON escapes are a subset of TOML's)."""
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


# What YAML may hold unescaped; anything else in a double-quoted scalar is written as \u.
_NOT_YAML_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


def yaml_string(value: object) -> str:
    """Quote ``value`` as a YAML double-quoted scalar (YAML accepts JSON strings)."""
    quoted = json.dumps(str(value), ensure_ascii=False)
    return _NOT_YAML_PRINTABLE.sub(lambda match: f"\\u{ord(match[0]):04x}", quoted)


def python_string(value: object) -> str:
    """Quote ``value`` as a Python string literal, with the quotes ruff's formatter picks.

    Double quotes unless the text holds more double than single quotes, so a baked
    project passes ``ruff format --check`` whatever its description says.
    """
    text = str(value).replace("\\", "\\\\")
    quote = "'" if text.count('"') > text.count("'") else '"'
    return quote + text.replace(quote, "\\" + quote) + quote


_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def markdown_text(value: object) -> str:
    """``value`` as one run of plain Markdown text, whatever it holds.

    Whitespace is collapsed so it stays on one line, and every ASCII punctuation mark is
    backslash-escaped (CommonMark allows it on any of them), so no answer can open a
    heading, list, table cell, link, emphasis, code span or raw HTML.
    """
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(str(value).split()))


def template_folder() -> str:
    """The folder cookiecutter found the template in, as an absolute path.

    Cookiecutter's own ``_repo_dir`` stays relative when the user typed a relative path,
    and the hooks run in the new project's folder, where that path means nothing. The
    hooks are rendered from inside the template folder (cookiecutter's
    ``run_hook_from_repo_dir``), so that is the working directory at this call.
    """
    return os.getcwd()


# cookiecutter.json, beside this module wherever cookiecutter unpacked the template.
COOKIECUTTER_JSON = Path(__file__).resolve().with_name("cookiecutter.json")


def option_value(answer: object) -> str:
    """An answer as the option manifest (``_options`` in cookiecutter.json) names it:
    a yes/no answer as ``true`` or ``false``, any other as given."""
    return json.dumps(answer) if isinstance(answer, bool) else str(answer)


def brought(answers: dict[str, object], kind: str) -> list[str]:
    """What the chosen option values bring of one ``kind`` ("dependencies", say), sorted,
    as the option manifest says."""
    manifest: Any = answers["_options"]
    chosen = [values.get(option_value(answers[option]), {}) for option, values in manifest.items()]
    return sorted(item for brings in chosen for item in brings.get(kind, []))


def unused_paths(answers: dict[str, object]) -> list[str]:
    """Paths that only option values other than the chosen ones bring, for the
    post-generation hook to delete.

    A path brought by the chosen value of an option (``LICENSE`` by every license but
    one, say) stays even when another value lists it too.
    """
    manifest: Any = answers["_options"]
    kept, unused = set(), set()
    for option, values in manifest.items():
        chosen = option_value(answers[option])
        for value, brings in values.items():
            paths = {
                path.format(package=answers["package_name"]) for path in brings.get("files", [])
            }
            (kept if value == chosen else unused).update(paths)
    return sorted(unused - kept)


def python_versions(oldest: object) -> list[str]:
    """The Python versions cookiecutter.json offers, from ``oldest`` on: the ones a baked
    project supports, and its CI tests on."""
    offered = json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8"))["python_version"]
    return [version for version in offered if _version(version) >= _version(str(oldest))]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def built_in(answers: dict[str, object]) -> str:
    """What the chosen options build in, as the default description names it.

    "training and monitoring" always; tracking and serving only when they were chosen,
    so the description, the README and ``--help`` promise nothing the bake lacks.
    """
    parts = ["training"]
    if answers.get("experiment_tracking") != "none":
        parts.append("tracking")
    if answers.get("serving") != "none":
        parts.append("serving")
    return ", ".join(parts) + " and monitoring"


class FolderNameRejected(FailedHookException):
    """A ``project_slug`` that cannot name the project folder.

    Cookiecutter creates the folder before the pre-generation hook runs (an empty name
    even reads as the existing "." directory), so this one check happens while the
    answers are read. Cookiecutter's CLI prints this exception class as a single line
    and exits with status 1.
    """


# The pre-generation hook's limit too; checked here as well because a name past the
# file system's own limit fails while the folder is created, before that hook runs.
MAX_SLUG_LENGTH = 40


def folder_name(slug: object) -> str:
    """``slug`` unchanged when it can name one new folder; otherwise a clear refusal."""
    text = str(slug)
    if len(text) > MAX_SLUG_LENGTH:
        raise FolderNameRejected(
            f"error: project_slug {text[:MAX_SLUG_LENGTH]!r}... is longer than "
            f"{MAX_SLUG_LENGTH} characters: give a shorter project_name, or a project_slug "
            "such as 'churn-model'"
        )
    if text.strip(" .") and not any(separator in text for separator in "/\\"):
        return text
    raise FolderNameRejected(
        f"error: project_slug {text!r} cannot name the project folder: give a project_name "
        "with letters or digits, or a project_slug such as 'churn-model'"
    )


def keep_literal(source: str) -> str:
    """Turn every ``{`` into a Jinja expression printing ``{``, so nothing is evaluated."""
    return source.replace("{", '{{ "{" }}')


def drop_hook_traceback(record: logging.LogRecord) -> bool:
    """Hide cookiecutter's traceback when a hook rejects the answers.

    The pre-generation hook has already printed one ``error:`` line per bad answer; the
    traceback of the hook's exit status would only bury it.
    """
    return not record.getMessage().startswith("Stopping generation because")


class TemplateFilters(Extension):
    """Registers the quoting filters and the folder-name check; keeps answers literal.

    It also gives the environment Jinja's bytecode cache (in the temporary directory,
    keyed by each file's content): compiling the template's files is most of what
    rendering them costs, and every bake after the first skips it.
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.bytecode_cache = FileSystemBytecodeCache()
        hook_logger = logging.getLogger("cookiecutter.hooks")
        if drop_hook_traceback not in hook_logger.filters:
            hook_logger.addFilter(drop_hook_traceback)
        environment.globals["template_folder"] = template_folder
        environment.globals["python_versions"] = python_versions
        environment.filters.update(
            toml_string=toml_string,
            yaml_string=yaml_string,
            python_string=python_string,
            markdown_text=markdown_text,
            folder_name=folder_name,
            built_in=built_in,
            brought=brought,
            unused_paths=unused_paths,
        )

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        # Files of the template have a name; answers and defaults are rendered from strings.
        if name is None and not _REFERS_TO_CONTEXT.search(source):
            return keep_literal(source)
        return source
