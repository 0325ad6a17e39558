"""The base every vendor protocol sandbox is built on.

A sandbox is a small HTTP server that speaks one vendor's protocol from its public documentation,
keeps its state in memory and can be told to misbehave. This module gives each of them the same
machinery, so a sandbox file holds only what is specific to its vendor:

- `Sandbox`: a threaded HTTP server (`start()`, `stop()`, `url`, `serve_forever()`) with a route
  table filled by the `@route` and `@control` decorators, one request pipeline (authentication,
  fault switches, rate limiting, the handler under the sandbox lock, responses) and a control API
  under `/_sandbox/` for tests, the demo and traffic generators;
- `Request` and the response helpers (`json_response`, `empty_response`, `raw_response`, `Abort`),
  opaque pagination cursors (`cursor_token`, `read_cursor`);
- `Faults`: switches every sandbox shares (5xx window, slow before or after applying, dropped
  connection after applying, malformed body, forced 429, duplicated or dropped webhooks), each
  for N requests, some seconds, matching routes or writes only, plus a sandbox's own switches;
- rate-limit primitives: `LeakyBucket`, `TokenBucket`, `FixedWindow`, and `Keyed` for one per key;
- `WebhookSender`: a background thread posting signed deliveries under a `DeliveryPolicy`
  (retries with backoff or none, disable after N failures, duplicate and drop rates), with a log;
- `Clock` and `Ids` for deterministic timestamps and identifiers.

Standard library only (plus `requests` to send webhooks) and no Django: tests start sandboxes
in-process on a free port, the demo runs them as processes.
"""

import base64
import contextlib
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import math
import random
import re
import socket
import threading
import time
import traceback
import uuid
from collections import Counter, deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import requests

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_sandbox/"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


# --- responses ------------------------------------------------------------------------------------

def _header_list(headers) -> list[tuple[str, str]]:
    if not headers:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(name), str(value)) for name, value in items]


def default_json_encode(payload) -> bytes:
    return json.dumps(payload).encode()


@dataclass
class Response:
    """What a handler answers: status, raw body and headers (a list, so a name may repeat)."""

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), default)

    def json(self):
        return json.loads(self.body)


def json_response(payload, status: int = 200, headers=None, *, encode: Callable = default_json_encode) -> Response:
    return Response(status, encode(payload), [("Content-Type", "application/json; charset=UTF-8"), *_header_list(headers)])


def empty_response(status: int = 204, headers=None) -> Response:
    return Response(status, b"", _header_list(headers))


def raw_response(body: bytes | str, status: int = 200, *, content_type: str = "application/octet-stream", headers=None) -> Response:
    data = body.encode() if isinstance(body, str) else body
    return Response(status, data, [("Content-Type", content_type), *_header_list(headers)])


class Abort(Exception):
    """Raised anywhere in a handler to answer `response` at once (vendor error shapes)."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


class InvalidBody(ValueError):
    """The request body is not what its Content-Type says (raised by `Request.json()`)."""


# --- requests -------------------------------------------------------------------------------------

class Request:
    """One HTTP request as a handler sees it. `query` is multi-valued; `params` holds the path
    parameters of the matched route; `reply_headers` are added to whatever response goes back
    (rate-limit headers set before the handler runs); `context` carries what the auth hook found."""

    def __init__(self, method: str, target: str, headers, body: bytes, client_address=("", 0)):
        parts = urlsplit(target)
        self.method = method.upper()
        self.target = target
        self.path = parts.path or "/"
        self.query_string = parts.query
        self.query: dict[str, list[str]] = parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.client_address = client_address
        self.params: dict = {}
        self.route: "Route | None" = None
        self.reply_headers: list[tuple[str, str]] = []
        self.context: dict = {}

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def header(self, name: str, default: str | None = None) -> str | None:
        value = self.headers.get(name) if self.headers is not None else None
        return default if value is None else value

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def json(self):
        """The body parsed as JSON (None when empty); InvalidBody when it is not JSON."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as error:
            raise InvalidBody(f"the request body is not valid JSON: {error}") from None

    def json_object(self) -> dict:
        """The body as a JSON object ({} when empty); InvalidBody when it is anything else."""
        data = self.json()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise InvalidBody(f"the request body is not a JSON object but {type(data).__name__}")
        return data

    def form(self) -> dict[str, list[str]]:
        try:
            return parse_qs(self.body.decode(), keep_blank_values=True)
        except UnicodeDecodeError as error:
            raise InvalidBody(f"the request body is not valid form data: {error}") from None

    def describe(self) -> str:
        return f"{self.method} {self.path}"


# --- cursors --------------------------------------------------------------------------------------

def cursor_token(position) -> str:
    """An opaque pagination cursor (a `page_info`, a `NextToken`): the position as URL-safe base64 JSON."""
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def read_cursor(token: str) -> dict:
    """The position a `cursor_token` carries; ValueError for anything the sandbox did not issue."""
    try:
        position = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeError) as error:
        raise ValueError(f"invalid cursor: {error}") from None
    if not isinstance(position, dict):
        raise ValueError("invalid cursor")
    return position


# --- routing --------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"<(?:(int|path|str):)?([A-Za-z_][A-Za-z0-9_]*)>")
_CONVERTERS = {"int": (r"[0-9]+", int), "path": (r".+", unquote), "str": (r"[^/]+", unquote), None: (r"[^/]+", unquote)}


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Callable
    name: str
    auth: bool = True
    locked: bool = True
    control: bool = False
    regex: re.Pattern = field(default=None, compare=False)
    converters: tuple = field(default=(), compare=False)


