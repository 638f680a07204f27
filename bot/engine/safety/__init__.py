"""The safety screen: every piece of text a leader sends is checked here first.

`screen(text)` answers with a `Concern` or None:

- "crisis": a clear risk to the leader; the crisis card, at once;
- "check_in": words close to risk that the screen cannot confirm (means, goodbyes, burden,
  passive wishes, risk told in the past); the leader is asked directly;
- "others": a patient, pupil, colleague or relative at risk; the gentler card.

It reads in three explainable layers, each tested on its own: `normalise` (how text is read),
`cues` (the phrases that point towards risk, listed in config/safety.yaml where they can be
reviewed) and `context` (negation, whom a cue is about, quoted speech, professional talk, past
and resolved, "me too"). No model and no network; every pattern runs in linear time. (An optional
second stage, `second_stage.screen`, adds a sentence model that can only ask the check-in
question where these rules found nothing.) The screen
favours recall: a check-in question costs a leader a moment; a miss could cost far more. It
never logs or keeps the text: a Concern names only the cue groups that fired.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Any, Literal

from bot._builtin import file as builtin_file
from bot.engine.config_file import read_yaml
from bot.engine.safety import cues as _cues
from bot.engine.safety.context import Context, Subject
from bot.engine.safety.cues import CLAUSE_BREAK, Cue, index_words, join
from bot.engine.safety.normalise import Clause, Reader, build_reader
from bot.engine.safety.outcome import ME_TOO, Concern, Finding, Outcome, decide, signalled

#: The phrase lists that ship with Reflect.
DEFAULT_FILE = builtin_file("config", "safety.yaml")

#: The cue name of a check-in asked because the writer says they mean words of risk.
LITERAL = "literal"

#: How much of a clause before a cue is read for its context (negation, whom it is about).
_BEFORE = 160

#: How many matches of one phrase in one message are read in context; past that, only matches
#: in clauses that name the leader are read (the rest could only repeat what was found).
MAX_REPEATS = 8
_LEADER_WORDS = frozenset({"i", "im", "ive", "id", "il", "me", "my", "myself"})
_OTHER_WORDS = frozenset({"he", "she", "they", "hes", "shes", "theyre", "him", "her", "them"})


class SafetyConfigError(ValueError):
    """The phrase file cannot be used; the message lists every problem."""


@dataclass(frozen=True)
class Screen:
    """A compiled phrase file. Build one with `load_screen` or `compile_screen`."""

    reader: Reader
    cues: tuple[Cue, ...]
    context: Context
    #: Cue groups that are the leader's unless their own words name someone else.
    leaders: frozenset[str] = frozenset()
    #: Pairs of signal groups that count together (any two different groups if empty); a
    #: group paired with itself counts when found in two different clauses.
    pairs: frozenset[frozenset[str]] = frozenset()
    #: Cue groups about whoever does them (see `Context.doer`), not the nearest person named.
    doers: frozenset[str] = frozenset()
    #: Cue groups (acts of putting affairs in order) set aside when the message gives an
    #: everyday reason for them (see `Context.ordinary_reasons`).
    reasoned: frozenset[str] = frozenset()

    def clauses(self, text: str) -> list[Clause]:
        return self.reader.clauses(text)

    def normalise(self, text: str) -> str:
        """The text as the patterns see it: clauses of plain lower-case words, split by " . "."""
        return " . ".join(clause.text for clause in self.clauses(text))

    def screen(self, text: str) -> Concern | None:
        """Check one message. Never logs or keeps the text."""
        clauses = self.clauses(text)
        findings = self.findings(clauses)
        concern = decide(findings, self.context, clauses, pairs=self.pairs)
        if concern is None and self._meant_literally(findings, clauses):
            return Concern("check_in", (LITERAL,))
        if (
            concern is not None
            and concern.outcome == "others"
            and self._meant_literally(findings, clauses, by_the_leader=True)
        ):
            # "She talked about the bus. I said haven't we all. I wasn't joking."
            return Concern("check_in", (*concern.cues, LITERAL))
        return concern

    def _meant_literally(
        self, findings: list[Finding], clauses: list[Clause], *, by_the_leader: bool = False
    ) -> bool:
        """Risk read as a figure of speech or left aside (a joke, an idiom, an exaggeration),
        or a word of death, in a message whose writer says they mean it (where someone else is
        at risk, the writer must say it of themself: "I wasn't joking")."""
        own = [clause.text for clause in clauses if not clause.quoted]
        context = self.context
        if not own:
            return False
        whole = join(own)
        said = context.literal.search(whole)
        if said is None:
            return False
        # Who says it: "I was not joking", not "he was not joking".
        speaker = [
            *whole[max(0, said.start() - 12) : said.start()].split()[-2:],
            *said.group().split(),
        ]
        if not _OTHER_WORDS.isdisjoint(speaker):
            return False
        if by_the_leader:
            return not _LEADER_WORDS.isdisjoint(speaker)
        return (
            bool(findings)
            or context.risk_words.search(whole) is not None
            or context.literal_words.search(whole) is not None
        )

    def findings(self, clauses: list[Clause]) -> list[Finding]:
        """Every cue in the message, with whom it is about and how serious it is. Once the
        leader's own crisis is certain, the rest of the message is not read; a phrase that
        repeats is read in context at most `MAX_REPEATS` times outside clauses that name the
        leader."""
        found: list[Finding] = []
        context = self.context
        texts = [clause.text for clause in clauses]
        whole = join(texts)
        words = index_words(whole)
        starts: list[int] = []
        exaggerated: set[int] = set()
        leader_named: dict[int, bool] = {}

        def names_leader(index: int) -> bool:
            if index not in leader_named:
                leader_named[index] = not _LEADER_WORDS.isdisjoint(texts[index].split())
            return leader_named[index]

        exaggerated_checked = [False] * len(clauses)
        professional = context.professional.search(
            whole, words
        ) is not None and context.talks_about_work(whole)
        at_work = professional or context.work.search(whole, words) is not None
        may_be_history = context.told_as_resolved(whole, words)
        with_reason = (
            bool(self.reasoned) and context.ordinary_reasons.search(whole, words) is not None
        )
        for cue in self.cues:
            if with_reason and cue.name in self.reasoned:
                continue  # life admin with an everyday reason given for it
            for pattern in cue.present(words):
                read = 0
                settled: set[int] = set()
                for match in pattern.finditer(whole):
                    start = match.start() + 1
                    if not starts:
                        starts = clause_starts(texts)
                    index = bisect_right(starts, start) - 1
                    if index in settled:
                        continue  # this phrase already counted for the leader in this clause
                    if read >= MAX_REPEATS and not (
                        names_leader(index)
                        and _names_leader_just_before(whole[max(0, start - 40) : start])
                    ):
                        continue  # a phrase repeated: only the leader named just before can add
                    read += 1
                    before = whole[max(starts[index], start - _BEFORE) : start]
                    if context.negated(before) or index in exaggerated:
                        continue
                    if not exaggerated_checked[index]:
                        exaggerated_checked[index] = True
                        if context.exaggerates(" ".join(texts[max(0, index - 2) : index + 1])):
                            exaggerated.add(index)
                            continue
                    if clauses[index].quoted:
                        about: Subject | Literal["thing"] | None = "others"
                    elif cue.name in self.leaders:
                        about = context.about_the_leader(match.group())
                    elif cue.level == "signal" or cue.name in self.doers:
                        about = context.doer(before)
                    else:
                        about = context.subject(before, match.group())
                    if about == "thing":
                        continue
                    if cue.level == "topic":
                        if context.an_event(before) or (at_work and context.a_subject(before)):
                            about = "others"
                        finding = self._topic(
                            cue.name, index, about, professional=professional, at_work=at_work
                        )
                    else:
                        whose: Literal["self", "others", "work"] = about or "self"
                        if (
                            about is None
                            and professional
                            and not names_leader(index)
                            and context.talks_about_work(f" {texts[index]} ")
                        ):
                            whose = "work"  # nobody named, in a clause of talk about work
                        level = cue.level
                        if level == "crisis" and context.softens(texts[index]):
                            level = "check_in"
                        finding = Finding(cue.name, level, whose, index)
                    if finding is None:
                        continue
                    found.append(finding)
                    if finding.about == "self":
                        settled.add(index)
                        if finding.level == "crisis" and not may_be_history:
                            return found
        return found

    @staticmethod
    def _topic(
        name: str,
        index: int,
        about: Subject | None,
        *,
        professional: bool,
        at_work: bool,
    ) -> Finding | None:
        """A bare topic word: only a subject of work (training, audits, data), someone else's
        (another person, an event, a work setting), or the leader's own."""
        if professional:
            return Finding(name, "check_in", "work", index)
        if about == "others":
            return Finding(name, "crisis", "others", index)
        if about == "self":
            return Finding(name, "check_in" if at_work else "crisis", "self", index)
        return Finding(name, "check_in", "others" if at_work else "self", index)


