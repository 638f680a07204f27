"""Putting Reflect together from settings: flows, safety signposts, supervisors, the store,
and the weekly reminders over that store.

Transports (Slack, the terminal) and commands call these rather than wiring things themselves:
nothing is registered by importing a module, and nothing is cached per store behind the scenes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from bot.engine import safety
from bot.engine.authoring.loading import load_library
from bot.engine.clock import utcnow
from bot.engine.conversation import Conversations
from bot.engine.organisation import Organisation
from bot.engine.people import Person
from bot.engine.reflections import ReflectionStore
from bot.engine.safety import second_stage
from bot.engine.signposts import load_signposts
from bot.engine.supervisor_suggestion import SuggestionPolicy
from bot.engine.supervisors import load_directory
from bot.settings import Settings
from bot.store import Store
from bot.store.organisations import Organisations, OrganisationSettings

if TYPE_CHECKING:
    from bot.slack.tokens import Installed
    from bot.weekly.actions import WeeklyActions
    from bot.weekly.service import ReminderService

log = logging.getLogger(__name__)


class FlowsUnavailable(RuntimeError):
    """No flow could be loaded: there is nothing to offer."""


def build_conversations(
    *,
    settings: Settings,
    store: ReflectionStore,
    clock: Callable[[], dt.datetime] = utcnow,
    warn: Callable[[str], None] | None = None,
    workspace_of: Callable[[Person], str | None] | None = None,
) -> Conversations:
    """The engine, ready to talk.

    Broken flows are left out and each problem reported through `warn` (the log by default),
    as is a signposts file that is past or near its review date, and each supervisor left out
    of the directory for a placeholder address. A broken signposts,
    supervisors or safety file raises (SignpostsError, SupervisorsError, SafetyConfigError).
    """
    say = warn or log.warning
    safety.default_screen()  # compiled now: a broken phrase file stops start-up, not a message
    loaded = load_library(sorted(settings.flows_dir.glob("*.yaml")), default=settings.default_flow)
    for problem in loaded.problems:
        say(f"Flow left out: {problem}")
    if not len(loaded.library):
        raise FlowsUnavailable(
            f"No flows could be loaded from {settings.flows_dir}. "
            "Check REFLECT_FLOWS_DIR and run `reflect flows check`."
        )
    for flow in loaded.library:
        for step in flow.steps:
            for option in getattr(step, "options", None) or []:
                if option.suggests and option.suggests not in loaded.library:
                    say(
                        f"{loaded.sources[flow.id]}: flow '{flow.id}', step '{step.id}': option "
                        f"'{option.value}' suggests '{option.suggests}', which is not a loaded "
                        "flow; nothing will be offered for it"
                    )
    directory = load_directory(settings.supervisors_file)
    for warning in directory.warnings:
        say(warning)
    suggestions = SuggestionPolicy(
        supervisors=directory.supervisors,
        firm_every=dt.timedelta(days=settings.firm_nudge_every_days),
    )
    signposts = load_signposts(settings.signposts_file)
    for warning in signposts.warnings(now=clock()):
        say(warning)
    organisations = None
    if workspace_of is not None:
        organisations = organisations_over(
            store=store,
            defaults=Organisation(
                signposts=signposts,
                supervisors=directory.supervisors,
                default_flow=loaded.library.default,
                retention_days=settings.retention_days,
            ),
            flows=frozenset(flow.id for flow in loaded.library),
            workspace_of=workspace_of,
            warn=say,
        )
    return Conversations(
        library=loaded.library,
        store=store,
        signposts=signposts,
        suggestions=suggestions,
        clock=clock,
        # The rules, and the optional second stage where it is installed (loaded on first use;
        # it can only add the check-in question where the rules found nothing).
        screen=second_stage.screen,
        organisation_of=organisations,
    )


def organisations_over(
    *,
    store: ReflectionStore,
    defaults: Organisation,
    flows: frozenset[str],
    workspace_of: Callable[[Person], str | None],
    warn: Callable[[str], None],
) -> Organisations:
    """Each organisation's settings, kept in `store`, over `defaults`."""
    return Organisations(
        kept=OrganisationSettings(store),
        defaults=defaults,
        flows=flows,
        workspace_of=workspace_of,
        pseudonym=store.pseudonym,  # type: ignore[attr-defined]
        warn=warn,
    )