def compile_pattern(pattern: str) -> tuple[re.Pattern, tuple]:
    """`/orders/<int:order_id>/notes` → a regex and the converters of its named groups.
    `<name>` and `<str:name>` match one path segment, `<int:name>` digits, `<path:name>` the rest."""
    parts, converters, position = [], [], 0
    for match in _PLACEHOLDER.finditer(pattern):
        kind, name = match.group(1), match.group(2)
        regex, convert = _CONVERTERS[kind]
        parts.append(re.escape(pattern[position:match.start()]))
        parts.append(f"(?P<{name}>{regex})")
        converters.append((name, convert))
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("".join(parts)), tuple(converters)


def _mark(method: str, pattern: str, **options):
    def decorate(function):
        function.__dict__.setdefault("_sandbox_routes", []).append({"method": method.upper(), "pattern": pattern, **options})
        return function
    return decorate


def route(method: str, pattern: str, *, auth: bool = True, locked: bool = True, name: str | None = None):
    """Declare a vendor API route on a Sandbox method: `@route("GET", "/api/orders/<int:order_id>")`.
    The handler is called as `handler(request, **path_params)` and returns a Response, a JSON-able
    value (200) or None (204). `auth=False` skips the sandbox's `authenticate` hook; `locked=False`
    runs it outside the sandbox lock (for handlers that call out, e.g. a synchronous ping)."""
    return _mark(method, pattern, auth=auth, locked=locked, name=name, control=False)


def control(method: str, pattern: str, *, locked: bool = True, name: str | None = None):
    """Declare a control-API action under `/_sandbox/` (no auth, no faults, no rate limits):
    `@control("POST", "orders/<int:order_id>/cancel")`."""
    return _mark(method, pattern, auth=False, locked=locked, name=name, control=True)


# --- faults ---------------------------------------------------------------------------------------

_WINDOW_OPTIONS = {"requests", "seconds", "match", "writes"}
FAULT_SWITCHES: dict[str, set[str]] = {
    "fail_5xx": {"status"},        # answer a 5xx (`status`, or 500/502/503 at random) without applying
    "slow_before": {"ms"},         # wait `ms` before applying
    "slow_after": {"ms"},          # apply, then wait `ms` (past the client's timeout) before answering
    "drop_after": set(),           # apply, then close the connection without answering
    "malformed": set(),            # apply, then answer a truncated (non-JSON) body
    "throttle": {"retry_after"},   # answer 429 without applying; Retry-After only when `retry_after` is given
}
FAULT_RATES = ("webhook_duplicate_rate", "webhook_drop_rate")
_REQUIRED_OPTIONS = {"slow_before": {"ms"}, "slow_after": {"ms"}}


class Faults:
    """Fault switches shared by every sandbox, set from Python (`set(...)`) or the control API
    (`POST /_sandbox/faults` with the same JSON). A switch is `True` (on until cleared), `None` or
    `False` (off) or a dict of options: `requests` (the next N matching requests), `seconds` (for
    that long), `match` (a regex searched in "METHOD /path"), `writes` (only requests that change
    something, as `is_write` tells), plus the switch's own (`ms`, `status`, `retry_after`).
    Webhook rates are numbers in [0, 1] (None: the delivery policy's).

    `extra` declares a sandbox's own switches: name → a function that checks the value set
    (ValueError when it is wrong) and returns what to keep; `value(name)` reads it, None or False
    turns it off, and it is shown and cleared with the others."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, extra: Mapping[str, Callable] | None = None,
                 is_write: Callable[["Request"], bool] | None = None):
        self._clock = clock
        self._extra = dict(extra or {})
        self._is_write = is_write or (lambda request: request.method not in SAFE_METHODS)
        self._lock = threading.Lock()
        self._switches: dict[str, dict] = {}
        self._rates: dict[str, float] = {}
        self._values: dict[str, object] = {}

    def set(self, **switches) -> dict:
        """Validates everything first: a bad switch raises ValueError and changes nothing."""
        prepared = {name: self._prepare(name, value) for name, value in switches.items()}
        with self._lock:
            for name, value in prepared.items():
                target = self._rates if name in FAULT_RATES else self._values if name in self._extra else self._switches
                if value is None:
                    target.pop(name, None)
                else:
                    target[name] = value
        return self.describe()

    def clear(self) -> None:
        with self._lock:
            self._switches.clear()
            self._rates.clear()
            self._values.clear()

    def _prepare(self, name: str, value):
        if name in FAULT_RATES:
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number between 0 and 1")
            return float(value)
        if name in self._extra:
            return None if value is None or value is False else self._extra[name](value)
        if name not in FAULT_SWITCHES:
            known = ", ".join(sorted([*FAULT_SWITCHES, *FAULT_RATES, *self._extra]))
            raise ValueError(f"unknown fault switch {name!r} (known: {known})")
        if value is None or value is False:
            return None
        if value is True:
            value = {}
        if not isinstance(value, Mapping):
            raise ValueError(f"{name} must be true, false, null or an object of options")
        allowed = _WINDOW_OPTIONS | FAULT_SWITCHES[name]
        unknown = set(value) - allowed
        if unknown:
            raise ValueError(f"{name}: unknown option(s) {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(allowed))})")
        missing = _REQUIRED_OPTIONS.get(name, set()) - set(value)
        if missing:
            raise ValueError(f"{name} needs {', '.join(sorted(missing))}")
        spec = {}
        if "requests" in value:
            spec["requests"] = _positive_int(name, "requests", value["requests"])
        if "seconds" in value:
            spec["until"] = self._clock() + _positive_number(name, "seconds", value["seconds"])
        if value.get("match") is not None:
            try:
                spec["match"] = re.compile(str(value["match"]))
            except re.error as error:
                raise ValueError(f"{name}: match is not a valid regular expression ({error})") from None
        if "writes" in value:
            if not isinstance(value["writes"], bool):
                raise ValueError(f"{name}: writes must be true or false")
            if value["writes"]:
                spec["writes"] = True
        if "ms" in value:
            spec["ms"] = _non_negative_number(name, "ms", value["ms"])
        if "status" in value:
            status = value["status"]
            if isinstance(status, bool) or not isinstance(status, int) or not 500 <= status <= 599:
                raise ValueError(f"{name}: status must be an integer from 500 to 599")
            spec["status"] = status
        if "retry_after" in value and value["retry_after"] is not None:
            spec["retry_after"] = _non_negative_number(name, "retry_after", value["retry_after"])
        return spec

    def take(self, name: str, request: Request | None = None) -> dict | None:
        """The switch's options when it applies to this request (using up one of its `requests`)."""
        with self._lock:
            spec = self._switches.get(name)
            if spec is None:
                return None
            if "until" in spec and self._clock() >= spec["until"]:
                del self._switches[name]
                return None
            if "match" in spec and (request is None or not spec["match"].search(request.describe())):
                return None
            if "writes" in spec and (request is None or not self._is_write(request)):
                return None
            if "requests" in spec:
                spec["requests"] -= 1
                if spec["requests"] <= 0:
                    del self._switches[name]
            return {key: value for key, value in spec.items() if key not in ("until", "requests", "match", "writes")}

    def value(self, name: str, default=None):
        """The value of a sandbox's own switch (see `extra`), or `default` when it is off."""
        with self._lock:
            return self._values.get(name, default)

    def rate(self, name: str, default: float) -> float:
        with self._lock:
            return self._rates.get(name, default)

    def describe(self) -> dict:
        now = self._clock()
        with self._lock:
            described = {}
            for name, spec in self._switches.items():
                if "until" in spec and now >= spec["until"]:
                    continue
                entry = {key: value for key, value in spec.items() if key not in ("until", "match")}
                if "until" in spec:
                    entry["seconds_left"] = round(spec["until"] - now, 2)
                if "match" in spec:
                    entry["match"] = spec["match"].pattern
                described[name] = entry
            described.update(self._rates)
            described.update(self._values)
            return described


