"""BigCommerce REST client: `X-Auth-Token`, the store hash in every path
(`stores/{store_hash}/v2|v3/…` under https://api.bigcommerce.com), v2 lists that answer 204 with an
empty body past their last page, v3 lists with `meta.pagination`.

Rate limits are a quota of requests per 30-second window, shared by every app of the store and
announced on each answer (`X-Rate-Limit-Requests-Left`, `X-Rate-Limit-Time-Reset-Ms`); a 429
carries the same headers and no Retry-After. Every worker reserves a slot on the endpoint's
shared scheduler (the endpoint's rate, a burst of one window's worth), and the announced figures
hold every slot back until the window refills once no more than the in-flight requests are left.
A 429 without those headers means the platform itself is overloaded: tried again later."""

from django.utils.translation import gettext_noop

from connectors.errors import PermanentError, TransientError
from connectors.http import A_LIST, ApiClient, credentials_needed, expected, not_json
from connectors.throttle import throttle_quota_left, throttle_wait
from hub.texts import Text

PAGE_SIZE = 50
WINDOW_SECONDS = 30


def error_text(body) -> str:
    """v2 errors are a list of `{status, message}`; v3 errors are problem documents `{status, title, errors}`."""
    if isinstance(body, list):
        return "; ".join(str(item.get("message") or item) if isinstance(item, dict) else str(item) for item in body)
    if isinstance(body, dict):
        title = str(body.get("title") or body.get("message") or "")
        errors = body.get("errors") or {}
        details = "; ".join(f"{name}: {message}" for name, message in errors.items()) if isinstance(errors, dict) else str(errors)
        return f"{title} ({details})" if details else title
    return str(body)


class BigCommerceClient(ApiClient):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.token = self.endpoint.credentials.get("access_token", "")
        if not self.token:
            raise PermanentError(credentials_needed(["access_token"], "hub_endpoint add bigcommerce … --credential access_token=…"))
        self.store_hash = self.endpoint.config.get("store_hash") or ""
        self.rate = float(self.endpoint.rate_limit_per_second or 5)
        self.burst = max(1, int(self.rate * WINDOW_SECONDS))

    def headers(self) -> dict:
        return {"X-Auth-Token": self.token, "Accept": "application/json", "Content-Type": "application/json"}

    def before_request(self) -> None:
        throttle_wait(endpoint_id=self.endpoint.pk, rate_per_second=self.rate, burst=self.burst, sleep=self.sleep)

    @staticmethod
    def _quota(response) -> tuple[int, float] | None:
        left, reset = response.headers.get("X-Rate-Limit-Requests-Left"), response.headers.get("X-Rate-Limit-Time-Reset-Ms")
        try:
            return int(left), max(0.0, float(reset) / 1000)
        except (TypeError, ValueError):
            return None

    def after_response(self, response) -> None:
        quota = self._quota(response)
        if quota is not None:
            throttle_quota_left(endpoint_id=self.endpoint.pk, left=quota[0], reset_seconds=quota[1], rate_per_second=self.rate,
                                burst=self.burst, keep=max(1, int(self.endpoint.concurrency_limit or 1)))

    def on_rate_limited(self, response) -> float:
        quota = self._quota(response)
        if quota is None:
            raise TransientError(Text(gettext_noop("BigCommerce answered 429 without its rate-limit headers (the platform is overloaded): "
                                                   "tried again later")),
                                 status=429, retry_after=WINDOW_SECONDS)
        throttle_quota_left(endpoint_id=self.endpoint.pk, left=0, reset_seconds=quota[1], rate_per_second=self.rate, burst=self.burst)
        return 0.0  # the next reservation waits for the refill

    def error_detail(self, response) -> str:
        try:
            return error_text(response.json())[:1000]
        except ValueError:
            return super().error_detail(response)

    def path(self, version: str, resource: str) -> str:
        return f"stores/{self.store_hash}/{version}/{resource}"

    def v2(self, method: str, resource: str, *, params=None, body=None):
        return self.json(method, self.path("v2", resource), params=params, json_body=body)

    def v3(self, method: str, resource: str, *, params=None, body=None):
        return self.json(method, self.path("v3", resource), params=params, json_body=body)

    def v2_list(self, resource: str, *, params=None) -> list:
        """One v2 list; an empty one is 204 with no body at all (not `[]`)."""
        response = self.request("GET", self.path("v2", resource), params=params)
        if response.status_code == 204 or not response.content.strip():
            return []
        try:
            items = response.json()
        except ValueError:
            raise TransientError(not_json("GET", resource), status=response.status_code, excerpt=response.text[:500]) from None
        if not isinstance(items, list):
            raise TransientError(expected("GET", resource, A_LIST), status=response.status_code, excerpt=response.text[:500])
        return items

    def v2_pages(self, resource: str, *, params: dict):
        """Every item of a v2 list, page by page, until the page past the last one (204) or a short page."""
        page = 1
        while True:
            items = self.v2_list(resource, params={**params, "page": page, "limit": PAGE_SIZE})
            yield from items
            if len(items) < PAGE_SIZE:
                return
            page += 1

    def v3_pages(self, resource: str, *, params: dict | None = None, limit: int = 250):
        page = 1
        while True:
            answer = self.v3("GET", resource, params={**(params or {}), "page": page, "limit": limit})
            yield from answer.get("data") or []
            pagination = (answer.get("meta") or {}).get("pagination") or {}
            if page >= int(pagination.get("total_pages") or 1) or not answer.get("data"):
                return
            page += 1
