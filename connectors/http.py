"""Outbound HTTP for connectors: every exchange is recorded for the job's attempt log, failures
are classed (transient or permanent) the same way for every vendor, and nothing is ever sent to
another host than the endpoint's own."""

import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext_noop

from connectors.errors import PermanentError, TransientError
from hub.texts import Text

EXCERPT_CHARS = 1000
DEFAULT_PORTS = {"http": 80, "https": 443}


def url_origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, with the default port filled in; None if it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def origin_text(url: str) -> str:
    origin = url_origin(url)
    return f"{origin[0]}://{origin[1]}:{origin[2]}" if origin else repr(url[:100])


A_LIST = Text(gettext_noop("a list"))


def a_list_of(what: str) -> Text:
    return Text(gettext_noop("a list of %(what)s"), what=what)


def not_json(method: str, path: str) -> Text:
    return Text(gettext_noop("%(method)s %(path)s: the answer is not valid JSON"), method=method, path=path)


def expected(method: str, path: str, what: Text) -> Text:
    """'GET orders: expected a list' and the like: an answer of the wrong shape."""
    return Text(gettext_noop("%(method)s %(path)s: expected %(what)s"), method=method, path=path, what=what)


def credentials_needed(names, command: str) -> Text:
    """The endpoint lacks credentials: which ones, and the command that stores them."""
    return Text(gettext_noop("the endpoint needs the credential(s) %(names)s (%(command)s)"),
                names=", ".join(names) if not isinstance(names, str) else names, command=command)


class ForeignHostError(PermanentError):
    """A request (a vendor's next-page link, a redirect) aimed at another host than the endpoint's."""


