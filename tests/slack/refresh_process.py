"""One bot process asking for a workspace's token, as `reflect run` would when the token is
near expiry: through Bolt's authorisation (a request) or outside a request (the scheduler).

    python -m tests.slack.refresh_process --db PATH | --pg URL --keys-url URL
        --slack URL --client-id ID --client-secret SECRET --team T --via request|scheduler
        --ready FILE --go FILE

It opens its own store and waits, after writing `--ready`, until `--go` exists, so that the
test can start several at one moment; then prints {"token": ...} (or {"error": ...}).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from slack_bolt import BoltContext

from bot.runtime import installed_over
from bot.settings import Settings
from bot.slack import oauth
from bot.slack.delivery.gateway import web_client
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from tests.cli_env import SECRET


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db")
    parser.add_argument("--pg")
    parser.add_argument("--keys-url")
    for name in ("--slack", "--client-id", "--client-secret", "--team", "--ready", "--go"):
        parser.add_argument(name, required=True)
    parser.add_argument("--via", choices=("request", "scheduler"), required=True)
    args = parser.parse_args()
    store = (
        PostgresStore.open(args.pg, keys_url=args.keys_url, secret=SECRET.encode(), pool_size=2)
        if args.pg
        else SqliteStore.open(Path(args.db), secret=SECRET.encode())
    )
    settings = Settings(
        slack_bot_token=None,
        slack_api_url=args.slack,
        slack_client_id=args.client_id,
        slack_client_secret=args.client_secret,
    )
    client = web_client(settings=settings)
    installed = installed_over(settings, store)
    assert installed is not None
    Path(args.ready).touch()
    while not Path(args.go).exists():
        time.sleep(0.005)
    try:
        if args.via == "scheduler":
            token = installed.tokens.token_for(args.team)
        else:
            context = BoltContext(client=client)
            found = oauth.authorize(refresh=installed.refresh)(
                context=context, enterprise_id=None, team_id=args.team, user_id=None
            )
            token = found.bot_token if found is not None else None
        print(json.dumps({"token": token}))
    except Exception as error:  # the test reads what went wrong
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
    finally:
        store.close()


if __name__ == "__main__":
    main()
