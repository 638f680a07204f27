"""Settings: the only module that reads the environment (and `.env`).

Every setting is listed, with a comment, in `.env.example`. `load()` reads them once;
`Settings.problems()` says, in one message, what is missing or contradictory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from bot._builtin import file as builtin_file
from bot._builtin import folder as builtin_folder

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
#: The flows and configuration that ship with Reflect (inside the package when installed).
BUILTIN_FLOWS = builtin_folder("flows")
BUILTIN_SIGNPOSTS = builtin_file("config", "signposts.yaml")
BUILTIN_SUPERVISORS = builtin_file("config", "supervisors.yaml")


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    #: This app's id (A...), to drop requests meant for another app; else learnt from Slack.
    slack_app_id: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    #: OAuth (many workspaces): the app's client id and secret. With them, Reflect serves
    #: /slack/install and /slack/oauth_redirect and keeps each workspace's token itself.
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    #: The public URL of /slack/oauth_redirect, as listed in the app's Redirect URLs.
    slack_redirect_uri: str | None = None
    #: Days between an uninstall and the erasure of that organisation's data.
    erase_after_uninstall_days: int = 7
    data_dir: Path = Path("data")
    db_path: Path = Path("data/reflect.db")
    #: A postgresql:// URL: keep everything in PostgreSQL instead of the SQLite file.
    database_url: str | None = None
    #: The PostgreSQL database for the data keys: required with database_url, and separate.
    keys_database_url: str | None = None
    database_pool_size: int = 10
    secret_key: str | None = None
    #: Let the Slack bot run with the secret generated inside the data folder.
    allow_secret_in_data_dir: bool = False
    flows_dir: Path = BUILTIN_FLOWS
    signposts_file: Path = BUILTIN_SIGNPOSTS
    supervisors_file: Path = BUILTIN_SUPERVISORS
    default_flow: str = "hard-day"
    retention_days: int = 365
    min_group_size: int = 5
    firm_nudge_every_days: int = 14
    weekly_late_hours: float = 6.0
    weekly_posts_per_second: float = 1.0
    weekly_admins: frozenset[str] = field(default_factory=frozenset)
    http_port: int = 3000
    #: The address `reflect run --http` listens on: loopback, behind a reverse proxy.
    http_host: str = "127.0.0.1"
    log_level: str = "INFO"
    #: Who `reflect chat` and `reflect data` act for on this machine (a local name, not Slack).
    terminal_user: str = "me"
    #: Who runs this copy of Reflect, and where its users write for support (public pages).
    operator_name: str | None = None
    support_contact: str | None = None

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token) or self.oauth

    @property
    def oauth(self) -> bool:
        """Installed over OAuth into any number of workspaces (else: one bot token)."""
        return bool(self.slack_client_id or self.slack_client_secret)

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    def problems(self, *, http: bool = False) -> list[str]:
        """What stops the Slack bot from starting, each with what to do about it."""
        found: list[str] = []
        if self.oauth:
            return found + self._oauth_problems(http=http)
        if not self.slack_bot_token:
            found.append(
                "SLACK_BOT_TOKEN is not set (the bot token, xoxb-..., from your app's "
                "OAuth & Permissions page)."
            )
        elif not self.slack_bot_token.startswith("xoxb-"):
            found.append("SLACK_BOT_TOKEN should be a bot token starting with xoxb-.")
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            found.append("SLACK_APP_TOKEN should be an app-level token starting with xapp-.")
        if http and not self.slack_signing_secret:
            found.append(
                "SLACK_SIGNING_SECRET is required for --http: without it requests "
                "from Slack cannot be verified."
            )
        if not http and not self.slack_app_token:
            found.append(
                "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token "
                "(xapp-...) with connections:write. Or run with --http."
            )
        return found + self._common_problems()

    def _oauth_problems(self, *, http: bool) -> list[str]:
        found: list[str] = []
        if not (self.slack_client_id and self.slack_client_secret):
            found.append(
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are both needed to install over OAuth "
                "(Basic Information > App Credentials); set neither to run with one bot token."
            )
        if self.slack_bot_token:
            found.append(
                "SLACK_BOT_TOKEN is set as well as SLACK_CLIENT_ID: over OAuth each workspace's "
                "token comes from its installation. Unset one of them."
            )
        if not http:
            found.append(
                "Installing over OAuth needs --http: Slack sends each workspace's events to "
                "the public URL (Socket Mode is not allowed for distributed apps)."
            )
        if not self.slack_signing_secret:
            found.append(
                "SLACK_SIGNING_SECRET is required: without it requests cannot be verified."
            )
        if not self.slack_app_id:
            found.append(
                "SLACK_APP_ID is required over OAuth (Basic Information > App ID): there is no "
                "single token to learn it from, and requests for other apps must be told apart."
            )
        if self.slack_redirect_uri and not self.slack_redirect_uri.startswith("https://"):
            found.append(
                "SLACK_REDIRECT_URI must be an https:// URL ending in /slack/oauth_redirect."
            )
        return found + self._common_problems()

    def _common_problems(self) -> list[str]:
        found: list[str] = []
        if not self.slack_api_url.startswith(("http://", "https://")):
            found.append("SLACK_API_URL must be an http(s) URL.")
        if self.min_group_size < 2:
            found.append("REFLECT_MIN_GROUP_SIZE must be at least 2.")
        if self.retention_days < 1:
            found.append("REFLECT_RETENTION_DAYS must be at least 1.")
        return found


def _int(values: Mapping[str, str | None], name: str, default: int) -> int:
    raw = values.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(str(raw))
    except ValueError as error:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from error


def _float(values: Mapping[str, str | None], name: str, default: float) -> float:
    raw = values.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(str(raw))
    except ValueError as error:
        raise SettingsError(f"{name} must be a number, not {raw!r}.") from error


def _pace(values: Mapping[str, str | None]) -> float:
    pace = _float(values, "REFLECT_WEEKLY_POSTS_PER_SECOND", 1.0)
    if not 0 < pace <= 50:
        raise SettingsError("REFLECT_WEEKLY_POSTS_PER_SECOND must be more than 0 and at most 50.")
    return pace


def _erase_days(values: Mapping[str, str | None]) -> int:
    days = _int(values, "REFLECT_ERASE_AFTER_UNINSTALL_DAYS", 7)
    if not 0 <= days <= 90:
        raise SettingsError("REFLECT_ERASE_AFTER_UNINSTALL_DAYS must be between 0 and 90.")
    return days


class SettingsError(ValueError):
    """A setting that cannot be read; the message names it."""


_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def _database_urls(text: Callable[[str], str | None]) -> tuple[str | None, str | None]:
    """REFLECT_DATABASE_URL and REFLECT_KEYS_DATABASE_URL, checked: both PostgreSQL URLs, and
    both or neither (the data keys always live apart from the data)."""
    url, keys_url = text("REFLECT_DATABASE_URL"), text("REFLECT_KEYS_DATABASE_URL")
    if url is None:
        if keys_url is not None:
            raise SettingsError(
                "REFLECT_KEYS_DATABASE_URL is set but REFLECT_DATABASE_URL is not: set both "
                "for PostgreSQL, or neither for the SQLite file."
            )
        return None, None
    for name, value in (("REFLECT_DATABASE_URL", url), ("REFLECT_KEYS_DATABASE_URL", keys_url)):
        if value is not None and not value.startswith(_POSTGRES_SCHEMES):
            raise SettingsError(f"{name} must be a postgresql:// URL.")
    if keys_url is None:
        raise SettingsError(
            "REFLECT_KEYS_DATABASE_URL is required with REFLECT_DATABASE_URL: the data keys "
            "live in a database of their own (e.g. reflect_keys), so that a backup of one is "
            "useless without the other."
        )
    if keys_url == url:
        raise SettingsError(
            "REFLECT_KEYS_DATABASE_URL must name another database than REFLECT_DATABASE_URL."
        )
    return url, keys_url


def load(environ: Mapping[str, str] | None = None, *, env_file: Path | None = None) -> Settings:
    """Read settings from `.env` (if present) overlaid by the environment."""
    values: dict[str, str | None] = {}
    dotenv = env_file if env_file is not None else Path(".env")
    if dotenv.is_file():
        values.update(dotenv_values(dotenv))
    values.update(os.environ if environ is None else environ)

    def text(name: str) -> str | None:
        raw = values.get(name)
        return raw.strip() if raw and raw.strip() else None

    data_dir = Path(text("REFLECT_DATA_DIR") or "data")
    database_url, keys_database_url = _database_urls(text)
    pool_size = _int(values, "REFLECT_DATABASE_POOL_SIZE", 10)
    if not 1 <= pool_size <= 200:
        raise SettingsError("REFLECT_DATABASE_POOL_SIZE must be between 1 and 200.")
    return Settings(
        slack_bot_token=text("SLACK_BOT_TOKEN"),
        slack_signing_secret=text("SLACK_SIGNING_SECRET"),
        slack_app_token=text("SLACK_APP_TOKEN"),
        slack_app_id=text("SLACK_APP_ID"),
        slack_api_url=text("SLACK_API_URL") or DEFAULT_SLACK_API_URL,
        slack_client_id=text("SLACK_CLIENT_ID"),
        slack_client_secret=text("SLACK_CLIENT_SECRET"),
        slack_redirect_uri=text("SLACK_REDIRECT_URI"),
        erase_after_uninstall_days=_erase_days(values),
        data_dir=data_dir,
        db_path=Path(text("REFLECT_DB") or data_dir / "reflect.db"),
        database_url=database_url,
        keys_database_url=keys_database_url,
        database_pool_size=pool_size,
        secret_key=text("REFLECT_SECRET_KEY"),
        allow_secret_in_data_dir=(text("REFLECT_ALLOW_SECRET_IN_DATA_DIR") or "").lower()
        in ("1", "true", "yes", "on"),
        flows_dir=Path(text("REFLECT_FLOWS_DIR") or BUILTIN_FLOWS),
        signposts_file=Path(text("REFLECT_SIGNPOSTS_FILE") or BUILTIN_SIGNPOSTS),
        supervisors_file=Path(text("REFLECT_SUPERVISORS_FILE") or BUILTIN_SUPERVISORS),
        default_flow=text("REFLECT_DEFAULT_FLOW") or "hard-day",
        retention_days=_int(values, "REFLECT_RETENTION_DAYS", 365),
        min_group_size=_int(values, "REFLECT_MIN_GROUP_SIZE", 5),
        firm_nudge_every_days=_int(values, "REFLECT_FIRM_NUDGE_EVERY_DAYS", 14),
        weekly_late_hours=_float(values, "REFLECT_WEEKLY_LATE_HOURS", 6.0),
        weekly_posts_per_second=_pace(values),
        weekly_admins=frozenset(
            part.strip()
            for part in (text("REFLECT_WEEKLY_ADMINS") or "").split(",")
            if part.strip()
        ),
        http_port=_int(values, "REFLECT_HTTP_PORT", 3000),
        http_host=text("REFLECT_HTTP_HOST") or "127.0.0.1",
        log_level=(text("REFLECT_LOG_LEVEL") or "INFO").upper(),
        terminal_user=text("REFLECT_TERMINAL_USER") or text("USER") or "me",
        operator_name=text("REFLECT_OPERATOR_NAME"),
        support_contact=text("REFLECT_SUPPORT_CONTACT"),
    )
