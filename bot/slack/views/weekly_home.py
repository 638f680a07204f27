"""The weekly reminders' section of the App Home, drawn from what bot.weekly.actions found:
the teams a lead switched on (with how many took part, never who), the teams that remind the
person (each with "Not for me"), and those they turned down (each with "Remind me again")."""

from __future__ import annotations

from slack_sdk.models import blocks as kit
from slack_sdk.models.blocks import Block, SectionBlock

from bot.weekly import copy
from bot.weekly.actions import HomeSection, state

#: `action_id` of App Home's "Nudge me again" (opt back in to a team's reminders).
OPT_IN = "weekly_opt_in"
#: `action_id` of App Home's "Not for me" beside a team the person is reminded by.
OPT_OUT = "weekly_opt_out"


def blocks(section: HomeSection) -> list[Block]:
    if not section:
        return []
    shown: list[Block] = [kit.DividerBlock(), kit.HeaderBlock(text=copy.text("home.title"))]
    if section.led:
        intro = {"type": "mrkdwn", "text": copy.text("home.lead_intro")}
        shown.append(kit.ContextBlock(elements=[intro]))
        for led in section.led:
            line = copy.text("home.team", channel=led.team.channel, state=state(led.team))
            shown.append(SectionBlock(text=f"{line}\n{led.took_part}" if led.took_part else line))
    if section.reminded_by:
        shown.append(SectionBlock(text=copy.text("home.nudged_intro")))
        for team in section.reminded_by:
            text = copy.text("home.nudged_team", channel=team.channel, when=team.when.describe())
            shown.append(
                _with_button(text, copy.text("reminder.not_for_me"), OPT_OUT, team.channel)
            )
    if section.opted_out:
        shown.append(SectionBlock(text=copy.text("home.opted_out_intro")))
        for team in section.opted_out:
            text = f"<#{team.channel}>"
            shown.append(_with_button(text, copy.text("home.opt_back_in"), OPT_IN, team.channel))
    return shown


def _with_button(text: str, label: str, action_id: str, channel: str) -> SectionBlock:
    button = kit.ButtonElement(text=label, action_id=action_id, value=channel)
    return SectionBlock(text=text, accessory=button)
