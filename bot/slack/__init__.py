"""Reflect in Slack: a thin Bolt adapter around bot.engine.conversation.Conversations.

app.py builds the Bolt app (`build_app`) from its collaborators; each listener module has a
`register(app, parts)`: messages (DMs), command (/reflect), answers (question buttons),
actions (start and nudge buttons), home (App Home), forget (the modal), weekly_actions.
Rendering: blocks, questions, fitting, mrkdwn, copy.yaml. Talking to Slack: client, retries,
delivery, lanes (posting after the ack, in order per person), names. Running: http (waitress),
socket (Socket Mode), launch, housekeeping. Tests: tests/slack (fake Slack, fake Socket Mode).
"""
