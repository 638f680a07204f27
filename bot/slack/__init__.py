"""Reflect in Slack: a thin Bolt adapter around bot.engine.conversation.Conversations.

app.py builds the Bolt app (`build_app`) from its collaborators (bot/runtime.py wires them);
parts.py is what every listener shares.

- listeners/: one module per kind of request, each with `register(app, parts)`: messages (DMs),
  command (/reflect), answers (question buttons), safety_answers (the check-in and after-crisis
  buttons), private (answers written in a modal, out of the Slack history), actions (start and
  supervisor buttons), home (App Home), forget (the modal), weekly_actions (the weekly
  reminder's buttons). A listener reads the payload and hands the work on (a test keeps them
  short).
- services/: what the listeners hand on to, each answering through respond.py, which owns the
  ack protocol: direct_message, reflect_command (/reflect), private_answer (the modal),
  weekly (/reflect weekly, the reminder's guards), greeting (the profile looked up after the
  ack, the greeting by name).
- views/: Block Kit and copy: blocks, questions, safety_questions, booking (the supervisor
  directory), notices (the first-use agreement, said once), home, weekly_home, reminder,
  fitting, mrkdwn, export, copy.yaml.
- delivery/: talking to Slack's Web API: cleanup (a reflection's questions deleted from the DM
  when it ends), gateway (every client, the retry policies, who is gone,
  users.info), retries, poster (posting after the ack), lanes (in order per person), names
  (first name and time zone, looked up after the ack, kept in memory),
  reminder_api (the weekly reminders' single-shot port).
- serving/: http (waitress, bounded), gate (replayed requests), unhandled (every well-formed
  request acknowledged), socket (Socket Mode), launch, housekeeping, logs.

Tests: tests/slack (the one fake Slack, a fake Socket Mode).
"""
