"""eBay Notification API: the endpoint challenge and X-EBAY-SIGNATURE verification.

The challenge: eBay GETs the endpoint with `challenge_code`; the answer is
`{"challengeResponse": hex(SHA-256(challenge_code + verification token + endpoint URL))}`.
A notification carries `X-EBAY-SIGNATURE`, base64 of `{"alg", "kid", "signature", "digest"}`: an
ECDSA signature (DER, base64) over the raw body; the public key is fetched by its key id
(`GET /commerce/notification/v1/public_key/{kid}`, application token) and cached."""

import base64
import hashlib
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEY_CACHE_SECONDS = 3600
DIGESTS = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256}


def challenge_response(*, challenge_code: str, verification_token: str, endpoint_url: str) -> str:
    return hashlib.sha256((challenge_code + verification_token + endpoint_url).encode()).hexdigest()


def signature_header(value: str) -> dict:
    """The decoded header; ValueError when it is not one."""
    try:
        decoded = json.loads(base64.b64decode(value, validate=True))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"X-EBAY-SIGNATURE is not base64 JSON: {exc}") from None
    if not isinstance(decoded, dict) or not decoded.get("kid") or not decoded.get("signature"):
        raise ValueError("X-EBAY-SIGNATURE lacks kid or signature")
    return decoded


def signature_valid(*, header: dict, body: bytes, public_key_pem: str, digest: str = "SHA1") -> bool:
    if str(header.get("alg", "ECDSA")).upper() != "ECDSA" or digest.upper() not in DIGESTS:
        return False
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(base64.b64decode(header["signature"]), body, ec.ECDSA(DIGESTS[digest.upper()]()))
    except (InvalidSignature, ValueError):
        return False
    return True


def public_key_cached(*, endpoint, kid: str, fetch) -> dict:
    """The key document for `kid` ({"key", "algorithm", "digest"}), fetched once an hour per endpoint."""
    from django.core.cache import cache

    cache_key = f"ebay-public-key:{endpoint.pk}:{hashlib.sha256(kid.encode()).hexdigest()}"
    document = cache.get(cache_key)
    if document is None:
        document = fetch(kid)
        cache.set(cache_key, document, KEY_CACHE_SECONDS)
    return document
