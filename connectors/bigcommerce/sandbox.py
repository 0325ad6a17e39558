"""A BigCommerce store on localhost, speaking its REST APIs as BigCommerce's documentation
(bigcommerce/docs: `reference/orders.v2.oas2.yml`, `orders.v3.yml`, `inventory.v3.yml`,
`catalog/*.v3.yml`, `webhooks.v3.yml`, "API rate limits", "HTTPS webhooks overview", the webhook
events) and its published webhook payloads (bigcommerce/api-specs `models/webhooks/data/`) describe it:

- `X-Auth-Token` on every request, the store hash in the path (`/stores/{store_hash}/v2|v3/…`).
- A request quota per window shared by every app of the store (150 per 30 s on Standard plans),
  announced on every answer in `X-Rate-Limit-Time-Window-Ms`, `-Time-Reset-Ms`,
  `-Requests-Quota` and `-Requests-Left`; past it, 429 with those headers and no Retry-After.
  A forced 429 (`throttle` fault) comes without them, as BigCommerce answers when the platform
  itself is overloaded. Other apps can eat the quota (`use_quota`).
- v2 orders: money as strings with 4 decimals, dates in RFC 2822; `page`/`limit` (50 by default,
  at most 250), `min_date_modified`, `sort`; a page past the last one (or an empty list) is
  **204 with an empty body** (`empty_list_204=False` answers `[]` instead); products, shipping
  addresses and shipments as sub-resources; `PUT /orders/{id}` with `status_id`; v2 errors are
  a list `[{"status", "message"}]`.
- v3: catalogue products with variants and options (product names and SKUs unique, 409
  otherwise), variants batch (at most 50), inventory absolute adjustments per location (at most
  2000 items; an item tracked by product is adjusted by product id and one tracked by variant by
  variant id, 422 otherwise), inventory items, refunds (`/orders/{id}/payment_actions/refunds`);
  errors as `application/problem+json` `{status, title, type, errors}`; `meta.pagination`.
- Webhooks (`POST /v3/hooks`): a light payload `{scope, store_id, data, hash, created_at,
  producer}` where `hash` is the SHA-1 of the JSON-encoded `data` — the same for every
  `store/order/updated` of one order — signed as Standard Webhooks (`webhook-id`,
  `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, the
  app's client secret as the key); retried after 60 s, 3 min, 5 min… up to 48 h (`retry_scale`
  shortens that for tests), then the hook is deactivated.

The control API (`/_sandbox/…`) places orders as shoppers would and acts as the merchant in the
control panel (status changes, refunds, archiving). Standard library and the harness only."""

import argparse
import hashlib
import hmac
import json
import math
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from email.utils import format_datetime, parsedate_to_datetime

from connectors.testing.harness import (
    Abort,
    DeliveryPolicy,
    FixedWindow,
    Request,
    Response,
    Sandbox,
    control,
    empty_response,
    hmac_sha256_base64,
    json_response,
    route,
)

