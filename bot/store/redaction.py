"""Redaction before storage: identifiers in free text become placeholders.

Defence in depth beside encryption: even a decrypted export should not carry colleagues' Slack
handles, contact details or patients' NHS numbers. Applied by the store to free-text answers and
summaries on the way in, before its writing transaction; what the leader sees during the
conversation is unchanged.

Order matters: Slack markup first (it wraps links and mentions), then links, e-mail addresses
(`@`, a full-width `＠`, `(at)` or `[at]`), plain `@mentions`, bare domains, NHS numbers (ten
digits passing the modulus-11 check, spaced, dotted, dashed or slashed) and last phone numbers,
so that an NHS number is not mistaken for a phone number.

Every step runs in time linear in the length of the text, whatever the text: a person's answer
is redacted while others wait for the store, and `a.a.a.…` of 50,000 characters must cost
milliseconds, not seconds. Patterns therefore never let a failed attempt rescan a long run (no
unbounded repetition before a part that may be missing, such as the `@` of an e-mail address);
e-mail addresses and bare domains are found by scanning from their anchors instead.
tests/store/test_redaction.py times pathological inputs; `make bench` reports the worst case.
"""

from __future__ import annotations

import re

import phonenumbers

COLLEAGUE = "[colleague]"
EMAIL = "[email]"
PHONE = "[phone]"
NHS_NUMBER = "[nhs-number]"
LINK = "[link]"

_SCHEMES = r"(?:https?|s?ftps?|file|mailto)"
#: Slack's own markup: user, channel and user-group mentions, and <https://...|label> links.
#: `[^<>]*` stops at the next `<`, so unclosed markup costs one pass, not one per `<`.
_SLACK_LINK = re.compile(rf"<(?:{_SCHEMES}:(?://)?)[^<>]*>", re.IGNORECASE)
_SLACK_MENTION = re.compile(r"<(?:@[UW]|#C|!subteam\^S)[A-Z0-9]{1,20}(?:\|[^<>]*)?>")
#: A bare Slack user id typed as text (U/W + 8-11 capitals and digits, at least one digit).
_SLACK_USER_ID = re.compile(r"\b[UW](?=[A-Z]{0,10}\d)[A-Z0-9]{8,11}\b")
_URL = re.compile(rf"\b(?:{_SCHEMES}://|www\.)[^\s<>\"']+", re.IGNORECASE)
#: What joins the two halves of an e-mail address, as people write it to dodge filters.
_AT = re.compile(r"[@＠﹫]|\s?[(\[{]\s?at\s?[)\]}]\s?", re.IGNORECASE)
_DOT = r"(?:[.．。]|\s?[(\[{]\s?dot\s?[)\]}]\s?)"
#: A domain after an `@`: labels joined by dots (matched from a fixed position: one pass).
_DOMAIN = re.compile(rf"[\w-]+(?:{_DOT}[\w-]+)*", re.IGNORECASE)
_LOCAL_CHARS = frozenset(".+-_")
#: Something that may be a bare domain (`nhs.net`, `bit.ly/x`): a maximal run, checked after.
_DOMAINISH = re.compile(r"(?<![\w@/.-])[A-Za-z0-9][\w-]*(?:\.[\w-]+)+(?:/[^\s<>\"']*)?")
#: Top-level domains recognised after a bare name; words that are also TLDs ("in", "it",
#: "me", "us"...) are left out so that "a long day.It was" is left alone.
_TLDS = frozenset(
    {
        *("com", "org", "net", "uk", "io", "ly", "gov", "edu", "info", "biz", "app", "dev"),
        *("ai", "co", "de", "fr", "eu", "ca", "au", "ie", "nz", "nl", "es", "ch", "se", "dk"),
        *("pl", "pt", "sg", "za", "jp", "cn", "ru", "tv", "gg", "xyz", "online", "site"),
        *("health", "scot", "wales", "london", "cloud", "tech", "page", "link", "email", "nhs"),
    }
)
_TEN_DIGITS = re.compile(r"(?<![\d+])(\d{3})[ ./-]?(\d{3})[ ./-]?(\d{4})(?!\d)")
#: Three, three and four digits joined by dots, slashes or dashes: a phone number's shape.
_PHONE_SHAPE = re.compile(r"(?<![\d+])\d{3}([./-])\d{3}\1\d{4}(?![\d])")
_TRAILING_PUNCTUATION = ".,;:!?)]}'\""
#: Where phone numbers may be: a run of digits and the separators people put between them.
_NUMBERISH = re.compile(r"[+(]?\d[\d \t().\-/]*")
_FEWEST_DIGITS = 7
#: Longer than a few numbers in a row (e.g. "07911 123456, 07911 654321 or 0161 496 0000").
_LONGEST_RUN = 120
#: Runs given to the matcher in one text; an answer listing more numbers than this is a list.
_MOST_CHECKED = 40


