"""Expected failures, each shown to the user as one line instead of a traceback.

Raise one of these wherever the cause is the user's input (a config key, a data file, a
model reference) rather than a bug; the CLI turns it into ``error: ...`` and an exit code.
"""


class ProjectError(Exception):
    """A failure the user can fix; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(ProjectError):
    """The config file is missing, unreadable or holds a bad value."""


class DataError(ProjectError):
    """A data file is missing, unreadable or does not match the schema."""


class InvalidRowsError(DataError):
    """Some rows break the schema, the file as a whole does not: the others could be used."""


class ModelNotFoundError(ProjectError):
    """No trained model exists where one was asked for."""


class CheckFailedError(ProjectError):
    """A quality gate or a drift check did not pass; the run itself worked."""

    exit_code = 3


class ProjectWarning(UserWarning):
    """Something the user should know that did not stop the command (a skipped log line).

    The CLI prints each as one ``warning:`` line, with or without ``--verbose``.
    """
