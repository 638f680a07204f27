"""Reflect in Slack: a thin Bolt adapter around bot.engine.conversation.Conversations.

app.py builds the Bolt app (`build_app`) from its collaborators; each listener module has a
`register(app, parts)`: messages (DMs), command (/reflect), answers (question buttons),
actions (start and nudge buttons), private (answers written in a modal, out of the Slack
history), home (App Home), forget (the modal), weekly_actions. notices (the first-use
agreement and what typing in the DM means, said once) and cleanup (a reflection's questions
deleted from the DM when it ends) serve them.
Rendering: blocks, questions, fitting, mrkdwn, copy.yaml. Talking to Slack: client, retries,
delivery, lanes (posting after the ack, in order per person), names. Running: http (waitress),
socket (Socket Mode), launch, housekeeping. Tests: tests/slack (fake Slack, fake Socket Mode).
"""
