"""Shopify webhooks: HMAC-SHA256 of the raw body with the app's secret, base64, in
X-Shopify-Hmac-Sha256; the delivery id in X-Shopify-Webhook-Id; the topic in X-Shopify-Topic."""

import base64
import hashlib
import hmac


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_valid(*, secret: str, body: bytes, header_value: str) -> bool:
    if not secret or not header_value or not header_value.isascii():
        return False
    return hmac.compare_digest(signature(secret, body), header_value.strip())
