"""Weekly reflection reminders that team leads switch on for their team, delivered exactly once.

How it fits together:

- `due`: pure time arithmetic. A team's day and time ("Friday 16:00") are meant in each
  person's own Slack time zone; the due instant is computed with zoneinfo (DST included) and
  weeks are ISO weeks where the person is. More than REFLECT_WEEKLY_LATE_HOURS late: skipped.
- bot.store.weekly `teams`: the teams (Slack channels) that are on, who switched them on (a
  pseudonym, plus their user id sealed for the consent message), and per-person opt-outs.
- `profiles`: time zone / deactivated / bot, kept in the store (bot.store.weekly.profiles, the
  time zone sealed) and in memory, looked up again after a day; in bulk with users.list (pages
  of 200, within its tier) when more than a few people of a workspace are unknown, else
  users.info.
- `planner`: members (conversations.members) less opt-outs, deactivated accounts and bots; one
  reminder per person per week (the earliest of their teams), written to the ledger BEFORE sending.
- bot.store.weekly `ledger`: one row per (person, ISO week, kind). `due -> claimed -> sent |
  skipped`; claims are one conditional UPDATE in the store's write transaction (SQLite: BEGIN
  IMMEDIATE; PostgreSQL: the row picked FOR UPDATE SKIP LOCKED), with a claim token and a
  lease, so two senders never both win a row; a row claimed before (its
  sender died, or Slack's answer was lost) is looked for in the DM (message metadata carries
  the row id) before it is posted again.
- `sender`: paced fan-out, one pace per workspace shared by every sender thread and process
  through the store (bot.store.weekly.pacing: a 429 holds them all for its Retry-After and cuts
  the rate, which then recovers: AIMD), renews its lease before posting after a long wait, logs
  progress without ids. A team's Slack client comes from one seam, `slack_for(team.reach)`
  (bot.weekly.service.workspace_slack): the installation the team was switched on through,
  else its workspace.
- `runner`: `run_once` (cron: `reflect reminders run-once`) and the `Scheduler` thread that
  `reflect run` starts beside the Slack app; any number of processes may run it on one store,
  SQLite or PostgreSQL.
- `service`: the above built from settings and the opened store, for the commands.
- `commands`: `/reflect weekly ...` read into a command, and who may change a team (pure);
  `actions`: what people do with the reminders, over the store and Slack, and what their App
  Home shows (drawn by bot.slack.views.weekly_home); the buttons and the command are
  bot.slack.listeners.weekly_actions. Copy is in `copy.yaml`.

Nothing here stores a Slack user id in clear: people are pseudonyms (the store's keyring, over
the same identity the Slack app uses), and the ids needed to message them are sealed.
"""