def _names_leader_just_before(before: str) -> bool:
    """The leader, and no one else, named in the two words before a cue ("and I want to
    die", not "I said she wants to die")."""
    words = before.split()[-2:]
    return not _LEADER_WORDS.isdisjoint(words) and _OTHER_WORDS.isdisjoint(words)


def clause_starts(texts: list[str]) -> list[int]:
    """Where each clause starts in `join(texts)`."""
    lengths = accumulate(map(len, texts), initial=0)
    return [1 + length + len(CLAUSE_BREAK) * number for number, length in enumerate(lengths)]


# ---------------------------------------------------------------------- loading

#: Word patterns a phrase file may leave out.
_OPTIONAL_PATTERNS = (
    "softeners",
    "me_too_loose",
    "reaction",
    "risk_words",
    "ordinary_reasons",
    "literal",
    "literal_words",
    "returning_near",
)
_WORD_PATTERNS = (
    "first_person",
    "third_party",
    "professional",
    "work",
    "me_too",
    "past",
    "resolved",
    "returning",
    "hyperbole",
    "things",
    "present",
    *_OPTIONAL_PATTERNS,
)
_WORD_LISTS = (
    "event_words",
    "negators",
    "fillers",
    "hedges",
    "typo_targets",
    "typo_exceptions",
    "dropped_g_exceptions",
    "masked_targets",
)
_KNOWN_KEYS = frozenset(
    {
        "version",
        "last_reviewed",
        "about_the_leader",
        "signal_pairs",
        "about_the_doer",
        "with_an_everyday_reason",
        "terms",
        "cues",
        "text_speak",
        "confusables",
        *_WORD_PATTERNS,
        *_WORD_LISTS,
    }
)