def _positive_int(switch, option, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{switch}: {option} must be a positive integer")
    return value


def _positive_number(switch, option, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{switch}: {option} must be a positive number")
    return float(value)


def _non_negative_number(switch, option, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{switch}: {option} must be a number ≥ 0")
    return float(value)


# --- rate-limit primitives ------------------------------------------------------------------------

class LeakyBucket:
    """Each request adds `amount` to the bucket; it leaks `leak_per_second`. Full → refused, with
    the seconds until the request would fit (REST call limits announced as "used/size")."""

    def __init__(self, size: float, leak_per_second: float, *, clock: Callable[[], float] = time.monotonic):
        self.size, self.leak, self._clock = float(size), float(leak_per_second), clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._level, self._at = 0.0, self._clock()

    def _drain(self) -> None:
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._at) * self.leak)
        self._at = now

    def take(self, amount: float = 1.0) -> tuple[bool, float]:
        with self._lock:
            self._drain()
            if self._level + amount > self.size:
                return False, (self._level + amount - self.size) / self.leak if self.leak else math.inf
            self._level += amount
            return True, 0.0

    def level(self) -> float:
        with self._lock:
            self._drain()
            return self._level

    def used(self) -> int:
        return min(int(self.size), math.ceil(self.level() - 1e-9))


class TokenBucket:
    """Holds up to `capacity` tokens, refilled at `refill_per_second`; a request needs `cost`
    tokens available (a rate plus a burst per operation, a GraphQL query's calculated cost)."""

    def __init__(self, capacity: float, refill_per_second: float, *, clock: Callable[[], float] = time.monotonic):
        self.capacity, self.refill, self._clock = float(capacity), float(refill_per_second), clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._tokens, self._at = self.capacity, self._clock()

    def _fill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.refill)
        self._at = now

    def take(self, cost: float = 1.0) -> tuple[bool, float]:
        with self._lock:
            self._fill()
            if self._tokens < cost:
                return False, (cost - self._tokens) / self.refill if self.refill else math.inf
            self._tokens -= cost
            return True, 0.0

    def available(self) -> float:
        with self._lock:
            self._fill()
            return self._tokens


class FixedWindow:
    """`limit` requests per window of `seconds`, all restored when the window ends (vendors that
    announce X-Rate-Limit-Limit / -Remaining / -Reset, daily quotas). A window opens with the first
    request after the previous one ended."""

    def __init__(self, limit: int, seconds: float, *, clock: Callable[[], float] = time.monotonic):
        self.limit, self.seconds, self._clock = int(limit), float(seconds), clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._count, self._started = 0, None

    def _roll(self) -> None:
        if self._started is not None and self._clock() - self._started >= self.seconds:
            self._count, self._started = 0, None

    def take(self, amount: int = 1) -> tuple[bool, float]:
        with self._lock:
            self._roll()
            if self._started is None:
                self._started = self._clock()
            if self._count + amount > self.limit:
                return False, self._reset_in()
            self._count += amount
            return True, 0.0

    def _reset_in(self) -> float:
        return self.seconds if self._started is None else max(0.0, self._started + self.seconds - self._clock())

    def remaining(self) -> int:
        with self._lock:
            self._roll()
            return max(0, self.limit - self._count)

    def reset_in(self) -> float:
        with self._lock:
            self._roll()
            return self._reset_in()


