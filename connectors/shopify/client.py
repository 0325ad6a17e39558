"""Shopify Admin API client (REST and GraphQL, version pinned in API_VERSION).

Throttling follows Shopify's published limits and the numbers it sends back, never a blind sleep:
- REST is a leaky bucket (standard plan: 40 requests, leaking 2 per second). Every worker
  reserves a slot on the endpoint's shared scheduler before sending; each answer's
  `X-Shopify-Shop-Api-Call-Limit: used/size` pushes the schedule forward if the shop's bucket
  is fuller than ours thought; a 429 waits out `Retry-After` and tries the same request again.
- GraphQL is cost-based: each answer's `extensions.cost.throttleStatus` tells the points
  available and the restore rate; before a call, the client waits until the bucket can hold
  the call's requested cost; a THROTTLED answer waits for the missing points and tries again."""

import re
import threading
import time
from dataclasses import dataclass

from connectors.errors import PermanentError, TransientError
from connectors.http import ApiClient, retry_after_seconds
from connectors.throttle import throttle_push_back, throttle_wait

API_VERSION = "2025-01"
REST_BUCKET = 40
LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


@dataclass
class CostBucket:
    maximum: float = 2000.0
    available: float = 2000.0
    restore_rate: float = 100.0
    at: float = 0.0

    def now_available(self, now: float) -> float:
        return min(self.maximum, self.available + (now - self.at) * self.restore_rate)

    def reserve(self, cost: float, now: float) -> float:
        """Take `cost` points (the balance may go below zero: later callers queue behind);
        returns the seconds to wait until the points exist."""
        self.available, self.at = self.now_available(now) - min(cost, self.maximum), now
        return max(0.0, -self.available / self.restore_rate)

    def learn(self, *, maximum: float, available: float, restore_rate: float, now: float) -> None:
        """The shop's own figures; ours may hold reservations still in flight, so keep the lower."""
        self.maximum, self.restore_rate = maximum, restore_rate or self.restore_rate
        self.available, self.at = min(self.now_available(now), available), now


_cost_buckets: dict[int, CostBucket] = {}
_cost_lock = threading.Lock()


class ShopifyClient(ApiClient):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._graphql = False
        self.rest_rate = float(self.endpoint.rate_limit_per_second or 2)

    def headers(self) -> dict:
        token = self.endpoint.credentials.get("access_token", "")
        if not token:
            raise PermanentError("the endpoint has no 'access_token' credential (hub_endpoint add … --credential access_token=…)")
        return {"X-Shopify-Access-Token": token, "Accept": "application/json", "Content-Type": "application/json"}

    def path(self, resource: str) -> str:
        return f"admin/api/{API_VERSION}/{resource}"

    # --- REST ------------------------------------------------------------------------------------
    def before_request(self) -> None:
        if not self._graphql:
            throttle_wait(endpoint_id=self.endpoint.pk, rate_per_second=self.rest_rate, burst=REST_BUCKET, sleep=self.sleep)

    def after_response(self, response) -> None:
        header = response.headers.get("X-Shopify-Shop-Api-Call-Limit", "")
        if "/" not in header:
            return
        try:
            used, size = (int(part) for part in header.split("/", 1))
        except ValueError:
            return
        if used >= size - 1:
            throttle_push_back(endpoint_id=self.endpoint.pk, not_before_seconds=(used - size + 1) / self.rest_rate,
                               rate_per_second=self.rest_rate, burst=REST_BUCKET)

    def on_rate_limited(self, response) -> float:
        wait = retry_after_seconds(response, 1.0 / self.rest_rate)
        if self._graphql:
            return wait
        throttle_push_back(endpoint_id=self.endpoint.pk, not_before_seconds=wait, rate_per_second=self.rest_rate, burst=REST_BUCKET)
        return 0.0  # the next reservation waits on the pushed-back schedule

    def rest(self, method: str, resource: str, *, params=None, body=None) -> dict:
        return self.json(method, self.path(resource), params=params, json_body=body)

    def paginate(self, resource: str, key: str, *, params: dict):
        """Yield every item of a list resource, following the `Link: rel="next"` page_info cursor."""
        response = self.request("GET", self.path(resource), params=params)
        while True:
            try:
                items = response.json()[key]
            except (ValueError, KeyError):
                raise TransientError(f"GET {resource}: unexpected answer", status=response.status_code, excerpt=response.text[:500]) from None
            yield from items
            match = LINK_NEXT.search(response.headers.get("Link", ""))
            if not match:
                return
            response = self.request("GET", resource, full_url=match.group(1))

    # --- GraphQL ---------------------------------------------------------------------------------
    def graphql(self, query: str, variables: dict | None = None, *, cost: float = 10, max_throttled: int = 20) -> dict:
        bucket = self._bucket()
        for _ in range(max_throttled + 1):
            with _cost_lock:
                wait = bucket.reserve(cost, time.time())
            if wait > 0:
                self.sleep(wait)
            self._graphql = True
            try:
                answer = self.json("POST", self.path("graphql.json"), json_body={"query": query, "variables": variables or {}})
            finally:
                self._graphql = False
            self._learn(bucket, answer)
            errors = answer.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)):
                continue
            if errors:
                raise PermanentError(f"GraphQL refused the request: {errors[0].get('message', errors[0]) if isinstance(errors[0], dict) else errors[0]}",
                                     excerpt=str(errors)[:1000])
            return answer.get("data") or {}
        raise TransientError("GraphQL still throttled after waiting for the cost bucket", retry_after=bucket.maximum / bucket.restore_rate)

    def _bucket(self) -> CostBucket:
        with _cost_lock:
            return _cost_buckets.setdefault(self.endpoint.pk, CostBucket(at=time.time()))

    def _learn(self, bucket: CostBucket, answer: dict) -> None:
        status = ((answer.get("extensions") or {}).get("cost") or {}).get("throttleStatus") or {}
        if not status:
            return
        with _cost_lock:
            bucket.learn(maximum=float(status.get("maximumAvailable", bucket.maximum)),
                         available=float(status.get("currentlyAvailable", bucket.available)),
                         restore_rate=float(status.get("restoreRate", bucket.restore_rate)), now=time.time())
