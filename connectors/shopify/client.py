"""Shopify Admin API client (REST and GraphQL, version pinned in API_VERSION).

Throttling follows Shopify's published limits and the numbers it sends back, never a blind sleep:
- REST is a leaky bucket (standard plan: 40 requests, leaking 2 per second). Every worker
  reserves a slot on the endpoint's shared scheduler before sending; each answer's
  `X-Shopify-Shop-Api-Call-Limit: used/size` pushes the schedule forward if the shop's bucket
  is fuller than ours thought; a 429 waits out `Retry-After` and tries the same request again.
- GraphQL is cost-based: before a call, the client reserves the call's requested cost in the
  endpoint's shared `graphql` bucket (points restore at the shop's rate), so every worker of
  every cluster draws on one bucket; each answer's `extensions.cost.throttleStatus` (points
  available, maximum, restore rate) tops ours up to the shop's level; a THROTTLED answer waits
  for the missing points and tries again."""

import re

from django.utils.translation import gettext_noop

from connectors.errors import PermanentError, TransientError
from connectors.http import ApiClient, retry_after_seconds
from connectors.models import ThrottleBucket
from connectors.throttle import throttle_fill, throttle_push_back, throttle_wait
from hub.texts import Text

API_VERSION = "2025-01"
REST_BUCKET = 40
LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


GRAPHQL_BUCKET = "graphql"
STANDARD_GRAPHQL_PLAN = (2000.0, 100.0)  # points, points restored per second, until the shop announces its own


class ShopifyClient(ApiClient):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._graphql = False
        self.rest_rate = float(self.endpoint.rate_limit_per_second or 2)

    def headers(self) -> dict:
        token = self.endpoint.credentials.get("access_token", "")
        if not token:
            raise PermanentError(Text(gettext_noop("the endpoint has no %(name)s credential (%(command)s)"), name="'access_token'",
                                      command="hub_endpoint add … --credential access_token=…"))
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
        if used >= size - 1:  # the shop's bucket is nearly full: ours keeps as little room as the shop's
            throttle_fill(endpoint_id=self.endpoint.pk, used=used + REST_BUCKET - size, rate_per_second=self.rest_rate)

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
                raise TransientError(Text(gettext_noop("%(method)s %(path)s: unexpected answer"), method="GET", path=resource),
                                     status=response.status_code, excerpt=response.text[:500]) from None
            yield from items
            match = LINK_NEXT.search(response.headers.get("Link", ""))
            if not match:
                return
            response = self.request("GET", resource, full_url=match.group(1))

    # --- GraphQL ---------------------------------------------------------------------------------
    def graphql(self, query: str, variables: dict | None = None, *, cost: float = 10, max_throttled: int = 20) -> dict:
        """`cost` is the query's requested cost by Shopify's rule: 10 per mutation, 1 per object selected."""
        for _ in range(max_throttled + 1):
            maximum, restore_rate = self._graphql_plan()
            # One point of headroom: the shop's clock and ours see the restore a few ms apart.
            throttle_wait(endpoint_id=self.endpoint.pk, bucket=GRAPHQL_BUCKET, cost=cost, rate_per_second=restore_rate,
                          burst=maximum - 1, sleep=self.sleep)
            self._graphql = True
            try:
                answer = self.json("POST", self.path("graphql.json"), json_body={"query": query, "variables": variables or {}})
            finally:
                self._graphql = False
            self._learn(answer, (maximum, restore_rate))
            errors = answer.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)):
                continue
            if errors:
                raise PermanentError(Text(gettext_noop("GraphQL refused the request: %(said)s"),
                                          said=str(errors[0].get("message", errors[0]) if isinstance(errors[0], dict) else errors[0])),
                                     excerpt=str(errors)[:1000])
            return answer.get("data") or {}
        maximum, restore_rate = self._graphql_plan()
        raise TransientError(Text(gettext_noop("GraphQL still throttled after waiting for the cost bucket")), retry_after=maximum / restore_rate)

    def _graphql_plan(self) -> tuple[float, float]:
        row = ThrottleBucket.objects.filter(endpoint_id=self.endpoint.pk, name=GRAPHQL_BUCKET).values_list("size", "rate_per_second").first()
        return (row[0], row[1]) if row and row[0] and row[1] else STANDARD_GRAPHQL_PLAN

    def _learn(self, answer: dict, plan: tuple[float, float]) -> None:
        """The shop's own figures: its plan (kept for every process) and how full its bucket is."""
        status = ((answer.get("extensions") or {}).get("cost") or {}).get("throttleStatus") or {}
        try:
            maximum, available = float(status["maximumAvailable"]), float(status["currentlyAvailable"])
            restore_rate = float(status.get("restoreRate") or plan[1])
        except (KeyError, TypeError, ValueError):
            return
        if maximum <= 0 or restore_rate <= 0:
            return
        if (maximum, restore_rate) != plan:
            ThrottleBucket.objects.filter(endpoint_id=self.endpoint.pk, name=GRAPHQL_BUCKET).update(size=maximum, rate_per_second=restore_rate)
        throttle_fill(endpoint_id=self.endpoint.pk, bucket=GRAPHQL_BUCKET, used=maximum - available, rate_per_second=restore_rate)
