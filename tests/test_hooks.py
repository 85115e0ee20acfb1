"""The hooks' checks and pruning rules, called directly."""

from __future__ import annotations

import pytest
from conftest import load_hook
from matrix import CHOICES, as_hooks_see, resolved

pre_gen = load_hook("pre_gen_project")
post_gen = load_hook("post_gen_project")

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
    assert pre_gen.problems(GOOD) == []


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
        ("package_name", "a" * 41, "at most 40"),
        ("author_email", "not-an-email", "does not look like an e-mail"),
        ("author_email", "a@b", "does not look like an e-mail"),
        ("description", "two\nlines", "description must be a single line"),
        ("project_name", "  ", "project_name must not be empty"),
    ],
)
def test_bad_answer_is_named(field: str, value: str, message: str) -> None:
    found = pre_gen.problems({**GOOD, field: value})
    assert len(found) == 1
    assert message in found[0]
    assert found[0].startswith(field)


def test_every_choice_of_cookiecutter_json_is_accepted() -> None:
    for option, values in CHOICES.items():
        for value in values:
            answers = {**GOOD, **as_hooks_see({option: value})}
            assert pre_gen.problems(answers) == [], (option, value)


def test_pruning_removes_only_what_other_values_own() -> None:
    removed = post_gen.paths_to_remove({**GOOD, "ci": "gitlab", "license": "Proprietary"})
    assert ".github" in removed
    assert ".gitlab-ci.yml" not in removed
    assert "LICENSE" in removed
    assert "data/sample/house_prices.csv" in removed
    assert "data/sample/churn.csv" not in removed
