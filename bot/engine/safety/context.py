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
  answers;
- softened: "lol", "haha" in a clause make a crisis cue there a check-in question instead (a
  joke and a real risk read alike; asking is the safe answer to both).

A person named only as a modifier ("the staff room", "the governors' meeting") or as the object
of a clause the leader says about them ("a young person I support") is not whom a cue is about.

Everything here reads the clauses made by `normalise`; nothing keeps the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.engine.safety.cues import Phrases
from bot.engine.safety.normalise import squeeze

#: Whom a cue is about.
Subject = Literal["self", "others"]

#: Pronouns inside a cue's own words that say whom it is about ("kill herself", "my life").
_MINE = re.compile(r"(?<![a-z0-9])(?:i|im|id|ive|il|my|myself|mine|me)(?![a-z0-9])")
_THEIRS = re.compile(
    r"(?<![a-z0-9])(?:he|she|him|her|his|their|hers|himself|herself|themselves|themself"
    r"|hes|shes|hed|shed)(?![a-z0-9])"
)
#: "me" and "my" name the leader as an object or an owner ("a pupil handed me...", "my nurse
#: said..."): they count only when no one else is named nearby.
_WEAK = frozenset({"me"})
#: A person just after one of these verbs is the one the leader spoke to or gave something to,
#: not the one a cue is about ("I told my sister where the key is").
_OBJECT = re.compile(
    r"(?:^| )(?:told|tell|telling|rang|ring|called|phoned|messaged|texted|emailed|gave|give|"
    r"giving|showed|asked|thanked|hugged|visited|wrote to|said to|sent|left)"
    r"(?: (?:my|our|the|his|her|their|a))? $"
)
#: A thing is the subject only with a determiner before it ("my laptop", "the printer"), not
#: after a preposition ("the man on the phone"), and only with these words between it and the
#: cue ("my laptop is about to die").
_DETERMINER = re.compile(
    r"(?:^ ?|(?:^| )(?!(?:on|in|at|by|with|from|to|of|off|into|onto|over|under|near|behind) )"
    r"[a-z]+ )(?:my|the|this|that|our|his|her|their|a|an|your) $"
)
_LINKS = frozenset(
    {"is", "s", "was", "just", "kep", "keps", "about", "to", "going", "gona", "wil", "l", "has"}
)
#: Words that make a topic word the subject of something ("a referral for self-harm").
_SUBJECT_OF = frozenset({"for", "about", "on", "around", "regarding", "re", "into", "with"})
#: "my" names an owner, never the one a cue is about: "my nurse wants to die".
_OWNER = "my"

_MODIFIER_WORDS = (
    "room rooms meeting meetings evening evenings review reviews notes toilets toilet "
    "office list premium survey handover forum records file files lounge area day days "
    "training briefing panel body council bay bays car park kitchen entrance corridor "
    "rota feedback complaint complaints association union hearing"
)
#: Words after a person that make the person a modifier of a place or an event ("the staff
#: room", "the parents' evening", "the governors' meeting"), not whom a cue is about.
_MODIFIED = re.compile(
    "(?:" + "|".join(squeeze(word) for word in _MODIFIER_WORDS.split()) + ")(?![a-z0-9])"
)
#: Pronouns that are objects or owners, never the subject of a clause.
_NOT_SUBJECTS = frozenset({"them", "him", "her", "his", "their", "theirs", "hers"})
#: A person just after one of these is where or to whom something goes, not who does it
#: ("one of my pupils" is still the one who does it).
_PREPOSITION = re.compile(
    r"(?:^| )(?:to|for|with|from|by|about|(?<!one )(?<!some )(?<!two )(?<!few )(?<!both )"
    r"(?<!each )(?<!all )(?<!any )(?<!three )of)"
    r"(?: (?:my|our|the|his|her|their|a|an|each of my|all))? $"
)
#: An owner before a person ("my daughter's room").
_OWNED = re.compile(r"(?:^| )(?:my|his|her|their)(?: [a-z0-9]+){0,2} $")
#: Between a person and "I" in a clause about them ("a man (who) I support").
_RELATIVE = re.compile(r"^ (?:who|that|whom) $|^ $")
#: A work word just after one of these is what happened to the leader ("after the governors'
#: meeting"), not a subject of work being talked about.
_CIRCUMSTANCE = re.compile(
    r"(?:^| )(?:after|since|following|before|from|during|through)"
    r"(?: (?:the|a|an|our|my|this|that|todays|last|yesterdays|tomorrows|another))? $"
)

