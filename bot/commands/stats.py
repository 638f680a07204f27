"""`reflect stats`: placeholder until its issue lands (see issues)."""

from __future__ import annotations

import click


@click.command(name="stats")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("'reflect stats' is not built yet.")
