"""A Shopify shop on localhost, speaking the part of the Admin API (2025-01) and of the webhooks
the hub uses, as Shopify documents them: access-token auth, REST resources with `page_info`
cursor pagination, the REST leaky bucket (`X-Shopify-Shop-Api-Call-Limit`, 429 + `Retry-After`),
GraphQL calculated query cost (`extensions.cost`, THROTTLED), error shapes, and webhooks signed
with HMAC-SHA256 (base64) that are retried on failure and now and then delivered twice.

State lives in memory. Fault switches (5xx windows, slow or malformed answers, forced 429s,
dropped or duplicated webhooks) let tests and demos show how the hub copes.

Standard library only (plus `requests` to send webhooks), no Django: tests start it in-process,
`manage.py shopify_sandbox` runs it in the foreground."""

import base64
import hashlib
import hmac
import itertools
import json
import math
import queue
import random
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

API_VERSION = "2025-01"
TAX_RATE = Decimal("0.20")
SHIPPING_PRICE = Decimal("4.90")
MAX_QUANTITIES_PER_CALL = 250
MUTATION_COST = 10
DEFAULT_LOCATIONS = (("1001", "Lyon DC"), ("1002", "3PL Nord"))
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _tax_included(gross: Decimal) -> Decimal:
    return (gross * TAX_RATE / (1 + TAX_RATE)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def webhook_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class ApiError(Exception):
    def __init__(self, status: int, errors, headers: dict | None = None):
        super().__init__(status)
        self.status, self.errors, self.headers = status, errors, headers or {}


class LeakyBucket:
    """REST: each request adds one marble; marbles leak at `leak` per second."""

    def __init__(self, size: int, leak: float):
        self.size, self.leak, self.level, self.at = size, leak, 0.0, time.monotonic()

    def take(self) -> tuple[bool, float]:
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.at) * self.leak)
        self.at = now
        if self.level + 1 > self.size:
            return False, (self.level + 1 - self.size) / self.leak
        self.level += 1
        return True, 0.0

    def used(self) -> int:
        return min(self.size, int(self.level + 0.999))


class CostBucket:
    """GraphQL: a query needs its requested cost available; points restore at `restore` per second."""

    def __init__(self, maximum: float, restore: float):
        self.maximum, self.restore, self.available, self.at = maximum, restore, maximum, time.monotonic()

    def refresh(self) -> None:
        now = time.monotonic()
        self.available = min(self.maximum, self.available + (now - self.at) * self.restore)
        self.at = now

    def status(self) -> dict:
        return {"maximumAvailable": self.maximum, "currentlyAvailable": int(self.available), "restoreRate": self.restore}