def redact(text: str) -> str:
    """`text` with Slack mentions, links, e-mails, NHS numbers and phone numbers replaced."""
    text = _SLACK_LINK.sub(LINK, text)
    text = _SLACK_MENTION.sub(COLLEAGUE, text)
    text = _SLACK_USER_ID.sub(COLLEAGUE, text)
    text = _URL.sub(_link, text)
    text = _addresses(text)
    text = _DOMAINISH.sub(_bare_domain, text)
    text = _phone_numbers(text, international=True)  # "+1 415 555 2671" is not an NHS number
    text = _TEN_DIGITS.sub(_nhs_number, text)
    text = _PHONE_SHAPE.sub(PHONE, text)
    return _phone_numbers(text, international=False)


def is_nhs_number(digits: str) -> bool:
    """Ten digits whose check digit passes the NHS modulus-11 algorithm."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * weight for d, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _link(match: re.Match[str]) -> str:
    url = match.group(0)
    stripped = url.rstrip(_TRAILING_PUNCTUATION)
    return LINK + url[len(stripped) :]


def _is_local(char: str) -> bool:
    return char.isalnum() or char in _LOCAL_CHARS


def _addresses(text: str) -> str:
    """E-mail addresses (`sam@nhs.net`, `sam(at)nhs.net`, `sam＠nhs.net`) and plain mentions
    (`@alice`). Scans from each `@`: a local part is never read past the previous `@`, so
    every character is looked at a bounded number of times."""
    pieces: list[str] = []
    kept_until = 0  # text[:kept_until] is settled (copied into pieces or replaced)
    floor = 0  # a local part cannot reach back past this (the end of the previous `@`)
    for at in _AT.finditer(text):
        if at.start() < kept_until:
            continue
        start = at.start()
        while start > max(floor, kept_until) and _is_local(text[start - 1]):
            start -= 1
        floor = at.end()
        domain = _DOMAIN.match(text, at.end())
        end = domain.end() if domain else at.end()
        while end > at.end() and text[end - 1] in "-_":
            end -= 1
        dotted = domain is not None and _has_dot(text[at.end() : end])
        local = text[start : at.start()].strip(".")
        if local and dotted:
            replacement = EMAIL
        elif not local and at.group(0) in "@＠﹫" and end > at.end() and text[at.end()].isalpha():
            replacement = COLLEAGUE  # "@alice", "@alice.smith"
            start = at.start()
        else:
            continue
        pieces += [text[kept_until:start], replacement]
        kept_until = floor = end
    pieces.append(text[kept_until:])
    return "".join(pieces)


def _has_dot(domain: str) -> bool:
    return any(char in domain for char in ".．。") or "dot" in domain.lower()


def _bare_domain(match: re.Match[str]) -> str:
    """`nhs.net`, `trust.nhs.uk/page`, `bit.ly/abc` become a link; `e.g.`, `v1.2` and
    `12.5` stay."""
    found = match.group(0)
    host, slash, _ = found.partition("/")
    stripped = host.rstrip(_TRAILING_PUNCTUATION)
    labels = stripped.split(".")
    tld = labels[-1]
    if len(labels) < 2 or tld not in _TLDS or not all(labels):
        return found
    if slash:
        whole = found.rstrip(_TRAILING_PUNCTUATION)
        return LINK + found[len(whole) :]
    return LINK + host[len(stripped) :]


def _nhs_number(match: re.Match[str]) -> str:
    return NHS_NUMBER if is_nhs_number("".join(match.groups())) else match.group(0)


def _phone_numbers(text: str, *, international: bool) -> str:
    """Valid numbers (UK by default, international with +), and number-shaped sequences of 10+
    digits starting with 0 or + that are possible but not allocated (e.g. 07700 900123).
    With `international`, only numbers written with a leading +.

    The phone number matcher costs tens of microseconds a character, so it only sees runs of
    digits and separators holding enough digits to be a number; a run too long to be one
    number or a short list of them is not prose, and goes whole, as does every such run past
    the first few dozen in one text."""
    spans: list[tuple[int, int]] = []
    checked = 0
    for run in _NUMBERISH.finditer(text):
        start, end = run.start(), run.end()
        while end > start and not text[end - 1].isdigit():
            end -= 1
        if sum(char.isdigit() for char in text[start:end]) < _FEWEST_DIGITS:
            continue
        checked += 1
        if end - start > _LONGEST_RUN or checked > _MOST_CHECKED:
            if not international or text[start] == "+":
                spans.append((start, end))
            continue
        left, right = max(0, start - 1), min(len(text), end + 1)
        spans += [
            (left + found, left + until)
            for found, until in _numbers_in(text[left:right], international=international)
        ]
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces: list[str] = []
    kept_until = 0
    for start, end in merged:
        pieces += [text[kept_until:start], PHONE]
        kept_until = end
    pieces.append(text[kept_until:])
    return "".join(pieces)


def _numbers_in(window: str, *, international: bool) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for leniency in (phonenumbers.Leniency.VALID, phonenumbers.Leniency.POSSIBLE):
        for match in phonenumbers.PhoneNumberMatcher(window, "GB", leniency=leniency):
            raw = match.raw_string
            if international and not raw.startswith("+"):
                continue
            digits = re.sub(r"\D", "", raw)
            possible_only = leniency == phonenumbers.Leniency.POSSIBLE
            if possible_only and not (raw.startswith(("+", "0", "(0")) and len(digits) >= 10):
                continue
            spans.append((match.start, match.end))
    return spans
