"""`reflect data`: placeholder until its issue lands (see issues)."""

from __future__ import annotations

import click


@click.command(name="data")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("'reflect data' is not built yet.")
