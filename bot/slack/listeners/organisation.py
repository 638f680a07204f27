"""The Home tab's admin section: a workspace admin changes the organisation's own settings.

Every click and every submission asks Slack afresh (users.info) whether the person is still an
admin before anything is opened or saved. What is submitted is checked exactly as
`reflect org set` checks it; the problems are listed under the box and nothing is saved until
all are fixed. (These texts are the organisation's configuration, not anyone's reflection: a
signposts file is full of crisis words, so it does not go through the safety screen.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.engine.organisation import OrganisationSettingError, check
from bot.engine.people import Person
from bot.slack.identity import workspace_of
from bot.slack.listeners.home import refresh_home
from bot.slack.parts import Parts
from bot.slack.respond import Job, respond
from bot.slack.views import copy
from bot.slack.views.fitting import SECTION_TEXT, shorten
from bot.slack.views.organisation import (
    DAYS_ACTION,
    DAYS_BLOCK,
    EDIT_CHOICES,
    EDIT_SIGNPOSTS,
    EDIT_SUPERVISORS,
    FILE_ACTION,
    FILE_BLOCK,
    FLOW_ACTION,
    FLOW_BLOCK,
    RESET,
    choices_view,
    file_view,
    flow_titles,
    is_admin,
)
from bot.store.organisations import Organisations

log = logging.getLogger(__name__)

_FILES = {EDIT_SIGNPOSTS: "signposts", EDIT_SUPERVISORS: "supervisors"}
#: Problems: the box they belong to, and what to say there.
Problems = dict[str, str]


def register(app: App, parts: Parts) -> None:
    organisations = parts.organisations
    if organisations is None:
        return

    def admin(context: BoltContext) -> Callable[[Person], bool]:
        def still_admin(person: Person) -> bool:
            workspace = workspace_of(person)
            if workspace is None or not context.user_id:
                return False
            found = is_admin(parts.profiles.fresh(context.user_id), workspace)
            if not found:
                log.info("an organisation settings request from someone not an admin was refused")
            return found

        return still_admin

    def opening(action_id: str) -> Callable[..., None]:
        def on_click(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
            trigger_id = str(body.get("trigger_id") or "")

            def then(person: Person, _: None) -> Job:
                workspace = workspace_of(person) or ""
                if action_id == EDIT_CHOICES:
                    view = choices_view(
                        organisations.of(workspace),
                        titles=flow_titles(parts),
                        most_days=organisations.defaults.retention_days,
                    )
                else:
                    current = organisations.kept.texts(workspace).get(_FILES[action_id])
                    view = file_view(action_id, current=current)
                return lambda: parts.delivery.open_view(trigger_id=trigger_id, view=view)

            respond(
                parts,
                ack=ack,
                context=context,
                guard=lambda person: bool(trigger_id) and admin(context)(person),
                engine=lambda _: None,
                then=then,
                transaction=False,
            )

        return on_click

    for action_id in (EDIT_SIGNPOSTS, EDIT_SUPERVISORS, EDIT_CHOICES):
        app.action(action_id)(opening(action_id))

    def saving(callback_id: str) -> Callable[..., None]:
        def on_submit(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
            values = ((body.get("view") or {}).get("state") or {}).get("values") or {}

            def save(person: Person) -> Problems:
                if not admin(context)(person):
                    block = DAYS_BLOCK if callback_id == EDIT_CHOICES else FILE_BLOCK
                    return {block: copy.text("organisation.not_admin")}
                return _save(organisations, person, callback_id, values, parts=parts)

            respond(
                parts,
                ack=ack,
                context=context,
                engine=save,
                answer=_answer,
                then=lambda person, problems: (
                    None if problems else refresh_home(parts, context, person)
                ),
                transaction=False,  # users.info is asked first: no transaction held meanwhile
            )

        return on_submit

    for callback_id in (EDIT_SIGNPOSTS, EDIT_SUPERVISORS, EDIT_CHOICES):
        app.view(callback_id)(saving(callback_id))

    @app.action(RESET)
    def on_reset(ack: Ack, context: BoltContext) -> None:
        def reset(person: Person) -> None:
            organisations.kept.remove(workspace_of(person) or "")

        respond(
            parts,
            ack=ack,
            context=context,
            guard=admin(context),
            engine=reset,
            then=lambda person, _: refresh_home(parts, context, person),
            transaction=False,
        )


def _save(
    organisations: Organisations,
    person: Person,
    callback_id: str,
    values: dict[str, Any],
    *,
    parts: Parts,
) -> Problems:
    """Check what was submitted and keep it if every part passes; else the problems."""
    workspace = workspace_of(person)
    if workspace is None:
        return {FILE_BLOCK: copy.text("organisation.not_admin")}
    if callback_id in _FILES:
        text = str(_value(values, FILE_BLOCK, FILE_ACTION) or "")
        wanted = {_FILES[callback_id]: (FILE_BLOCK, text)}
    else:
        flow = _value(values, FLOW_BLOCK, FLOW_ACTION, selected=True)
        days = _value(values, DAYS_BLOCK, DAYS_ACTION)
        wanted = {
            "default-flow": (FLOW_BLOCK, str(flow or "")),
            "retention-days": (DAYS_BLOCK, str(days or "")),
        }
    checked: dict[str, str] = {}
    problems: Problems = {}
    for name, (block, text) in wanted.items():
        try:
            checked[name] = check(
                name,
                text,
                defaults=organisations.defaults,
                flows=organisations.flows,
                source=name,
            )
        except OrganisationSettingError as problem:
            problems[block] = shorten(str(problem), limit=SECTION_TEXT // 2)
    if problems:
        return problems
    for name, text in checked.items():
        organisations.kept.put(workspace, name, text, at=parts.clock())
    log.info("an organisation's settings were changed from the Home tab")
    return {}


def _value(
    values: dict[str, Any], block: str, action: str, *, selected: bool = False
) -> str | None:
    found = (values.get(block) or {}).get(action) or {}
    if selected:
        return (found.get("selected_option") or {}).get("value")
    value = found.get("value")
    return str(value) if value is not None else None


def _answer(problems: Problems) -> dict[str, Any]:
    if not problems:
        return {}
    return {"response_action": "errors", "errors": problems}
