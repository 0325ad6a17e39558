"""Loop webhook signatures: `X-Loop-Signature` is base64(HMAC-SHA256(secret, body)), where Loop's
reference says to escape slashes and remove newlines from the JSON before hashing (it signs
the compact form PHP's `json_encode` writes, `/` as `\\/`). The body is brought to that form —
a `/` not already escaped becomes `\\/`, CR and LF are dropped — and hashed; a body Loop sent
already in that form is unchanged by it, so a signature over the bytes as sent matches too."""

import base64
import hashlib
import hmac
import re

_ESCAPE_OR_SLASH = re.compile(rb"\\.|/", re.DOTALL)


def signed_form(body: bytes) -> bytes:
    """The body as Loop hashes it: slashes escaped (escape pairs such as `\\\\` or `\\/` left
    alone), newlines removed."""
    escaped = _ESCAPE_OR_SLASH.sub(lambda m: rb"\/" if m.group(0) == b"/" else m.group(0), body)
    return escaped.replace(b"\r", b"").replace(b"\n", b"")


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), signed_form(body), hashlib.sha256).digest()).decode()


def signature_valid(*, secret: str, body: bytes, header_value: str) -> bool:
    if not secret or not header_value:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header_value.strip().encode("ascii", "replace"))
