"""`reflect chat`: placeholder until its issue lands (see issues)."""

from __future__ import annotations

import click


@click.command(name="chat")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("'reflect chat' is not built yet.")
