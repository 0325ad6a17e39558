"""Endpoint secrets sealed at rest with Fernet (AES-128-CBC + HMAC-SHA256, `cryptography`).

Keys come from `HUB_CREDENTIALS_KEYS` (comma-separated Fernet keys, the first one seals, every
one opens), so a key is rotated by putting a new key first, running `hub_endpoint reseal`, then
dropping the old key. Without the variable a key is derived from `SECRET_KEY`."""

import base64
import hashlib
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SealError(Exception):
    """A sealed value cannot be opened with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = hashlib.sha256(b"erp-hub endpoint credentials\0" + secret_key.encode()).digest()
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _box() -> MultiFernet:
    return _fernet(tuple(getattr(settings, "HUB_CREDENTIALS_KEYS", ()) or ()), settings.SECRET_KEY)


def seal(value) -> str:
    """Any JSON value → an opaque token; empty values stay empty (nothing to hide)."""
    if value in ({}, "", None):
        return ""
    return _box().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def unseal(token: str, empty=None):
    if not token:
        return empty
    try:
        return json.loads(_box().decrypt(token.encode()))
    except InvalidToken:
        raise SealError("endpoint secrets cannot be opened with the configured HUB_CREDENTIALS_KEYS "
                        "(was the key changed without resealing?)") from None


def reseal(token: str) -> str:
    """The same value sealed with the current first key (key rotation)."""
    if not token:
        return token
    try:
        return _box().rotate(token.encode()).decode()
    except InvalidToken:
        raise SealError("a sealed value cannot be opened with any configured key; nothing was changed") from None
