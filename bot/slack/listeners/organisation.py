"""The Home tab's admin section at work: a workspace admin changes the organisation's own
settings in a window (the signposts or supervisors file, the first flow and retention).

Every text submitted passes the safety screen first, as every text a person writes does: what
it finds is said in the person's DM, and words of crisis save nothing. Then Slack is asked
afresh (users.info) whether the person is still an admin, before anything is opened or saved.
What is submitted is checked exactly as `reflect org set` checks it; the problems are listed
under the box and nothing is saved until all are fixed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.engine.organisation import Organisation, OrganisationSettingError, check
from bot.engine.people import Person
from bot.engine.replies import Reply
from bot.slack.identity import workspace_of
from bot.slack.listeners.home import refresh_home
from bot.slack.parts import Parts
from bot.slack.respond import Job, respond, say, user_of
from bot.slack.views import copy
from bot.slack.views.fitting import MODAL_TITLE, OPTION_TEXT, SECTION_TEXT, shorten
from bot.slack.views.mrkdwn import plain
from bot.slack.views.organisation import (
    EDIT_CHOICES,
    EDIT_SIGNPOSTS,
    EDIT_SUPERVISORS,
    RESET,
    flow_titles,
    is_admin,
)
from bot.store.organisations import Organisations

log = logging.getLogger(__name__)

#: The windows' inputs.
FILE_BLOCK, FILE_ACTION = "file", "file_text"
FLOW_BLOCK, FLOW_ACTION = "flow", "flow_choice"
DAYS_BLOCK, DAYS_ACTION = "days", "days_text"
#: Slack's longest plain-text input.
MOST_CHARACTERS = 3000
#: Slack's most options in a static select.
MOST_OPTIONS = 100
_FILES = {EDIT_SIGNPOSTS: "signposts", EDIT_SUPERVISORS: "supervisors"}
#: Problems: the box they belong to, and what to say there.
Problems = dict[str, str]


@dataclass(frozen=True)
class Saved:
    """What came of a submission: the problems to show under the boxes (none: saved), and
    what the safety screen said, for the DM."""

    problems: Problems
    replies: tuple[Reply, ...] = ()


def register(app: App, parts: Parts) -> None:
    def organisations() -> Organisations | None:
        return parts.organisations

    def still_admin(context: BoltContext, person: Person) -> bool:
        workspace = workspace_of(person)
        if organisations() is None or workspace is None or not context.user_id:
            return False
        found = is_admin(parts.profiles.fresh(context.user_id), workspace)
        if not found:
            log.info("an organisation settings request from someone not an admin was refused")
        return found

    def opening(action_id: str) -> Callable[..., None]:
        def on_click(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
            trigger_id = str(body.get("trigger_id") or "")

            def then(person: Person, _: None) -> Job:
                found = organisations()
                if found is None:
                    return None
                view = _window(parts, found, action_id, workspace=workspace_of(person) or "")
                return lambda: parts.delivery.open_view(trigger_id=trigger_id, view=view)

            respond(
                parts,
                ack=ack,
                context=context,
                guard=lambda person: bool(trigger_id) and still_admin(context, person),
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
            wanted = _submitted(callback_id, values)

            def save(person: Person) -> Saved:
                replies: list[Reply] = []
                for block, text in wanted.values():  # before anything else happens to them
                    screened = parts.conversations.screen_input(person, text)
                    replies += screened.replies
                    if not screened.go_on:
                        return Saved({block: copy.text("organisation.screened")}, tuple(replies))
                found = organisations()
                if found is None or not still_admin(context, person):
                    block = next(iter(wanted.values()))[0]
                    return Saved({block: copy.text("organisation.not_admin")}, tuple(replies))
                problems = _keep(found, person, wanted, parts=parts)
                return Saved(problems, tuple(replies))

            def then(person: Person, saved: Saved) -> Job:
                jobs: list[Job] = []
                if saved.replies:
                    jobs.append(say(parts, person, saved.replies, user_id=user_of(person)))
                if not saved.problems:
                    jobs.append(refresh_home(parts, context, person))
                return lambda: [job() for job in jobs if job is not None]

            respond(
                parts,
                ack=ack,
                context=context,
                engine=save,
                answer=_answer,
                then=then,
                transaction=False,  # users.info is asked first: no transaction held meanwhile
            )

        return on_submit

    for callback_id in (EDIT_SIGNPOSTS, EDIT_SUPERVISORS, EDIT_CHOICES):
        app.view(callback_id)(saving(callback_id))

    @app.action(RESET)
    def on_reset(ack: Ack, context: BoltContext) -> None:
        def reset(person: Person) -> None:
            found = organisations()
            if found is not None:
                found.kept.remove(workspace_of(person) or "")

        respond(
            parts,
            ack=ack,
            context=context,
            guard=lambda person: still_admin(context, person),
            engine=reset,
            then=lambda person, _: refresh_home(parts, context, person),
            transaction=False,
        )


def _window(parts: Parts, organisations: Organisations, action_id: str, *, workspace: str) -> View:
    if action_id == EDIT_CHOICES:
        return choices_view(
            organisations.of(workspace),
            titles=flow_titles(parts),
            most_days=organisations.defaults.retention_days,
        )
    current = organisations.kept.texts(workspace).get(_FILES[action_id])
    return file_view(action_id, current=current)


def _submitted(callback_id: str, values: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """What a window submitted: each setting's box and text."""
    if callback_id in _FILES:
        return {_FILES[callback_id]: (FILE_BLOCK, _value(values, FILE_BLOCK, FILE_ACTION))}
    return {
        "default-flow": (FLOW_BLOCK, _value(values, FLOW_BLOCK, FLOW_ACTION, selected=True)),
        "retention-days": (DAYS_BLOCK, _value(values, DAYS_BLOCK, DAYS_ACTION)),
    }


