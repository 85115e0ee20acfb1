"""The command line's vocabulary and help, checked from ``--help`` as a user reads it.

Only the command-line module is imported, not the ML stack, so this file also runs on
its own: ``pytest --noconftest tests/test_cli_vocabulary.py`` (the template's own checks
run it that way on every combination of options).
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app

runner = CliRunner()


# The vocabulary every command speaks: a long name, its short name, and what it is for.
VOCABULARY = {
    "--input": "-i",  # the data a command reads
    "--reference": "-r",  # the data it compares with
    "--output": "-o",  # a file it writes
    "--output-dir": "-d",  # a folder it writes
    "--model": "-m",
    "--config": "-c",
    "--verbose": "-v",
    "--help": "-h",
}
COMMAND = "{{ cookiecutter.project_slug }}"
TAKES = {
    "--input": "<file>",
    "--reference": "<file>",
    "--output": "<file>",
    "--output-dir": "<dir>",
}
# predict --engine spark reads a folder of Parquet files (or a glob) and writes one.
TAKES_IN = {"predict": {"--input": "<path>", "--output": "<path>"}}
OPTION_LINE = re.compile(r"  (?:(-\w), )?(--[\w-]+)(?: / --no-[\w-]+)?(?: (<[\w ]+>))?  +\S.*")


def help_text(*command: str) -> str:
    """What ``--help`` prints in an 80-column terminal."""
    result = runner.invoke(app, [*command, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


def command_list() -> str:
    return help_text().split("\nCommands:\n")[1].split("\n\n")[0]


def command_names() -> list[str]:
    return [line.split()[0] for line in command_list().splitlines()]


def test_the_command_list_shows_each_summary_whole() -> None:
    assert len(command_names()) >= 7
    assert "..." not in command_list()


@pytest.mark.parametrize("name", command_names())
def test_every_command_speaks_the_vocabulary(name: str) -> None:
    """Same names, same short names, same meaning; each option's help on one line."""
    options = {}
    for line in help_text(name).split("\nOptions:\n")[1].splitlines():
        match = OPTION_LINE.fullmatch(line)
        assert match, f"{name}: {line!r} is not one option on one line"
        short, long, value = match.groups()
        options[long] = (short, value)
    assert {"--config", "--verbose"} <= set(options), "every command takes these"
    takes = {**TAKES, **TAKES_IN.get(name, {})}
    for long, (short, value) in options.items():
        assert short == VOCABULARY.get(long), f"{name} {long}: short names are the vocabulary's"
        if long in takes:
            assert value == takes[long], f"{name} {long} takes a {takes[long]}"


@pytest.mark.parametrize("name", command_names())
def test_every_help_shows_an_example_and_the_exit_codes(name: str) -> None:
    lines = [line.strip() for line in help_text(name).splitlines()]
    [example] = [line for line in lines if line.startswith("Example: ")]
    assert example.startswith(f"Example: {COMMAND} {name}")
    [codes] = [line for line in lines if line.startswith("Exit codes: ")]
    assert codes.startswith("Exit codes: 0 ")
    assert "2 bad usage" in codes
    command = re.compile(rf"(?<![\w-]){re.escape(COMMAND)}(?![\w-])")  # not inside "latest"
    longest = max(len(command.sub("x" * 10, line)) for line in lines)
    assert longest <= 78, "fits an 80-column terminal, for a 10-character command name"
