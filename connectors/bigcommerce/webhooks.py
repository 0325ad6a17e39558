"""BigCommerce webhooks, as its documentation has them now: signed as Standard Webhooks
(`webhook-id`, `webhook-timestamp`, `webhook-signature` = space-separated `v1,<base64 HMAC-SHA256
of "{id}.{timestamp}.{raw body}">`), keyed with the app's client secret (the vendor's samples
base64-encode it for the Standard Webhooks library, which decodes it back: the raw secret is the
HMAC key); a timestamp more than 5 minutes away is refused (replays).

Deliveries are deduplicated on the payload's `hash` — the SHA-1 of the JSON-encoded `data`, the
same for every delivery of one event, but also for every `store/order/updated` of one order —
so the key is the scope, the hash and the event's `created_at`: a retried delivery is a
duplicate, a later update of the same order is not."""

import base64
import hashlib
import hmac
import json
import time

TOLERANCE_SECONDS = 300


def signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_valid(*, secret: str, request, now: float | None = None) -> bool:
    message_id, timestamp, signatures = request.header("webhook-id"), request.header("webhook-timestamp"), request.header("webhook-signature")
    if not secret or not message_id or not timestamp or not signatures:
        return False
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - sent) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, message_id, timestamp, request.body).encode()
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(expected, value.strip().encode("ascii", "replace")):
            return True
    return False


def payload(request) -> dict:
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def delivery_key(data: dict) -> str:
    if not data.get("hash"):
        return ""
    return f"{data.get('scope', '')}:{data['hash']}:{data.get('created_at', '')}"
