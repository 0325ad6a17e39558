"""A Shopify shop on localhost, speaking the part of the Admin API (2025-01) and of the webhooks
the hub uses, as Shopify documents them: access-token auth, REST resources with `page_info`
cursor pagination, the REST leaky bucket (`X-Shopify-Shop-Api-Call-Limit`, 429 + `Retry-After`),
GraphQL calculated query cost (`extensions.cost`, THROTTLED), error shapes, and webhooks signed
with HMAC-SHA256 (base64) that are retried on failure and now and then delivered twice.

State lives in memory. Built on the sandbox harness (`connectors.testing.harness`), which brings
the server, the control API under `/_sandbox/` and the fault switches; the shop's older switch
names (`fail_5xx_for_seconds`, `slow_ms`, `slow_after_ms`, `malformed_next`, `throttle_next`,
`drop_webhooks`) are still accepted, and `next_link_base` makes list answers link their next page
to another host, as a hostile shop would.

Standard library and the harness only, no Django: tests start it in-process,
`manage.py shopify_sandbox` runs it in the foreground."""

import json
import math
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode, urlsplit

from connectors.testing.harness import (
    Abort,
    Clock,
    DeliveryPolicy,
    InvalidBody,
    LeakyBucket,
    Request,
    Response,
    Sandbox,
    TokenBucket,
    control,
    cursor_token,
    hmac_sha256_base64,
    json_response,
    read_cursor,
    route,
)

API_VERSION = "2025-01"
API_PREFIX = f"/admin/api/{API_VERSION}/"
TAX_RATE = Decimal("0.20")
SHIPPING_PRICE = Decimal("4.90")
MAX_QUANTITIES_PER_CALL = 250
MUTATION_COST = 10
FIRST_ID = 7_000_000_000_001
DEFAULT_LOCATIONS = (("1001", "Lyon DC"), ("1002", "3PL Nord"))
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
REST_THROTTLED = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
RATE_LIMITS_DOC = "https://shopify.dev/api/usage/rate-limits"
LEGACY_FAULTS = {  # the shop's switch names before the harness → the harness's switches
    "fail_5xx_for_seconds": lambda s: ("fail_5xx", {"seconds": float(s)} if float(s) > 0 else None),
    "slow_ms": lambda ms: ("slow_before", {"ms": float(ms)} if float(ms) > 0 else None),
    "slow_after_ms": lambda ms: ("slow_after", {"ms": float(ms), "writes": True} if float(ms) > 0 else None),
    "malformed_next": lambda n: ("malformed", {"requests": int(n)} if int(n) > 0 else None),
    "throttle_next": lambda n: ("throttle", {"requests": int(n), "retry_after": 1} if int(n) > 0 else None),
    "drop_webhooks": lambda on: ("webhook_drop_rate", 1.0 if on else None),
}