class ShopifySandbox:
    def __init__(self, *, access_token: str, webhook_url: str | None = None, webhook_secret: str | None = None,
                 shop_domain: str = "hub-demo.myshopify.com", host: str = "127.0.0.1", port: int = 0,
                 rest_bucket: int = 40, rest_leak_per_second: float = 2.0, graphql_maximum: float = 2000.0,
                 graphql_restore: float = 100.0, duplicate_rate: float = 0.0, webhook_retry_delays=(1, 2, 4, 8, 16, 32, 64),
                 locations=DEFAULT_LOCATIONS, seed: int | None = None):
        self.access_token, self.webhook_url, self.webhook_secret = access_token, webhook_url, webhook_secret or ""
        self.shop_domain = shop_domain
        self.rest_bucket, self.cost_bucket = LeakyBucket(rest_bucket, rest_leak_per_second), CostBucket(graphql_maximum, graphql_restore)
        self.webhook_retry_delays = tuple(webhook_retry_delays)
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.faults = {"fail_5xx_until": 0.0, "slow_ms": 0, "slow_after_ms": 0, "malformed_next": 0, "throttle_next": 0,
                       "drop_webhooks": False, "webhook_duplicate_rate": duplicate_rate}
        self.stats: dict[str, int] = {}
        self._ids = itertools.count(7_000_000_000_001)
        self._initial_locations = locations
        self.reset()
        self._outbox: queue.Queue = queue.Queue()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_port}"
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "ShopifySandbox":
        for target in (self._server.serve_forever, self._send_webhooks):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        self.start()
        try:
            while not self._stopping.is_set():
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stop()

    def reset(self) -> None:
        with self.lock:
            self.locations = {lid: {"id": int(lid), "name": name, "active": True, "country_code": "FR"} for lid, name in self._initial_locations}
            self.products: dict[int, dict] = {}
            self.variants: dict[int, dict] = {}
            self.levels: dict[tuple[int, int], dict] = {}
            self.customers: dict[int, dict] = {}
            self.orders: dict[int, dict] = {}
            self.fulfillment_orders: dict[int, dict] = {}
            self.order_number = 1000

    def set_faults(self, **switches) -> dict:
        unknown = set(switches) - set(self.faults) - {"fail_5xx_for_seconds"}
        if unknown:
            raise ValueError(f"unknown fault switches: {', '.join(sorted(unknown))}")
        with self.lock:
            if "fail_5xx_for_seconds" in switches:
                self.faults["fail_5xx_until"] = time.monotonic() + float(switches.pop("fail_5xx_for_seconds"))
            self.faults.update(switches)
            return dict(self.faults)

    def _count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.stats[key] = self.stats.get(key, 0) + n

    def _next_id(self) -> int:
        return next(self._ids)

    # --- shop-side actions (what shoppers and merchants do in the shop) ---------------------------
    def create_customer(self, *, email: str, first_name: str = "", last_name: str = "", address: dict | None = None) -> dict:
        with self.lock:
            existing = next((c for c in self.customers.values() if c["email"] == email), None)
            if existing:
                return existing
            stamp = _now()
            customer = {"id": self._next_id(), "email": email, "first_name": first_name, "last_name": last_name, "phone": None,
                        "tags": "", "created_at": stamp, "updated_at": stamp, "addresses": [], "default_address": None}
            if address:
                row = {"id": self._next_id(), "customer_id": customer["id"], "default": True, **address}
                customer["addresses"], customer["default_address"] = [row], row
            self.customers[customer["id"]] = customer
        self._webhook("customers/create", customer)
        return customer

    def place_order(self, *, lines: list[dict], email: str, financial_status: str = "paid", first_name: str = "Camille",
                    last_name: str = "Martin", address: dict | None = None) -> dict:
        address = address or {"address1": "12 rue des Lilas", "city": "Lyon", "zip": "69003", "country_code": "FR"}
        customer = self.create_customer(email=email, first_name=first_name, last_name=last_name, address=address)
        with self.lock:
            items, total = [], Decimal(0)
            for line in lines:
                variant = self._variant_for(line)
                quantity = int(line["quantity"])
                if quantity < 1:
                    raise ApiError(422, {"line_items": ["quantity must be greater than 0"]})
                gross = Decimal(variant["price"]) * quantity
                total += gross
                product = self.products[variant["product_id"]]
                items.append({"id": self._next_id(), "variant_id": variant["id"], "product_id": product["id"], "sku": variant["sku"],
                              "title": product["title"], "name": product["title"], "quantity": quantity, "price": variant["price"],
                              "fulfillable_quantity": quantity, "fulfillment_status": None, "requires_shipping": True, "taxable": True,
                              "tax_lines": [{"title": "TVA", "price": _money(_tax_included(gross)), "rate": float(TAX_RATE)}],
                              "discount_allocations": []})
            shipping_tax = _tax_included(SHIPPING_PRICE)
            tax = sum((Decimal(i["tax_lines"][0]["price"]) for i in items), Decimal(0)) + shipping_tax
            self.order_number += 1
            stamp = _now()
            person = {"first_name": first_name, "last_name": last_name, "name": f"{first_name} {last_name}".strip(), **address}
            order = {"id": self._next_id(), "name": f"#{self.order_number}", "order_number": self.order_number, "email": email,
                     "currency": "EUR", "presentment_currency": "EUR", "financial_status": financial_status, "fulfillment_status": None,
                     "taxes_included": True, "subtotal_price": _money(total), "total_line_items_price": _money(total),
                     "total_discounts": "0.00", "total_tax": _money(tax), "total_price": _money(total + SHIPPING_PRICE),
                     "created_at": stamp, "updated_at": stamp, "processed_at": stamp, "cancelled_at": None, "cancel_reason": None,
                     "note": None, "tags": "", "test": False,
                     "customer": {k: customer[k] for k in ("id", "email", "first_name", "last_name")},
                     "billing_address": dict(person), "shipping_address": dict(person), "line_items": items,
                     "shipping_lines": [{"id": self._next_id(), "title": "Colissimo", "code": "COLISSIMO", "price": _money(SHIPPING_PRICE),
                                         "tax_lines": [{"title": "TVA", "price": _money(shipping_tax), "rate": float(TAX_RATE)}]}],
                     "discount_codes": [], "refunds": [], "fulfillments": []}
            location = int(next(iter(self.locations)))
            for item in items:
                level = self.levels.get((self.variants[item["variant_id"]]["inventory_item_id"], location))
                if level is not None:
                    level["available"] -= item["quantity"]
                    level["updated_at"] = stamp
            fulfillment_order = {"id": self._next_id(), "order_id": order["id"], "assigned_location_id": location, "status": "open",
                                 "line_items": [{"id": self._next_id(), "line_item_id": i["id"], "variant_id": i["variant_id"],
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
                raise ApiError(422, {"base": ["Order has already been cancelled"]})
            if order["fulfillments"]:
                raise ApiError(422, {"base": ["Cannot cancel an order that has fulfillments"]})
            stamp = _now()
            order.update(cancelled_at=stamp, cancel_reason=reason, updated_at=stamp,
                         financial_status="refunded" if order["financial_status"] == "paid" else "voided")
            for fulfillment_order in self._fulfillment_orders_of(order["id"]):
                fulfillment_order["status"] = "closed"
            self._restock(order, [(item, item["quantity"]) for item in order["line_items"]])
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
                    raise ApiError(422, {"refund_line_items": [f"line item {line['line_item_id']} is not in this order"]})
                quantity = int(line["quantity"])
                already = sum(r["quantity"] for refund in order["refunds"] for r in refund["refund_line_items"] if r["line_item_id"] == item["id"])
                if quantity < 1 or already + quantity > item["quantity"]:
                    raise ApiError(422, {"refund_line_items": [f"cannot refund {quantity} of line {item['id']}"]})
                gross = Decimal(item["price"]) * quantity
                tax = _tax_included(gross)
                amount += gross
                refund_lines.append({"id": self._next_id(), "line_item_id": item["id"], "quantity": quantity,
                                     "restock_type": "return" if restock else "no_restock", "location_id": int(next(iter(self.locations))),
                                     "subtotal": _money(gross - tax), "total_tax": _money(tax), "line_item": dict(item)})
            stamp = _now()
            refund = {"id": self._next_id(), "order_id": order["id"], "created_at": stamp, "processed_at": stamp, "note": note or None,
                      "restock": restock, "refund_line_items": refund_lines,
                      "transactions": [{"id": self._next_id(), "order_id": order["id"], "kind": "refund", "status": "success",
                                        "amount": _money(amount), "currency": "EUR", "gateway": "shopify_payments"}]}
            order["refunds"].append(refund)
            refunded = sum(Decimal(t["amount"]) for r in order["refunds"] for t in r["transactions"])
            order["financial_status"] = "refunded" if refunded >= Decimal(order["total_price"]) - SHIPPING_PRICE else "partially_refunded"
            order["updated_at"] = stamp
            if restock:
                self._restock(order, [(by_id[r["line_item_id"]], r["quantity"]) for r in refund_lines])
        self._webhook("refunds/create", refund)
        self._webhook("orders/updated", order)
        return refund

    def _restock(self, order, items) -> None:
        location = int(next(iter(self.locations)))
        for item, quantity in items:
            level = self.levels.get((self.variants[item["variant_id"]]["inventory_item_id"], location)) if item["variant_id"] in self.variants else None
            if level is not None:
                level["available"] += quantity

    def _variant_for(self, line: dict) -> dict:
        if line.get("variant_id"):
            variant = self.variants.get(int(line["variant_id"]))
        else:
            variant = next((v for v in self.variants.values() if v["sku"] == line.get("sku")), None)
        if variant is None:
            raise ApiError(422, {"line_items": [f"no variant {line.get('sku') or line.get('variant_id')} in this shop"]})
        return variant

    def _order(self, order_id) -> dict:
        order = self.orders.get(int(order_id))
        if order is None:
            raise ApiError(404, "Not Found")
        return order

    def _fulfillment_orders_of(self, order_id: int) -> list[dict]:
        return [fo for fo in self.fulfillment_orders.values() if fo["order_id"] == order_id]

    # --- webhooks --------------------------------------------------------------------------------
    def _webhook(self, topic: str, resource: dict) -> None:
        self._count(f"webhooks queued {topic}")
        if self.faults["drop_webhooks"] or not self.webhook_url:
            return
        body = json.dumps(resource).encode()
        headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": self.shop_domain,
                   "X-Shopify-API-Version": API_VERSION, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                   "X-Shopify-Triggered-At": _now(), "X-Shopify-Event-Id": str(uuid.uuid4()),
                   "X-Shopify-Hmac-Sha256": webhook_signature(self.webhook_secret, body)}
        self._outbox.put((time.monotonic(), 0, body, headers))

    def _send_webhooks(self) -> None:
        session = requests.Session()
        while not self._stopping.is_set():
            try:
                due, attempt, body, headers = self._outbox.get(timeout=0.2)
            except queue.Empty:
                continue
            wait = due - time.monotonic()
            if wait > 0:
                self._outbox.put((due, attempt, body, headers))
                time.sleep(min(wait, 0.2))
                continue
            try:
                ok = session.post(self.webhook_url, data=body, headers=headers, timeout=5).status_code < 300
            except requests.RequestException:
                ok = False
            if ok:
                self._count("webhooks delivered")
                if self.rng.random() < float(self.faults["webhook_duplicate_rate"]) and not headers.get("X-Sandbox-Duplicate"):
                    self._count("webhooks duplicated")
                    self._outbox.put((time.monotonic() + 0.2, attempt, body, {**headers, "X-Sandbox-Duplicate": "1"}))
            elif attempt < len(self.webhook_retry_delays):
                self._count("webhooks retried")
                self._outbox.put((time.monotonic() + self.webhook_retry_delays[attempt], attempt + 1, body, headers))
            else:
                self._count("webhooks failed")

    # --- HTTP ------------------------------------------------------------------------------------
    def _handler_class(self):
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                sandbox._dispatch(self, "GET")

            def do_POST(self):
                sandbox._dispatch(self, "POST")

            def do_PUT(self):
                sandbox._dispatch(self, "PUT")

            def do_DELETE(self):
                sandbox._dispatch(self, "DELETE")

        return Handler

    def _reply(self, handler, status: int, payload, headers: dict | None = None, *, malformed: bool = False) -> None:
        body = json.dumps(payload).encode() if payload is not None else b""
        if malformed:
            body = body[: max(1, len(body) // 2)]
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _dispatch(self, handler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if parts.path.startswith("/_sandbox/"):
            return self._control(handler, method, parts.path[len("/_sandbox/"):].strip("/"), raw)
        prefix = f"/admin/api/{API_VERSION}/"
        if not parts.path.startswith(prefix):
            return self._reply(handler, 404, {"errors": "Not Found"})
        resource = parts.path[len(prefix):]
        self._count(f"{method} {re.sub(r'/[0-9]+', '/{id}', resource)}")
        if handler.headers.get("X-Shopify-Access-Token") != self.access_token:
            return self._reply(handler, 401, {"errors": INVALID_TOKEN})
        if self.faults["slow_ms"]:
            time.sleep(self.faults["slow_ms"] / 1000)
        if time.monotonic() < self.faults["fail_5xx_until"]:
            self._count("5xx sent")
            return self._reply(handler, self.rng.choice([500, 502, 503]), {"errors": "Internal Server Error"})
        graphql = resource == "graphql.json"
        headers = {}
        if not graphql:
            with self.lock:
                forced = self.faults["throttle_next"] > 0
                if forced:
                    self.faults["throttle_next"] -= 1
                allowed, retry_after = self.rest_bucket.take() if not forced else (False, 1.0)
                headers["X-Shopify-Shop-Api-Call-Limit"] = f"{self.rest_bucket.used()}/{self.rest_bucket.size}"
            if not allowed:
                self._count("429 sent")
                headers["Retry-After"] = f"{max(math.ceil(retry_after * 10) / 10, 0.1):.1f}"
                return self._reply(handler, 429, {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}, headers)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self._reply(handler, 400, {"errors": "the request body is not valid JSON"}, headers)
        try:
            status, payload, extra = self._api(method, resource, query, body)
        except ApiError as error:
            return self._reply(handler, error.status, {"errors": error.errors}, {**headers, **error.headers})
        headers.update(extra)
        if self.faults["slow_after_ms"]:
            time.sleep(self.faults["slow_after_ms"] / 1000)
        with self.lock:
            malformed = self.faults["malformed_next"] > 0
            if malformed:
                self.faults["malformed_next"] -= 1
        self._reply(handler, status, payload, headers, malformed=malformed)

    def _api(self, method: str, resource: str, query: dict, body: dict):
        routes = [
            ("GET", r"shop\.json", self._shop), ("GET", r"locations\.json", self._locations),
            ("GET", r"orders\.json", self._orders_list), ("GET", r"orders/(\d+)\.json", self._order_get),
            ("POST", r"orders/(\d+)/cancel\.json", self._order_cancel),
            ("GET", r"orders/(\d+)/fulfillment_orders\.json", self._fulfillment_orders_get),
            ("GET", r"orders/(\d+)/refunds\.json", self._refunds_get),
            ("POST", r"fulfillments\.json", self._fulfillment_create), ("GET", r"customers\.json", self._customers_list),
            ("GET", r"products\.json", self._products_list), ("POST", r"products\.json", self._product_create),
            ("GET", r"products/(\d+)\.json", self._product_get), ("PUT", r"products/(\d+)\.json", self._product_update),
            ("POST", r"products/(\d+)/variants\.json", self._variant_create), ("PUT", r"variants/(\d+)\.json", self._variant_update),
            ("POST", r"inventory_levels/set\.json", self._level_set), ("GET", r"inventory_levels\.json", self._levels_list),
            ("POST", r"graphql\.json", self._graphql),
        ]
        for verb, pattern, action in routes:
            match = re.fullmatch(pattern, resource)
            if match and verb == method:
                with self.lock:
                    return action(query, body, *match.groups())
        raise ApiError(404, "Not Found")

    # --- REST resources --------------------------------------------------------------------------
    def _shop(self, query, body):
        return 200, {"shop": {"id": 1, "name": "Hub Demo Shop", "email": "shop@example.com", "myshopify_domain": self.shop_domain,
                              "currency": "EUR", "country_code": "FR", "plan_name": "basic"}}, {}

    def _locations(self, query, body):
        return 200, {"locations": list(self.locations.values())}, {}

    def _page(self, resource: str, key: str, items: list[dict], query: dict, filters: dict | None = None):
        """Cursor pagination: `page_info` carries the filters and position; only `limit` may go with it."""
        try:
            limit = min(250, max(1, int(query.get("limit", 50))))
        except ValueError:
            raise ApiError(400, {"limit": ["must be a number"]}) from None
        offset = 0
        if "page_info" in query:
            extra = set(query) - {"page_info", "limit", "fields"}
            if extra:
                raise ApiError(400, {"page_info": [f"page_info cannot be combined with {', '.join(sorted(extra))}"]})
            try:
                cursor = json.loads(base64.urlsafe_b64decode(query["page_info"].encode()))
            except ValueError:
                raise ApiError(400, {"page_info": ["Invalid value."]}) from None
            offset = cursor["offset"]
        page = items[offset:offset + limit]
        links = []
        if offset + limit < len(items):
            links.append(self._link(resource, limit, offset + limit, "next", filters))
        if offset > 0:
            links.append(self._link(resource, limit, max(0, offset - limit), "previous", filters))
        return 200, {key: page}, ({"Link": ", ".join(links)} if links else {})

    def _link(self, resource, limit, offset, rel, filters=None) -> str:
        token = base64.urlsafe_b64encode(json.dumps({"offset": offset, "filters": filters or {}}).encode()).decode()
        return f'<{self.url}/admin/api/{API_VERSION}/{resource}?{urlencode({"limit": limit, "page_info": token})}>; rel="{rel}"'

    def _orders_list(self, query, body):
        page_query = {k: v for k, v in query.items() if k in ("limit", "page_info", "fields")}
        if "page_info" in query:
            if set(query) - {"page_info", "limit", "fields"}:
                raise ApiError(400, {"page_info": ["page_info cannot be combined with other filters"]})
            try:
                query = json.loads(base64.urlsafe_b64decode(query["page_info"].encode())).get("filters", {})
            except ValueError:
                raise ApiError(400, {"page_info": ["Invalid value."]}) from None
        filters = {k: v for k, v in query.items() if k in ("status", "updated_at_min")}
        orders = sorted(self.orders.values(), key=lambda o: (o["updated_at"], o["id"]))
        status = filters.get("status", "open")
        if status == "open":
            orders = [o for o in orders if not o["cancelled_at"]]
        elif status == "cancelled":
            orders = [o for o in orders if o["cancelled_at"]]
        if filters.get("updated_at_min"):
            try:
                since = datetime.fromisoformat(filters["updated_at_min"].replace("Z", "+00:00"))
            except ValueError:
                raise ApiError(400, {"updated_at_min": ["is not a valid date"]}) from None
            orders = [o for o in orders if datetime.fromisoformat(o["updated_at"]) >= since]
        return self._page("orders.json", "orders", orders, page_query, filters)

    def _order_get(self, query, body, order_id):
        return 200, {"order": self._order(order_id)}, {}

    def _order_cancel(self, query, body, order_id):
        order = self.cancel_order(int(order_id), reason=body.get("reason") or "other")
        return 200, {"order": order}, {}

    def _fulfillment_orders_get(self, query, body, order_id):
        order = self._order(order_id)
        return 200, {"fulfillment_orders": self._fulfillment_orders_of(order["id"])}, {}

    def _refunds_get(self, query, body, order_id):
        return 200, {"refunds": self._order(order_id)["refunds"]}, {}

    def _fulfillment_create(self, query, body):
        data = body.get("fulfillment") or {}
        groups = data.get("line_items_by_fulfillment_order") or []
        if not groups:
            raise ApiError(422, {"line_items_by_fulfillment_order": ["can't be blank"]})
        plan, order = [], None
        for group in groups:
            fulfillment_order = self.fulfillment_orders.get(int(group.get("fulfillment_order_id") or 0))
            if fulfillment_order is None:
                raise ApiError(422, {"fulfillment_order_id": ["Fulfillment order does not exist."]})
            if fulfillment_order["status"] == "closed":
                raise ApiError(422, {"base": ["Fulfillment order is closed."]})
            order = self.orders[fulfillment_order["order_id"]]
            lines = {line["id"]: line for line in fulfillment_order["line_items"]}
            for item in group.get("fulfillment_order_line_items") or [{"id": i, "quantity": l["fulfillable_quantity"]} for i, l in lines.items()]:
                line = lines.get(int(item["id"]))
                quantity = int(item["quantity"])
                if line is None or quantity < 1 or quantity > line["fulfillable_quantity"]:
                    raise ApiError(422, {"fulfillment_order_line_items": [f"Invalid quantity for line item {item['id']}."]})
                plan.append((fulfillment_order, line, quantity))
        tracking = data.get("tracking_info") or {}
        by_line = {i["id"]: i for i in order["line_items"]}
        for fulfillment_order, line, quantity in plan:
            line["fulfillable_quantity"] -= quantity
            by_line[line["line_item_id"]]["fulfillable_quantity"] -= quantity
            if not any(l["fulfillable_quantity"] for l in fulfillment_order["line_items"]):
                fulfillment_order["status"] = "closed"
        stamp = _now()
        number = tracking.get("number") or None
        fulfillment = {"id": self._next_id(), "order_id": order["id"], "status": "success", "created_at": stamp, "updated_at": stamp,
                       "tracking_company": tracking.get("company") or None, "tracking_number": number,
                       "tracking_numbers": [number] if number else [], "tracking_url": tracking.get("url") or None,
                       "tracking_urls": [tracking["url"]] if tracking.get("url") else [],
                       "line_items": [{**by_line[line["line_item_id"]], "quantity": quantity} for _, line, quantity in plan]}
        order["fulfillments"].append(fulfillment)
        order["fulfillment_status"] = "fulfilled" if not any(i["fulfillable_quantity"] for i in order["line_items"]) else "partial"
        order["updated_at"] = stamp
        self._webhook("orders/updated", order)
        return 201, {"fulfillment": fulfillment}, {}

    def _customers_list(self, query, body):
        customers = sorted(self.customers.values(), key=lambda c: (c["updated_at"], c["id"]))
        return self._page("customers.json", "customers", customers, query)

    def _products_list(self, query, body):
        products = sorted(self.products.values(), key=lambda p: p["id"])
        if query.get("handle"):
            handles = set(query["handle"].split(","))
            products = [p for p in products if p["handle"] in handles]
        return self._page("products.json", "products", products, query, {"handle": query["handle"]} if query.get("handle") else None)

    def _product_get(self, query, body, product_id):
        product = self.products.get(int(product_id))
        if product is None:
            raise ApiError(404, "Not Found")
        return 200, {"product": product}, {}

    def _product_create(self, query, body):
        data = body.get("product")
        if not isinstance(data, dict):
            raise ApiError(400, {"product": "Required parameter missing or invalid"})
        if not (data.get("title") or "").strip():
            raise ApiError(422, {"title": ["can't be blank"]})
        stamp = _now()
        product = {"id": self._next_id(), "title": data["title"], "body_html": data.get("body_html") or "", "vendor": data.get("vendor") or "",
                   "product_type": data.get("product_type") or "", "handle": data.get("handle") or re.sub(r"\W+", "-", data["title"].lower()),
                   "status": data.get("status") or "active", "tags": data.get("tags") or "", "created_at": stamp, "updated_at": stamp,
                   "options": data.get("options") or [{"name": "Title"}], "variants": []}
        self.products[product["id"]] = product
        for variant in data.get("variants") or [{}]:
            self._variant_add(product, variant)
        return 201, {"product": product}, {}

    def _product_update(self, query, body, product_id):
        product = self.products.get(int(product_id))
        if product is None:
            raise ApiError(404, "Not Found")
        data = body.get("product") or {}
        if "title" in data and not (data["title"] or "").strip():
            raise ApiError(422, {"title": ["can't be blank"]})
        for key in ("title", "body_html", "vendor", "product_type", "handle", "status", "tags", "options"):
            if key in data:
                product[key] = data[key]
        if "variants" in data:
            keep = []
            for row in data["variants"]:
                if row.get("id"):
                    variant = self.variants.get(int(row["id"]))
                    if variant is None or variant["product_id"] != product["id"]:
                        raise ApiError(422, {"variants": [f"variant {row['id']} does not belong to this product"]})
                    self._variant_apply(variant, row)
                    keep.append(variant)
                else:
                    keep.append(self._variant_add(product, row, attach=False))
            for variant in product["variants"]:
                if variant not in keep:
                    self.variants.pop(variant["id"], None)
            product["variants"] = keep
        product["updated_at"] = _now()
        return 200, {"product": product}, {}

    def _variant_add(self, product: dict, data: dict, *, attach: bool = True) -> dict:
        sku = data.get("sku") or ""
        if sku and any(v["sku"] == sku for v in self.variants.values() if v["product_id"] != product["id"]):
            raise ApiError(422, {"sku": [f"{sku} is already used by another product"]})
        stamp = _now()
        variant = {"id": self._next_id(), "product_id": product["id"], "title": "Default Title", "sku": sku, "price": "0.00",
                   "compare_at_price": None, "barcode": None, "grams": 0, "weight": 0.0, "weight_unit": "kg",
                   "option1": "Default Title", "option2": None, "option3": None, "inventory_management": "shopify",
                   "inventory_item_id": self._next_id(), "created_at": stamp, "updated_at": stamp}
        self._variant_apply(variant, data)
        self.variants[variant["id"]] = variant
        for location in self.locations:
            self.levels[(variant["inventory_item_id"], int(location))] = {"inventory_item_id": variant["inventory_item_id"],
                                                                         "location_id": int(location), "available": 0, "updated_at": stamp}
        if attach:
            product["variants"].append(variant)
        return variant

    @staticmethod
    def _variant_apply(variant: dict, data: dict) -> None:
        if "price" in data:
            try:
                variant["price"] = _money(Decimal(str(data["price"])))
            except Exception:
                raise ApiError(422, {"price": ["is not a number"]}) from None
        for key in ("sku", "compare_at_price", "barcode", "grams", "weight", "weight_unit", "option1", "option2", "option3", "inventory_management"):
            if key in data:
                variant[key] = data[key]
        variant["title"] = " / ".join(str(variant[k]) for k in ("option1", "option2", "option3") if variant.get(k)) or "Default Title"
        variant["updated_at"] = _now()

    def _variant_create(self, query, body, product_id):
        product = self.products.get(int(product_id))
        if product is None:
            raise ApiError(404, "Not Found")
        return 201, {"variant": self._variant_add(product, body.get("variant") or {})}, {}

    def _variant_update(self, query, body, variant_id):
        variant = self.variants.get(int(variant_id))
        if variant is None:
            raise ApiError(404, "Not Found")
        self._variant_apply(variant, body.get("variant") or {})
        return 200, {"variant": variant}, {}

    def _level_set(self, query, body):
        try:
            key = (int(body["inventory_item_id"]), int(body["location_id"]))
            available = int(body["available"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(422, {"base": ["inventory_item_id, location_id and available are required"]}) from None
        if key not in self.levels:
            raise ApiError(422, {"base": ["Inventory item does not have inventory tracking enabled or is not stocked at the location"]})
        self.levels[key].update(available=available, updated_at=_now())
        return 200, {"inventory_level": self.levels[key]}, {}

    def _levels_list(self, query, body):
        page_query = {k: v for k, v in query.items() if k in ("limit", "page_info")}
        if "page_info" in query:
            try:
                query = json.loads(base64.urlsafe_b64decode(query["page_info"].encode())).get("filters", {})
            except ValueError:
                raise ApiError(400, {"page_info": ["Invalid value."]}) from None
        filters = {k: v for k, v in query.items() if k in ("inventory_item_ids", "location_ids")}

        def ids(name):
            values = [v for v in (query.get(name) or "").split(",") if v]
            if len(values) > 50:
                raise ApiError(422, {name: ["cannot have more than 50 ids"]})
            return {int(v) for v in values}

        items, locations = ids("inventory_item_ids"), ids("location_ids")
        if not items and not locations:
            raise ApiError(422, {"base": ["inventory_item_ids or location_ids is required"]})
        rows = [level for (item, location), level in sorted(self.levels.items())
                if (not items or item in items) and (not locations or location in locations)]
        return self._page("inventory_levels.json", "inventory_levels", rows, page_query, filters)

    # --- GraphQL ---------------------------------------------------------------------------------
    def _graphql(self, query, body):
        text = body.get("query") or ""
        variables = body.get("variables") or {}
        if "inventorySetQuantities" in text:
            cost, run = self._requested_cost(text, mutation=True), lambda: self._set_quantities(variables.get("input") or {})
        elif re.search(r"\bshop\s*\{", text):
            cost, run = self._requested_cost(text, mutation=False), lambda: {"shop": {"name": "Hub Demo Shop"}}
        else:
            return 200, {"errors": [{"message": "This sandbox only implements inventorySetQuantities and shop.",
                                     "extensions": {"code": "undefinedField"}}]}, {}
        self.cost_bucket.refresh()
        if self.cost_bucket.available < cost:
            self._count("graphql throttled")
            return 200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED",
                                                                           "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                         "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": None,
                                                 "throttleStatus": self.cost_bucket.status()}}}, {}
        self.cost_bucket.available -= cost
        self._count("graphql points", cost)
        data = run()
        return 200, {"data": data, "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost,
                                                           "throttleStatus": self.cost_bucket.status()}}}, {}

    @staticmethod
    def _requested_cost(text: str, *, mutation: bool) -> int:
        """Shopify's published rule of thumb: a mutation field costs 10, every object selected 1,
        scalars 0. Each `{` after the first opens an object selection."""
        objects = max(0, text.count("{") - 1 - (1 if mutation else 0))
        return (MUTATION_COST if mutation else 0) + objects

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
        stamp = _now()
        for item, location, quantity in parsed:
            self.levels[(item, location)].update(available=quantity, updated_at=stamp)
        self._count("quantities set", len(parsed))
        return {"inventorySetQuantities": {"inventoryAdjustmentGroup": {"createdAt": stamp, "reason": data.get("reason")}, "userErrors": []}}

    # --- control API (not Shopify: for tests, the demo and the traffic generator) ----------------
    def _control(self, handler, method: str, path: str, raw: bytes) -> None:
        try:
            body = json.loads(raw) if raw else {}
            if method == "GET" and path == "state":
                with self.lock:
                    payload = {"products": len(self.products), "variants": len(self.variants), "orders": len(self.orders),
                               "customers": len(self.customers), "stats": dict(self.stats),
                               "faults": {k: v for k, v in self.faults.items() if k != "fail_5xx_until"},
                               "failing_5xx_for_seconds": max(0.0, round(self.faults["fail_5xx_until"] - time.monotonic(), 1)),
                               "skus": sorted(v["sku"] for v in self.variants.values() if v["sku"]),
                               "open_orders": sorted(o["id"] for o in self.orders.values() if not o["cancelled_at"])}
                return self._reply(handler, 200, payload)
            if method == "GET" and path == "inventory":
                with self.lock:
                    levels = [{"inventory_item_id": item, "location_id": location, "available": level["available"]}
                              for (item, location), level in self.levels.items()]
                return self._reply(handler, 200, {"inventory_levels": levels})
            if method == "GET" and (match := re.fullmatch(r"orders/(\d+)", path)):
                with self.lock:
                    return self._reply(handler, 200, {"order": self._order(int(match.group(1)))})
            if method != "POST":
                raise ApiError(405, "use POST")
            if path == "orders":
                return self._reply(handler, 201, {"order": self.place_order(lines=body.get("lines") or [], email=body.get("email") or "shopper@example.com",
                                                                            financial_status=body.get("financial_status") or "paid")})
            if match := re.fullmatch(r"orders/(\d+)/cancel", path):
                return self._reply(handler, 200, {"order": self.cancel_order(int(match.group(1)), reason=body.get("reason") or "customer")})
            if match := re.fullmatch(r"orders/(\d+)/refunds", path):
                return self._reply(handler, 201, {"refund": self.refund(int(match.group(1)), lines=body.get("lines") or [],
                                                                          restock=body.get("restock", True), note=body.get("note", ""))})
            if path == "products":  # bulk seeding for benchmarks: no rate limit, no webhooks
                with self.lock:
                    created = [self._product_create({}, {"product": product})[1]["product"] for product in body.get("products") or []]
                return self._reply(handler, 201, {"products": created})
            if path == "customers":
                return self._reply(handler, 201, {"customer": self.create_customer(email=body["email"], first_name=body.get("first_name", ""),
                                                                                  last_name=body.get("last_name", ""))})
            if path == "faults":
                return self._reply(handler, 200, {"faults": {k: v for k, v in self.set_faults(**body).items() if k != "fail_5xx_until"}})
            if path == "reset":
                self.reset()
                return self._reply(handler, 200, {"reset": True})
            raise ApiError(404, "Not Found")
        except ApiError as error:
            return self._reply(handler, error.status, {"errors": error.errors})
        except (ValueError, KeyError) as error:
            return self._reply(handler, 400, {"errors": str(error)})
