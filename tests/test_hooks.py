"""The hooks' checks and pruning rules, called directly."""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator

import pytest
import yaml
from conftest import load_hook, load_module
from markdown_it import MarkdownIt
from matrix import CHOICES, TEMPLATE, as_hooks_see, resolved

pre_gen = load_hook("pre_gen_project")
post_gen = load_hook("post_gen_project")
RESERVED = pre_gen.read_reserved(TEMPLATE / "hooks" / pre_gen.RESERVED_NAMES)

GOOD = {
    "project_name": "Churn Model",
    "project_slug": "churn-model",
    "package_name": "churn_model",
    "description": "Predicts churn.",
    "author_name": "Data Team",
    "author_email": "data@example.com",
    **as_hooks_see(resolved({})),
}


def test_good_answers_pass() -> None:
    assert pre_gen.problems(GOOD, RESERVED) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("project_slug", "Churn Model", "project_slug 'Churn Model' is not allowed"),
        ("project_slug", "churn--model", "single hyphens"),
        ("project_slug", "-churn", "starting with a letter"),
        ("project_slug", "a" * 41, "at most 40"),
        ("package_name", "1churn", "package_name '1churn' is not allowed"),
        ("package_name", "churn-model", "underscores"),
        ("package_name", "class", "is a Python keyword"),
        ("package_name", "match", "is a Python keyword"),
        ("package_name", "json", "shadow the standard library"),
        ("package_name", "sklearn", "shadow a dependency"),
        ("package_name", "skops", "shadow a dependency"),  # a dependency of a dependency
        ("package_name", "schemathesis", "shadow a dependency"),  # a test tool
        ("package_name", "uv", "shadow a dependency or tool"),
        ("package_name", "a" * 41, "at most 40"),
        ("author_email", "not-an-email", "does not look like an e-mail"),
        ("author_email", "a@b", "does not look like an e-mail"),
        ("author_email", "<a@example.com>", "does not look like an e-mail"),
        ("author_email", "zoë@example.com", "does not look like an e-mail"),
        ("author_email", "a..b@example.com", "does not look like an e-mail"),
        ("author_email", "a,b@example.com", "does not look like an e-mail"),
        ("package_name", "__main__", "a name Python itself gives modules"),
        ("package_name", "conftest", "shadow a dependency or tool"),
        ("package_name", "type", "is a Python keyword"),  # soft, since 3.12
        ("description", "two\nlines", "description holds U+000A"),
        ("project_name", "  ", "project_name must not be empty"),
    ],
)
def test_bad_answer_is_named(field: str, value: str, message: str) -> None:
    found = pre_gen.problems({**GOOD, field: value}, RESERVED)
    assert len(found) == 1
    assert message in found[0]
    assert found[0].startswith(field)


def test_every_choice_of_cookiecutter_json_is_accepted() -> None:
    for option, values in CHOICES.items():
        for value in values:
            answers = {**GOOD, **as_hooks_see({option: value})}
            assert pre_gen.problems(answers, RESERVED) == [], (option, value)


def test_pruning_removes_only_what_other_values_own() -> None:
    filters = load_module(TEMPLATE / "local_extensions.py")
    removed = filters.unused_paths({**GOOD, "ci": "gitlab", "license": "Proprietary"})
    assert ".github" in removed
    assert ".gitlab-ci.yml" not in removed
    assert "LICENSE" in removed
    assert "data/sample/house_prices.csv" in removed
    assert "data/sample/churn.csv" not in removed


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("A\x00B", "U+0000"),
        ("A\tB", "U+0009 (a tab)"),
        ("A\x85B", "U+0085"),  # C1: next line
        ("A\udcffB", "U+DCFF"),  # a byte the terminal could not decode
        ("A\u202eB", "U+202E (right-to-left override)"),
        ("A\u2066B", "U+2066 (left-to-right isolate)"),
        ("A\u2028B", "U+2028 (line separator)"),
    ],
)
def test_unsafe_characters_are_refused_by_name(text: str, named: str) -> None:
    [found] = pre_gen.problems({**GOOD, "author_name": text}, RESERVED)
    assert found.startswith(f"author_name holds {named}")


def code_point_runs(size: int = 2000) -> Iterator[str]:
    """Every code point the hook accepts, in runs of ``size``."""
    run: list[str] = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if pre_gen.unsafe_character(char) is None:
            run.append(char)
            if len(run) == size:
                yield "".join(run)
                run = []
    yield "".join(run)


def test_every_accepted_code_point_survives_every_file_format() -> None:
    """TOML, YAML, Python and Markdown: each accepted answer comes back as it went in."""
    filters = load_module(TEMPLATE / "local_extensions.py")
    markdown = MarkdownIt("commonmark").enable("table")
    for run in code_point_runs():
        text = f"a {run} z"
        toml_value = tomllib.loads(f"v = {filters.toml_string(text)}")["v"]
        assert toml_value == text
        assert yaml.safe_load(f"v: {filters.yaml_string(text)}")["v"] == text
        assert ast.literal_eval(filters.python_string(text)) == text
        for line in (
            f"# {filters.markdown_text(text)}",
            f"| k | v |\n|---|---|\n| k | {filters.markdown_text(text)} |",
        ):
            inline = [token for token in markdown.parse(line) if token.type == "inline"][-1]
            assert [child.type for child in inline.children or []] == ["text"], line[:80]
            assert inline.children
            assert inline.children[0].content == " ".join(text.split())


def test_a_derived_name_is_not_refused_twice() -> None:
    """A slug that is refused makes a package name that would be: one line, about the slug."""
    found = pre_gen.problems(
        {**GOOD, "project_slug": "2024-churn", "package_name": "2024_churn"}, RESERVED
    )
    assert [line.split()[0] for line in found] == ["project_slug"]