class Keyed:
    """One limiter per key, made on first use: `Keyed(lambda: TokenBucket(10, 0.5))["getOrders"]`."""

    def __init__(self, factory: Callable[[], object]):
        self._factory = factory
        self._limiters: dict = {}
        self._lock = threading.Lock()

    def __getitem__(self, key):
        with self._lock:
            if key not in self._limiters:
                self._limiters[key] = self._factory()
            return self._limiters[key]

    def keys(self) -> list:
        with self._lock:
            return list(self._limiters)

    def reset(self) -> None:
        with self._lock:
            self._limiters.clear()


def retry_after_seconds(seconds: float) -> str:
    """Retry-After as RFC 9110 defines it: whole seconds, rounded up."""
    return str(max(0, math.ceil(seconds - 1e-9)))


# --- clock and ids --------------------------------------------------------------------------------

class Clock:
    """Wall and monotonic time for a sandbox. Real time by default; `Clock(start=datetime)` is
    frozen at `start`. `advance(seconds)` moves both (real or frozen), so tests can cross a quota
    window or a `modified_after` boundary without sleeping."""

    def __init__(self, start: datetime | None = None):
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._frozen = start
        self._offset = 0.0
        self._lock = threading.Lock()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def now(self) -> datetime:
        with self._lock:
            base = self._frozen if self._frozen is not None else datetime.now(timezone.utc)
            return base + timedelta(seconds=self._offset)

    def timestamp(self) -> float:
        return self.now().timestamp()

    def monotonic(self) -> float:
        with self._lock:
            return (0.0 if self._frozen is not None else time.monotonic()) + self._offset


