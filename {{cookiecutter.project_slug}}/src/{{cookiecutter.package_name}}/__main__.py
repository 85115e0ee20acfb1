"""Allows ``python -m {{ cookiecutter.package_name }}`` as well as the ``{{ cookiecutter.project_slug }}`` command."""

from .cli import app

app(prog_name="{{ cookiecutter.project_slug }}")