#: The leader as the subject of a clause ("I", "I've", "part of me", "mine"), or "me" just before a
#: sharing marker ("nobody would notice me either").
_LEADER_SUBJECT = re.compile(
    r"(?<![a-z0-9])(?:i|im|ive|id|il|myself|mine|part of me|me(?= (?:either|to|as wel|also|next)"
    r"(?![a-z0-9])))(?![a-z0-9])"
)
_NOTHING = Phrases(re.compile(r"(?!)"))

#: How many words before a cue are searched for the person it is about.
SUBJECT_WINDOW = 10
#: How many filler words may stand between a negator and what it negates.
MAX_FILLERS = 4
#: How many words before a negator are searched for a hedge ("not sure I won't...").
HEDGE_WINDOW = 3


@dataclass(frozen=True)
class Context:
    """The word lists and patterns that read a cue's surroundings (from the phrase file)."""

    first_person: Phrases
    third_party: Phrases
    #: Words that make a bare topic word an event ("a suicide", "the overdose").
    event_words: frozenset[str]
    #: Work about the topic rather than the topic itself: training, audits, data, policies.
    professional: Phrases
    #: Work settings (wards, safeguarding, referrals) that make a bare topic word about others.
    work: Phrases
    negators: frozenset[str]
    fillers: frozenset[str]
    hedges: frozenset[str]
    #: "so do I", "me too", "doing the same": the leader shares the risk just described.
    me_too: Phrases
    #: History: "years ago", "when I was", "used to".
    past: Phrases
    #: It is over: "in a good place now", "therapy helped", "long behind me".
    resolved: Phrases
    #: It is not over: "again", "coming back", "still".
    returning: Phrases
    #: Words of the present, which keep a cue in a message otherwise told as resolved.
    present: Phrases
    #: A clause that plainly exaggerates ("if I get one more email...").
    hyperbole: Phrases
    #: Things, not people ("my laptop wants to die").
    things: Phrases
    #: "lol", "haha": a crisis cue in the clause is asked about instead.
    softeners: Phrases
    #: Sharing markers ("the same", "too", "either", "recognised", "envy") that make a clause
    #: whose subject is the leader a "me too"...
    me_too_loose: Phrases = _NOTHING
    #: ...unless the clause is the leader's reaction or action ("I was worried too", "I rang
    #: her mum as well").
    reaction: Phrases = _NOTHING
    #: Words of risk that, said of someone else, are enough for a "me too" to answer ("she'd
    #: been looking at bridges. I've been doing that for a month").
    risk_words: Phrases = _NOTHING
    #: An everyday reason given for an act of putting affairs in order ("after the wedding",
    #: "HR reminded everyone"): such acts are then not read as preparation.
    ordinary_reasons: Phrases = _NOTHING
    #: The writer saying they mean it ("and I mean that literally", "I wasn't joking", "only
    #: half joking"): a cue set aside as a figure of speech is then asked about.
    literal: Phrases = _NOTHING
    #: Words of death asked about when the writer says they mean it, besides `risk_words`.
    literal_words: Phrases = _NOTHING
    #: Words of time ("this week", "last month", "on Monday") that say risk is recent only
    #: where they are told with it: in the clause of one of the leader's own cues or the next,
    #: and not beside a past long gone or over ("ten years ago this month": an anniversary).
    returning_near: Phrases = _NOTHING

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

    def subject(self, before: str, matched: str) -> Subject | Literal["thing"] | None:
        """Who a cue is about: named in the cue itself, else the nearest person (or thing)
        before it."""
        leader_in = _MINE.search(matched) is not None
        someone_in = _THEIRS.search(matched) is not None
        if leader_in != someone_in:
            return "self" if leader_in else "others"
        window = " " + " ".join(before.split()[-SUBJECT_WINDOW:]) + " "
        thing = max(
            (
                m.end()
                for m in self.things.finditer(window)
                if _DETERMINER.search(window, 0, m.start() + 1)
            ),
            default=-1,
        )
        people = [
            m
            for m in self.third_party.finditer(window)
            if not _OBJECT.search(window, 0, m.start() + 1) and not self._modifier(window, m)
        ]
        someone = max((m.end() for m in people), default=-1)
        leader = max(
            (
                m.end()
                for m in self.first_person.finditer(window)
                if (someone < 0 or m.group().strip() not in _WEAK)
                and m.group().strip() != _OWNER
                and not _relative(window, people, m.start())
            ),
            default=-1,
        )
        between = window[thing:].split()
        if thing > max(leader, someone) and len(between) <= 3 and set(between) <= _LINKS:
            return "thing"  # "my laptop (is about to) die": a thing just before the cue
        if leader < 0 and someone < 0:
            return None
        return "self" if leader > someone else "others"

    def talks_about_work(self, whole: str) -> bool:
        """Professional words in the message that are a subject of talk ("training on
        suicide"), not a circumstance of the leader's day ("after the governors' meeting")."""
        return any(
            not _CIRCUMSTANCE.search(whole[max(0, match.start() - 40) : match.start() + 1])
            for match in self.professional.finditer(whole)
        )

    def softens(self, clause: str) -> bool:
        """ "lol", "haha": a crisis cue in this clause is asked about instead."""
        return self.softeners.search(f" {clause} ") is not None

    def history(
        self, whole: str, words: set[str] | None = None, *, near: Sequence[str] = ()
    ) -> Literal["resolved", "past"] | None:
        """How the message tells of risk: as long past ("resolved": set aside unless a clause
        speaks of now), as over without saying when ("past": asked about rather than assumed),
        or neither. Anything that says it is recent or back makes it neither: `returning`
        anywhere, `returning_near` in the clauses `near` the leader's own cues."""
        if self.returning.search(whole, words) is not None or self.recent_near(near):
            return None
        if self.past.search(whole, words) is not None:
            return "resolved"  # long past ("years ago", "as a teenager"), nothing recent
        return "past" if self.resolved.search(whole, words) is not None else None

    @staticmethod
    def _modifier(window: str, person: re.Match[str]) -> bool:
        """ "the staff room", "the governors' meeting": a person naming a place or an event,
        unless someone owns them ("my daughter's room" is still about the daughter)."""
        return (
            _MODIFIED.match(window, person.end() + 1) is not None
            and _OWNED.search(window, 0, person.start() + 1) is None
        )

    def doer(self, before: str) -> Subject:
        """For signals (acts of preparation, finality, means): the first person named in the
        clause before it as a subject (not someone written to, given to or gone to, and not
        "them" or "her" as objects), else the leader ("Wrote letters to my boys. Put them in
        the drawer just in case")."""
        window = " " + " ".join(before.split()[-SUBJECT_WINDOW:]) + " "
        first: list[tuple[int, Subject]] = []
        people = [
            m
            for m in self.third_party.finditer(window)
            if m.group().strip() not in _NOT_SUBJECTS
            and not _OBJECT.search(window, 0, m.start() + 1)
            and not self._modifier(window, m)
            and not _PREPOSITION.search(window, 0, m.start() + 1)
        ]
        first += [(m.start(), "others") for m in people[:1]]
        first += [
            (m.start(), "self")
            for m in self.first_person.finditer(window)
            if m.group().strip() not in _WEAK and m.group().strip() != _OWNER
        ][:1]
        return min(first)[1] if first else "self"

    def about_the_leader(self, matched: str) -> Subject:
        """For cues that are the leader's unless their own words name someone else."""
        if _THEIRS.search(matched) is not None and _MINE.search(matched) is None:
            return "others"
        return "self"

    def an_event(self, before: str) -> bool:
        """ "a suicide", "the overdose": a topic word named as an event, not a thought."""
        words = before.split()
        return bool(words) and words[-1] in self.event_words

    def a_subject(self, before: str) -> bool:
        """ "a referral for self-harm", "training on suicide": a topic word as a subject."""
        words = before.split()
        return bool(words) and words[-1] in _SUBJECT_OF

    def shares_risk(self, clause: str) -> bool:
        """A "me too" in this clause (see `sharing_at`)."""
        return self.sharing_at(clause) is not None

    def sharing_at(self, clause: str) -> int | None:
        """Where a "me too" starts in this clause, if there is one, not negated ("neither do
        I" is a pattern of its own): one of the `me_too` phrases, or a sharing marker in a
        clause whose subject is the leader and that is not the leader's reaction or action
        ("I've been having the same ones", "that could easily have been me"; not "I was
        worried too")."""
        padded = f" {clause} "
        for match in self.me_too.finditer(padded):
            if not self.negated(padded[max(0, match.start() - 80) : match.start()]):
                return match.start()
        if _LEADER_SUBJECT.search(padded) is None or any(
            not self.negated(padded[max(0, match.start() - 40) : match.start()])
            for match in self.reaction.finditer(padded)
        ):
            return None
        for match in self.me_too_loose.finditer(padded):
            if not self.negated(padded[max(0, match.start() - 80) : match.start()]):
                return match.start()
        return None

    def tells_of_others_risk(self, clause: str) -> bool:
        """Someone else named in this clause with a word of risk ("a volunteer said she'd been
        looking at bridges")."""
        padded = f" {clause} "
        return (
            self.risk_words.search(padded) is not None
            and self.third_party.search(padded) is not None
        )

    def exaggerates(self, clause: str) -> bool:
        return self.hyperbole.search(f" {clause} ") is not None

    def still_present(self, clause: str) -> bool:
        """In a message told as resolved: whether this clause still speaks of now ("I want
        to die"), rather than of the history ("I was suicidal in my twenties")."""
        padded = f" {clause} "
        return self.present.search(padded) is not None and not self._tells_of_history(padded)

    def _tells_of_history(self, padded: str) -> bool:
        """Whether a padded clause tells of a past long gone or over."""
        return self.past.search(padded) is not None or self.resolved.search(padded) is not None

    def names_someone_else_only(self, clause: str) -> bool:
        """Whether a clause names someone else and not the leader."""
        padded = f" {clause} "
        return (
            self.third_party.search(padded) is not None and self.first_person.search(padded) is None
        )

    def recent_near(self, clauses: Sequence[str]) -> bool:
        """Whether one of these clauses (those that tell of the leader's own risk, and the
        next) puts it at a recent time, other than beside a past long gone or over ("I'm
        well now, and this week was just long")."""
        for clause in clauses:
            padded = f" {clause} "
            if self.returning_near.search(padded) is not None and not self._tells_of_history(
                padded
            ):
                return True
        return False

    def told_as_resolved(self, whole: str, words: set[str] | None = None) -> bool:
        """The message (clauses joined and padded, see `cues.join`; `words` its index) tells of
        risk as history long past, or as over, and nothing says it is recent or back."""
        if self.returning.search(whole, words) is not None:
            return False
        return (
            self.past.search(whole, words) is not None
            or self.resolved.search(whole, words) is not None
        )


def _relative(window: str, people: list[re.Match[str]], start: int) -> bool:
    """Whether the leader named at `start` is inside a clause about a person just before
    ("a young person I support", "a man who I work with")."""
    return any(
        person.end() <= start and _RELATIVE.match(window[person.end() : start + 1]) is not None
        for person in people
    )
