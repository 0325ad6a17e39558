"""ShipStation API v1 client: HTTP Basic with the API key and secret, `page`/`pageSize` pages
({…, total, page, pages}), and ShipStation's 40 requests per minute per key, announced in
`X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset` (seconds to the next
window): every worker shares one scheduler, and an empty window holds them all until it resets.

Requests go to the endpoint's own host only: a URL from a webhook is fetched only if it is on it."""

from urllib.parse import parse_qsl, urlencode, urlsplit

from django.utils.translation import gettext_noop
from requests.auth import HTTPBasicAuth

from connectors.errors import PermanentError, TransientError
from connectors.http import ApiClient, a_list_of, credentials_needed, expected, not_json
from connectors.shipstation.webhooks import on_api_host
from connectors.throttle import throttle_push_back, throttle_wait
from hub.texts import Text

REQUESTS_PER_MINUTE = 40
RATE_PER_SECOND = REQUESTS_PER_MINUTE / 60
BURST = REQUESTS_PER_MINUTE
PAGE_SIZE = 500


class RefusedUrl(PermanentError):
    """A URL that is not on the endpoint's API host: never requested."""


class ShipStationClient(ApiClient):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        credentials = self.endpoint.credentials
        key, secret = credentials.get("api_key", ""), credentials.get("api_secret", "")
        if not key or not secret:
            raise PermanentError(credentials_needed(["api_key", "api_secret"],
                                                    "hub_endpoint add shipstation … --credential api_key=… --credential api_secret=…"))
        self.session.auth = HTTPBasicAuth(key, secret)

    def headers(self) -> dict:
        return {"Accept": "application/json", "Content-Type": "application/json"}

    def before_request(self) -> None:
        throttle_wait(endpoint_id=self.endpoint.pk, rate_per_second=RATE_PER_SECOND, burst=BURST, sleep=self.sleep)

    def _reset_seconds(self, response) -> float:
        try:
            return max(0.0, float(response.headers.get("X-Rate-Limit-Reset", "")))
        except ValueError:
            return 60.0

    def after_response(self, response) -> None:
        if response.headers.get("X-Rate-Limit-Remaining", "").strip() == "0" or response.status_code == 429:
            throttle_push_back(endpoint_id=self.endpoint.pk, not_before_seconds=self._reset_seconds(response),
                               rate_per_second=RATE_PER_SECOND, burst=BURST)

    def on_rate_limited(self, response) -> float:
        return 0.0  # after_response already holds the shared scheduler until the window resets

    def api(self, method: str, resource: str, *, params=None, body=None):
        response = self.request(method, resource.lstrip("/"), params=params, json_body=body)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise TransientError(not_json(method, resource), status=response.status_code,
                                 excerpt=response.text[:500]) from None

    def pages(self, resource: str, *, key: str, params: dict):
        """Every item of a paged list (`{key: [...], "page", "pages"}`)."""
        page = 1
        while True:
            answer = self.api("GET", resource, params={**params, "page": page, "pageSize": PAGE_SIZE}) or {}
            items = answer.get(key)
            if not isinstance(items, list):
                raise TransientError(expected("GET", resource, a_list_of(key)), excerpt=str(answer)[:500])
            yield from items
            if page >= int(answer.get("pages") or 1) or not items:
                return
            page += 1

    def resource_pages(self, resource_url: str, *, key: str, overrides: dict):
        """Every item behind a webhook's resource URL, which must be on the endpoint's API host."""
        if not on_api_host(resource_url, self.endpoint.base_url):
            raise RefusedUrl(Text(gettext_noop("refused to fetch %(url)s: not on the endpoint's API host (%(host)s); nothing was requested"),
                                  url=repr(resource_url[:200]), host=urlsplit(self.endpoint.base_url).netloc))
        parts = urlsplit(resource_url)
        params = {name: value for name, value in parse_qsl(parts.query, keep_blank_values=True)}
        params.update(overrides)
        base = f"{parts.scheme}://{parts.netloc}{parts.path}"
        page = 1
        while True:
            url = f"{base}?{urlencode({**params, 'page': page, 'pageSize': PAGE_SIZE})}"
            response = self.request("GET", parts.path, full_url=url)
            answer = response.json() if response.content else {}
            items = answer.get(key)
            if not isinstance(items, list):
                raise TransientError(expected("GET", parts.path, a_list_of(key)), excerpt=response.text[:500])
            yield from items
            if page >= int(answer.get("pages") or 1) or not items:
                return
            page += 1
