"""`reflect flows`: placeholder until its issue lands (see issues)."""

from __future__ import annotations

import click


@click.command(name="flows")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("'reflect flows' is not built yet.")
