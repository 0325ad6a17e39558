"""Magento 2 / Adobe Commerce REST client: paths `rest/<store_code>/V1/…` under the shop's base URL,
a bearer token, `searchCriteria` paging, and Magento's error bodies rendered for the console.

- Auth: an integration access token used as a bearer token (`access_token`; the store must allow
  it since 2.4.4), or an admin user (`admin_username`, `admin_password`) whose token
  (`POST V1/integration/admin/token`, 4 hours by default) is kept with the endpoint's
  credentials and fetched again before it expires — one process at a time — or when the shop
  refuses it (revoked, removed by the cron).
- Paging stops on `total_count`: Magento answers a page past the end with the last page again,
  so asking "one more page" never ends or doubles the last items. Items are also
  deduplicated by id within one listing.
- Magento publishes no general rate limit: requests are spaced by the endpoint's shared scheduler
  at its configured rate."""

import re
import time
from urllib.parse import quote

from django.utils.translation import gettext_noop

from connectors.errors import PermanentError, TransientError, message_of
from connectors.http import ApiClient, expected
from connectors.services import endpoint_credentials_refresh
from connectors.throttle import throttle_wait
from hub.texts import Text

PAGE_SIZE = 100
TOKEN_REFRESH_MARGIN_SECONDS = 600


