"""ShipBob webhooks are Standard Webhooks: `webhook-signature` holds space-separated `v1,<base64>`
signatures of `"{webhook-id}.{webhook-timestamp}.{raw body}"` with HMAC-SHA256, keyed with the
base64-decoded part of the `whsec_…` secret. A timestamp more than five minutes away from now is
refused (a replayed delivery), and `webhook-id` — the same on every retry — dedupes."""

import base64
import binascii
import hashlib
import hmac
import time

TOLERANCE_SECONDS = 5 * 60


def secret_key(secret: str) -> bytes | None:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        return None


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = secret_key(secret) or b""
    return "v1," + base64.b64encode(hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()


def signature_valid(*, secret: str, message_id: str, timestamp: str, signatures: str, body: bytes, now: float | None = None) -> bool:
    if not secret or not message_id or not timestamp or not signatures:
        return False
    key = secret_key(secret)
    if not key:
        return False
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - sent_at) > TOLERANCE_SECONDS:
        return False
    expected = sign(secret=secret, message_id=message_id, timestamp=sent_at, body=body).split(",", 1)[1]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return True
    return False
