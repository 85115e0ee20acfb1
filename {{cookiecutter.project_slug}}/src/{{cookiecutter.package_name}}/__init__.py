"""The model pipeline of this project: see README.md for the commands and the layout."""


def __getattr__(name: str) -> str:
    # ``__version__`` is read from the installed metadata on first use only: importing
    # importlib.metadata would slow every command's start-up.
    if name == "__version__":
        from importlib.metadata import version

        return version("{{ cookiecutter.project_slug }}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
