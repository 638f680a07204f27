"""How the safety screen's findings become one outcome for a message.

Each cue found is a `Finding` (which cue group, how serious, whom it is about, in which
clause). `decide` turns a message's findings into a `Concern`: signals read in pairs, risk told
in the past set aside or asked about, a "me too" taking on someone else's risk, and the
leader's own risk anywhere winning.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from bot.engine.safety.context import Context
from bot.engine.safety.cues import index_words, join
from bot.engine.safety.normalise import Clause

#: What the screen found: a clear risk to the leader ("crisis"), words close to risk that the
#: screen cannot confirm and should ask about directly ("check_in"), or someone else at risk
#: (a patient, pupil, colleague or relative: "others").
Outcome = Literal["crisis", "check_in", "others"]

#: The cue name given when a "me too" takes on someone else's risk.
ME_TOO = "me_too"


@dataclass(frozen=True)
class Concern:
    """What the screen found; see `Outcome`. `cues` names the cue groups behind it (never
    the words themselves), for tests and for reviewing the phrase file."""

    outcome: Outcome
    cues: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Finding:
    """One cue found in one clause, read in its context."""

    cue: str
    #: "signal": weak on its own; two different signal groups about one person count.
    level: Literal["crisis", "check_in", "signal"]
    #: The leader, someone else, or only a subject of work (no card on its own).
    about: Literal["self", "others", "work"]
    clause: int


def signalled(
    findings: list[Finding], pairs: frozenset[frozenset[str]] = frozenset()
) -> list[Finding]:
    """Findings about one person with signals read together: two signal groups that make a
    pair (an act of preparation and finality, a means named and a dwelling on it) count as a
    check-in; a signal without its pair counts for nothing. With no pairs listed, any two
    different groups make one."""
    signals = [f for f in findings if f.level == "signal"]
    kept = [f for f in findings if f.level != "signal"]
    names = {f.cue for f in signals}
    twice = {name for name in names if len({f.clause for f in signals if f.cue == name}) >= 2}
    if pairs:
        paired = {
            name
            for pair in pairs
            if (pair <= names if len(pair) == 2 else pair <= twice)
            for name in pair
        }
    else:
        paired = names if len(names) >= 2 else set()
    return kept + [replace(f, level="check_in") for f in signals if f.cue in paired]


def decide(
    findings: list[Finding],
    context: Context,
    clauses: list[Clause],
    *,
    pairs: frozenset[frozenset[str]] = frozenset(),
) -> Concern | None:
    """The outcome for a whole message: the leader's own risk anywhere wins."""
    texts = [clause.text for clause in clauses]
    mine = signalled([f for f in findings if f.about == "self"], pairs)
    others = signalled([f for f in findings if f.about == "others"], pairs)
    if others and mine:
        # Words close to risk, in a clause that names someone else and not the leader, in a
        # message about someone else at risk, are that person's ("found blades in her bag").
        moved = [
            f
            for f in mine
            if f.level == "check_in"
            and f.clause >= 0
            and context.names_someone_else_only(texts[f.clause])
        ]
        if moved:
            mine = [f for f in mine if f not in moved]
            others = others + [replace(f, about="others") for f in moved]
    if mine:
        whole = join(texts)
        told = {f.clause for f in mine if f.clause >= 0}
        near = [texts[i] for i in sorted(told | {i + 1 for i in told}) if i < len(texts)]
        history = context.history(whole, index_words(whole), near=near)
        if history == "resolved":
            mine = [f for f in mine if context.still_present(texts[f.clause])]
        elif history == "past":
            # Told in the past with nothing to say it is over: asked about, not assumed.
            mine = [
                f
                if f.level != "crisis" or context.still_present(texts[f.clause])
                else replace(f, level="check_in")
                for f in mine
            ]
    answered = others or [f for f in findings if f.about == "work" and f.level != "signal"]
    sharing = {
        number: at
        for number, clause in enumerate(clauses)
        if not clause.quoted and (at := context.sharing_at(clause.text)) is not None
    }
    if answered and sharing:
        level: Literal["crisis", "check_in"] = (
            "crisis" if any(f.level == "crisis" for f in answered) else "check_in"
        )
        mine.append(Finding(ME_TOO, level, "self", -1))
    elif sharing and any(
        # Someone else's risk told in words no cue lists, before the leader's "me too".
        context.tells_of_others_risk(clause.text[: max(0, sharing[number] - 1)])
        if number in sharing
        else context.tells_of_others_risk(clause.text)
        for number, clause in enumerate(clauses)
    ):
        mine.append(Finding(ME_TOO, "check_in", "self", -1))
    outcomes: tuple[Literal["crisis", "check_in"], ...] = ("crisis", "check_in")
    for outcome in outcomes:
        fired = sorted({f.cue for f in mine if f.level == outcome})
        if fired:
            return Concern(outcome, tuple(fired))
    if others:
        return Concern("others", tuple(sorted({f.cue for f in others})))
    return None
