"""WooCommerce webhook signatures: `X-WC-Webhook-Signature` is base64(HMAC-SHA256(secret, raw body)).

WooCommerce decodes HTML special characters in the stored secret before hashing
(`wp_specialchars_decode(…, ENT_QUOTES)`), so a secret typed with `&amp;` signs with `&`."""

import base64
import hashlib
import hmac

_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#039;", "'"), ("&#39;", "'"), ("&#x27;", "'"), ("&amp;", "&"))


def secret_as_signed(secret: str) -> str:
    for entity, char in _ENTITIES:
        secret = secret.replace(entity, char)
    return secret


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret_as_signed(secret).encode(), body, hashlib.sha256).digest()).decode()


def signature_valid(*, secret: str, body: bytes, header_value: str) -> bool:
    if not secret or not header_value:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header_value.strip().encode("ascii", "replace"))
