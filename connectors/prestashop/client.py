"""PrestaShop Webservice client (1.7 / 8.x): resources under `<shop>/api/`, the webservice key as the
HTTP Basic user name with an empty password, XML in and out (JSON out only, with
`output_format=JSON`, where a flat resource is read in bulk).

Lists take `display=full`, `filter[field]=[…]` (`[a|b]` any of, `[a,b]` an interval; date
fields only with `date=1`), `sort=[field_ASC]` and `limit=[offset,]count`. Long lists are read
by id ranges (`filter[id]=[next,∞]`, `sort=[id_ASC]`, `limit=count`) rather than by offsets: an
order that changes while a poll pages through would move and shift every offset after it.

The shop answers errors as `<errors><error><code>…</code><message>…</message>`: a validation
error (codes 84/85, 400), a missing or read-only field, an unknown id… are permanent and their
message is what the operator sees; a body the shop could not parse (code 127) too, although
the shop sends it as a 500. Other 5xx and unparsable answers are transient. A self-hosted shop
publishes no rate limit: requests are spaced by the endpoint's shared scheduler."""

import json

from django.utils.translation import gettext_noop
from requests.auth import HTTPBasicAuth

from connectors.errors import PermanentError, TransientError, message_of
from connectors.http import EXCERPT_CHARS, ApiClient, a_list_of, credentials_needed, expected, not_json
from connectors.prestashop import documents
from connectors.throttle import throttle_wait
from hub.texts import Text

PAGE_SIZE = 100
IDS_PER_REQUEST = 100
LAST_ID = 2**31 - 1
REQUEST_ERRORS = {"127"}  # the shop could not parse the XML it was sent (answered as a 500)


def any_of(values) -> str:
    """A filter value matching any of `values`: `[1|5|9]`."""
    return "[" + "|".join(str(value) for value in values) + "]"


def between(low, high) -> str:
    return f"[{low},{high}]"


class PrestaShopClient(ApiClient):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        key = self.endpoint.credentials.get("webservice_key", "")
        if not key:
            raise PermanentError(credentials_needed(["webservice_key"], "hub_endpoint add prestashop … --credential webservice_key=…"))
        self.session.auth = HTTPBasicAuth(key, "")

    def url(self, path: str) -> str:
        return f"{self.endpoint.base_url.rstrip('/')}/api/{path.lstrip('/')}"

    def headers(self) -> dict:
        return {"Accept": "application/xml", "Content-Type": "application/xml; charset=UTF-8"}

    def before_request(self) -> None:
        rate = float(self.endpoint.rate_limit_per_second or 5)
        throttle_wait(endpoint_id=self.endpoint.pk, rate_per_second=rate, burst=max(1, int(rate)), sleep=self.sleep)

    def _raise_for_status(self, method, path, response) -> None:
        status = response.status_code
        if status < 400:
            return
        excerpt = response.text[:EXCERPT_CHARS]
        errors = documents.read_errors(response.content) or self._json_errors(response)
        said = "; ".join(f"[{code}] {message}" if code else message for code, message in errors)
        shown = f"api/{path.lstrip('/')}"
        if (status >= 500 and not any(code in REQUEST_ERRORS for code, _ in errors)) or status in (408, 425):
            if said:
                message = Text(gettext_noop("%(method)s %(path)s: server error %(status)s: %(said)s"), method=method, path=shown, status=status,
                               said=said)
            else:
                message = Text(gettext_noop("%(method)s %(path)s: server error %(status)s"), method=method, path=shown, status=status)
            raise TransientError(message, status=status, excerpt=excerpt)
        raise PermanentError(Text(gettext_noop("PrestaShop refused %(method)s %(path)s (%(status)s): %(said)s"), method=method, path=shown,
                                  status=status, said=said or excerpt[:300] or Text(gettext_noop("no details"))),
                             status=status, excerpt=excerpt)

    @staticmethod
    def _json_errors(response) -> list[tuple[str, str]]:
        try:
            body = response.json()
        except ValueError:
            return []
        errors = body.get("errors") if isinstance(body, dict) else None
        return [(str(e.get("code", "")), str(e.get("message", ""))) for e in errors or [] if isinstance(e, dict)]

    # --- XML ------------------------------------------------------------------------------------
    def _document(self, method, path, reader, *args, **kwargs):
        response = self.request(method, path, **kwargs)
        try:
            return reader(response.content, *args)
        except documents.DocumentError as error:
            raise TransientError(Text(gettext_noop("%(method)s %(path)s: %(error)s"), method=method, path=path, error=message_of(error)),
                                 status=response.status_code, excerpt=response.text[:EXCERPT_CHARS]) from None

    def get(self, resource: str, resource_id, node: str, *, params=None) -> dict:
        return self._document("GET", f"{resource}/{resource_id}", documents.read_one, node, params=params)

    def select(self, resource: str, *, params: dict, display: str = "full") -> list[dict]:
        """One request: the items `params` select (filters, sort, limit)."""
        return self._document("GET", resource, documents.read_list, resource, params={"display": display, **params})

    def all(self, resource: str, *, filters: dict | None = None, display: str = "full", dates: bool = False):
        """Every item matching `filters`, in id order, page by page by id range."""
        after = 0
        while True:
            params = {**{f"filter[{name}]": value for name, value in (filters or {}).items()},
                      "filter[id]": between(after + 1, LAST_ID), "sort": "[id_ASC]", "limit": str(PAGE_SIZE)}
            if dates:
                params["date"] = "1"
            items = self.select(resource, params=params, display=display)
            yield from items
            if len(items) < PAGE_SIZE:
                return
            after = max(int(item["id"]) for item in items)

    def by_ids(self, resource: str, ids, *, field: str = "id") -> list[dict]:
        """The items whose `field` is one of `ids` (chunked to keep URLs short)."""
        wanted = sorted({str(i) for i in ids if str(i) not in ("", "0")}, key=lambda i: (len(i), i))
        found = []
        for start in range(0, len(wanted), IDS_PER_REQUEST):
            found.extend(self.select(resource, params={f"filter[{field}]": any_of(wanted[start:start + IDS_PER_REQUEST])}))
        return found

    def create(self, resource: str, node: str, fields: dict, *, params=None) -> dict:
        return self._document("POST", resource, documents.read_one, node, params=params, data=documents.document(node, fields))

    def patch(self, resource: str, resource_id, node: str, fields: dict, *, params=None) -> dict:
        body = documents.document(node, {"id": resource_id, **fields})
        return self._document("PATCH", f"{resource}/{resource_id}", documents.read_one, node, params=params, data=body)

    def delete(self, resource: str, resource_id) -> None:
        self.request("DELETE", f"{resource}/{resource_id}")

    # --- JSON (flat resources read in bulk) ------------------------------------------------------
    def list_json(self, resource: str, *, params: dict) -> list[dict]:
        """A list read with `output_format=JSON`. An empty list comes back as `[]` rather than
        `{"<resource>": []}` (PrestaShop/PrestaShop#10172, #22760): both mean no items."""
        response = self.request("GET", resource, params={"display": "full", "output_format": "JSON", **params})
        try:
            body = response.json()
        except (ValueError, json.JSONDecodeError):
            raise TransientError(not_json("GET", resource), status=response.status_code,
                                 excerpt=response.text[:EXCERPT_CHARS]) from None
        if body == [] or body == {}:
            return []
        items = body.get(resource) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise TransientError(expected("GET", resource, a_list_of(resource)), status=response.status_code,
                                 excerpt=response.text[:EXCERPT_CHARS])
        return items
