"""WooCommerce REST API v3 client: HTTP Basic with the consumer key and secret (HTTPS), paths under
`/wp-json/wc/v3/`, `page`/`per_page` pagination bounded by `X-WP-TotalPages`, batch endpoints
of at most 100 items. WooCommerce publishes no rate limit (hosts may): requests are spaced by
the endpoint's shared scheduler at its configured rate, and a 429's `Retry-After` is honoured."""

from django.utils.translation import gettext_noop
from requests.auth import HTTPBasicAuth

from connectors.errors import PermanentError, TransientError
from connectors.http import A_LIST, ApiClient, credentials_needed, expected, not_json
from connectors.throttle import throttle_wait
from hub.texts import Text

API_ROOT = "wp-json/wc/v3"
TRACKING_ROOT = "wp-json/wc-shipment-tracking/v3"
PER_PAGE = 100
BATCH_LIMIT = 100


class WooCommerceClient(ApiClient):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        credentials = self.endpoint.credentials
        key, secret = credentials.get("consumer_key", ""), credentials.get("consumer_secret", "")
        if not key or not secret:
            raise PermanentError(credentials_needed(["consumer_key", "consumer_secret"],
                                                    "hub_endpoint add woocommerce … --credential consumer_key=ck_… --credential consumer_secret=cs_…"))
        self.session.auth = HTTPBasicAuth(key, secret)

    def headers(self) -> dict:
        return {"Accept": "application/json", "Content-Type": "application/json"}

    def before_request(self) -> None:
        rate = float(self.endpoint.rate_limit_per_second or 5)
        throttle_wait(endpoint_id=self.endpoint.pk, rate_per_second=rate, burst=max(1, int(rate)), sleep=self.sleep)

    def api(self, method: str, resource: str, *, params=None, body=None, root: str = API_ROOT):
        return self.json(method, f"{root}/{resource}", params=params, json_body=body)

    def pages(self, resource: str, *, params: dict):
        """Every item of a list, page by page, stopping at `X-WP-TotalPages` (never past it)."""
        page = 1
        while True:
            response = self.request("GET", f"{API_ROOT}/{resource}", params={**params, "page": page, "per_page": PER_PAGE})
            try:
                items = response.json()
            except ValueError:
                raise TransientError(not_json("GET", resource), status=response.status_code,
                                     excerpt=response.text[:500]) from None
            if not isinstance(items, list):
                raise TransientError(expected("GET", resource, A_LIST), status=response.status_code, excerpt=response.text[:500])
            yield from items
            try:
                total_pages = int(response.headers.get("X-WP-TotalPages", "1"))
            except ValueError:
                total_pages = 1
            if page >= total_pages or not items:
                return
            page += 1

    def batch(self, resource: str, *, create=(), update=()) -> dict:
        """`POST …/batch` in chunks of at most 100 items; returns the merged answers."""
        merged = {"create": [], "update": []}
        create, update = list(create), list(update)
        while create or update:
            body = {}
            room = BATCH_LIMIT
            if create:
                body["create"], create = create[:room], create[room:]
                room -= len(body["create"])
            if update and room:
                body["update"], update = update[:room], update[room:]
            answer = self.api("POST", f"{resource}/batch", body=body)
            for key in merged:
                merged[key].extend(answer.get(key) or [])
        for item in merged["create"] + merged["update"]:
            error = item.get("error") if isinstance(item, dict) else None
            if error:
                raise PermanentError(Text(gettext_noop("WooCommerce refused an item of %(resource)s/batch: %(said)s"), resource=resource,
                                          said=str(error.get("message", error))),
                                     excerpt=str(error)[:1000])
        return merged