class EndpointSession(requests.Session):
    """A session that sends only to one origin. Every request goes through `send`, redirects
    included, so credentials in headers never reach another host, whatever URL an answer names."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url
        self.origin = url_origin(base_url)

    def send(self, request, **kwargs):
        if self.origin is None or url_origin(request.url) != self.origin:
            raise ForeignHostError(Text(gettext_noop("refused to send %(method)s to %(origin)s: not the endpoint's host (%(host)s); "
                                                     "nothing was sent"),
                                        method=request.method, origin=origin_text(request.url), host=origin_text(self.base_url)))
        return super().send(request, **kwargs)


@dataclass
class Exchange:
    method: str
    path: str
    status: int | None
    duration_ms: int
    excerpt: str = ""
    error: str = ""

    def line(self) -> str:
        answer = str(self.status) if self.status is not None else (self.error or "no answer")
        return f"{self.method} {self.path} → {answer} ({self.duration_ms} ms)"


@dataclass
class Recorder:
    """Collects the exchanges of one job run (the console shows them)."""

    exchanges: list[Exchange] = field(default_factory=list)

    def summary(self, limit: int = 20) -> str:
        lines = [e.line() for e in self.exchanges[-limit:]]
        if len(self.exchanges) > limit:
            lines.insert(0, f"… {len(self.exchanges) - limit} earlier requests")
        return "\n".join(lines)

    @property
    def last(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None


def retry_after_seconds(response: requests.Response, default: float) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return default


class ApiClient:
    """Base HTTP client for one endpoint. Vendor clients add auth headers and rate-limit rules
    through `before_request` / `after_response`."""

    timeout = (5, 30)
    max_rate_limit_waits = 5

    def __init__(self, *, endpoint, recorder: Recorder | None = None, sleep=time.sleep):
        self.endpoint = endpoint
        self.recorder = recorder or Recorder()
        self.session = EndpointSession(endpoint.base_url)
        self.sleep = sleep

    def url(self, path: str) -> str:
        return f"{self.endpoint.base_url.rstrip('/')}/{path.lstrip('/')}"

    def headers(self) -> dict:
        return {"Accept": "application/json"}

    def before_request(self) -> None:
        """Wait for a slot under the endpoint's limits."""

    def after_response(self, response: requests.Response) -> None:
        """Learn from the vendor's rate-limit headers."""

    def error_detail(self, response: requests.Response) -> str:
        """What the vendor said went wrong, as a person reads it in the console: the message of a
        JSON error body (with the vendor's error code), else the body's text. Vendors whose error
        bodies need rendering (message templates, XML) override it."""
        try:
            said = vendor_message(response.json())
        except ValueError:
            said = ""
        return (said or response.text)[:300]

    def on_rate_limited(self, response: requests.Response) -> float:
        """Seconds to wait after a 429 before trying the same request again."""
        return retry_after_seconds(response, 1.0)

    def request(self, method: str, path: str, *, params=None, json_body=None, data: bytes | None = None,
                full_url: str | None = None) -> requests.Response:
        """`json_body` is sent as JSON; `data` as raw bytes (XML, form data) with the client's headers."""
        for _ in range(self.max_rate_limit_waits + 1):
            response = self._send(method, path, params=params, json_body=json_body, data=data, full_url=full_url)
            if response.status_code != 429:
                break
            wait = self.on_rate_limited(response)
            self.sleep(wait)
        else:
            raise TransientError(Text(gettext_noop("%(method)s %(path)s: still rate limited (429) after %(waits)s waits"),
                                      method=method, path=path, waits=self.max_rate_limit_waits),
                                 status=429, retry_after=retry_after_seconds(response, 2.0), excerpt=response.text[:EXCERPT_CHARS])
        self._raise_for_status(method, path, response)
        return response

    def json(self, method: str, path: str, **kwargs) -> dict:
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except (ValueError, json.JSONDecodeError):
            raise TransientError(not_json(method, path), status=response.status_code, excerpt=response.text[:EXCERPT_CHARS]) from None

    def _send(self, method, path, *, params, json_body, full_url, data=None) -> requests.Response:
        self.before_request()
        started = time.perf_counter()
        shown_path = path if not full_url else full_url.split("//", 1)[-1].split("/", 1)[-1]
        try:
            response = self.session.request(method, full_url or self.url(path), params=params, json=json_body, data=data,
                                            headers=self.headers(), timeout=self.timeout)
        except requests.Timeout as exc:
            self._record(method, shown_path, None, started, error=f"timeout: {exc}")
            raise TransientError(Text(gettext_noop("%(method)s %(path)s: timed out"), method=method, path=shown_path)) from exc
        except requests.ConnectionError as exc:
            self._record(method, shown_path, None, started, error=f"connection error: {exc}")
            raise TransientError(Text(gettext_noop("%(method)s %(path)s: connection failed (%(error)s)"), method=method, path=shown_path,
                                      error=type(exc).__name__)) from exc
        except ForeignHostError as exc:
            self._record(method, shown_path, None, started, error=str(exc))
            raise
        self._record(method, shown_path, response.status_code, started, excerpt=response.text[:EXCERPT_CHARS])
        self.after_response(response)
        return response

    def _record(self, method, path, status, started, *, excerpt="", error=""):
        self.recorder.exchanges.append(Exchange(method=method, path=path, status=status,
                                                duration_ms=int((time.perf_counter() - started) * 1000), excerpt=excerpt, error=error))

    def _raise_for_status(self, method, path, response) -> None:
        status = response.status_code
        if status < 400:
            return
        excerpt = response.text[:EXCERPT_CHARS]
        if status >= 500 or status in (408, 425):
            raise TransientError(Text(gettext_noop("%(method)s %(path)s: server error %(status)s"), method=method, path=path, status=status),
                                 status=status, excerpt=excerpt,
                                 retry_after=retry_after_seconds(response, 0) or None)
        raise PermanentError(Text(gettext_noop("%(method)s %(path)s: refused with %(status)s: %(detail)s"), method=method, path=path, status=status,
                                  detail=self.error_detail(response)), status=status, excerpt=excerpt)


MESSAGE_KEYS = ("message", "error_description", "detail", "title", "error_message")


def vendor_message(body) -> str:
    """The words of a JSON error body as most APIs shape it — {"message": …, "code": …},
    {"error": "…", "error_description": …}, {"errors": [{"message": …}]} — or "" when none."""
    if isinstance(body, list):
        return "; ".join(filter(None, (vendor_message(item) for item in body[:5])))
    if isinstance(body, str):
        return body
    if not isinstance(body, dict):
        return ""
    said = next((body[key] for key in MESSAGE_KEYS if isinstance(body.get(key), str) and body[key].strip()), "")
    if not said and body.get("errors"):
        said = vendor_message(body["errors"])
    if not said and body.get("error"):
        said = vendor_message(body["error"])
    code = next((body[key] for key in ("code", "error_code", "error") if isinstance(body.get(key), str) and body[key] != said), "")
    return f"{said} ({code})" if said and code else said