def load_screen(path: Path) -> Screen:
    """Read and compile a phrase file, reporting every problem at once."""
    data = read_yaml(path, what="the safety phrase file", error=SafetyConfigError)
    return compile_screen(data, source=str(path))


def compile_screen(data: Any, *, source: str = "safety phrases") -> Screen:
    """Compile a phrase file already read from YAML (see config/safety.yaml for the format)."""
    if not isinstance(data, dict):
        raise SafetyConfigError(f"{source}: expected a mapping of phrase lists.")
    problems: list[str] = [f"unknown key {key!r}" for key in sorted(set(data) - _KNOWN_KEYS)]
    terms = _cues.terms_of(data.get("terms", {}), problems)
    cues = _cues.compile_cues(data.get("cues"), terms, problems)
    words = {
        name: _cues.compile_phrases(data.get(name), name=name, problems=problems)
        if name in data or name not in _OPTIONAL_PATTERNS
        else _cues.Phrases(_cues.NEVER)
        for name in _WORD_PATTERNS
    }
    lists = {
        name: _cues.word_set(data.get(name, []), name=name, problems=problems)
        for name in _WORD_LISTS
    }
    text_speak = _cues.word_map(data.get("text_speak", {}), name="text_speak", problems=problems)
    confusables = _cues.confusables_of(data.get("confusables", {}), problems)
    if problems:
        raise SafetyConfigError(
            f"{source}: the safety phrase file has problems:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
    reader = build_reader(
        confusables=confusables,
        text_speak=text_speak,
        typo_targets=lists["typo_targets"],
        typo_exceptions=lists["typo_exceptions"],
        dropped_g_exceptions=lists["dropped_g_exceptions"],
        masked_targets=lists["masked_targets"],
    )
    context = Context(
        first_person=words["first_person"],
        third_party=words["third_party"],
        event_words=lists["event_words"],
        professional=words["professional"],
        work=words["work"],
        negators=lists["negators"],
        fillers=lists["fillers"],
        hedges=lists["hedges"],
        me_too=words["me_too"],
        past=words["past"],
        resolved=words["resolved"],
        returning=words["returning"],
        hyperbole=words["hyperbole"],
        things=words["things"],
        present=words["present"],
        softeners=words["softeners"],
        me_too_loose=words["me_too_loose"],
        reaction=words["reaction"],
        risk_words=words["risk_words"],
        ordinary_reasons=words["ordinary_reasons"],
        literal=words["literal"],
        literal_words=words["literal_words"],
        returning_near=words["returning_near"],
    )
    leaders = _cues.word_set(data.get("about_the_leader", []), name="about_the_leader", problems=[])
    pairs = _signal_pairs(data.get("signal_pairs", []), cues)
    doers = _cues.word_set(data.get("about_the_doer", []), name="about_the_doer", problems=[])
    reasoned = _cues.word_set(
        data.get("with_an_everyday_reason", []), name="with_an_everyday_reason", problems=[]
    )
    return Screen(
        reader=reader,
        cues=cues,
        context=context,
        leaders=leaders,
        pairs=pairs,
        doers=doers,
        reasoned=reasoned,
    )


def _signal_pairs(raw: Any, cues: tuple[Cue, ...]) -> frozenset[frozenset[str]]:
    """ "preparing + finality" lines as pairs of signal group names; a name that is not a
    signal group is refused."""
    signals = {cue.name for cue in cues if cue.level == "signal"}
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise SafetyConfigError("signal_pairs: expected a list of 'group + group' lines")
    pairs = []
    for item in raw:
        names = frozenset(name.strip() for name in item.split("+"))
        unknown = sorted(names - signals)
        if item.count("+") != 1 or unknown:
            raise SafetyConfigError(
                f"signal_pairs: {item!r} should name two signal groups"
                + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            )
        pairs.append(names)
    return frozenset(pairs)


@cache
def default_screen() -> Screen:
    """The compiled phrase lists that ship with Reflect, compiled on first use (a command that
    screens nothing does not pay for it; bot.runtime compiles them before anyone types)."""
    return load_screen(DEFAULT_FILE)


def screen(text: str) -> Concern | None:
    """Check one message against the phrase lists that ship with Reflect."""
    return default_screen().screen(text)


def normalise(text: str) -> str:
    """Text as the screen reads it (lower case, no apostrophes, repeated letters squeezed)."""
    return default_screen().normalise(text)


__all__ = [
    "LITERAL",
    "ME_TOO",
    "Concern",
    "Finding",
    "Outcome",
    "SafetyConfigError",
    "Screen",
    "compile_screen",
    "decide",
    "default_screen",
    "load_screen",
    "normalise",
    "screen",
    "signalled",
]