def _money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _tax_included(gross: Decimal) -> Decimal:
    return (gross * TAX_RATE / (1 + TAX_RATE)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def shopify_error(status: int, errors) -> Abort:
    """Shopify's error shape: `{"errors": "Not Found"}` or `{"errors": {field: [messages]}}`."""
    return Abort(json_response({"errors": errors}, status))


def _base_url(value) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("next_link_base must be an http(s) URL")
    return value.rstrip("/")


def _query(request: Request) -> dict[str, str]:
    return {name: values[-1] for name, values in request.query.items() if values[-1] != ""}


def _unescape(quoted: str) -> str:
    return quoted.replace('\\"', '"').replace("\\\\", "\\")


def _since(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise shopify_error(400, {"updated_at_min": ["is not a valid date"]}) from None


class ShopifySandbox(Sandbox):
    name = "shopify"
    extra_faults = {"next_link_base": _base_url}

    def __init__(self, *, access_token: str, webhook_url: str | None = None, webhook_secret: str | None = None,
                 shop_domain: str = "hub-demo.myshopify.com", host: str = "127.0.0.1", port: int = 0,
                 rest_bucket: int = 40, rest_leak_per_second: float = 2.0, graphql_maximum: float = 2000.0,
                 graphql_restore: float = 100.0, duplicate_rate: float = 0.0, webhook_retry_delays=(1, 2, 4, 8, 16, 32, 64),
                 locations=DEFAULT_LOCATIONS, seed: int | None = None, clock: Clock | None = None):
        self.access_token, self.webhook_url, self.webhook_secret = access_token, webhook_url, webhook_secret or ""
        self.shop_domain = shop_domain
        self._limits = (rest_bucket, rest_leak_per_second, graphql_maximum, graphql_restore)
        self._initial_locations = locations
        policy = DeliveryPolicy(retry_delays=tuple(webhook_retry_delays), duplicate_rate=duplicate_rate)
        super().__init__(host=host, port=port, seed=seed, clock=clock, delivery_policy=policy)

    def reset_state(self) -> None:
        rest_bucket, rest_leak, graphql_maximum, graphql_restore = self._limits
        self.rest_bucket = LeakyBucket(rest_bucket, rest_leak, clock=self.clock.monotonic)
        self.cost_bucket = TokenBucket(graphql_maximum, graphql_restore, clock=self.clock.monotonic)
        self.ids.begin("id", FIRST_ID)
        self.locations = {lid: {"id": int(lid), "name": name, "active": True, "country_code": "FR"} for lid, name in self._initial_locations}
        self.products: dict[int, dict] = {}
        self.variants: dict[int, dict] = {}
        self.levels: dict[tuple[int, int], dict] = {}
        self.customers: dict[int, dict] = {}
        self.orders: dict[int, dict] = {}
        self.fulfillment_orders: dict[int, dict] = {}
        self.order_number = 1000

    def set_faults(self, **switches) -> dict:
        """The harness's switches, plus the names this shop has always taken (0 or false: off)."""
        translated = {}
        for name, value in switches.items():
            if name in LEGACY_FAULTS:
                try:
                    name, value = LEGACY_FAULTS[name](value)
                except (TypeError, ValueError):
                    raise ValueError(f"{name} must be a number") from None
            translated[name] = value
        return super().set_faults(**translated)

    def _now(self) -> str:
        return self.clock.now().astimezone().isoformat(timespec="seconds")

    # --- the harness's hooks ---------------------------------------------------------------------
    def normalize_path(self, path: str) -> str:
        return path[len(API_PREFIX):] if path.startswith(API_PREFIX) else path

    def authenticate(self, request: Request) -> Response | None:
        if request.header("X-Shopify-Access-Token") != self.access_token:
            return self.json({"errors": INVALID_TOKEN}, 401)
        return None

    def throttle(self, request: Request) -> Response | None:
        if self._is_graphql(request):  # GraphQL is limited by query cost, in its handler
            return None
        allowed, wait = self.rest_bucket.take()
        request.reply_headers.append(("X-Shopify-Shop-Api-Call-Limit", self._call_limit()))
        return None if allowed else self._rest_throttled(wait)

    def throttled_response(self, request: Request, retry_after: float | None) -> Response:
        if self._is_graphql(request):
            return self._graphql_throttled(self._requested_cost(request))
        response = self._rest_throttled(1.0 if retry_after is None else retry_after)
        response.headers.append(("X-Shopify-Shop-Api-Call-Limit", self._call_limit()))
        return response

    def server_error_response(self, request: Request, status: int) -> Response:
        return self.json({"errors": "Internal Server Error"}, status)

    def no_route_response(self, request: Request, allowed: list[str]) -> Response:
        return self.json({"errors": "Not Found"}, 404)

    def invalid_body_response(self, request: Request, error: InvalidBody) -> Response:
        return self.json({"errors": str(error)}, 400)

    def is_write(self, request: Request) -> bool:
        if self._is_graphql(request):
            return self._graphql_text(request).lstrip().startswith("mutation")
        return super().is_write(request)

    def state(self) -> dict:
        return {"products": len(self.products), "variants": len(self.variants), "orders": len(self.orders), "customers": len(self.customers),
                "skus": sorted(v["sku"] for v in self.variants.values() if v["sku"]),
                "open_orders": sorted(o["id"] for o in self.orders.values() if not o["cancelled_at"])}

    def _call_limit(self) -> str:
        return f"{self.rest_bucket.used()}/{int(self.rest_bucket.size)}"

    def _rest_throttled(self, wait: float) -> Response:
        # Shopify sends Retry-After with one decimal ("2.0"); rounded up so a client that waits it out fits
        return self.json({"errors": REST_THROTTLED}, 429, {"Retry-After": f"{max(math.ceil(wait * 10) / 10, 0.1):.1f}"})

    # --- shop-side actions (what shoppers and merchants do in the shop) ---------------------------
    def create_customer(self, *, email: str, first_name: str = "", last_name: str = "", address: dict | None = None) -> dict:
        with self.lock:
            existing = next((c for c in self.customers.values() if c["email"] == email), None)
            if existing:
                return existing
            stamp = self._now()
            customer = {"id": self.ids.next(), "email": email, "first_name": first_name, "last_name": last_name, "phone": None,
                        "tags": "", "created_at": stamp, "updated_at": stamp, "addresses": [], "default_address": None}
            if address:
                row = {"id": self.ids.next(), "customer_id": customer["id"], "default": True, **address}
                customer["addresses"], customer["default_address"] = [row], row
            self.customers[customer["id"]] = customer
            self._webhook("customers/create", customer)
            return customer

    def place_order(self, *, lines: list[dict], email: str, financial_status: str = "paid", first_name: str = "Camille",
                    last_name: str = "Martin", address: dict | None = None) -> dict:
        address = address or {"address1": "12 rue des Lilas", "city": "Lyon", "zip": "69003", "country_code": "FR"}
        with self.lock:
            customer = self.create_customer(email=email, first_name=first_name, last_name=last_name, address=address)
            items, total = [], Decimal(0)
            for line in lines:
                variant = self._variant_for(line)
                quantity = int(line["quantity"])
                if quantity < 1:
                    raise shopify_error(422, {"line_items": ["quantity must be greater than 0"]})
                gross = Decimal(variant["price"]) * quantity
                total += gross
                product = self.products[variant["product_id"]]
                items.append({"id": self.ids.next(), "variant_id": variant["id"], "product_id": product["id"], "sku": variant["sku"],
                              "title": product["title"], "name": product["title"], "quantity": quantity, "price": variant["price"],
                              "fulfillable_quantity": quantity, "fulfillment_status": None, "requires_shipping": True, "taxable": True,
                              "tax_lines": [{"title": "TVA", "price": _money(_tax_included(gross)), "rate": float(TAX_RATE)}],
                              "discount_allocations": []})
            shipping_tax = _tax_included(SHIPPING_PRICE)
            tax = sum((Decimal(i["tax_lines"][0]["price"]) for i in items), Decimal(0)) + shipping_tax
            self.order_number += 1
            stamp = self._now()
            person = {"first_name": first_name, "last_name": last_name, "name": f"{first_name} {last_name}".strip(), **address}
            order = {"id": self.ids.next(), "name": f"#{self.order_number}", "order_number": self.order_number, "email": email,
                     "currency": "EUR", "presentment_currency": "EUR", "financial_status": financial_status, "fulfillment_status": None,
                     "taxes_included": True, "subtotal_price": _money(total), "total_line_items_price": _money(total),
                     "total_discounts": "0.00", "total_tax": _money(tax), "total_price": _money(total + SHIPPING_PRICE),
                     "created_at": stamp, "updated_at": stamp, "processed_at": stamp, "cancelled_at": None, "cancel_reason": None,
                     "note": None, "tags": "", "test": False,
                     "customer": {k: customer[k] for k in ("id", "email", "first_name", "last_name")},
                     "billing_address": dict(person), "shipping_address": dict(person), "line_items": items,
                     "shipping_lines": [{"id": self.ids.next(), "title": "Colissimo", "code": "COLISSIMO", "price": _money(SHIPPING_PRICE),
                                         "tax_lines": [{"title": "TVA", "price": _money(shipping_tax), "rate": float(TAX_RATE)}]}],
                     "discount_codes": [], "refunds": [], "fulfillments": []}
            location = self._first_location()
            for item in items:
                level = self.levels.get((self.variants[item["variant_id"]]["inventory_item_id"], location))
                if level is not None:
                    level["available"] -= item["quantity"]
                    level["updated_at"] = stamp
            fulfillment_order = {"id": self.ids.next(), "order_id": order["id"], "assigned_location_id": location, "status": "open",
                                 "line_items": [{"id": self.ids.next(), "line_item_id": i["id"], "variant_id": i["variant_id"],
                                                 "inventory_item_id": self.variants[i["variant_id"]]["inventory_item_id"],
                                                 "quantity": i["quantity"], "fulfillable_quantity": i["quantity"]} for i in items]}
            self.fulfillment_orders[fulfillment_order["id"]] = fulfillment_order
            self.orders[order["id"]] = order
            self._webhook("orders/create", order)
            if financial_status == "paid":
                self._webhook("orders/paid", order)
            return order

    def cancel_order(self, order_id: int, *, reason: str = "customer") -> dict:
        with self.lock:
            order = self._order(order_id)
            if order["cancelled_at"]:
                raise shopify_error(422, {"base": ["Order has already been cancelled"]})
            if order["fulfillments"]:
                raise shopify_error(422, {"base": ["Cannot cancel an order that has fulfillments"]})
            stamp = self._now()
            order.update(cancelled_at=stamp, cancel_reason=reason, updated_at=stamp,
                         financial_status="refunded" if order["financial_status"] == "paid" else "voided")
            for fulfillment_order in self._fulfillment_orders_of(order["id"]):
                fulfillment_order["status"] = "closed"
            self._restock([(item, item["quantity"]) for item in order["line_items"]])
            self._webhook("orders/cancelled", order)
            self._webhook("orders/updated", order)
            return order

    def refund(self, order_id: int, *, lines: list[dict], restock: bool = True, note: str = "") -> dict:
        with self.lock:
            order = self._order(order_id)
            by_id = {item["id"]: item for item in order["line_items"]}
            refund_lines, amount = [], Decimal(0)
            for line in lines:
                item = by_id.get(int(line["line_item_id"]))
                if item is None:
                    raise shopify_error(422, {"refund_line_items": [f"line item {line['line_item_id']} is not in this order"]})
                quantity = int(line["quantity"])
                already = sum(r["quantity"] for refund in order["refunds"] for r in refund["refund_line_items"] if r["line_item_id"] == item["id"])
                if quantity < 1 or already + quantity > item["quantity"]:
                    raise shopify_error(422, {"refund_line_items": [f"cannot refund {quantity} of line {item['id']}"]})
                gross = Decimal(item["price"]) * quantity
                tax = _tax_included(gross)
                amount += gross
                refund_lines.append({"id": self.ids.next(), "line_item_id": item["id"], "quantity": quantity,
                                     "restock_type": "return" if restock else "no_restock", "location_id": self._first_location(),
                                     "subtotal": _money(gross - tax), "total_tax": _money(tax), "line_item": dict(item)})
            stamp = self._now()
            refund = {"id": self.ids.next(), "order_id": order["id"], "created_at": stamp, "processed_at": stamp, "note": note or None,
                      "restock": restock, "refund_line_items": refund_lines,
                      "transactions": [{"id": self.ids.next(), "order_id": order["id"], "kind": "refund", "status": "success",
                                        "amount": _money(amount), "currency": "EUR", "gateway": "shopify_payments"}]}
            order["refunds"].append(refund)
            refunded = sum(Decimal(t["amount"]) for r in order["refunds"] for t in r["transactions"])
            order["financial_status"] = "refunded" if refunded >= Decimal(order["total_price"]) - SHIPPING_PRICE else "partially_refunded"
            order["updated_at"] = stamp
            if restock:
                self._restock([(by_id[r["line_item_id"]], r["quantity"]) for r in refund_lines])
            self._webhook("refunds/create", refund)
            self._webhook("orders/updated", order)
            return refund

    def _first_location(self) -> int:
        return int(next(iter(self.locations)))

    def _restock(self, items) -> None:
        location = self._first_location()
        for item, quantity in items:
            variant = self.variants.get(item["variant_id"])
            level = self.levels.get((variant["inventory_item_id"], location)) if variant else None
            if level is not None:
                level["available"] += quantity

    def _variant_for(self, line: dict) -> dict:
        if line.get("variant_id"):
            variant = self.variants.get(int(line["variant_id"]))
        else:
            variant = next((v for v in self.variants.values() if v["sku"] == line.get("sku")), None)
        if variant is None:
            raise shopify_error(422, {"line_items": [f"no variant {line.get('sku') or line.get('variant_id')} in this shop"]})
        return variant

    def _order(self, order_id) -> dict:
        order = self.orders.get(int(order_id))
        if order is None:
            raise shopify_error(404, "Not Found")
        return order

    def _fulfillment_orders_of(self, order_id: int) -> list[dict]:
        return [fo for fo in self.fulfillment_orders.values() if fo["order_id"] == order_id]

    def _webhook(self, topic: str, resource: dict) -> None:
        if not self.webhook_url:
            return
        body = json.dumps(resource).encode()
        headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": self.shop_domain,
                   "X-Shopify-API-Version": API_VERSION, "X-Shopify-Webhook-Id": self.ids.uuid(),
                   "X-Shopify-Triggered-At": self._now(), "X-Shopify-Event-Id": self.ids.uuid(),
                   "X-Shopify-Hmac-Sha256": hmac_sha256_base64(self.webhook_secret, body)}
        self.webhooks.enqueue(self.webhook_url, body, headers=headers, topic=topic)

    # --- REST resources --------------------------------------------------------------------------
    @route("GET", "shop.json")
    def shop_get(self, request):
        return {"shop": {"id": 1, "name": "Hub Demo Shop", "email": "shop@example.com", "myshopify_domain": self.shop_domain,
                         "currency": "EUR", "country_code": "FR", "plan_name": "basic"}}

    @route("GET", "locations.json")
    def locations_list(self, request):
        return {"locations": list(self.locations.values())}

    def _page(self, request: Request, resource: str, filter_names: tuple[str, ...], rows) -> Response:
        """Cursor pagination: the first page takes the filters, `page_info` carries them on with the
        position, and only `limit` (and `fields`) may go beside it. `rows(filters)` lists the items."""
        query = _query(request)
        try:
            limit = min(250, max(1, int(query.get("limit", 50))))
        except ValueError:
            raise shopify_error(400, {"limit": ["must be a number"]}) from None
        filters, offset = {name: query[name] for name in filter_names if name in query}, 0
        if "page_info" in query:
            extra = set(query) - {"page_info", "limit", "fields"}
            if extra:
                raise shopify_error(400, {"page_info": [f"page_info cannot be combined with {', '.join(sorted(extra))}"]})
            try:
                cursor = read_cursor(query["page_info"])
                filters, offset = dict(cursor["filters"]), int(cursor["offset"])
            except (ValueError, KeyError, TypeError):
                raise shopify_error(400, {"page_info": ["Invalid value."]}) from None
        items = rows(filters)
        links = []
        link_base = self.faults.value("next_link_base")
        if offset + limit < len(items) or link_base:
            links.append(self._link(link_base or self.url, resource, limit, offset + limit, "next", filters))
        if offset > 0:
            links.append(self._link(self.url, resource, limit, max(0, offset - limit), "previous", filters))
        return self.json({resource.removesuffix(".json").rsplit("/", 1)[-1]: items[offset:offset + limit]},
                         headers={"Link": ", ".join(links)} if links else None)

    @staticmethod
    def _link(base: str, resource: str, limit: int, offset: int, rel: str, filters: dict) -> str:
        token = cursor_token({"offset": offset, "filters": filters})
        return f'<{base}{API_PREFIX}{resource}?{urlencode({"limit": limit, "page_info": token})}>; rel="{rel}"'

    @route("GET", "orders.json")
    def orders_list(self, request):
        def rows(filters):
            orders = sorted(self.orders.values(), key=lambda o: (o["updated_at"], o["id"]))
            status = filters.get("status", "open")
            if status == "open":
                orders = [o for o in orders if not o["cancelled_at"]]
            elif status == "cancelled":
                orders = [o for o in orders if o["cancelled_at"]]
            if filters.get("updated_at_min"):
                since = _since(filters["updated_at_min"])
                orders = [o for o in orders if datetime.fromisoformat(o["updated_at"]) >= since]
            return orders
        return self._page(request, "orders.json", ("status", "updated_at_min"), rows)

    @route("GET", "orders/<int:order_id>.json")
    def order_get(self, request, order_id):
        return {"order": self._order(order_id)}

    @route("POST", "orders/<int:order_id>/cancel.json")
    def order_cancel(self, request, order_id):
        return {"order": self.cancel_order(order_id, reason=request.json_object().get("reason") or "other")}

    @route("GET", "orders/<int:order_id>/fulfillment_orders.json")
    def fulfillment_orders_list(self, request, order_id):
        return {"fulfillment_orders": self._fulfillment_orders_of(self._order(order_id)["id"])}

    @route("GET", "orders/<int:order_id>/refunds.json")
    def refunds_list(self, request, order_id):
        return {"refunds": self._order(order_id)["refunds"]}

    @route("POST", "fulfillments.json")
    def fulfillment_create(self, request):
        data = request.json_object().get("fulfillment") or {}
        groups = data.get("line_items_by_fulfillment_order") or []
        if not groups:
            raise shopify_error(422, {"line_items_by_fulfillment_order": ["can't be blank"]})
        plan, order = [], None
        for group in groups:
            fulfillment_order = self.fulfillment_orders.get(int(group.get("fulfillment_order_id") or 0))
            if fulfillment_order is None:
                raise shopify_error(422, {"fulfillment_order_id": ["Fulfillment order does not exist."]})
            if fulfillment_order["status"] == "closed":
                raise shopify_error(422, {"base": ["Fulfillment order is closed."]})
            order = self.orders[fulfillment_order["order_id"]]
            lines = {line["id"]: line for line in fulfillment_order["line_items"]}
            for item in group.get("fulfillment_order_line_items") or [{"id": i, "quantity": l["fulfillable_quantity"]} for i, l in lines.items()]:
                line = lines.get(int(item["id"]))
                quantity = int(item["quantity"])
                if line is None or quantity < 1 or quantity > line["fulfillable_quantity"]:
                    raise shopify_error(422, {"fulfillment_order_line_items": [f"Invalid quantity for line item {item['id']}."]})
                plan.append((fulfillment_order, line, quantity))
        tracking = data.get("tracking_info") or {}
        by_line = {i["id"]: i for i in order["line_items"]}
        for fulfillment_order, line, quantity in plan:
            line["fulfillable_quantity"] -= quantity
            by_line[line["line_item_id"]]["fulfillable_quantity"] -= quantity
            if not any(l["fulfillable_quantity"] for l in fulfillment_order["line_items"]):
                fulfillment_order["status"] = "closed"
        stamp = self._now()
        number = tracking.get("number") or None
        fulfillment = {"id": self.ids.next(), "order_id": order["id"], "status": "success", "created_at": stamp, "updated_at": stamp,
                       "tracking_company": tracking.get("company") or None, "tracking_number": number,
                       "tracking_numbers": [number] if number else [], "tracking_url": tracking.get("url") or None,
                       "tracking_urls": [tracking["url"]] if tracking.get("url") else [],
                       "line_items": [{**by_line[line["line_item_id"]], "quantity": quantity} for _, line, quantity in plan]}
        order["fulfillments"].append(fulfillment)
        order["fulfillment_status"] = "fulfilled" if not any(i["fulfillable_quantity"] for i in order["line_items"]) else "partial"
        order["updated_at"] = stamp
        self._webhook("orders/updated", order)
        return self.json({"fulfillment": fulfillment}, 201)

    @route("GET", "customers.json")
    def customers_list(self, request):
        return self._page(request, "customers.json", (), lambda filters: sorted(self.customers.values(), key=lambda c: (c["updated_at"], c["id"])))

    @route("GET", "products.json")
    def products_list(self, request):
        def rows(filters):
            products = sorted(self.products.values(), key=lambda p: p["id"])
            if filters.get("handle"):
                handles = set(filters["handle"].split(","))
                products = [p for p in products if p["handle"] in handles]
            return products
        return self._page(request, "products.json", ("handle",), rows)

    @route("GET", "products/<int:product_id>.json")
    def product_get(self, request, product_id):
        return {"product": self._product(product_id)}

    @route("POST", "products.json")
    def product_create(self, request):
        return self.json({"product": self._product_add(request.json_object().get("product"))}, 201)

    def _product(self, product_id: int) -> dict:
        product = self.products.get(product_id)
        if product is None:
            raise shopify_error(404, "Not Found")
        return product

    def _product_add(self, data) -> dict:
        if not isinstance(data, dict):
            raise shopify_error(400, {"product": "Required parameter missing or invalid"})
        if not (data.get("title") or "").strip():
            raise shopify_error(422, {"title": ["can't be blank"]})
        stamp = self._now()
        product = {"id": self.ids.next(), "title": data["title"], "body_html": data.get("body_html") or "", "vendor": data.get("vendor") or "",
                   "product_type": data.get("product_type") or "", "handle": data.get("handle") or re.sub(r"\W+", "-", data["title"].lower()),
                   "status": data.get("status") or "active", "tags": data.get("tags") or "", "created_at": stamp, "updated_at": stamp,
                   "options": data.get("options") or [{"name": "Title"}], "variants": []}
        self.products[product["id"]] = product
        for variant in data.get("variants") or [{}]:
            self._variant_add(product, variant)
        return product

    @route("PUT", "products/<int:product_id>.json")
    def product_update(self, request, product_id):
        product = self._product(product_id)
        data = request.json_object().get("product") or {}
        if "title" in data and not (data["title"] or "").strip():
            raise shopify_error(422, {"title": ["can't be blank"]})
        for key in ("title", "body_html", "vendor", "product_type", "handle", "status", "tags", "options"):
            if key in data:
                product[key] = data[key]
        if "variants" in data:
            keep = []
            for row in data["variants"]:
                if row.get("id"):
                    variant = self.variants.get(int(row["id"]))
                    if variant is None or variant["product_id"] != product["id"]:
                        raise shopify_error(422, {"variants": [f"variant {row['id']} does not belong to this product"]})
                    self._variant_apply(variant, row)
                    keep.append(variant)
                else:
                    keep.append(self._variant_add(product, row, attach=False))
            for variant in product["variants"]:
                if variant not in keep:
                    self.variants.pop(variant["id"], None)
            product["variants"] = keep
        product["updated_at"] = self._now()
        return {"product": product}

    def _variant_add(self, product: dict, data: dict, *, attach: bool = True) -> dict:
        sku = data.get("sku") or ""
        if sku and any(v["sku"] == sku for v in self.variants.values() if v["product_id"] != product["id"]):
            raise shopify_error(422, {"sku": [f"{sku} is already used by another product"]})
        stamp = self._now()
        variant = {"id": self.ids.next(), "product_id": product["id"], "title": "Default Title", "sku": sku, "price": "0.00",
                   "compare_at_price": None, "barcode": None, "grams": 0, "weight": 0.0, "weight_unit": "kg",
                   "option1": "Default Title", "option2": None, "option3": None, "inventory_management": "shopify",
                   "inventory_item_id": self.ids.next(), "created_at": stamp, "updated_at": stamp}
        self._variant_apply(variant, data)
        self.variants[variant["id"]] = variant
        for location in self.locations:
            self.levels[(variant["inventory_item_id"], int(location))] = {"inventory_item_id": variant["inventory_item_id"],
                                                                         "location_id": int(location), "available": 0, "updated_at": stamp}
        if attach:
            product["variants"].append(variant)
        return variant

    def _variant_apply(self, variant: dict, data: dict) -> None:
        if "price" in data:
            try:
                variant["price"] = _money(Decimal(str(data["price"])))
            except Exception:
                raise shopify_error(422, {"price": ["is not a number"]}) from None
        for key in ("sku", "compare_at_price", "barcode", "grams", "weight", "weight_unit", "option1", "option2", "option3", "inventory_management"):
            if key in data:
                variant[key] = data[key]
        variant["title"] = " / ".join(str(variant[k]) for k in ("option1", "option2", "option3") if variant.get(k)) or "Default Title"
        variant["updated_at"] = self._now()

    @route("POST", "products/<int:product_id>/variants.json")
    def variant_create(self, request, product_id):
        return self.json({"variant": self._variant_add(self._product(product_id), request.json_object().get("variant") or {})}, 201)

    @route("PUT", "variants/<int:variant_id>.json")
    def variant_update(self, request, variant_id):
        variant = self.variants.get(variant_id)
        if variant is None:
            raise shopify_error(404, "Not Found")
        self._variant_apply(variant, request.json_object().get("variant") or {})
        return {"variant": variant}

    @route("POST", "inventory_levels/set.json")
    def level_set(self, request):
        body = request.json_object()
        try:
            key = (int(body["inventory_item_id"]), int(body["location_id"]))
            available = int(body["available"])
        except (KeyError, TypeError, ValueError):
            raise shopify_error(422, {"base": ["inventory_item_id, location_id and available are required"]}) from None
        if key not in self.levels:
            raise shopify_error(422, {"base": ["Inventory item does not have inventory tracking enabled or is not stocked at the location"]})
        self.levels[key].update(available=available, updated_at=self._now())
        return {"inventory_level": self.levels[key]}

    @route("GET", "inventory_levels.json")
    def levels_list(self, request):
        def ids(filters, name):
            values = [v for v in (filters.get(name) or "").split(",") if v]
            if len(values) > 50:
                raise shopify_error(422, {name: ["cannot have more than 50 ids"]})
            try:
                return {int(v) for v in values}
            except ValueError:
                raise shopify_error(400, {name: ["must be a list of ids"]}) from None

        def rows(filters):
            items, locations = ids(filters, "inventory_item_ids"), ids(filters, "location_ids")
            if not items and not locations:
                raise shopify_error(422, {"base": ["inventory_item_ids or location_ids is required"]})
            return [level for (item, location), level in sorted(self.levels.items())
                    if (not items or item in items) and (not locations or location in locations)]
        return self._page(request, "inventory_levels.json", ("inventory_item_ids", "location_ids"), rows)

    # --- GraphQL ---------------------------------------------------------------------------------
    @staticmethod
    def _is_graphql(request: Request) -> bool:
        return request.path == f"{API_PREFIX}graphql.json"

    @staticmethod
    def _graphql_text(request: Request) -> str:
        try:
            return str(request.json_object().get("query") or "")
        except InvalidBody:
            return ""

    def _requested_cost(self, request: Request) -> int:
        """Shopify's published rule of thumb: a mutation field costs 10, every object selected 1,
        scalars 0. Each `{` after the first opens an object selection."""
        text = self._graphql_text(request)
        mutation = "inventorySetQuantities" in text
        objects = max(0, text.count("{") - 1 - (1 if mutation else 0))
        return (MUTATION_COST if mutation else 0) + objects

    def _throttle_status(self) -> dict:
        return {"maximumAvailable": self.cost_bucket.capacity, "currentlyAvailable": int(self.cost_bucket.available()),
                "restoreRate": self.cost_bucket.refill}

    def _graphql_throttled(self, cost: int) -> Response:
        return self.json({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS_DOC}}],
                          "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": None,
                                                  "throttleStatus": self._throttle_status()}}})

    @route("POST", "graphql.json")
    def graphql(self, request):
        body = request.json_object()
        text, variables = str(body.get("query") or ""), body.get("variables") or {}
        if "inventorySetQuantities" in text:
            run = lambda: self._set_quantities(variables.get("input") or {})  # noqa: E731
        elif re.search(r"\bshop\s*\{", text):
            run = lambda: {"shop": {"name": "Hub Demo Shop"}}  # noqa: E731
        elif search := re.search(r'\bproductVariants\s*\([^)]*?\bquery\s*:\s*(?:\$(\w+)|("(?:[^"\\]|\\.)*"))', text):
            terms = str(variables.get(search[1]) or "") if search[1] else _unescape(search[2][1:-1])
            run = lambda: self._variants_search(terms)  # noqa: E731
        else:
            return {"errors": [{"message": "This sandbox only implements inventorySetQuantities, productVariants and shop.",
                                "extensions": {"code": "undefinedField"}}]}
        cost = self._requested_cost(request)
        allowed, _ = self.cost_bucket.take(cost)
        if not allowed:
            self.count("graphql throttled")
            return self._graphql_throttled(cost)
        self.count("graphql points", cost)
        return {"data": run(), "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost,
                                                       "throttleStatus": self._throttle_status()}}}

    def _variants_search(self, query: str) -> dict:
        """`productVariants(query: …)` in Shopify's search syntax, SKU terms only: `sku:A OR sku:"B C"`."""
        skus = {_unescape(quoted) if quoted else bare
                for quoted, bare in re.findall(r'sku:(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))', query)}
        nodes = [{"id": f"gid://shopify/ProductVariant/{v['id']}", "sku": v["sku"],
                  "product": {"id": f"gid://shopify/Product/{v['product_id']}", "legacyResourceId": str(v["product_id"])}}
                 for v in sorted(self.variants.values(), key=lambda v: v["id"]) if v["sku"] and v["sku"] in skus]
        return {"productVariants": {"nodes": nodes[:250]}}

    def _set_quantities(self, data: dict) -> dict:
        rows = data.get("quantities") or []
        errors = []
        if data.get("name") not in ("available", "on_hand"):
            errors.append({"field": ["input", "name"], "message": "The quantity name must be either 'available' or 'on_hand'.", "code": "INVALID_NAME"})
        if len(rows) > MAX_QUANTITIES_PER_CALL:
            errors.append({"field": ["input", "quantities"], "message": f"The quantities can't exceed {MAX_QUANTITIES_PER_CALL} items.",
                           "code": "INVALID_QUANTITY_DOCUMENT"})
        parsed = []
        for index, row in enumerate(rows):
            try:
                item = int(str(row["inventoryItemId"]).rsplit("/", 1)[-1])
                location = int(str(row["locationId"]).rsplit("/", 1)[-1])
                quantity = int(row["quantity"])
            except (KeyError, TypeError, ValueError):
                errors.append({"field": ["input", "quantities", str(index)], "message": "Invalid quantity row.", "code": "INVALID_INVENTORY_ITEM"})
                continue
            if (item, location) not in self.levels:
                errors.append({"field": ["input", "quantities", str(index), "inventoryItemId"],
                               "message": "The specified inventory item could not be found.", "code": "INVALID_INVENTORY_ITEM"})
            parsed.append((item, location, quantity))
        if errors:
            return {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": errors}}
        stamp = self._now()
        for item, location, quantity in parsed:
            self.levels[(item, location)].update(available=quantity, updated_at=stamp)
        self.count("quantities set", len(parsed))
        return {"inventorySetQuantities": {"inventoryAdjustmentGroup": {"createdAt": stamp, "reason": data.get("reason")}, "userErrors": []}}

    # --- control API (not Shopify: for tests, the demo and the traffic generator) ----------------
    @control("GET", "inventory")
    def _control_inventory(self, request):
        return {"inventory_levels": [{"inventory_item_id": item, "location_id": location, "available": level["available"]}
                                     for (item, location), level in self.levels.items()]}

    @control("GET", "orders/<int:order_id>")
    def _control_order(self, request, order_id):
        return {"order": self._order(order_id)}

    @control("POST", "orders")
    def _control_place_order(self, request):
        body = request.json_object()
        return self.json({"order": self.place_order(lines=body.get("lines") or [], email=body.get("email") or "shopper@example.com",
                                                    financial_status=body.get("financial_status") or "paid")}, 201)

    @control("POST", "orders/<int:order_id>/cancel")
    def _control_cancel(self, request, order_id):
        return {"order": self.cancel_order(order_id, reason=request.json_object().get("reason") or "customer")}

    @control("POST", "orders/<int:order_id>/refunds")
    def _control_refund(self, request, order_id):
        body = request.json_object()
        return self.json({"refund": self.refund(order_id, lines=body.get("lines") or [], restock=body.get("restock", True),
                                                note=body.get("note", ""))}, 201)

    @control("POST", "products")
    def _control_seed_products(self, request):  # bulk seeding for benchmarks: no rate limit, no webhooks
        return self.json({"products": [self._product_add(product) for product in request.json_object().get("products") or []]}, 201)

    @control("POST", "customers")
    def _control_customer(self, request):
        body = request.json_object()
        return self.json({"customer": self.create_customer(email=body["email"], first_name=body.get("first_name", ""),
                                                           last_name=body.get("last_name", ""))}, 201)
