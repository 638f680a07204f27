"""The server secret every key is derived from: REFLECT_SECRET_KEY, or data/secret.key.

On first use (no secret configured, no database yet) a random secret is written to
`<data dir>/secret.key` with 0600 permissions and its path returned, so the caller can say
where it is. If a database already exists but no secret can be found, nothing is created: a new
secret could never read it, so the caller gets one `WrongSecretError` saying what to restore.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
from collections import Counter
from pathlib import Path

from bot.settings import Settings
from bot.store.errors import WrongSecretError

log = logging.getLogger(__name__)

SECRET_FILE = "secret.key"
#: A secret is at least this many characters (the generated one is 43, from 32 random bytes).
MIN_SECRET_CHARS = 32
#: And carries at least this many bits, estimated from how varied its characters are (the
#: generated one about 200): 32 × "a" carries none, a repeated short word very few.
MIN_SECRET_BITS = 128


def load_or_create_secret(settings: Settings) -> tuple[bytes, Path | None]:
    """The secret as bytes, and the path of the secret file when this call created it."""
    if settings.secret_key:
        return _checked(settings.secret_key, source="REFLECT_SECRET_KEY"), None
    path = settings.data_dir / SECRET_FILE
    if path.exists():
        return _read(path), None
    if _has_database(settings.db_path):
        raise WrongSecretError(
            f"No secret key for the existing database {settings.db_path}: set REFLECT_SECRET_KEY "
            f"to the secret it was created with, or restore {path}. A new secret cannot read it."
        )
    return _create(path)


def _create(path: Path) -> tuple[bytes, Path | None]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(32)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it a moment ago
        return _read(path), None
    with os.fdopen(handle, "w", encoding="ascii") as file:
        file.write(value + "\n")
        file.flush()
        os.fsync(file.fileno())
    return value.encode("ascii"), path


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_mode & 0o077:
            log.warning("the secret key file is readable by other users: run chmod 600 on it")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise WrongSecretError(f"The secret key file {path} cannot be read: {error}.") from error
    return _checked(text, source=str(path))


_ADVICE = "e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"


def estimated_bits(value: str) -> float:
    """An upper estimate of the randomness in `value`: its length times the Shannon entropy of
    its characters, and nothing at all for a string that is one shorter part repeated."""
    if not value or value in (value + value)[1:-1]:
        return 0.0
    total = len(value)
    per_char = -sum(n / total * math.log2(n / total) for n in Counter(value).values())
    return per_char * total


def _checked(text: str, *, source: str) -> bytes:
    value = text.strip()
    if len(value) < MIN_SECRET_CHARS:
        raise WrongSecretError(
            f"The secret key in {source} is too short: use at least {MIN_SECRET_CHARS} random "
            f"characters, {_ADVICE}."
        )
    bits = estimated_bits(value)
    if bits < MIN_SECRET_BITS:
        raise WrongSecretError(
            f"The secret key in {source} is too predictable (about {bits:.0f} bits of "
            f"randomness; it needs {MIN_SECRET_BITS}): use random characters, {_ADVICE}."
        )
    return value.encode("utf-8")


def _has_database(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False
