"""ShipStation v1 webhooks are unsigned pointers: `{"resource_url": …, "resource_type": "SHIP_NOTIFY"}`.

Two rules make them safe to act on: the delivery proves its origin with a secret the hub put in
the webhook's URL when it was subscribed (`…/webhooks/<code>/?secret=…`), and the hub fetches the
pointed resource only when it is on the endpoint's own API host (scheme, host and port, under its
path); any other URL is refused and nothing is requested (no server-side request forgery)."""

import hashlib
import hmac
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def secret_valid(*, expected: str, given: str) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def delivery_key(resource_type: str, resource_url: str) -> str:
    """No delivery id in v1: the same pointer twice is the same delivery."""
    return hashlib.sha256(f"{resource_type} {resource_url}".encode()).hexdigest()[:64]


def _origin(url: str) -> tuple[str, str, int, str] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.username is not None or parts.password is not None:
        return None
    return parts.scheme, parts.hostname.lower().rstrip("."), port, parts.path


def on_api_host(resource_url: str, base_url: str) -> bool:
    """True only for a URL on the endpoint's API origin, under its base path."""
    if not isinstance(resource_url, str) or any(ch in resource_url for ch in ("\\", "\r", "\n", "\t", " ")):
        return False
    target, base = _origin(resource_url), _origin(base_url)
    if target is None or base is None:
        return False
    base_path = base[3].rstrip("/") + "/"
    return target[:3] == base[:3] and (target[3] + "/").startswith(base_path) and ".." not in target[3].split("/")