CENT = Decimal("0.01")
STATUSES = {0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded", 5: "Cancelled", 6: "Declined",
            7: "Awaiting Payment", 8: "Awaiting Pickup", 9: "Awaiting Shipment", 10: "Completed", 11: "Awaiting Fulfillment",
            12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded"}
RETRY_DELAYS = (60, 180, 300, 600, 900, 1800, 3600, 7200, 21600, 50400, 86400)
ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
MAX_V2_LIMIT = 250
MAX_ADJUSTMENT_ITEMS = 2000
MAX_VARIANT_BATCH = 50


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def v2_money(value) -> str:
    return f"{Decimal(value):.4f}"


def problem(status: int, title: str, errors: dict | None = None) -> Abort:
    return Abort(json_response({"status": status, "title": title, "type": ERROR_TYPE, "errors": errors or {}}, status,
                               headers={"Content-Type": "application/problem+json"}))


def v2_error(status: int, message: str) -> Abort:
    return Abort(json_response([{"status": status, "message": message}], status))


def payload_hash(data: dict) -> str:
    return hashlib.sha1(json.dumps(data, separators=(",", ":")).encode()).hexdigest()


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    return "v1," + hmac_sha256_base64(secret.encode(), f"{message_id}.{timestamp}.".encode() + body)


class BigCommerceSandbox(Sandbox):
    name = "bigcommerce"

    def __init__(self, *, store_hash: str = "abc123", access_token: str = "bc-token", client_secret: str = "bc-client-secret",
                 quota: int = 150, window_seconds: float = 30.0, currency: str = "EUR", tax_rate: str = "20", shipping_cost: str = "5.00",
                 locations=((1, "BC-LOCATION-1", "Default location"),), empty_list_204: bool = True, hooks: list[dict] | tuple = (),
                 retry_scale: float = 1.0, **options):
        self.store_hash, self.access_tokens, self.client_secret = store_hash, {access_token}, client_secret
        self.quota, self.window_seconds = quota, window_seconds
        self.currency, self.tax_rate, self.shipping_cost = currency, Decimal(tax_rate) / 100, money(shipping_cost)
        self.initial_locations = tuple(locations)
        self.empty_list_204 = empty_list_204
        self.initial_hooks = [dict(h) for h in hooks]
        options.setdefault("delivery_policy", DeliveryPolicy(retry_delays=tuple(d * retry_scale for d in RETRY_DELAYS),
                                                             disable_after=len(RETRY_DELAYS) + 1, timeout=10.0))
        super().__init__(**options)
        self.window = FixedWindow(quota, window_seconds, clock=self.clock.monotonic)

    @property
    def base(self) -> str:
        return f"/stores/{self.store_hash}"

    # --- state -----------------------------------------------------------------------------------
    def reset_state(self) -> None:
        for kind, first in (("product", 111), ("variant", 201), ("option", 151), ("option_value", 146), ("order", 218),
                            ("order_product", 65), ("order_address", 131), ("shipment", 11), ("refund", 3), ("hook", 20172984),
                            ("customer", 11), ("message", 1)):
            self.ids.begin(kind, first)
        self.products: dict[int, dict] = {}
        self.variants: dict[int, dict] = {}
        self.locations = {loc_id: {"id": loc_id, "code": code, "label": label, "enabled": True} for loc_id, code, label in self.initial_locations}
        self.levels: dict[tuple[int, int], int] = {}  # (variant id, location id) → on hand
        self.orders: dict[int, dict] = {}
        self.refunds: dict[int, dict] = {}
        self.customers: dict[str, int] = {}
        self.hooks: dict[int, dict] = {}
        for hook in self.initial_hooks:
            self._hook_create(hook)
        if hasattr(self, "window"):
            self.window.reset()

    def _now(self) -> datetime:
        return self.clock.now().replace(microsecond=0)

    def _rfc2822(self, moment: datetime | None = None) -> str:
        return format_datetime((moment or self._now()).astimezone(timezone.utc))

    # --- harness hooks ---------------------------------------------------------------------------
    def _v2(self, request: Request) -> bool:
        return "/v2/" in request.path

    def no_route_response(self, request: Request, allowed: list[str]) -> Response:
        if self._v2(request):
            return v2_error(404, "The requested resource was not found.").response
        return problem(404, "The requested resource was not found.").response

    def invalid_body_response(self, request: Request, error) -> Response:
        if self._v2(request):
            return v2_error(400, "The request body is not valid JSON.").response
        return problem(400, "Input is invalid", {"body": "The request body is not valid JSON."}).response

    def server_error_response(self, request: Request, status: int) -> Response:
        return json_response({"status": status, "title": "Internal Server Error" if status == 500 else "Service Unavailable",
                              "type": ERROR_TYPE}, status)

    def throttled_response(self, request: Request, retry_after: float | None) -> Response:
        # The platform itself under load: a 429 without the X-Rate-Limit headers.
        return json_response({"status": 429, "title": "Too Many Requests", "type": ERROR_TYPE}, 429)

    def authenticate(self, request: Request) -> Response | None:
        if request.params.get("store_hash") != self.store_hash:
            return problem(404, "Store not found").response
        token = request.header("X-Auth-Token") or ""
        if not any(hmac.compare_digest(token.encode(), known.encode()) for known in self.access_tokens):
            if self._v2(request):
                return v2_error(401, "You have not provided an access token or it is invalid.").response
            return problem(401, "Unauthorized").response
        return None

    def _rate_headers(self, left: int) -> list[tuple[str, str]]:
        reset_ms = int(math.ceil(self.window.reset_in() * 1000))
        return [("X-Rate-Limit-Time-Window-Ms", str(int(self.window_seconds * 1000))), ("X-Rate-Limit-Time-Reset-Ms", str(reset_ms)),
                ("X-Rate-Limit-Requests-Quota", str(self.quota)), ("X-Rate-Limit-Requests-Left", str(left))]

    def throttle(self, request: Request) -> Response | None:
        allowed, _ = self.window.take()
        request.reply_headers.extend(self._rate_headers(self.window.remaining()))
        if allowed:
            return None
        return json_response({"status": 429, "title": "Too Many Requests", "type": ERROR_TYPE}, 429)

    def use_quota(self, requests: int) -> int:
        """Other apps of the store spend `requests` of the current window."""
        taken = 0
        for _ in range(requests):
            allowed, _ = self.window.take()
            taken += allowed
        return taken

    def before_webhook_send(self, delivery, headers: dict) -> dict:
        timestamp = int(self.clock.timestamp())
        return {**headers, "webhook-timestamp": str(timestamp),
                "webhook-signature": standard_signature(self.client_secret, headers["webhook-id"], timestamp, delivery.body)}

    def on_webhook_disabled(self, subscription) -> None:
        hook = self.hooks.get(subscription)
        if hook is not None:
            hook["is_active"] = False

    # --- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _body(request: Request, *, v2: bool = False):
        data = request.json()
        if data is None:
            raise (v2_error(400, "The request body is empty.") if v2 else problem(400, "Input is invalid", {"body": "empty"}))
        return data

    def _page_v3(self, request: Request, items: list, render=lambda x: x, default_limit: int = 50) -> dict:
        try:
            page, limit = max(1, int(request.arg("page") or 1)), max(1, min(250, int(request.arg("limit") or default_limit)))
        except ValueError:
            raise problem(422, "Input is invalid", {"page": "must be an integer"}) from None
        total = len(items)
        pages = max(1, math.ceil(total / limit))
        shown = items[(page - 1) * limit:page * limit]
        return {"data": [render(item) for item in shown],
                "meta": {"pagination": {"total": total, "count": len(shown), "per_page": limit, "current_page": page,
                                        "total_pages": pages, "links": {"current": f"?page={page}&limit={limit}"}}}}

    @staticmethod
    def _ids_arg(request: Request, name: str) -> set[int]:
        values = set()
        for raw in request.args(name):
            for part in raw.split(","):
                if part.strip().isdigit():
                    values.add(int(part))
        return values

    # --- store and hooks -------------------------------------------------------------------------
    @route("GET", "/stores/<store_hash>/v2/store")
    def store_information(self, request, store_hash):
        return {"id": self.store_hash, "domain": "boutique-sandbox.example", "secure_url": "https://boutique-sandbox.example",
                "name": "Boutique BigCommerce", "currency": self.currency, "plan_name": "Standard", "timezone": {"name": "Europe/Paris"}}

    def _hook_create(self, data: dict) -> dict:
        hook_id = self.ids.next("hook")
        now = int(self.clock.timestamp())
        hook = {"id": hook_id, "client_id": "sandbox-app", "store_hash": self.store_hash, "scope": data["scope"],
                "destination": data["destination"], "headers": data.get("headers") or {}, "is_active": data.get("is_active", True),
                "created_at": now, "updated_at": now}
        self.hooks[hook_id] = hook
        return hook

    @route("POST", "/stores/<store_hash>/v3/hooks")
    def hook_create(self, request, store_hash):
        body = self._body(request)
        missing = {name: f"{name} is required" for name in ("scope", "destination") if not body.get(name)}
        if missing:
            raise problem(422, "Input is invalid", missing)
        return {"data": self._hook_create(body), "meta": {}}

    @route("GET", "/stores/<store_hash>/v3/hooks")
    def hook_list(self, request, store_hash):
        return self._page_v3(request, list(self.hooks.values()))

    def emit(self, scope: str, data: dict) -> None:
        payload = {"scope": scope, "store_id": "1025646", "data": data, "hash": payload_hash(data),
                   "created_at": int(self.clock.timestamp()), "producer": f"stores/{self.store_hash}"}
        body = json.dumps(payload, separators=(",", ":")).encode()
        for hook in self.hooks.values():
            if hook["is_active"] and (hook["scope"] == scope or (hook["scope"].endswith("/*") and scope.startswith(hook["scope"][:-1]))):
                headers = {"Content-Type": "application/json", "webhook-id": f"msg_{self.ids.hex(12)}", **hook["headers"]}
                self.webhooks.enqueue(hook["destination"], body, headers=headers, topic=scope, subscription=hook["id"])

    # --- catalogue -------------------------------------------------------------------------------
    def _sku_taken(self, sku: str, *, except_variant: int | None = None) -> bool:
        wanted = sku.lower()
        return any(v["sku"].lower() == wanted and v["id"] != except_variant for v in self.variants.values())

    def _variant_json(self, variant: dict) -> dict:
        product = self.products[variant["product_id"]]
        price = variant["price"] if variant["price"] is not None else product["price"]
        return {**variant, "calculated_price": price, "inventory_level": sum(level for (vid, _), level in self.levels.items() if vid == variant["id"])}

    def _product_json(self, product: dict, include: set[str] = frozenset()) -> dict:
        data = {k: v for k, v in product.items() if k != "variant_ids"}
        data["inventory_level"] = sum(level for (vid, _), level in self.levels.items() if vid in product["variant_ids"])
        data["calculated_price"] = product["price"]
        if "variants" in include:
            data["variants"] = [self._variant_json(self.variants[v]) for v in product["variant_ids"]]
        return data

    def _option_value(self, product: dict, display_name: str, label: str) -> dict:
        option = next((o for o in product["options"] if o["display_name"] == display_name), None)
        if option is None:
            option = {"id": self.ids.next("option"), "product_id": product["id"], "display_name": display_name, "type": "rectangles",
                      "sort_order": len(product["options"]), "option_values": []}
            product["options"].append(option)
        value = next((v for v in option["option_values"] if v["label"] == label), None)
        if value is None:
            value = {"id": self.ids.next("option_value"), "label": label, "sort_order": len(option["option_values"]), "is_default": False}
            option["option_values"].append(value)
        return {"id": value["id"], "label": label, "option_id": option["id"], "option_display_name": display_name}

    def _check_product_fields(self, body: dict, *, creating: bool, product_id: int | None = None) -> None:
        errors = {}
        if creating:
            errors.update({name: f"{name} is required" for name in ("name", "type", "weight", "price") if body.get(name) is None})
        if body.get("type") is not None and body["type"] not in ("physical", "digital"):
            errors["type"] = "type must be one of physical, digital"
        if body.get("inventory_tracking") not in (None, "none", "product", "variant"):
            errors["inventory_tracking"] = "inventory_tracking must be one of none, product, variant"
        for name in ("price", "weight"):
            if body.get(name) is not None and (not isinstance(body[name], (int, float)) or isinstance(body[name], bool) or body[name] < 0):
                errors[name] = f"{name} must be a number ≥ 0"
        if errors:
            raise problem(422, "JSON data is missing or invalid", errors)
        name = body.get("name")
        if name and any(p["name"].lower() == name.lower() and p["id"] != product_id for p in self.products.values()):
            raise problem(409, "The product name is a duplicate", {"name": "The product name is a duplicate"})

    def _variant_new(self, product: dict, data: dict) -> dict:
        sku = str(data.get("sku") or "")
        if not sku:
            raise problem(422, "JSON data is missing or invalid", {"sku": "sku is required"})
        if self._sku_taken(sku):
            raise problem(409, f"Sku {sku} is not unique", {"sku": f"Sku {sku} is not unique"})
        values = []
        for value in data.get("option_values") or []:
            if value.get("id") and value.get("option_id"):
                option = next((o for o in product["options"] if o["id"] == value["option_id"]), None)
                known = next((v for v in (option or {}).get("option_values", []) if v["id"] == value["id"]), None)
                if known is None:
                    raise problem(422, "The option value does not exist", {"option_values": str(value)})
                values.append({"id": known["id"], "label": known["label"], "option_id": option["id"], "option_display_name": option["display_name"]})
            elif value.get("option_display_name") and value.get("label"):
                values.append(self._option_value(product, value["option_display_name"], value["label"]))
            else:
                raise problem(422, "JSON data is missing or invalid", {"option_values": "option_values need id and option_id"})
        combination = sorted(v["id"] for v in values)
        if values and any(sorted(o["id"] for o in self.variants[vid]["option_values"]) == combination for vid in product["variant_ids"]):
            raise problem(409, "A variant with the same option values already exists", {})
        variant = {"id": self.ids.next("variant"), "product_id": product["id"], "sku": sku, "sku_id": None if not values else self.ids.next("variant"),
                   "price": data.get("price"), "weight": data.get("weight"), "option_values": values, "purchasing_disabled": False}
        self.variants[variant["id"]] = variant
        product["variant_ids"].append(variant["id"])
        return variant

    @route("GET", "/stores/<store_hash>/v3/catalog/products")
    def product_list(self, request, store_hash):
        items = sorted(self.products.values(), key=lambda p: p["id"])
        if request.arg("sku"):
            items = [p for p in items if p["sku"].lower() == request.arg("sku").lower()]
        if self._ids_arg(request, "id:in"):
            items = [p for p in items if p["id"] in self._ids_arg(request, "id:in")]
        include = set((request.arg("include") or "").split(","))
        return self._page_v3(request, items, render=lambda p: self._product_json(p, include))

    @route("POST", "/stores/<store_hash>/v3/catalog/products")
    def product_create(self, request, store_hash):
        body = self._body(request)
        self._check_product_fields(body, creating=True)
        sku = str(body.get("sku") or "")
        if sku and self._sku_taken(sku):
            raise problem(409, f"Sku {sku} is not unique", {"sku": f"Sku {sku} is not unique"})
        now = self._now().isoformat()
        product = {"id": self.ids.next("product"), "name": body["name"], "type": body["type"], "sku": sku, "description": body.get("description") or "",
                   "weight": body["weight"], "price": body["price"], "inventory_tracking": body.get("inventory_tracking") or "none",
                   "is_visible": body.get("is_visible", True), "date_created": now, "date_modified": now, "options": [], "variant_ids": [],
                   "base_variant_id": None}
        self.products[product["id"]] = product
        try:
            base = self._variant_new(product, {"sku": sku or f"product-{product['id']}", "price": None}) if not body.get("variants") else None
            for data in body.get("variants") or []:
                self._variant_new(product, data)
        except Abort:
            for vid in product["variant_ids"]:
                self.variants.pop(vid, None)
            del self.products[product["id"]]
            raise
        product["base_variant_id"] = base["id"] if base else None
        self.count("products created")
        self.emit("store/product/created", {"type": "product", "id": product["id"]})
        return {"data": self._product_json(product, {"variants"}), "meta": {}}

    def _catalog_product(self, product_id: int) -> dict:
        product = self.products.get(product_id)
        if product is None:
            raise problem(404, "The requested product was not found.")
        return product

    @route("GET", "/stores/<store_hash>/v3/catalog/products/<int:product_id>")
    def product_get(self, request, store_hash, product_id):
        return {"data": self._product_json(self._catalog_product(product_id), set((request.arg("include") or "").split(","))), "meta": {}}

    @route("PUT", "/stores/<store_hash>/v3/catalog/products/<int:product_id>")
    def product_update(self, request, store_hash, product_id):
        product = self._catalog_product(product_id)
        body = self._body(request)
        self._check_product_fields(body, creating=False, product_id=product_id)
        for key in ("name", "type", "description", "weight", "price", "inventory_tracking", "is_visible"):
            if key in body:
                product[key] = body[key]
        if "sku" in body and body["sku"] != product["sku"]:
            raise problem(422, "JSON data is missing or invalid", {"sku": "the product's SKU cannot change here"})
        product["date_modified"] = self._now().isoformat()
        self.emit("store/product/updated", {"type": "product", "id": product_id})
        return {"data": self._product_json(product), "meta": {}}

    @route("GET", "/stores/<store_hash>/v3/catalog/products/<int:product_id>/variants")
    def variant_list(self, request, store_hash, product_id):
        product = self._catalog_product(product_id)
        return self._page_v3(request, [self.variants[v] for v in product["variant_ids"]], render=self._variant_json)

    @route("POST", "/stores/<store_hash>/v3/catalog/products/<int:product_id>/variants")
    def variant_create(self, request, store_hash, product_id):
        product = self._catalog_product(product_id)
        body = self._body(request)
        if not all(v.get("id") and v.get("option_id") for v in body.get("option_values") or [None]):
            raise problem(422, "JSON data is missing or invalid", {"option_values": "option_values need id and option_id"})
        return {"data": self._variant_json(self._variant_new(product, body)), "meta": {}}

    @route("GET", "/stores/<store_hash>/v3/catalog/products/<int:product_id>/options")
    def option_list(self, request, store_hash, product_id):
        return self._page_v3(request, self._catalog_product(product_id)["options"])

    @route("POST", "/stores/<store_hash>/v3/catalog/products/<int:product_id>/options/<int:option_id>/values")
    def option_value_create(self, request, store_hash, product_id, option_id):
        product = self._catalog_product(product_id)
        option = next((o for o in product["options"] if o["id"] == option_id), None)
        if option is None:
            raise problem(404, "The requested option was not found.")
        label = str(self._body(request).get("label") or "")
        if not label or any(v["label"] == label for v in option["option_values"]):
            raise problem(422, "JSON data is missing or invalid", {"label": "label is required and unique"})
        value = {"id": self.ids.next("option_value"), "label": label, "sort_order": len(option["option_values"]), "is_default": False}
        option["option_values"].append(value)
        return {"data": value, "meta": {}}

    @route("PUT", "/stores/<store_hash>/v3/catalog/variants")
    def variant_batch(self, request, store_hash):
        rows = self._body(request)
        if not isinstance(rows, list) or not rows:
            raise problem(422, "JSON data is missing or invalid", {"body": "a list of variants"})
        if len(rows) > MAX_VARIANT_BATCH:
            raise problem(413, f"The batch holds more than {MAX_VARIANT_BATCH} variants")
        for row in rows:
            if row.get("id") not in self.variants:
                raise problem(422, "JSON data is missing or invalid", {"id": f"variant {row.get('id')} does not exist"})
        updated = []
        for row in rows:
            variant = self.variants[row["id"]]
            for key in ("price", "weight", "purchasing_disabled"):
                if key in row:
                    variant[key] = row[key]
            if row.get("sku") and row["sku"] != variant["sku"]:
                if self._sku_taken(row["sku"], except_variant=variant["id"]):
                    raise problem(409, f"Sku {row['sku']} is not unique")
                variant["sku"] = row["sku"]
            updated.append(self._variant_json(variant))
        return {"data": updated, "meta": {}}

    # --- inventory -------------------------------------------------------------------------------
    @route("GET", "/stores/<store_hash>/v3/inventory/locations")
    def location_list(self, request, store_hash):
        return self._page_v3(request, list(self.locations.values()))

    @route("PUT", "/stores/<store_hash>/v3/inventory/adjustments/absolute")
    def adjust_absolute(self, request, store_hash):
        items = self._body(request).get("items")
        if not isinstance(items, list) or not items:
            raise problem(422, "JSON data is missing or invalid", {"items": "items is required"})
        if len(items) > MAX_ADJUSTMENT_ITEMS:
            raise problem(422, f"[The payload holds more than {MAX_ADJUSTMENT_ITEMS} items]")
        changes = []
        for item in items:
            location = item.get("location_id")
            if location not in self.locations:
                raise problem(422, f"[Location with id {location} does not exist]")
            quantity = item.get("quantity")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                raise problem(422, "JSON data is missing or invalid", {"quantity": "a whole number ≥ 0"})
            if "variant_id" in item:
                variant = self.variants.get(item["variant_id"])
                if variant is None:
                    raise problem(422, f"[Item with variant_id {item['variant_id']} does not exist]")
                if self.products[variant["product_id"]]["inventory_tracking"] == "product":
                    raise problem(422, f"[Item with variant_id {variant['id']} is tracked by product, please update stock by product id]")
            elif "product_id" in item:
                product = self.products.get(item["product_id"])
                if product is None:
                    raise problem(422, f"[Item with product_id {item['product_id']} does not exist]")
                if product["inventory_tracking"] == "variant":
                    raise problem(422, f"[Item with product_id {product['id']} is tracked by variant, please update stock by variant id]")
                variant = self.variants[product["variant_ids"][0]]
            elif "sku" in item:
                variant = next((v for v in self.variants.values() if v["sku"] == item["sku"]), None)
                if variant is None:
                    raise problem(422, f"[Item with sku {item['sku']} does not exist]")
            else:
                raise problem(422, "JSON data is missing or invalid", {"items": "one of sku, product_id or variant_id is required"})
            changes.append(((variant["id"], location), quantity))
        for key, quantity in changes:
            self.levels[key] = quantity
        self.count("inventory items adjusted", len(changes))
        return {"transaction_id": self.ids.uuid()}

    @route("GET", "/stores/<store_hash>/v3/inventory/items")
    def inventory_items(self, request, store_hash):
        variant_ids, location_ids = self._ids_arg(request, "variant_id:in"), self._ids_arg(request, "location_id:in")
        product_ids = self._ids_arg(request, "product_id:in")
        chosen = [v for v in sorted(self.variants.values(), key=lambda v: v["id"])
                  if (not variant_ids or v["id"] in variant_ids) and (not product_ids or v["product_id"] in product_ids)]

        def render(variant):
            locations = [{"location_id": loc["id"], "location_code": loc["code"], "location_name": loc["label"],
                          "available_to_sell": self.levels.get((variant["id"], loc["id"]), 0),
                          "total_inventory_onhand": self.levels.get((variant["id"], loc["id"]), 0), "location_enabled": loc["enabled"],
                          "settings": {"safety_stock": 0, "is_in_stock": True, "warning_level": 0, "bin_picking_number": ""}}
                         for loc in self.locations.values() if not location_ids or loc["id"] in location_ids]
            return {"identity": {"sku": variant["sku"], "variant_id": variant["id"], "product_id": variant["product_id"],
                                 "sku_id": variant["sku_id"]}, "locations": locations}
        return self._page_v3(request, chosen, render=render)

    # --- orders ----------------------------------------------------------------------------------
    def _order(self, order_id: int) -> dict:
        order = self.orders.get(order_id)
        if order is None:
            raise v2_error(404, "The requested resource was not found.")
        return order

    def _order_json(self, order: dict) -> dict:
        data = {k: v for k, v in order.items() if not k.startswith("_")}
        base = f"{self.url}{self.base}/v2/orders/{order['id']}"
        data["products"] = {"url": f"{base}/products", "resource": f"/orders/{order['id']}/products"}
        data["shipping_addresses"] = {"url": f"{base}/shipping_addresses", "resource": f"/orders/{order['id']}/shipping_addresses"}
        data["coupons"] = {"url": f"{base}/coupons", "resource": f"/orders/{order['id']}/coupons"}
        return data

    def _set_status(self, order: dict, status_id: int) -> None:
        previous = order["status_id"]
        order.update(status_id=status_id, status=STATUSES[status_id], custom_status=STATUSES[status_id])
        self._touch(order)
        if previous != status_id:
            self.emit("store/order/statusUpdated", {"type": "order", "id": order["id"],
                                                    "status": {"previous_status_id": previous, "new_status_id": status_id}})

    def _touch(self, order: dict) -> None:
        order["date_modified"] = self._rfc2822()
        order["_modified"] = self._now()
        self.emit("store/order/updated", {"type": "order", "id": order["id"]})

    def place_order(self, *, lines: list[dict], email: str = "", first_name: str = "Camille", last_name: str = "Martin",
                    paid: bool = True, coupon_percent=None) -> dict:
        if not lines:
            raise ValueError("an order needs lines")
        order_id = self.ids.next("order")
        address_id = self.ids.next("order_address")
        email = email or f"client{order_id}@example.com"
        percent = Decimal(str(coupon_percent or 0)) / 100
        products, subtotal, discount, tax = [], Decimal(0), Decimal(0), Decimal(0)
        for line in lines:
            variant = next((v for v in self.variants.values() if v["sku"] == line.get("sku")), None)
            if variant is None:
                raise ValueError(f"{line.get('sku')} is not for sale")
            product = self.products[variant["product_id"]]
            quantity = int(line.get("quantity") or 1)
            price = money(variant["price"] if variant["price"] is not None else product["price"])
            total_ex = money(price * quantity)
            line_discount = money(total_ex * percent)
            line_tax = money((total_ex - line_discount) * self.tax_rate)
            price_tax = money(price * self.tax_rate)
            products.append({
                "id": self.ids.next("order_product"), "order_id": order_id, "product_id": product["id"], "variant_id": variant["id"],
                "order_address_id": address_id, "name": product["name"], "name_customer": product["name"], "name_merchant": product["name"],
                "sku": variant["sku"], "type": "physical", "base_price": v2_money(price), "price_ex_tax": v2_money(price),
                "price_inc_tax": v2_money(price + price_tax), "price_tax": v2_money(price_tax), "base_total": v2_money(total_ex),
                "total_ex_tax": v2_money(total_ex), "total_inc_tax": v2_money(total_ex + line_tax), "total_tax": v2_money(line_tax),
                "quantity": quantity, "quantity_shipped": 0, "quantity_refunded": 0, "refund_amount": v2_money(0), "is_refunded": False,
                "applied_discounts": [{"id": "coupon", "amount": v2_money(line_discount), "name": "Coupon", "code": f"SAVE{int(percent * 100)}",
                                       "target": "order"}] if line_discount else [],
                "product_options": [{"display_name": o["option_display_name"], "display_value": o["label"]} for o in variant["option_values"]],
                "parent_order_product_id": None, "is_bundled_product": False})
            subtotal, discount, tax = subtotal + total_ex, discount + line_discount, tax + line_tax
        shipping_tax = money(self.shipping_cost * self.tax_rate)
        total_ex = subtotal - discount + self.shipping_cost
        total_tax = tax + shipping_tax
        now = self._now()
        if email not in self.customers:
            self.customers[email] = self.ids.next("customer")
        address = {"first_name": first_name, "last_name": last_name, "company": "", "street_1": "12 rue des Lilas", "street_2": "",
                   "city": "Lyon", "state": "Rhône", "zip": "69003", "country": "France", "country_iso2": "FR", "phone": "0600000000",
                   "email": email}
        status_id = 11 if paid else 7
        order = {
            "id": order_id, "customer_id": self.customers[email], "date_created": self._rfc2822(now), "date_modified": self._rfc2822(now),
            "date_shipped": "", "status_id": status_id, "status": STATUSES[status_id], "custom_status": STATUSES[status_id],
            "subtotal_ex_tax": v2_money(subtotal), "subtotal_inc_tax": v2_money(subtotal + tax), "subtotal_tax": v2_money(tax),
            "base_shipping_cost": v2_money(self.shipping_cost), "shipping_cost_ex_tax": v2_money(self.shipping_cost),
            "shipping_cost_inc_tax": v2_money(self.shipping_cost + shipping_tax), "shipping_cost_tax": v2_money(shipping_tax),
            "base_handling_cost": v2_money(0), "handling_cost_ex_tax": v2_money(0), "handling_cost_inc_tax": v2_money(0),
            "handling_cost_tax": v2_money(0), "base_wrapping_cost": v2_money(0), "wrapping_cost_ex_tax": v2_money(0),
            "wrapping_cost_inc_tax": v2_money(0), "wrapping_cost_tax": v2_money(0),
            "total_ex_tax": v2_money(total_ex), "total_inc_tax": v2_money(total_ex + total_tax), "total_tax": v2_money(total_tax),
            "items_total": sum(p["quantity"] for p in products), "items_shipped": 0, "payment_method": "Credit Card" if paid else "Bank Deposit",
            "payment_status": "captured" if paid else "", "refunded_amount": v2_money(0), "is_tax_inclusive_pricing": False,
            "currency_code": self.currency, "default_currency_code": self.currency, "discount_amount": v2_money(discount),
            "coupon_discount": v2_money(discount), "customer_message": "", "staff_notes": "", "order_source": "www", "channel_id": 1,
            "billing_address": address, "_products": products, "_modified": now,
            "_addresses": [{**address, "id": address_id, "order_id": order_id, "items_total": sum(p["quantity"] for p in products),
                            "items_shipped": 0, "shipping_method": "Colissimo", "base_cost": v2_money(self.shipping_cost),
                            "cost_ex_tax": v2_money(self.shipping_cost), "cost_inc_tax": v2_money(self.shipping_cost + shipping_tax),
                            "cost_tax": v2_money(shipping_tax)}],
            "_shipments": []}
        self.orders[order_id] = order
        self.count("orders placed")
        self.emit("store/order/created", {"type": "order", "id": order_id})
        return self._order_json(order)

    def _parse_date(self, raw: str) -> datetime:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            try:
                moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise v2_error(400, f"The field 'min_date_modified' is invalid: {raw}") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    @route("GET", "/stores/<store_hash>/v2/orders")
    def order_list(self, request, store_hash):
        try:
            page = max(1, int(request.arg("page") or 1))
            limit = int(request.arg("limit") or 50)
        except ValueError:
            raise v2_error(400, "The field 'page' or 'limit' is invalid.") from None
        if not 1 <= limit <= MAX_V2_LIMIT:
            raise v2_error(400, f"The field 'limit' is invalid: it must be between 1 and {MAX_V2_LIMIT}.")
        orders = list(self.orders.values())
        if request.arg("min_date_modified"):
            since = self._parse_date(request.arg("min_date_modified"))
            orders = [o for o in orders if o["_modified"] >= since]
        if request.arg("status_id"):
            orders = [o for o in orders if str(o["status_id"]) == request.arg("status_id")]
        sort = (request.arg("sort") or "id:asc").split(":")
        key = {"id": lambda o: o["id"], "date_modified": lambda o: (o["_modified"], o["id"]), "date_created": lambda o: o["id"]}.get(sort[0])
        if key is None:
            raise v2_error(400, f"The field 'sort' is invalid: {sort[0]}")
        orders.sort(key=key, reverse=len(sort) > 1 and sort[1] == "desc")
        shown = orders[(page - 1) * limit:page * limit]
        if not shown:
            self.count("empty pages")
            return empty_response(204) if self.empty_list_204 else []
        return [self._order_json(o) for o in shown]

    @route("GET", "/stores/<store_hash>/v2/orders/<int:order_id>")
    def order_get(self, request, store_hash, order_id):
        return self._order_json(self._order(order_id))

    @route("PUT", "/stores/<store_hash>/v2/orders/<int:order_id>")
    def order_update(self, request, store_hash, order_id):
        order = self._order(order_id)
        body = self._body(request, v2=True)
        if "status_id" in body:
            if body["status_id"] not in STATUSES:
                raise v2_error(400, "The field 'status_id' is invalid.")
            self._set_status(order, body["status_id"])
        if "staff_notes" in body:
            order["staff_notes"] = str(body["staff_notes"])
            self._touch(order)
        return self._order_json(order)

    @route("GET", "/stores/<store_hash>/v2/orders/<int:order_id>/products")
    def order_products(self, request, store_hash, order_id):
        return self._order(order_id)["_products"]

    @route("GET", "/stores/<store_hash>/v2/orders/<int:order_id>/shipping_addresses")
    def order_addresses(self, request, store_hash, order_id):
        return self._order(order_id)["_addresses"]

    @route("GET", "/stores/<store_hash>/v2/orders/<int:order_id>/shipments")
    def shipment_list(self, request, store_hash, order_id):
        shipments = self._order(order_id)["_shipments"]
        return shipments if shipments or not self.empty_list_204 else empty_response(204)

    @route("POST", "/stores/<store_hash>/v2/orders/<int:order_id>/shipments")
    def shipment_create(self, request, store_hash, order_id):
        order = self._order(order_id)
        body = self._body(request, v2=True)
        if order["status_id"] in (0, 5, 6):
            raise v2_error(400, "Shipments cannot be created for this order in its current status.")
        if body.get("order_address_id") not in {a["id"] for a in order["_addresses"]}:
            raise v2_error(400, "The field 'order_address_id' is invalid.")
        products = {p["id"]: p for p in order["_products"]}
        items = body.get("items") or []
        if not items:
            raise v2_error(400, "The field 'items' cannot be empty.")
        for item in items:
            product = products.get(item.get("order_product_id"))
            if product is None or not 0 < int(item.get("quantity") or 0) <= product["quantity"] - product["quantity_shipped"]:
                raise v2_error(400, f"The quantity specified is greater than the quantity of the product that is available to ship: {item}.")
        if len(str(body.get("tracking_number") or "")) > 50:
            raise v2_error(400, "The field 'tracking_number' is longer than 50 characters.")
        for item in items:
            products[item["order_product_id"]]["quantity_shipped"] += int(item["quantity"])
        shipment = {"id": self.ids.next("shipment"), "order_id": order_id, "customer_id": order["customer_id"],
                    "order_address_id": body["order_address_id"], "date_created": self._rfc2822(), "tracking_number": body.get("tracking_number") or "",
                    "shipping_method": body.get("shipping_method") or "", "shipping_provider": body.get("shipping_provider") or "",
                    "tracking_carrier": body.get("tracking_carrier") or "", "tracking_link": body.get("tracking_link") or "",
                    "comments": body.get("comments") or "", "billing_address": order["billing_address"],
                    "shipping_address": {k: v for k, v in order["_addresses"][0].items() if not k.startswith("_")},
                    "items": [{"order_product_id": i["order_product_id"], "product_id": products[i["order_product_id"]]["product_id"],
                               "quantity": int(i["quantity"])} for i in items]}
        order["_shipments"].append(shipment)
        order["items_shipped"] = sum(p["quantity_shipped"] for p in order["_products"])
        done = all(p["quantity_shipped"] >= p["quantity"] - p["quantity_refunded"] for p in order["_products"])
        if done:
            order["date_shipped"] = self._rfc2822()
        self.count("shipments created")
        self.emit("store/shipment/created", {"type": "shipment", "id": shipment["id"], "orderId": order_id})
        self._set_status(order, 2 if done else 3)
        return json_response(shipment, 201)

    def archive_order(self, order_id: int) -> None:
        order = self._order(order_id)
        del self.orders[order_id]
        self.emit("store/order/archived", {"type": "order", "id": order["id"]})

    @route("DELETE", "/stores/<store_hash>/v2/orders/<int:order_id>")
    def order_archive(self, request, store_hash, order_id):
        self.archive_order(order_id)
        return empty_response(204)

    # --- refunds (v3) ----------------------------------------------------------------------------
    def refund_order(self, order_id: int, *, items: list[dict], reason: str = "") -> dict:
        order = self._order(order_id)
        if order["status_id"] in (0, 1, 5, 6, 7, 4):
            raise problem(422, "The order cannot be refunded in its current status.")
        products = {p["id"]: p for p in order["_products"]}
        refund_items, amount, tax = [], Decimal(0), Decimal(0)
        for item in items:
            if item.get("item_type") == "SHIPPING":
                paid = money(order["shipping_cost_inc_tax"])
                refund_items.append({"item_type": "SHIPPING", "item_id": item["item_id"], "requested_amount": str(paid), "reason": reason})
                amount, tax = amount + paid, tax + money(order["shipping_cost_tax"])
                continue
            product = products.get(item.get("item_id"))
            quantity = int(item.get("quantity") or 0)
            if item.get("item_type") != "PRODUCT" or product is None or not 0 < quantity <= product["quantity"] - product["quantity_refunded"]:
                raise problem(422, "The refund is not valid.", {"items": f"{item} cannot be refunded"})
            share = Decimal(quantity) / product["quantity"]
            discounts = sum((Decimal(d["amount"]) for d in product["applied_discounts"]), Decimal(0))
            line_tax = money(Decimal(product["total_tax"]) * share)
            line = money((Decimal(product["total_ex_tax"]) - discounts) * share) + line_tax  # what the shopper paid for them
            refund_items.append({"item_type": "PRODUCT", "item_id": product["id"], "quantity": quantity, "requested_amount": str(line),
                                 "reason": reason})
            amount, tax = amount + line, tax + line_tax
        if amount <= 0:
            raise problem(422, "The refund is not valid.", {"items": "nothing to refund"})
        for item in refund_items:
            if item["item_type"] == "PRODUCT":
                product = products[item["item_id"]]
                product["quantity_refunded"] += item["quantity"]
                product["refund_amount"] = v2_money(Decimal(product["refund_amount"]) + Decimal(item["requested_amount"]))
                product["is_refunded"] = product["quantity_refunded"] >= product["quantity"]
        refund = {"id": self.ids.next("refund"), "order_id": order_id, "user_id": 0, "created": self._now().isoformat(), "reason": reason,
                  "total_amount": float(amount), "total_tax": float(tax), "uses_merchant_override_values": False, "items": refund_items,
                  "payments": [{"id": self.ids.next("refund"), "provider_id": "testgateway", "amount": float(amount), "offline": False,
                                "is_declined": False, "declined_message": ""}]}
        self.refunds[refund["id"]] = refund
        order["refunded_amount"] = v2_money(Decimal(order["refunded_amount"]) + amount)
        self.count("refunds created")
        self.emit("store/order/refund/created", {"type": "order", "id": order_id, "refund": {"refund_id": refund["id"]}})
        self._set_status(order, 4 if Decimal(order["refunded_amount"]) >= Decimal(order["total_inc_tax"]) else 14)
        return refund

    @route("GET", "/stores/<store_hash>/v3/orders/<int:order_id>/payment_actions/refunds")
    def refund_list(self, request, store_hash, order_id):
        if order_id not in self.orders:
            raise problem(404, "The requested order was not found.")
        return {"data": [r for r in self.refunds.values() if r["order_id"] == order_id], "meta": {}}

    @route("POST", "/stores/<store_hash>/v3/orders/<int:order_id>/payment_actions/refunds")
    def refund_create(self, request, store_hash, order_id):
        if order_id not in self.orders:
            raise problem(404, "The requested order was not found.")
        body = self._body(request)
        return json_response({"data": self.refund_order(order_id, items=body.get("items") or [], reason=body.get("reason") or ""), "meta": {}}, 201)

    # --- control API (not BigCommerce's: shoppers and the merchant, for tests and the demo) ------
    def state(self) -> dict:
        return {"products": len(self.products), "variants": len(self.variants), "orders": len(self.orders), "refunds": len(self.refunds),
                "quota_left": self.window.remaining(), "empty_list_204": self.empty_list_204,
                "hooks": [{"id": h["id"], "scope": h["scope"], "is_active": h["is_active"]} for h in self.hooks.values()]}

    @control("POST", "orders")
    def control_place_order(self, request):
        body = request.json() or {}
        return json_response(self.place_order(lines=body.get("lines") or [], email=body.get("email") or "", paid=body.get("paid", True),
                                              coupon_percent=body.get("coupon_percent")), 201)

    @control("GET", "orders/<int:order_id>")
    def control_order(self, request, order_id):
        return {**self._order_json(self._order(order_id)), "products": self.orders[order_id]["_products"]}

    @control("POST", "orders/<int:order_id>/status")
    def control_status(self, request, order_id):
        status_id = int((request.json() or {})["status_id"])
        if status_id not in STATUSES:
            raise ValueError(f"unknown status id {status_id}")
        self._set_status(self._order(order_id), status_id)
        return self._order_json(self.orders[order_id])

    @control("POST", "orders/<int:order_id>/refunds")
    def control_refund(self, request, order_id):
        body = request.json() or {}
        order = self._order(order_id)
        by_sku = {p["sku"]: p["id"] for p in order["_products"]}
        items = [{"item_type": "PRODUCT", "item_id": by_sku.get(line["sku"]), "quantity": line.get("quantity", 1)} for line in body.get("lines") or []]
        return json_response(self.refund_order(order_id, items=items, reason=body.get("reason") or ""), 201)

    @control("POST", "orders/<int:order_id>/archive")
    def control_archive(self, request, order_id):
        self.archive_order(order_id)
        return {"archived": order_id}

    @control("POST", "quota")
    def control_quota(self, request):
        return {"used": self.use_quota(int((request.json() or {}).get("use") or 0)), "left": self.window.remaining()}

    @control("POST", "settings")
    def control_settings(self, request):
        body = request.json() or {}
        with self.lock:
            if "empty_list_204" in body:
                self.empty_list_204 = bool(body["empty_list_204"])
        return {"empty_list_204": self.empty_list_204}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Run a BigCommerce sandbox store (REST v2/v3) in the foreground.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8013)
    parser.add_argument("--store-hash", default="abc123")
    parser.add_argument("--access-token", required=True)
    parser.add_argument("--client-secret", required=True, help="signs the webhooks (the app's client secret)")
    parser.add_argument("--webhook-url", default="", help="subscribe this URL to the order scopes")
    args = parser.parse_args(argv)
    scopes = ("store/order/created", "store/order/updated", "store/order/statusUpdated", "store/order/archived", "store/order/refund/created")
    hooks = [{"scope": scope, "destination": args.webhook_url} for scope in scopes] if args.webhook_url else []
    sandbox = BigCommerceSandbox(store_hash=args.store_hash, access_token=args.access_token, client_secret=args.client_secret, hooks=hooks,
                                 host=args.host, port=args.port)
    print(f"BigCommerce sandbox on {sandbox.url} (API {sandbox.url}{sandbox.base}/v2|v3, control API {sandbox.url}/_sandbox/state)", flush=True)
    sandbox.serve_forever()


if __name__ == "__main__":
    main()