def _keep(
    organisations: Organisations,
    person: Person,
    wanted: dict[str, tuple[str, str]],
    *,
    parts: Parts,
) -> Problems:
    """Check what was submitted and keep it if every part passes; else the problems."""
    workspace = workspace_of(person) or ""
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


def _value(values: dict[str, Any], block: str, action: str, *, selected: bool = False) -> str:
    found = (values.get(block) or {}).get(action) or {}
    if selected:
        return str((found.get("selected_option") or {}).get("value") or "")
    return str(found.get("value") or "")


def _answer(saved: Saved) -> dict[str, Any]:
    if not saved.problems:
        return {}
    return {"response_action": "errors", "errors": saved.problems}


def file_view(action: str, *, current: str | None) -> View:
    """The window to paste a signposts or supervisors file into (pre-filled with the
    organisation's own, when it fits)."""
    name = _FILES[action]
    initial = current if current and len(current) <= MOST_CHARACTERS else None
    return View(
        type="modal",
        callback_id=action,
        title=plain(shorten(copy.text(f"organisation.{name}_title"), limit=MODAL_TITLE)),
        submit=plain(copy.text("organisation.save")),
        close=plain(copy.text("organisation.cancel")),
        blocks=[
            InputBlock(
                block_id=FILE_BLOCK,
                label=plain(copy.text("organisation.file_label")),
                hint=plain(copy.text("organisation.file_hint", file=f"config/{name}.yaml")),
                element=PlainTextInputElement(
                    action_id=FILE_ACTION,
                    multiline=True,
                    max_length=MOST_CHARACTERS,
                    initial_value=initial,
                ),
            )
        ],
    )


def choices_view(found: Organisation, *, titles: dict[str, str], most_days: int) -> View:
    """The window for the flow offered first and the retention period."""
    options = [
        Option(value=flow_id, text=plain(shorten(title, limit=OPTION_TEXT)))
        for flow_id, title in list(titles.items())[:MOST_OPTIONS]
    ]
    chosen = next((o for o in options if o.value == found.default_flow), None)
    return View(
        type="modal",
        callback_id=EDIT_CHOICES,
        title=plain(shorten(copy.text("organisation.choices_title"), limit=MODAL_TITLE)),
        submit=plain(copy.text("organisation.save")),
        close=plain(copy.text("organisation.cancel")),
        blocks=[
            InputBlock(
                block_id=FLOW_BLOCK,
                label=plain(copy.text("organisation.flow_label")),
                element=StaticSelectElement(
                    action_id=FLOW_ACTION, options=options, initial_option=chosen
                ),
            ),
            InputBlock(
                block_id=DAYS_BLOCK,
                label=plain(copy.text("organisation.retention_label")),
                hint=plain(copy.text("organisation.retention_hint", most=most_days)),
                element=PlainTextInputElement(
                    action_id=DAYS_ACTION,
                    initial_value=str(found.retention_days),
                    max_length=6,
                ),
            ),
        ],
    )
