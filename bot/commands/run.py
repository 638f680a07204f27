"""`reflect run`: placeholder until its issue lands (see issues)."""

from __future__ import annotations

import click


@click.command(name="run")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("'reflect run' is not built yet.")
