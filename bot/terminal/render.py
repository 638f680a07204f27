"""Engine replies as plain terminal text: numbered choices, scales as a row."""

from __future__ import annotations

import textwrap

from bot.engine import messages, replies

WIDTH = 78


def _wrap(text: str, indent: str = "") -> str:
    lines = []
    for paragraph in text.splitlines():
        if not paragraph.strip():
            lines.append("")
            continue
        lines.append(
            textwrap.fill(paragraph, WIDTH, initial_indent=indent, subsequent_indent=indent)
        )
    return "\n".join(lines)


def _question(reply: replies.Question) -> str:
    parts = []
    if reply.reason:
        parts.append(_wrap(reply.reason))
    parts.append(_wrap(f"{reply.position}. {reply.text}"))
    if reply.choices:
        parts += [f"     {n}) {choice.label}" for n, choice in enumerate(reply.choices, 1)]
        if reply.step_kind == "multi":
            parts.append("     (choose one or more, e.g. 1, 3)")
    if reply.scale is not None:
        scale = reply.scale
        if any(scale.points):
            parts += [
                f"     {n}) {scale.word(n) or ''}".rstrip() for n in range(scale.min, scale.max + 1)
            ]
        else:
            row = "  ".join(str(n) for n in range(scale.min, scale.max + 1))
            parts.append(f"     {scale.min_label}  [ {row} ]  {scale.max_label}")
    if reply.optional:
        parts.append("     (optional: type skip to leave it)")
    return "\n".join(parts)


def _signpost(reply: replies.Signpost) -> str:
    bar = "-" * WIDTH
    lines = [bar, _wrap(reply.text)]
    for resource in reply.resources:
        when = f" ({resource.when})" if resource.when else ""
        lines.append(_wrap(f"* {resource.name}: {resource.how}{when}", ""))
    lines.append(bar)
    return "\n".join(lines)


def _check_in(reply: replies.CheckIn) -> str:
    parts = [_wrap(reply.reason)] if reply.reason else []
    parts.append(_wrap(reply.text))
    parts.append(_wrap(messages.text("terminal.check_in_hint"), "     "))
    return "\n".join(parts)


def _after_crisis(reply: replies.AfterCrisis) -> str:
    parts = [_wrap(reply.reminder)] if reply.reminder else []
    parts.append(_wrap(reply.reason or reply.text))
    parts.append(_wrap(messages.text("terminal.after_crisis_hint"), "     "))
    return "\n".join(parts)


def _suggestion(reply: replies.SupervisorSuggestion) -> str:
    lines = [_wrap(reply.text)]
    for supervisor in reply.supervisors:
        lines.append(_wrap(f"* {supervisor.name}: {supervisor.for_whom}"))
        for detail in (supervisor.cost, supervisor.format, supervisor.wait):
            if detail:
                lines.append(_wrap(detail, "    "))
        for where in (supervisor.booking_url, supervisor.email):
            if where:
                lines.append(f"    {where}")  # never wrapped, so it can be copied whole
    return "\n".join(lines)


def render(reply: replies.Reply) -> str:
    """One reply as terminal text."""
    if isinstance(reply, replies.Question):
        return _question(reply)
    if isinstance(reply, replies.Signpost):
        return _signpost(reply)
    if isinstance(reply, replies.CheckIn):
        return _check_in(reply)
    if isinstance(reply, replies.AfterCrisis):
        return _after_crisis(reply)
    if isinstance(reply, replies.Summary):
        bar = "=" * WIDTH
        return f"{bar}\n{reply.text}\n{bar}"
    if isinstance(reply, replies.SupervisorSuggestion):
        return _suggestion(reply)
    if isinstance(reply, replies.FlowOffer):
        lines = [_wrap(reply.text)]
        lines += [f"     {n}) {flow.label}" for n, flow in enumerate(reply.flows, 1)]
        return "\n".join(lines)
    if isinstance(reply, replies.Say):
        return _wrap(reply.text)
    raise TypeError(f"cannot show {type(reply).__name__}")