def build_weekly(
    *,
    settings: Settings,
    store: Store,
    clock: Callable[[], dt.datetime] = utcnow,
    token_for: Callable[[str], str | None] | None = None,
) -> tuple[WeeklyActions, ReminderService] | None:
    """The weekly reminders over the bot's store: what people do with them (`/reflect weekly`,
    the buttons, the App Home section) and the service that plans and sends them. None on a
    store that does not keep their tables. Installed over OAuth, `token_for` gives the
    scheduler the token of the installation each team was switched on through (inside a
    request, the request's installation speaks)."""
    from bot.weekly.actions import WeeklyActions  # Slack's libraries: not for the terminal chat
    from bot.weekly.service import ReminderService, slack_for, workspace_slack

    if not getattr(store, "keeps_weekly_tables", False):
        return None
    slack = workspace_slack(settings, token_for=token_for)
    service = ReminderService(db=store, keyring=store.keyring, settings=settings, slack=slack)
    actions = WeeklyActions(
        db=store,
        keyring=store.keyring,
        slack=slack_for(settings),
        settings=settings,
        clock=clock,
        reflected=store,
    )
    return actions, service


#: How long a token renewal waits for Slack. On SQLite the renewal holds the one write lock
#: meanwhile (bot.store.installations.Installations.refreshing): well within the time other
#: writers wait for it.
RENEWAL_TIMEOUT_SECONDS = 5.0


def installed_over(
    settings: Settings, store: Store, *, clock: Callable[[], dt.datetime] = utcnow
) -> Installed | None:
    """Installed over OAuth: the installations kept in `store`, and the one way their tokens
    are renewed, for Bolt's requests and for what speaks to Slack outside them (the weekly
    reminders' scheduler, the outbox's sweep). None with one bot token.

    A renewal is asked once, never retried: Slack may have spent the refresh token on a
    request whose answer was lost, and a second ask would only be refused."""
    from bot.slack.delivery.gateway import single_shot_client  # Slack's libraries: only for Slack
    from bot.slack.installations import ReflectInstallationStore, Reinstalling
    from bot.slack.tokens import Installed, TokenRefresh
    from bot.store.installations import Installations, Transactional

    if not settings.oauth:
        return None
    table = Installations(cast(Transactional, store), clock=clock)
    return Installed(
        table=table,
        refresh=TokenRefresh(
            store=ReflectInstallationStore(
                installations=table,
                organisations=cast(Reinstalling, store),
                forget_settings=OrganisationSettings(store).erase,
            ),
            client_id=settings.slack_client_id or "",
            client_secret=settings.slack_client_secret or "",
            client=single_shot_client(
                token=None, base_url=settings.slack_api_url, timeout=RENEWAL_TIMEOUT_SECONDS
            ),
        ),
    )


def organisation_defaults(
    settings: Settings, *, flows: bool = True
) -> tuple[Organisation, frozenset[str]]:
    """What applies where an organisation has set nothing (the built-in or configured files),
    and the ids of the flows it may choose from (without `flows`, none are loaded: the default
    flow is then the one the settings name). Raises as `build_conversations` does."""
    default_flow, ids = settings.default_flow, frozenset[str]()
    if flows:
        found = sorted(settings.flows_dir.glob("*.yaml"))
        library = load_library(found, default=settings.default_flow).library
        default_flow, ids = library.default, frozenset(flow.id for flow in library)
    defaults = Organisation(
        signposts=load_signposts(settings.signposts_file),
        supervisors=load_directory(settings.supervisors_file).supervisors,
        default_flow=default_flow,
        retention_days=settings.retention_days,
    )
    return defaults, ids
