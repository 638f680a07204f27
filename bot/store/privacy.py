"""Privacy primitives: pseudonyms, AES-GCM sealing, and data keys wrapped under the secret.

Everything is derived from one server secret (REFLECT_SECRET_KEY or data/secret.key) with
HKDF-SHA256, one derived key per purpose, so the purposes cannot be confused:

- pseudonyms: HMAC-SHA256(pseudonym key, transport identity), hex. Same secret and identity give
  the same pseudonym across restarts; another secret gives unlinkable pseudonyms;
- key wrapping: each person's random 256-bit data key is sealed (AES-GCM) under the wrapping key,
  with their pseudonym as associated data. Destroying the wrapped key (crypto-shredding) makes
  their ciphertexts unreadable for good, in every copy of the database;
- organisation keys: a person who came through a Slack installation has their data key sealed
  under their organisation's random key instead (`wrap_under`), and that key is sealed under
  the wrapping key (`wrap_org_key`). Destroying one organisation key makes every reflection
  of that organisation unreadable at once, in every copy (an uninstall's erasure);
- service sealing: values that are not a person's reflection but still sensitive (e.g. a Slack id
  the scheduler must message later) are sealed under a service data key with `Keyring.seal`;
- the secret check: an HMAC of a fixed label, kept in the database to recognise the wrong secret.

A sealed value is ``version byte || 96-bit random nonce || ciphertext+tag``. Associated data
names the row a value belongs to (table, row id, pseudonym, column), so a ciphertext copied to
another row fails to decrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.store.errors import UnreadableError

_FORMAT = b"\x01"
_NONCE_BYTES = 12
_SALT = b"reflect/keyring/v1"


def new_data_key() -> bytes:
    """A fresh random 256-bit AES key."""
    return AESGCM.generate_key(bit_length=256)


def row_aad(*parts: str) -> bytes:
    """Associated data naming a row: e.g. ``row_aad("reflections", id, pseudonym, "summary")``."""
    return "\x1f".join(("reflect/v1", *parts)).encode("utf-8")


def seal(key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """Encrypt and authenticate `plaintext` under `key`, bound to `aad`."""
    nonce = os.urandom(_NONCE_BYTES)
    return _FORMAT + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, blob: bytes, *, aad: bytes) -> bytes:
    """Decrypt a value from `seal`; `UnreadableError` if the key or associated data differ."""
    if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _FORMAT:
        raise UnreadableError("a sealed value is damaged or in an unknown format")
    nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag as error:
        raise UnreadableError(
            "a sealed value did not decrypt (its key is gone or it belongs to another row)"
        ) from error


def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=_SALT, info=purpose.encode("ascii")
    ).derive(secret)


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


class Keyring:
    """The keys derived from the server secret. Holds no per-person key itself."""

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the secret must not be empty")
        self._pseudonym_key = _derive(secret, "pseudonym")
        self._digest_key = _derive(secret, "digest")
        self._wrapping_key = _derive(secret, "key-wrapping")
        self._service_key = _derive(secret, "service-data")
        self._check_key = _derive(secret, "secret-check")

    def __repr__(self) -> str:  # never show key material
        return "Keyring(<secret>)"

    def pseudonym(self, identity: str) -> str:
        """A person's stable, unlinkable key: HMAC-SHA256 over their transport identity."""
        return hmac.new(self._pseudonym_key, identity.encode("utf-8"), hashlib.sha256).hexdigest()

    def digest(self, value: str, *, purpose: str) -> str:
        """A keyed digest of a non-personal identifier (e.g. a Slack event id), per purpose."""
        message = f"{purpose}\x1f{value}".encode()
        return hmac.new(self._digest_key, message, hashlib.sha256).hexdigest()

    def check_value(self) -> str:
        """Kept in the database so that opening it with another secret is caught at once."""
        return hmac.new(self._check_key, b"reflect secret check", hashlib.sha256).hexdigest()

    def wrap(self, data_key: bytes, *, pseudonym: str) -> bytes:
        return seal(self._wrapping_key, data_key, aad=row_aad("data_keys", pseudonym))

    def unwrap(self, wrapped: bytes, *, pseudonym: str) -> bytes:
        return unseal(self._wrapping_key, wrapped, aad=row_aad("data_keys", pseudonym))

    def org(self, org_id: str) -> str:
        """An organisation's key in the database: a keyed digest of its Slack id."""
        return self.digest(org_id, purpose="organisation")

    def wrap_org_key(self, org_key: bytes, *, org: str) -> bytes:
        """An organisation key (`org` is its digest, `org(...)`) sealed under the secret."""
        return seal(self._wrapping_key, org_key, aad=row_aad("org_keys", org))

    def unwrap_org_key(self, wrapped: bytes, *, org: str) -> bytes:
        return unseal(self._wrapping_key, wrapped, aad=row_aad("org_keys", org))

    def seal(self, text: str, *, aad: str | bytes) -> bytes:
        """Seal a sensitive, non-reflection value under the service data key."""
        return seal(self._service_key, text.encode("utf-8"), aad=_as_bytes(aad))

    def unseal(self, blob: bytes, *, aad: str | bytes) -> str:
        """The text sealed by `seal` with the same `aad`; `UnreadableError` otherwise."""
        return unseal(self._service_key, blob, aad=_as_bytes(aad)).decode("utf-8")


def wrap_under(org_key: bytes, data_key: bytes, *, pseudonym: str, org: str) -> bytes:
    """A person's data key sealed under their organisation's key."""
    return seal(org_key, data_key, aad=row_aad("data_keys", pseudonym, org))


def unwrap_under(org_key: bytes, wrapped: bytes, *, pseudonym: str, org: str) -> bytes:
    return unseal(org_key, wrapped, aad=row_aad("data_keys", pseudonym, org))
