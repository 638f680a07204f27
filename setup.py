"""Packaging beside pyproject.toml: only what pyproject cannot say.

The built-in flows and configuration live at the top of the repository (`flows/`, `config/`)
and ship inside the package as `bot._builtin.flows` and `bot._builtin.config`.
"""

from setuptools import find_packages, setup

BUILTIN = {"bot._builtin.flows": "flows", "bot._builtin.config": "config"}

setup(
    packages=[*find_packages(include=["bot", "bot.*"]), *BUILTIN],
    package_dir=BUILTIN,
)
