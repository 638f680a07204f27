"""Reflect's benchmarks (issue 6): `python -m bench` runs them all and regenerates BENCHMARKS.md.

One module per measurement:

- `ack_latency`: signed slash commands, DM events and button clicks from concurrent clients
  (`load`, asyncio + httpx) against `reflect run --http` and against a bare Bolt app behind the
  same waitress server (`bare_app`), both talking to the fake Slack Web API (`slack_server`);
- `engine_throughput`: steps per second through Conversations with the real SQLite store and
  encryption, with 0, 10k and 100k reflections already stored (`seeding`);
- `nudge_fanout`: 10,000 people through the weekly sender against a fake Slack that enforces a
  chat.postMessage rate with 429s (`nudge_slack`);
- `memory_startup`: start-up time to ready (GET /healthz 200) and peak memory of the bot
  holding 10,000 people and 100,000 reflections;
- `hostile`: the worst redaction and safety-screen time on 50,000-character pathological
  inputs, another leader's ack latency while one types pathological answers, oversized POSTs
  (answer and memory) and /healthz under 120 slow clients.
- `conversation_load`: a short leader's script spread over three `reflect run --http`
  processes on PostgreSQL behind a round-robin balancer (`round_robin`), against one process on
  SQLite and one on PostgreSQL: p99 ack and the time from a DM to the bot's reply, read from a
  fake Slack that notes when each message arrives (`timed_slack`); the setups'
  processes in `conversation_setups`;
- `safety_screen`: the safety screen on the held-out corpus (recall, false alarms, answers to
  others at risk, time per message, memory); it also runs alone on any labelled set.

Every server under measurement runs in its own process (`processes`), so the load generator
never shares an interpreter lock with the bot it measures.
"""
