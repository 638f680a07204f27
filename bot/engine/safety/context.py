"""Layer 3 of the safety screen: what the words around a cue say about it.

A cue ("want to die", "the tablets", "better off without me") is read in its context:

- negation: "I'd never hurt myself" sets the cue aside, unless hedged ("not sure I won't");
- whom it is about: the nearest person named before it (the leader, or a patient, pupil,
  colleague or relative), or the cue's own words ("kill herself"); words inside quotation marks
  are someone else's;
- professional talk: suicide or self-harm named as a subject of work (training, audits, data,
  policies, lessons) rather than as something happening to anyone;
- past and resolved: risk told as history, with words that say it is over ("years ago...
  I'm in a good place now"), unless something says it is coming back;
- "me too": a clause such as "so do I" or "doing the same" takes on the risk of the clause it
  answers.

Everything here reads the clauses made by `normalise`; nothing keeps the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

#: Whom a cue is about.
Subject = Literal["self", "others"]

#: Pronouns inside a cue's own words that say whom it is about ("kill herself", "my life").
_MINE = re.compile(r"(?<![a-z0-9])(?:i|im|id|ive|il|me|my|myself|mine)(?![a-z0-9])")
_THEIRS = re.compile(
    r"(?<![a-z0-9])(?:he|she|him|her|his|their|hers|himself|herself|themselves|themself"
    r"|hes|shes|hed|shed)(?![a-z0-9])"
)
#: "me" and "my" name the leader as an object or an owner ("a pupil handed me...", "my nurse
#: said..."): they count only when no one else is named nearby.
_WEAK = frozenset({"me", "my"})

#: How many words before a cue are searched for the person it is about.
SUBJECT_WINDOW = 7
#: How many filler words may stand between a negator and what it negates.
MAX_FILLERS = 4
#: How many words before a negator are searched for a hedge ("not sure I won't...").
HEDGE_WINDOW = 3


@dataclass(frozen=True)
class Context:
    """The word lists and patterns that read a cue's surroundings (from the phrase file)."""

    first_person: re.Pattern[str]
    third_party: re.Pattern[str]
    #: Words that make a bare topic word an event ("a suicide", "the overdose").
    event_words: frozenset[str]
    #: Work about the topic rather than the topic itself: training, audits, data, policies.
    professional: re.Pattern[str]
    #: Work settings (wards, safeguarding, referrals) that make a bare topic word about others.
    work: re.Pattern[str]
    negators: frozenset[str]
    fillers: frozenset[str]
    hedges: frozenset[str]
    #: "so do I", "me too", "doing the same": the leader shares the risk just described.
    me_too: re.Pattern[str]
    #: History: "years ago", "when I was", "used to".
    past: re.Pattern[str]
    #: It is over: "in a good place now", "therapy helped", "long behind me".
    resolved: re.Pattern[str]
    #: It is not over: "again", "coming back", "still".
    returning: re.Pattern[str]

    def negated(self, before: str) -> bool:
        """Whether a negator governs what follows `before` ("I'd never ...")."""
        words = before.split()
        index = len(words) - 1
        skipped = 0
        while index >= 0 and words[index] in self.fillers and skipped < MAX_FILLERS:
            index -= 1
            skipped += 1
        if index < 0 or words[index] not in self.negators:
            return False
        hedged = words[max(0, index - HEDGE_WINDOW) : index]
        return not any(word in self.hedges for word in hedged)

    def subject(self, before: str, matched: str) -> Subject | None:
        """Who a cue is about: named in the cue itself, else the nearest person before it."""
        leader_in = _MINE.search(matched) is not None
        someone_in = _THEIRS.search(matched) is not None
        if leader_in != someone_in:
            return "self" if leader_in else "others"
        window = " " + " ".join(before.split()[-SUBJECT_WINDOW:]) + " "
        someone = max((m.end() for m in self.third_party.finditer(window)), default=-1)
        leader = max(
            (
                m.end()
                for m in self.first_person.finditer(window)
                if someone < 0 or m.group().strip() not in _WEAK
            ),
            default=-1,
        )
        if leader < 0 and someone < 0:
            return None
        return "self" if leader > someone else "others"

    def an_event(self, before: str) -> bool:
        """ "a suicide", "the overdose": a topic word named as an event, not a thought."""
        words = before.split()
        return bool(words) and words[-1] in self.event_words

    def shares_risk(self, clause: str) -> bool:
        """A "me too" in this clause, not negated ("neither do I" is a pattern of its own)."""
        padded = f" {clause} "
        return any(
            not self.negated(padded[max(0, match.start() - 80) : match.start()])
            for match in self.me_too.finditer(padded)
        )

    def in_the_past(self, clause: str) -> bool:
        return self.past.search(f" {clause} ") is not None

    def told_as_resolved(self, whole: str) -> bool:
        """The message (clauses joined and padded, see `cues.join`) tells of risk as history
        that is over, and nothing says it is back."""
        return (
            self.resolved.search(whole) is not None
            and self.past.search(whole) is not None
            and self.returning.search(whole) is None
        )
