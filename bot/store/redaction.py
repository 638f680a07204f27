"""Redaction before storage: identifiers in free text become placeholders.

Defence in depth beside encryption: even a decrypted export should not carry colleagues' Slack
handles, contact details or patients' NHS numbers. Applied by the store to free-text answers and
summaries on the way in; what the leader sees during the conversation is unchanged.

Order matters: Slack markup first (it wraps links and mentions), then links, e-mail addresses,
NHS numbers (ten digits passing the modulus-11 check, spaced or not) and last phone numbers, so
that an NHS number is not mistaken for a phone number.
"""

from __future__ import annotations

import re

import phonenumbers

COLLEAGUE = "[colleague]"
EMAIL = "[email]"
PHONE = "[phone]"
NHS_NUMBER = "[nhs-number]"
LINK = "[link]"

#: Slack's own markup: user, channel and user-group mentions, and <https://...|label> links.
_SLACK_LINK = re.compile(r"<(?:https?://|mailto:)[^>]*>")
_SLACK_MENTION = re.compile(r"<(?:@[UW]|#C|!subteam\^S)[A-Z0-9]+(?:\|[^>]*)?>")
#: A bare Slack user id typed as text (U/W + 8-11 capitals and digits, at least one digit).
_SLACK_USER_ID = re.compile(r"\b[UW](?=[A-Z0-9]*\d)[A-Z0-9]{8,11}\b")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_TEN_DIGITS = re.compile(r"(?<![\d+])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
_TRAILING_PUNCTUATION = ".,;:!?)]}'\""


def redact(text: str) -> str:
    """`text` with Slack mentions, links, e-mails, NHS numbers and phone numbers replaced."""
    text = _SLACK_LINK.sub(LINK, text)
    text = _SLACK_MENTION.sub(COLLEAGUE, text)
    text = _SLACK_USER_ID.sub(COLLEAGUE, text)
    text = _URL.sub(_link, text)
    text = _EMAIL.sub(EMAIL, text)
    text = _phone_numbers(text, international=True)  # "+1 415 555 2671" is not an NHS number
    text = _TEN_DIGITS.sub(_nhs_number, text)
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


def _nhs_number(match: re.Match[str]) -> str:
    return NHS_NUMBER if is_nhs_number("".join(match.groups())) else match.group(0)


def _phone_numbers(text: str, *, international: bool) -> str:
    """Valid numbers (UK by default, international with +), and number-shaped sequences of 10+
    digits starting with 0 or + that are possible but not allocated (e.g. 07700 900123).
    With `international`, only numbers written with a leading +."""
    spans: list[tuple[int, int]] = []
    for leniency in (phonenumbers.Leniency.VALID, phonenumbers.Leniency.POSSIBLE):
        for match in phonenumbers.PhoneNumberMatcher(text, "GB", leniency=leniency):
            raw = match.raw_string
            if international and not raw.startswith("+"):
                continue
            digits = re.sub(r"\D", "", raw)
            possible_only = leniency == phonenumbers.Leniency.POSSIBLE
            if possible_only and not (raw.startswith(("+", "0", "(0")) and len(digits) >= 10):
                continue
            spans.append((match.start, match.end))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + PHONE + text[end:]
    return text
