"""The Home tab's admin section: one organisation's own settings, shown to workspace admins
only (users.info). Its buttons open the windows of bot.slack.listeners.organisation, which
screen, check and keep what is submitted."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)

from bot.engine.organisation import Organisation
from bot.engine.people import Person
from bot.slack.delivery.names import Profile
from bot.slack.identity import workspace_of
from bot.slack.parts import Parts
from bot.slack.views import copy
from bot.slack.views.fitting import HEADER_TEXT, shorten
from bot.slack.views.mrkdwn import escape, markdown, plain

#: Buttons of the admin section, and the windows they open.
EDIT_SIGNPOSTS = "organisation_signposts"
EDIT_SUPERVISORS = "organisation_supervisors"
EDIT_CHOICES = "organisation_choices"
RESET = "organisation_reset"


def is_admin(profile: Profile | None, workspace: str) -> bool:
    """Whether someone may change the organisation's settings: a workspace admin or owner, or
    on Enterprise Grid (settings for the whole organisation) an admin or owner of it."""
    if profile is None:
        return False
    return profile.is_org_admin if workspace.startswith("E") else profile.is_admin


def admin_section(parts: Parts, person: Person) -> list[Block]:
    """The admin section for the Home tab: nothing unless the person is an admin (as users.info
    last said; every change checks again)."""
    workspace = workspace_of(person)
    user = person.id.rpartition(":")[2]
    if parts.organisations is None or workspace is None or not user:
        return []
    if not is_admin(parts.profiles.of(user), workspace):
        return []
    return admin_blocks(
        parts.organisations.of(workspace),
        most_days=parts.organisations.defaults.retention_days,
        titles=flow_titles(parts),
        today=parts.clock().date().isoformat(),
    )


def flow_titles(parts: Parts) -> dict[str, str]:
    return {flow.id: flow.title for flow in parts.conversations.library}


def admin_blocks(
    found: Organisation, *, most_days: int, titles: dict[str, str], today: str
) -> list[Block]:
    """The admin section: what applies, whose it is, and the buttons to change it."""

    def whose(name: str) -> str:
        return copy.text("organisation.own" if name in found.own else "organisation.default")

    review_by = found.signposts.review_by.isoformat()
    lines = [
        copy.text(
            "organisation.signposts",
            whose=whose("signposts"),
            version=escape(found.signposts.version),
            review_by=review_by,
        ),
        copy.text(
            "organisation.supervisors", whose=whose("supervisors"), count=len(found.supervisors)
        ),
        copy.text(
            "organisation.default_flow",
            whose=whose("default-flow"),
            title=escape(titles.get(found.default_flow, found.default_flow)),
        ),
        copy.text(
            "organisation.retention",
            whose=whose("retention-days"),
            days=found.retention_days,
            most=most_days,
        ),
    ]
    if review_by < today:
        lines.append(copy.text("organisation.overdue"))
    buttons = [
        ButtonElement(text=copy.text("organisation.edit_signposts"), action_id=EDIT_SIGNPOSTS),
        ButtonElement(text=copy.text("organisation.edit_supervisors"), action_id=EDIT_SUPERVISORS),
        ButtonElement(text=copy.text("organisation.edit_choices"), action_id=EDIT_CHOICES),
    ]
    if found.own:
        buttons.append(ButtonElement(text=copy.text("organisation.reset"), action_id=RESET))
    return [
        DividerBlock(),
        HeaderBlock(text=plain(shorten(copy.text("organisation.heading"), limit=HEADER_TEXT))),
        ContextBlock(elements=[plain(copy.text("organisation.intro"))]),
        SectionBlock(text=markdown("\n".join(lines))),
        ActionsBlock(elements=buttons),
    ]