class Ids:
    """Deterministic identifiers: integer sequences per kind (`next("order")`), starting where
    `begin(kind, first)` says (default `start`), and seeded UUIDs / hex tokens. `reset()` restarts
    every sequence and the seed; `begin` settings stay."""

    def __init__(self, *, seed: int | None = 0, start: int = 1):
        self._seed, self._start = seed, start
        self._first: dict[str, int] = {}
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._counters: dict[str, itertools.count] = {}
            self._rng = random.Random(self._seed)

    def begin(self, kind: str, first: int) -> None:
        with self._lock:
            self._first[kind] = first
            self._counters.pop(kind, None)

    def next(self, kind: str = "id") -> int:
        with self._lock:
            if kind not in self._counters:
                self._counters[kind] = itertools.count(self._first.get(kind, self._start))
            return next(self._counters[kind])

    def uuid(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def hex(self, nbytes: int = 16) -> str:
        with self._lock:
            return self._rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def token(self, length: int, alphabet: str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") -> str:
        with self._lock:
            return "".join(self._rng.choice(alphabet) for _ in range(length))


# --- signatures -----------------------------------------------------------------------------------

def hmac_sha256_base64(secret: str | bytes, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def hmac_sha256_hex(secret: str | bytes, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).hexdigest()


# --- webhooks -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeliveryPolicy:
    """How a vendor delivers webhooks.

    - `retry_delays`: seconds before each retry of a failed delivery (empty: never retried);
    - `disable_after`: consecutive failed attempts for one subscription after which it is
      disabled (None: never); a success resets the count; nothing is queued for a disabled
      subscription until `WebhookSender.enable()`;
    - `duplicate_rate` / `drop_rate`: share of deliveries sent twice / never sent (the faults
      `webhook_duplicate_rate` / `webhook_drop_rate` override them);
    - `success`: the statuses that count as delivered; redirects are never followed."""

    retry_delays: tuple[float, ...] = ()
    disable_after: int | None = None
    duplicate_rate: float = 0.0
    drop_rate: float = 0.0
    timeout: float = 5.0
    success: range = range(200, 300)
    duplicate_delay: float = 0.2


@dataclass
class Delivery:
    id: int
    url: str
    body: bytes
    headers: dict
    topic: str = ""
    subscription: Hashable = None
    attempt: int = 0
    duplicate_of: int | None = None
    generation: int = 0


@dataclass
class DeliveryRecord:
    """One line of the sender's log: an attempt, a drop or a skip."""

    delivery_id: int
    topic: str
    url: str
    subscription: Hashable
    attempt: int
    duplicate_of: int | None
    outcome: str  # delivered | failed | dropped | skipped
    status: int | None
    error: str | None
    headers: dict
    body: bytes
    at: str
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome == "delivered"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["body"] = self.body.decode("utf-8", "replace")
        data["subscription"] = self.subscription if isinstance(self.subscription, (str, int, float, type(None))) else str(self.subscription)
        return data


class WebhookSender:
    """A background thread with a queue that POSTs deliveries. The sandbox signs: it passes the
    body and headers to `enqueue()`; `before_send(delivery, headers)` may add per-attempt headers
    (a delivery id computed from the send time). Deliveries go one at a time in due order, so a
    retried one naturally arrives after later events. `hold()` keeps new deliveries back and
    `release(order=...)` lets them go in fifo, reverse or shuffled order (out-of-order tests)."""

    def __init__(self, *, policy: DeliveryPolicy | None = None, faults: Faults | None = None,
                 before_send: Callable[[Delivery, dict], dict] | None = None,
                 on_disable: Callable[[Hashable], None] | None = None, seed: int | None = None,
                 clock: Clock | None = None, log_size: int = 5000):
        self.policy = policy or DeliveryPolicy()
        self.faults = faults or Faults()
        self.before_send = before_send
        self.on_disable = on_disable
        self.clock = clock or Clock()
        self._seed = seed
        self._rng = random.Random(seed)
        self._cond = threading.Condition()
        self._queue: list = []
        self._held: list[Delivery] | None = None
        self._in_flight = 0
        self._sequence = itertools.count()
        self._ids = itertools.count(1)
        self._generation = 0
        self._failures: Counter = Counter()
        self._disabled: set = set()
        self.log: deque[DeliveryRecord] = deque(maxlen=log_size)
        self._thread: threading.Thread | None = None
        self._stopping = False

    # lifecycle
    def start(self) -> "WebhookSender":
        with self._cond:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
                self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def reset(self) -> None:
        with self._cond:
            self._generation += 1
            self._queue.clear()
            self._held = None
            self._failures.clear()
            self._disabled.clear()
            self.log.clear()
            self._rng.seed(self._seed)
            self._cond.notify_all()

    # subscriptions
    def disabled(self, subscription: Hashable) -> bool:
        with self._cond:
            return subscription in self._disabled

    def failures(self, subscription: Hashable) -> int:
        with self._cond:
            return self._failures[subscription]

    def enable(self, subscription: Hashable, *, reset_failures: bool = True) -> None:
        with self._cond:
            self._disabled.discard(subscription)
            if reset_failures:
                self._failures.pop(subscription, None)

    def forget(self, subscription: Hashable) -> None:
        with self._cond:
            self._disabled.discard(subscription)
            self._failures.pop(subscription, None)

    # sending
    def enqueue(self, url: str, body: bytes, *, headers: Mapping, topic: str = "", subscription: Hashable = None,
                delay: float = 0.0) -> Delivery | None:
        """Queue a delivery; None when it is dropped (drop rate) or its subscription is disabled."""
        with self._cond:
            delivery = Delivery(next(self._ids), url, body, dict(headers), topic, subscription, generation=self._generation)
            if subscription is not None and subscription in self._disabled:
                self._record(delivery, "skipped", None, "subscription disabled", delivery.headers)
                return None
            if self._rng.random() < self.faults.rate("webhook_drop_rate", self.policy.drop_rate):
                self._record(delivery, "dropped", None, None, delivery.headers)
                return None
            if self._held is not None:
                self._held.append(delivery)
            else:
                self._push(delivery, delay)
            return delivery

    def send_now(self, url: str, body: bytes, *, headers: Mapping, topic: str = "", subscription: Hashable = None,
                 timeout: float | None = None) -> DeliveryRecord:
        """Deliver synchronously, outside the policy (a ping on subscription): no retry, drop,
        duplicate or failure count. The outcome is logged and returned."""
        with self._cond:
            delivery = Delivery(next(self._ids), url, body, dict(headers), topic, subscription, generation=self._generation)
        return self._post(requests, delivery, dict(headers), timeout or self.policy.timeout)

    def hold(self) -> None:
        with self._cond:
            if self._held is None:
                self._held = []

    def release(self, order: str = "fifo") -> int:
        if order not in ("fifo", "reverse", "shuffle"):
            raise ValueError("order must be fifo, reverse or shuffle")
        with self._cond:
            held, self._held = self._held or [], None
            if order == "reverse":
                held.reverse()
            elif order == "shuffle":
                self._rng.shuffle(held)
            for delivery in held:
                self._push(delivery, 0.0)
            return len(held)

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight + len(self._held or [])

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or being sent (held deliveries do not count)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def records(self, *, topic: str | None = None, outcome: str | None = None) -> list[DeliveryRecord]:
        with self._cond:
            return [r for r in self.log if (topic is None or r.topic == topic) and (outcome is None or r.outcome == outcome)]

    def describe(self) -> dict:
        with self._cond:
            outcomes = Counter(record.outcome for record in self.log)
            return {"queued": len(self._queue) + self._in_flight, "held": len(self._held) if self._held is not None else None,
                    "outcomes": dict(outcomes), "disabled_subscriptions": sorted(map(str, self._disabled)),
                    "failures": {str(key): count for key, count in self._failures.items() if count}}

    # internals
    def _push(self, delivery: Delivery, delay: float) -> None:
        heapq.heappush(self._queue, (time.monotonic() + delay, next(self._sequence), delivery))
        self._cond.notify_all()

    def _record(self, delivery: Delivery, outcome: str, status, error, headers, seconds: float = 0.0) -> DeliveryRecord:
        record = DeliveryRecord(delivery.id, delivery.topic, delivery.url, delivery.subscription, delivery.attempt,
                                delivery.duplicate_of, outcome, status, error, dict(headers), delivery.body,
                                self.clock.now().isoformat(timespec="milliseconds"), round(seconds, 3))
        with self._cond:
            if delivery.generation == self._generation:
                self.log.append(record)
        return record

    def _run(self) -> None:
        session = requests.Session()
        while True:
            with self._cond:
                while not self._stopping and (not self._queue or self._queue[0][0] > time.monotonic()):
                    self._cond.wait(self._queue[0][0] - time.monotonic() if self._queue else None)
                if self._stopping:
                    return
                _, _, delivery = heapq.heappop(self._queue)
                self._in_flight += 1
            try:
                self._attempt(session, delivery)
            except Exception:  # a sender must survive anything a hook does
                log.exception("webhook delivery %s crashed", delivery.id)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _attempt(self, session, delivery: Delivery) -> None:
        headers = dict(delivery.headers)
        if self.before_send is not None:
            headers = self.before_send(delivery, headers)
        record = self._post(session, delivery, headers, self.policy.timeout)
        subscription = delivery.subscription
        if record.ok:
            with self._cond:
                self._failures.pop(subscription, None)
            rate = self.faults.rate("webhook_duplicate_rate", self.policy.duplicate_rate)
            if delivery.duplicate_of is None and self._rng.random() < rate:
                with self._cond:
                    if delivery.generation == self._generation:
                        twin = replace(delivery, id=next(self._ids), duplicate_of=delivery.id)
                        self._push(twin, self.policy.duplicate_delay)
            return
        disabled_now = False
        with self._cond:
            if delivery.generation != self._generation:
                return
            if subscription is not None:
                self._failures[subscription] += 1
                limit = self.policy.disable_after
                if limit is not None and self._failures[subscription] >= limit and subscription not in self._disabled:
                    self._disabled.add(subscription)
                    disabled_now = True
            retry = delivery.attempt < len(self.policy.retry_delays) and subscription not in self._disabled
            if retry:
                self._push(replace(delivery, attempt=delivery.attempt + 1), self.policy.retry_delays[delivery.attempt])
        if disabled_now and self.on_disable is not None:
            self.on_disable(subscription)

    def _post(self, session, delivery: Delivery, headers: dict, timeout: float) -> DeliveryRecord:
        started = time.monotonic()
        status, error = None, None
        try:
            response = session.post(delivery.url, data=delivery.body, headers=headers, timeout=timeout, allow_redirects=False)
            status = response.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        outcome = "delivered" if status is not None and status in self.policy.success else "failed"
        return self._record(delivery, outcome, status, error, headers, time.monotonic() - started)


# --- the sandbox ----------------------------------------------------------------------------------

@dataclass
class RequestRecord:
    method: str
    path: str
    query: str
    route: str | None
    status: int | None
    at: str

    def as_dict(self) -> dict:
        return asdict(self)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on a kept-alive
    # connection the body would wait for the client's delayed ACK (~40 ms a response).
    disable_nagle_algorithm = True
    sandbox: "Sandbox"

    def log_message(self, *args):
        pass

    def _dispatch(self):
        self.sandbox._serve(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class Sandbox:
    """Subclass it, declare routes with `@route` / `@control`, implement the hooks you need:

    - `reset_state()` — (re)build the vendor's in-memory state (called by `__init__` and `reset()`,
      so set configuration attributes before calling `super().__init__`);
    - `authenticate(request)` — None to let the request through, or the vendor's error Response;
    - `throttle(request)` — the vendor's rate limit: None, or a 429 Response (may add
      `request.reply_headers`, e.g. call-limit headers, to every answer);
    - `throttled_response(request, retry_after)`, `server_error_response(request, status)`,
      `no_route_response(request, allowed_methods)`, `invalid_body_response(request, error)` —
      the vendor's shapes for forced 429s, 5xx, unknown routes and unparsable bodies;
    - `encode_json(payload)` — the vendor's JSON bytes (used by `self.json()` and dict results);
    - `state()` — extra fields for `GET /_sandbox/state`;
    - `normalize_path(path)` — e.g. ignore a trailing slash or a versioned prefix;
    - `is_write(request)` — whether a request changes something (fault switches with `writes`),
      e.g. a query sent by POST does not;
    - `before_webhook_send(delivery, headers)`, `on_webhook_disabled(subscription)` — webhook hooks.

    Set `delivery_policy` (class attribute or constructor argument) for the vendor's webhooks and
    `extra_faults` for the sandbox's own fault switches (see `Faults`).
    Handlers run under `self.lock` (an RLock) unless declared `locked=False`."""

    delivery_policy: DeliveryPolicy = DeliveryPolicy()
    extra_faults: Mapping[str, Callable] = {}
    name = "sandbox"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, seed: int | None = 0, clock: Clock | None = None,
                 delivery_policy: DeliveryPolicy | None = None):
        self._seed = seed
        self.rng = random.Random(seed)
        self.clock = clock or Clock()
        self.ids = Ids(seed=seed)
        self.lock = threading.RLock()
        self.faults = Faults(clock=self.clock.monotonic, extra=self.extra_faults, is_write=self.is_write)
        self.stats: Counter = Counter()
        self._stats_lock = threading.Lock()
        self._serving = 0
        self.journal: deque[RequestRecord] = deque(maxlen=5000)
        self.errors: deque[str] = deque(maxlen=100)
        self.webhooks = WebhookSender(policy=delivery_policy or self.delivery_policy, faults=self.faults,
                                      before_send=self.before_webhook_send, on_disable=self.on_webhook_disabled,
                                      seed=seed, clock=self.clock)
        self._routes: list[Route] = []
        self._collect_routes()
        handler = type(f"{type(self).__name__}Handler", (_Handler,), {"sandbox": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.host, self.port = host, self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self.reset_state()

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> "Sandbox":
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"{self.name}-http", daemon=True)
            self._thread.start()
            self.webhooks.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self.webhooks.stop()
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def serve_forever(self) -> None:
        """Run in the foreground until Ctrl-C (management commands, demo processes)."""
        self.start()
        try:
            while not self._stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to a fresh sandbox: vendor state, faults, counters, ids, deliveries."""
        with self.lock:
            self.faults.clear()
            self.stats.clear()
            self.journal.clear()
            self.errors.clear()
            self.ids.reset()
            self.rng.seed(self._seed)
            self.webhooks.reset()
            self.reset_state()

    def set_faults(self, **switches) -> dict:
        return self.faults.set(**switches)

    def count(self, key: str, n: int = 1) -> None:
        """Add to a counter shown in `stats` (and `GET /_sandbox/state`)."""
        with self._stats_lock:
            self.stats[key] += n

    @contextlib.contextmanager
    def _requests_in_flight(self):
        """`stats["peak in flight"]`: the most vendor requests this sandbox was serving at once."""
        with self._stats_lock:
            self._serving += 1
            self.stats["peak in flight"] = max(self.stats["peak in flight"], self._serving)
        try:
            yield
        finally:
            with self._stats_lock:
                self._serving -= 1

    # --- hooks (override) --------------------------------------------------------------------------
    def reset_state(self) -> None:
        pass

    def authenticate(self, request: Request) -> Response | None:
        return None

    def throttle(self, request: Request) -> Response | None:
        return None

    def throttled_response(self, request: Request, retry_after: float | None) -> Response:
        headers = {"Retry-After": retry_after_seconds(retry_after)} if retry_after is not None else {}
        return self.json({"error": "Too Many Requests"}, 429, headers)

    def server_error_response(self, request: Request, status: int) -> Response:
        return self.json({"error": "Internal Server Error" if status == 500 else "Service Unavailable"}, status)

    def no_route_response(self, request: Request, allowed: list[str]) -> Response:
        if allowed:
            return self.json({"error": "Method Not Allowed"}, 405, {"Allow": ", ".join(allowed)})
        return self.json({"error": "Not Found"}, 404)

    def invalid_body_response(self, request: Request, error: InvalidBody) -> Response:
        return self.json({"error": str(error)}, 400)

    def encode_json(self, payload) -> bytes:
        return default_json_encode(payload)

    def state(self) -> dict:
        return {}

    def normalize_path(self, path: str) -> str:
        return path

    def is_write(self, request: Request) -> bool:
        return request.method not in SAFE_METHODS

    def before_webhook_send(self, delivery: Delivery, headers: dict) -> dict:
        return headers

    def on_webhook_disabled(self, subscription: Hashable) -> None:
        pass

    # --- helpers for subclasses --------------------------------------------------------------------
    def json(self, payload, status: int = 200, headers=None) -> Response:
        return json_response(payload, status, headers, encode=self.encode_json)

    def add_route(self, method: str, pattern: str, handler: Callable, *, auth: bool = True, locked: bool = True,
                  control: bool = False, name: str | None = None) -> Route:
        if control:
            pattern = CONTROL_PREFIX + pattern.lstrip("/")
        regex, converters = compile_pattern(pattern)
        entry = Route(method.upper(), pattern, handler, name or f"{method.upper()} {pattern}", auth and not control, locked,
                      control, regex, converters)
        self._routes.append(entry)
        return entry

    def routes(self, *, control: bool | None = None) -> list[Route]:
        return [r for r in self._routes if control is None or r.control == control]

    def _collect_routes(self) -> None:
        found: dict[str, list] = {}  # base classes first; an override keeps its place, the subclass's marks win
        for cls in reversed(type(self).__mro__):
            for attribute, value in vars(cls).items():
                marks = getattr(value, "_sandbox_routes", None)
                if marks:
                    found[attribute] = marks
        for attribute, marks in found.items():
            handler = getattr(self, attribute)
            for mark in marks:
                self.add_route(mark["method"], mark["pattern"], handler, auth=mark["auth"], locked=mark["locked"],
                               control=mark["control"], name=mark["name"])

    # --- the pipeline ------------------------------------------------------------------------------
    def _match(self, request: Request, *, control: bool) -> tuple[Route | None, list[str]]:
        path = request.path if control else self.normalize_path(request.path)
        allowed = []
        for entry in self._routes:
            if entry.control != control:
                continue
            match = entry.regex.fullmatch(path)
            if match is None:
                continue
            if entry.method != request.method:
                allowed.append(entry.method)
                continue
            request.params = {name: convert(match.group(name)) for name, convert in entry.converters}
            request.route = entry
            return entry, allowed
        return None, sorted(set(allowed))

    def _call(self, entry: Route, request: Request):
        if entry.locked:
            with self.lock:
                return entry.handler(request, **request.params)
        return entry.handler(request, **request.params)

    def _as_response(self, result) -> Response:
        if isinstance(result, Response):
            return result
        if result is None:
            return empty_response()
        return self.json(result)

    def handle(self, request: Request) -> tuple[Response, str | None]:
        """The response for `request` and what to do after applying (None, or "drop")."""
        if request.path.startswith(CONTROL_PREFIX):
            return self._handle_control(request), None
        entry, allowed = self._match(request, control=False)
        if entry is None:
            return self.no_route_response(request, allowed), None
        self.count(entry.name)
        if (spec := self.faults.take("slow_before", request)) is not None:
            time.sleep(spec["ms"] / 1000)
        if (spec := self.faults.take("fail_5xx", request)) is not None:
            self.count("5xx sent")
            return self.server_error_response(request, spec.get("status") or self.rng.choice((500, 502, 503))), None
        if entry.auth:
            denied = self.authenticate(request)
            if denied is not None:
                return self._with_reply_headers(denied, request), None
        if (spec := self.faults.take("throttle", request)) is not None:
            self.count("429 sent")
            return self.throttled_response(request, spec.get("retry_after")), None
        limited = self.throttle(request)
        if limited is not None:
            self.count("429 sent")
            return self._with_reply_headers(limited, request), None
        try:
            response = self._as_response(self._call(entry, request))
        except Abort as abort:
            response = abort.response
        except InvalidBody as error:
            response = self.invalid_body_response(request, error)
        except Exception:
            self.errors.append(traceback.format_exc())
            log.exception("%s: %s crashed", self.name, request.describe())
            response = self.server_error_response(request, 500)
        response = self._with_reply_headers(response, request)
        if (spec := self.faults.take("slow_after", request)) is not None:
            time.sleep(spec["ms"] / 1000)
        if self.faults.take("drop_after", request) is not None:
            self.count("connections dropped")
            return response, "drop"
        if self.faults.take("malformed", request) is not None:
            self.count("malformed sent")
            response = _malformed(response)
        return response, None

    @staticmethod
    def _with_reply_headers(response: Response, request: Request) -> Response:
        if request.reply_headers:
            present = {name.lower() for name, _ in response.headers}
            response.headers.extend((n, v) for n, v in request.reply_headers if n.lower() not in present)
        return response

    def _handle_control(self, request: Request) -> Response:
        entry, allowed = self._match(request, control=True)
        if entry is None:
            status = 405 if allowed else 404
            return json_response({"error": f"no control action {request.method} {request.path}"}, status)
        try:
            result = self._call(entry, request)
        except Abort as abort:
            return abort.response
        except (ValueError, KeyError, TypeError) as error:
            message = f"missing field {error}" if isinstance(error, KeyError) else str(error)
            return json_response({"error": message}, 400)
        except Exception as error:
            self.errors.append(traceback.format_exc())
            log.exception("%s: control %s crashed", self.name, request.describe())
            return json_response({"error": f"{type(error).__name__}: {error}"}, 500)
        if isinstance(result, Response):
            return result
        return json_response(result) if result is not None else empty_response()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        try:
            body = _read_body(handler)
        except ValueError as error:
            _write(handler, json_response({"error": str(error)}, 400))
            handler.close_connection = True
            return
        request = Request(handler.command, handler.path, handler.headers, body, handler.client_address)
        if request.path.startswith(CONTROL_PREFIX):
            response, after = self.handle(request)
        else:
            with self._requests_in_flight():
                response, after = self.handle(request)
        if not request.path.startswith(CONTROL_PREFIX):
            self.journal.append(RequestRecord(request.method, request.path, request.query_string,
                                              request.route.pattern if request.route else None,
                                              None if after == "drop" else response.status,
                                              self.clock.now().isoformat(timespec="milliseconds")))
        if after == "drop":
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        _write(handler, response, head=request.method == "HEAD")

    # --- control API shared by every sandbox -------------------------------------------------------
    def describe(self) -> dict:
        return {"sandbox": self.name, "url": self.url, "faults": self.faults.describe(), "stats": dict(self.stats),
                "webhooks": self.webhooks.describe(), "errors": len(self.errors), **self.state()}

    @control("GET", "state")
    def _control_state(self, request):
        return self.describe()

    @control("POST", "faults")
    def _control_faults(self, request):
        body = request.json() or {}
        if not isinstance(body, dict):
            raise ValueError("send a JSON object of fault switches")
        return {"faults": self.set_faults(**body)}

    @control("DELETE", "faults")
    def _control_faults_clear(self, request):
        self.faults.clear()
        return {"faults": {}}

    @control("POST", "reset")
    def _control_reset(self, request):
        self.reset()
        return {"reset": True}

    @control("GET", "deliveries", locked=False)
    def _control_deliveries(self, request):
        topic, outcome = request.arg("topic"), request.arg("outcome")
        return {"deliveries": [r.as_dict() for r in self.webhooks.records(topic=topic, outcome=outcome)]}

    @control("GET", "requests", locked=False)
    def _control_requests(self, request):
        return {"requests": [r.as_dict() for r in list(self.journal)]}

    @control("POST", "webhooks/hold", locked=False)
    def _control_hold(self, request):
        self.webhooks.hold()
        return {"held": True}

    @control("POST", "webhooks/release", locked=False)
    def _control_release(self, request):
        body = request.json() or {}
        return {"released": self.webhooks.release(order=body.get("order", "fifo"))}


def _malformed(response: Response) -> Response:
    if response.status in (204, 304):
        return response
    body = response.body[: max(1, len(response.body) // 2)] if response.body else b"{"
    return Response(response.status, body, list(response.headers))


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            size_line = handler.rfile.readline(65537).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ValueError("malformed chunked body") from None
            if size == 0:
                while handler.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline(3)
    length = handler.headers.get("Content-Length")
    if not length:
        return b""
    try:
        return handler.rfile.read(int(length))
    except ValueError:
        raise ValueError("invalid Content-Length") from None


def _write(handler: BaseHTTPRequestHandler, response: Response, *, head: bool = False) -> None:
    try:
        handler.send_response(response.status)
        names = set()
        for name, value in response.headers:
            names.add(name.lower())
            handler.send_header(name, value)
        if "content-length" not in names:
            handler.send_header("Content-Length", str(len(response.body)))
        handler.end_headers()
        if not head and response.body:
            handler.wfile.write(response.body)
    except OSError:  # the client gave up (timeout while we were slow)
        handler.close_connection = True
