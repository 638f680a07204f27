"""`reflect chat [FLOW]`: walk a reflection in the terminal, no Slack needed."""

from __future__ import annotations

import click
from jinja2 import TemplateError

from bot import settings as settings_module
from bot.engine import messages
from bot.engine.people import LOCAL, Person
from bot.runtime import build_conversations
from bot.store import open_store
from bot.terminal.chat import chat


def _read(prompt: str) -> str:
    return input(prompt)


@click.command(name="chat")
@click.argument("flow", required=False)
def command(flow: str | None) -> None:
    """Reflect in the terminal, on this machine's own private database.

    With no FLOW, lists the reflections to choose from. Ctrl-C pauses; the next
    `reflect chat` offers to carry on where you left off.
    """
    settings = settings_module.load()
    store = open_store(settings)
    try:
        if store.created_secret is not None:
            click.echo(messages.text("terminal.secret_created", path=store.created_secret) + "\n")
        conversations = build_conversations(
            settings=settings,
            store=store,
            warn=lambda warning: click.echo(warning, err=True),
        )
        if flow is not None and conversations.library.find(flow) is None:
            names = ", ".join(f.id for f in conversations.library)
            raise click.UsageError(f"There is no reflection called {flow!r}. Try one of: {names}.")
        found = conversations.library.find(flow) if flow else None
        try:
            status = chat(
                conversations=conversations,
                person=Person(f"terminal:{settings.terminal_user}", timezone=LOCAL),
                flow_id=found.id if found else None,
                read=_read,
                write=click.echo,
            )
        except Exception as error:
            if not _raised_in_a_template(error):
                raise
            raise click.ClickException(
                "A question of this flow could not be shown "
                f"({type(error).__name__} in its template). Your answers up to the last one "
                "are kept; `reflect chat` carries on from there. Run `reflect flows check`, "
                "and tell whoever looks after the flows."
            ) from None
    finally:
        store.close()
    raise SystemExit(status)


def _raised_in_a_template(error: BaseException) -> bool:
    """Whether a flow's template raised `error` (Jinja2 names template frames <template>)."""
    if isinstance(error, TemplateError):
        return True
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            return True
        traceback = traceback.tb_next
    return False
