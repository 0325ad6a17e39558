"""ShipBob REST API client (dated versions, `/{version}/…`): a personal access token as bearer,
the channel id header (`shipbob_channel_id`) on every call (writes need it), and ShipBob's limit
of 150 requests per minute in a sliding window, shared by every worker through the kernel's
scheduler and steered by `x-remaining-calls` and `x-retry-after`. Lists page through the
`next-page` header (orders, returns) or the `next` link in the body (products, inventory)."""

from urllib.parse import urlsplit

from django.utils.translation import gettext_noop

from connectors.errors import PermanentError, TransientError
from connectors.http import A_LIST, ApiClient, expected, not_json
from connectors.throttle import throttle_push_back, throttle_wait
from hub.texts import Text

API_VERSION = "2026-01"
REQUESTS_PER_MINUTE = 150
# Paced a little under the limit, with a burst of 2: no 60-second window ever holds more than
# 2 + 147 = 149 requests, however the arrivals jitter.
RATE_PER_SECOND = 147 / 60
BURST = 2
MAX_PAGE = 250


class ShipBobClient(ApiClient):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.token = self.endpoint.credentials.get("token", "")
        if not self.token:
            raise PermanentError(Text(gettext_noop("the endpoint needs the 'token' credential (a ShipBob personal access token: %(command)s)"),
                                      command="hub_endpoint add shipbob … --credential token=…"))
        config = self.endpoint.config
        self.channel_id = config.get("channel_id")
        self.version = config.get("api_version") or API_VERSION

    def headers(self) -> dict:
        headers = {"Accept": "application/json", "Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        if self.channel_id:
            headers["shipbob_channel_id"] = str(self.channel_id)
        return headers

    def before_request(self) -> None:
        throttle_wait(endpoint_id=self.endpoint.pk, rate_per_second=RATE_PER_SECOND, burst=BURST, sleep=self.sleep)

    def after_response(self, response) -> None:
        if response.status_code != 429 and response.headers.get("x-remaining-calls", "").strip() == "0":
            # Someone else spent the window (another app of the same user): wait before the next call.
            throttle_push_back(endpoint_id=self.endpoint.pk, not_before_seconds=1.0, rate_per_second=RATE_PER_SECOND, burst=BURST)

    def on_rate_limited(self, response) -> float:
        try:
            wait = max(0.5, float(response.headers.get("x-retry-after", "")))
        except ValueError:
            wait = 25.0
        throttle_push_back(endpoint_id=self.endpoint.pk, not_before_seconds=wait, rate_per_second=RATE_PER_SECOND, burst=BURST)
        return 0.0  # the shared scheduler now holds every worker until the window has room

    def path(self, resource: str) -> str:
        return f"{self.version}/{resource.lstrip('/')}"

    def api(self, method: str, resource: str, *, params=None, body=None):
        response = self.request(method, self.path(resource), params=params, json_body=body)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise TransientError(not_json(method, resource), status=response.status_code,
                                 excerpt=response.text[:500]) from None

    def _follow(self, link: str) -> str:
        """A next-page link as a path on the endpoint's own host (a link elsewhere is never followed)."""
        parts = urlsplit(link)
        if parts.netloc and parts.netloc != urlsplit(self.endpoint.base_url).netloc:
            raise PermanentError(Text(gettext_noop("ShipBob sent a next-page link to another host (%(host)s); not followed"), host=parts.netloc))
        return parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")

    def pages(self, resource: str, *, params: dict):
        """Every item of a list paged with `Page`/`Limit`, following the `next-page` header."""
        path, query = self.path(resource), {**params, "Limit": MAX_PAGE}
        while True:
            response = self.request("GET", path, params=query)
            items = response.json() if response.content else []
            if not isinstance(items, list):
                raise TransientError(expected("GET", resource, A_LIST), status=response.status_code, excerpt=response.text[:500])
            yield from items
            link = response.headers.get("next-page")
            if not link or not items:
                return
            path, query = self._follow(link), None

    def cursor_pages(self, resource: str, *, params: dict):
        """Every item of a list paged by cursor, following the `next` link of each page."""
        path, query = self.path(resource), {**params, "PageSize": MAX_PAGE}
        while True:
            page = self.json("GET", path, params=query)
            items = page.get("items") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise TransientError(expected("GET", resource, Text(gettext_noop("a page of items"))), excerpt=str(page)[:500])
            yield from items
            if not page.get("next") or not items:
                return
            path, query = self._follow(page["next"]), None
