"""What a connector sees of a webhook request: method, path, query string, headers and raw body.

The webhook view builds one `InboundRequest` per request; a connector verifies it, names its
topic and delivery key, and may answer requests that are not deliveries (a vendor's ping or
endpoint challenge) before anything is stored."""

from dataclasses import dataclass, field
from urllib.parse import parse_qs

from django.utils.datastructures import CaseInsensitiveMapping


@dataclass(frozen=True)
class InboundRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: CaseInsensitiveMapping
    body: bytes
    remote_addr: str = ""
    content_type: str = field(default="")

    @classmethod
    def from_django(cls, request, *, body: bytes, remote_addr: str) -> "InboundRequest":
        """`body` as the view read it (bounded), `remote_addr` as it validated it."""
        return cls(method=request.method, path=request.path, query=parse_qs(request.META.get("QUERY_STRING", ""), keep_blank_values=True),
                   headers=CaseInsensitiveMapping(dict(request.headers)), body=body, remote_addr=remote_addr,
                   content_type=request.content_type or "")

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    def arg(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[-1] if values else default


@dataclass(frozen=True)
class Acknowledgement:
    """An answer to a request that is not a delivery; nothing is stored."""

    status: int
    body: dict
