"""`reflect start`: placeholder until its issue lands (see issues)."""

from __future__ import annotations

import click


@click.command(name="start")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("'reflect start' is not built yet.")