def render_message(message: str, parameters) -> str:
    """Magento's message templates: `%1`, `%2`… take the parameters in order; `%name` takes the
    parameter of that name (or, when the parameters come as a list, the next one in order)."""
    text = str(message or "")
    if isinstance(parameters, dict):
        for name, value in sorted(parameters.items(), key=lambda kv: -len(str(kv[0]))):
            text = text.replace(f"%{name}", str(value))
        return text
    values = [str(value) for value in (parameters or [])]
    text = re.sub(r"%(\d+)", lambda m: values[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(values) else m.group(0), text)
    names = iter(values)
    return re.sub(r"%([A-Za-z_]\w*)", lambda m: next(names, m.group(0)), text) if "%" in text and values else text


def error_text(body) -> str:
    """A Magento error body (or a list of failed rows) as one readable line."""
    if isinstance(body, list):
        return "; ".join(error_text(item) for item in body)
    if not isinstance(body, dict):
        return str(body)
    text = render_message(body.get("message", ""), body.get("parameters"))
    details = [render_message(e.get("message", ""), e.get("parameters")) for e in body.get("errors") or [] if isinstance(e, dict)]
    return ": ".join([text, "; ".join(details)]) if details else text


def path_part(value) -> str:
    """A SKU in a URL path (SKUs may hold `/`, spaces or `#`)."""
    return quote(str(value), safe="")


class MagentoClient(ApiClient):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        credentials = self.endpoint.credentials
        self._integration_token = credentials.get("access_token", "")
        self._admin = (credentials.get("admin_username", ""), credentials.get("admin_password", ""))
        if not self._integration_token and not all(self._admin):
            raise PermanentError(Text(gettext_noop("the endpoint needs either the 'access_token' credential (an integration token) or "
                                                   "'admin_username' and 'admin_password' (%(command)s)"),
                                      command="hub_endpoint add magento … --credential admin_username=… --credential admin_password=…"))
        self._token = self._integration_token or (credentials.get("admin_token", "") if self._token_fresh(credentials) else "")
        self._authenticating = False
        config = self.endpoint.config
        self.store = config.get("store_code") or "default"
        self.token_lifetime = float(config.get("admin_token_lifetime_minutes") or 240) * 60

    # --- auth ------------------------------------------------------------------------------------
    @staticmethod
    def _token_fresh(credentials: dict) -> bool:
        return bool(credentials.get("admin_token")) and float(credentials.get("admin_token_expires_at") or 0) - time.time() > TOKEN_REFRESH_MARGIN_SECONDS

    def _admin_token(self, *, refused: str = "") -> str:
        """A valid admin token: the stored one while it has time left, else a new one stored with
        the endpoint (under its row lock, so concurrent workers ask the shop once)."""

        def refresh(current):
            if self._token_fresh(current) and current.get("admin_token") != refused:
                return None  # another worker got one while we waited
            username, password = self._admin
            self._authenticating = True
            try:
                token = self.json("POST", f"rest/{self.store}/V1/integration/admin/token", json_body={"username": username, "password": password})
            except PermanentError as exc:
                if exc.status == 401:
                    raise PermanentError(Text(gettext_noop("Magento refused the admin user %(user)s: %(error)s"), user=repr(username),
                                              error=message_of(exc)), status=401, excerpt=exc.excerpt) from None
                raise
            finally:
                self._authenticating = False
            if not isinstance(token, str) or not token:
                raise TransientError(Text(gettext_noop("Magento answered the admin token request without a token")))
            return {"admin_token": token, "admin_token_expires_at": time.time() + self.token_lifetime}

        credentials = endpoint_credentials_refresh(endpoint_id=self.endpoint.pk, refresh=refresh)
        return credentials["admin_token"]

    def headers(self) -> dict:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if not self._authenticating:
            if not self._token:
                self._token = self._admin_token()
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def before_request(self) -> None:
        rate = float(self.endpoint.rate_limit_per_second or 5)
        throttle_wait(endpoint_id=self.endpoint.pk, rate_per_second=rate, burst=max(1, int(rate)), sleep=self.sleep)

    def request(self, method, path, **kwargs):
        try:
            return super().request(method, path, **kwargs)
        except PermanentError as exc:
            if exc.status != 401 or self._authenticating:
                raise
            if self._integration_token:
                raise PermanentError(Text(gettext_noop("%(error)s (is the integration active, and does the store accept integration tokens as "
                                                       "bearer tokens?)"), error=message_of(exc)), status=401, excerpt=exc.excerpt) from None
        self._token = self._admin_token(refused=self._token)  # revoked or removed early: one new token, one more try
        return super().request(method, path, **kwargs)

    def error_detail(self, response) -> str:
        try:
            return error_text(response.json())[:1000]
        except ValueError:
            return super().error_detail(response)

    # --- calls -----------------------------------------------------------------------------------
    def api(self, method: str, resource: str, *, params=None, body=None, store: str | None = None):
        return self.json(method, f"rest/{store or self.store}/V1/{resource}", params=params, json_body=body)

    def search(self, resource: str, *, filters=(), sort=(("entity_id", "ASC"),), page_size: int | None = None, key=None):
        """Every item of a `searchCriteria` listing: `filters` are (field, value, condition) ANDed;
        pages until `total_count` is reached, never past it; an item seen once is not yielded again."""
        size = page_size or PAGE_SIZE
        key = key or (lambda item: item.get("entity_id") if item.get("entity_id") is not None else repr(sorted(item.items())))
        params = {}
        for group, (field, value, condition) in enumerate(filters):
            prefix = f"searchCriteria[filter_groups][{group}][filters][0]"
            params.update({f"{prefix}[field]": field, f"{prefix}[value]": value, f"{prefix}[condition_type]": condition})
        for index, (field, direction) in enumerate(sort):
            params.update({f"searchCriteria[sortOrders][{index}][field]": field, f"searchCriteria[sortOrders][{index}][direction]": direction})
        seen = set()
        page = 1
        while True:
            answer = self.api("GET", resource, params={**params, "searchCriteria[pageSize]": size, "searchCriteria[currentPage]": page})
            if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
                raise TransientError(expected("GET", resource, Text(gettext_noop("a search result with items"))), excerpt=str(answer)[:500])
            fresh = 0
            for item in answer["items"]:
                identity = key(item)
                if identity in seen:
                    continue
                seen.add(identity)
                fresh += 1
                yield item
            try:
                total = int(answer.get("total_count") or 0)
            except (TypeError, ValueError):
                total = 0
            if page * size >= total or not fresh:
                return
            page += 1
