"""The model pipeline of this project: see README.md for the commands and the layout."""

from importlib.metadata import version

__version__ = version("{{ cookiecutter.project_slug }}")
