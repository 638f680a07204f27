"""`reflect nudges`: placeholder until its issue lands (see issues)."""

from __future__ import annotations

import click


@click.command(name="nudges")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("'reflect nudges' is not built yet.")
