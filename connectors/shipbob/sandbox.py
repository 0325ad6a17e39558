"""A ShipBob account on localhost, speaking the dated REST API (`/2026-01/…`; `2025-07` and
`2026-07` are accepted too) as ShipBob's developer documentation and published OpenAPI
describe it, with a simulated warehouse behind it:

- `Authorization: Bearer <personal access token>` (401 otherwise); writes need the
  `shipbob_channel_id` header of a channel of the token (400 otherwise).
- Rate limit: 150 requests per minute per token in a sliding window, `x-remaining-calls` on every
  answer; over it, 429 `{"statusCode": 429, "message": "Rate limit is exceeded. Try again in N
  seconds."}` with `x-retry-after`.
- Products with variants (`POST /product`, `GET /product?SKU=`, `PATCH /product/{id}/variants`):
  barcode, dimensions (inches), weight (ounces), customs, lot information; each variant gets an
  inventory item. Cursor pages (`first`, `next`, `prev`, `last` in the body).
- Orders (`POST /order`) by `reference_id`, unique per channel: a second order with the same one
  is refused with 422; `location_id` chooses the fulfilment centre; products by `reference_id`
  (SKU). `GET /order` filters by `ReferenceIds`, `IDs`, `LastUpdateStartDate`, `HasTracking` and
  pages with `Page`/`Limit`, announcing a further page in the `next-page` header (with
  `page-number`, `total-pages`, `total-count`). `POST /order/{id}:cancel` answers per shipment
  (`Success`, `PartialSuccess` or `Failure` with the reason: a picked shipment cannot be
  cancelled). `PUT /shipment/{id}:updateAddress` until the shipment is picked.
- Inventory levels per fulfilment centre (`GET /inventory-level/locations`) and per lot
  (`/inventory-level/lots`): on hand, committed, fulfillable, awaiting, internal transfer; the
  inventory history (`POST /inventory/history:query`) with each movement's category and reason.
- Returns (`POST /return` by `reference_id`, `GET /return`, `GET /return/{id}`, `PUT /return/{id}`
  (Modify Return Order, 422 once it no longer awaits arrival), `POST /return/{id}:cancel`): AwaitingArrival → Arrived → Processing → Completed, with the action
  taken per unit (Restock, Quarantine, Dispose).
- Webhooks as Standard Webhooks: `webhook-id` (stable across retries), `webhook-timestamp`,
  `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the base64 part
  of the `whsec_` secret, the topic in `x-webhook-topic`; retried with backoff on failure.
  Topics sent: `order.shipped`, `order.shipment.delivered`, `order.shipment.exception` (short of
  stock), `order.shipment.cancelled`, `return.completed`.

Behind it, `connectors.fulfilment.simulation.SimulatedWarehouse` picks, packs and ships each
order after a delay — sometimes in part, sometimes short, sometimes in several parcels. The
control API (`/_sandbox/…`) stocks the warehouse, counts or damages stock, moves orders on now,
plans a shipment, processes returns, and switches the warehouse's own clock on (`auto`).

Standard library and the harness only: no hub code, no Django."""

import argparse
import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode

from connectors.fulfilment.simulation import Refused, SimulatedWarehouse
from connectors.testing.harness import Abort, DeliveryPolicy, Keyed, Request, Response, Sandbox, control, json_response, route

VERSIONS = ("2025-07", "2026-01", "2026-07")
ALL_TOPICS = ("order.shipped", "order.shipment.delivered", "order.shipment.exception", "order.shipment.on_hold",
              "order.shipment.cancelled", "return.created", "return.updated", "return.completed")
OUNCES_PER_GRAM = 1 / 28.349523125
MAX_LIMIT = 250


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


def _date_arg(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Abort(json_response({"errors": {"date": [f"'{value}' is not a valid date-time."]}}, 400)) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def standard_webhook_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class SlidingWindow:
    """At most `limit` requests in any `seconds`-long window."""

    def __init__(self, limit: int, seconds: float, clock):
        self.limit, self.seconds, self._clock = limit, seconds, clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def _prune(self, now):
        while self._times and self._times[0] <= now - self.seconds:
            self._times.popleft()

    def take(self) -> tuple[bool, float]:
        with self._lock:
            now = self._clock()
            self._prune(now)
            if len(self._times) >= self.limit:
                return False, self._times[0] + self.seconds - now
            self._times.append(now)
            return True, 0.0

    def remaining(self) -> int:
        with self._lock:
            self._prune(self._clock())
            return self.limit - len(self._times)


class ShipBobSandbox(Sandbox):
    name = "shipbob"
    delivery_policy = DeliveryPolicy(retry_delays=(5, 300, 1800), timeout=15)

    def __init__(self, *, token: str, channel_id: int = 100102, locations: dict | None = None, webhook_url: str = "",
                 webhook_secret: str = "", rate_limit: int = 150, rate_window: float = 60.0, pick_after: float = 20.0,
                 ship_after: float = 20.0, partial_rate: float = 0.0, parcels_rate: float = 0.0, auto: bool = False,
                 tick: float = 2.0, return_after: float = 60.0, drift_every: float = 0.0, **options):
        self.tokens = {token}
        self.channel_id = int(channel_id)
        self.fulfilment_centres = {int(k): v for k, v in (locations or {1001: "Nord (FR)"}).items()}
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self.warehouse_options = {"pick_after": pick_after, "ship_after": ship_after, "partial_rate": partial_rate,
                                  "parcels_rate": parcels_rate}
        self.tick, self.return_after, self.drift_every = tick, return_after, drift_every
        super().__init__(**options)
        self._last_drift = time.monotonic()
        self._auto = threading.Event()
        if auto:
            self._auto.set()
        self._ticker = threading.Thread(target=self._run_clock, name="shipbob-warehouse", daemon=True)
        self._ticker.start()

    # --- state ----------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self.limits = Keyed(lambda: SlidingWindow(self.rate_limit, self.rate_window, self.clock.monotonic))
        self.warehouse = SimulatedWarehouse(now=self.clock.now, rng=self.rng, on_event=self._warehouse_event, **self.warehouse_options)
        self.products: dict[int, dict] = {}
        self.variants_by_sku: dict[str, dict] = {}
        self.subscriptions: list[dict] = []
        if self.webhook_url:
            self.subscriptions.append({"id": self.ids.next("subscription"), "topics": list(ALL_TOPICS), "url": self.webhook_url,
                                       "secret": self.webhook_secret, "description": "hub", "created_at": _iso(self.clock.now())})
        self.shipment_ids: dict[int, int] = {}       # warehouse parcel id → ShipBob shipment id
        self.delivered: set[int] = set()
        self.ids.begin("product", 7000001)
        self.ids.begin("variant", 8000001)
        self.ids.begin("inventory", 20000001)
        self.ids.begin("shipment", 300000001)
        self.ids.begin("subscription", 501)

    def _run_clock(self) -> None:
        while not self._stopped.wait(self.tick):
            if not self._auto.is_set():
                continue
            try:
                with self.lock:
                    self.warehouse.advance()
                    cutoff = self.clock.now() - timedelta(seconds=self.return_after)
                    for expected in list(self.warehouse.returns.values()):
                        if expected.status == "awaiting" and expected.created_at <= cutoff:
                            self._process_return(expected, None)
                    if self.drift_every and time.monotonic() - self._last_drift >= self.drift_every:
                        self._last_drift = time.monotonic()
                        self._drift()
            except Exception:  # the clock must keep going; the error is in `errors`
                import traceback

                self.errors.append(traceback.format_exc())

    # --- protocol helpers -----------------------------------------------------------------------
    def normalize_path(self, path: str) -> str:
        return path.rstrip("/") or "/"

    def _version(self, version: str) -> None:
        if version not in VERSIONS:
            raise Abort(self.json({"title": "Not Found", "status": 404, "detail": f"API version {version} does not exist"}, 404))

    def authenticate(self, request: Request) -> Response | None:
        header = request.header("Authorization") or ""
        if not header.startswith("Bearer ") or header[7:].strip() not in self.tokens:
            return self.json({"message": "Authorization has been denied for this request."}, 401)
        request.context["token"] = header[7:].strip()
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and not request.path.endswith("/webhook") \
                and "history:query" not in request.path:
            channel = request.header("shipbob_channel_id") or ""
            if not channel.strip():
                return self.json({"shipbob_channel_id": ["The shipbob_channel_id header is required for this operation."]}, 400)
            if channel.strip() != str(self.channel_id):
                return self.json({"message": f"Channel {channel.strip()} is not accessible with this token."}, 403)
        return None

    def throttle(self, request: Request) -> Response | None:
        window = self.limits[request.context.get("token", "")]
        allowed, wait = window.take()
        if not allowed:
            seconds = max(1, int(wait + 0.999))
            return self.json({"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {seconds} seconds."}, 429,
                             {"x-retry-after": str(seconds), "x-remaining-calls": "0"})
        request.reply_headers.append(("x-remaining-calls", str(window.remaining())))
        return None

    def throttled_response(self, request: Request, retry_after: float | None) -> Response:
        seconds = max(1, int((retry_after or 25) + 0.999))
        return self.json({"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {seconds} seconds."}, 429,
                         {"x-retry-after": str(seconds), "x-remaining-calls": "0"})

    def no_route_response(self, request: Request, allowed: list[str]) -> Response:
        if allowed:
            return self.json({"title": "Method Not Allowed", "status": 405}, 405, {"Allow": ", ".join(allowed)})
        return self.json({"title": "Not Found", "status": 404}, 404)

    def invalid_body_response(self, request: Request, error) -> Response:
        return self.json({"errors": {"body": [str(error)]}, "title": "One or more validation errors occurred.", "status": 400}, 400)

    def _body(self, request: Request, kind=dict):
        body = request.json()
        if not isinstance(body, kind):
            raise Abort(self.json({"errors": {"body": [f"A JSON {'object' if kind is dict else 'array'} is required."]},
                                   "title": "One or more validation errors occurred.", "status": 400}, 400))
        return body

    @staticmethod
    def _invalid(problems: dict) -> Abort:
        return Abort(json_response({"errors": problems, "title": "One or more validation errors occurred.", "status": 400}, 400))

    def _int_arg(self, request, name, default, maximum=None) -> int:
        value = request.arg(name)
        if value in (None, ""):
            return default
        try:
            number = int(value)
        except ValueError:
            raise self._invalid({name: [f"The value '{value}' is not valid."]}) from None
        if number < 1 or (maximum and number > maximum):
            raise self._invalid({name: [f"The field {name} must be between 1 and {maximum or 2147483647}."]})
        return number

    @staticmethod
    def _list_arg(request, name) -> list[str]:
        return [part.strip() for value in request.args(name) for part in value.split(",") if part.strip()]

    def _cursor_page(self, request, items: list, path: str, version: str, size_name: str = "PageSize"):
        size = self._int_arg(request, size_name, 100, MAX_LIMIT)
        start = self._int_arg(request, "cursor", 1) - 1
        page = items[start:start + size]
        params = {k: v[-1] for k, v in request.query.items() if k not in ("cursor",)}

        def link(cursor):
            return f"/{version}/{path}?{urlencode({**params, 'cursor': cursor})}"
        last_start = max(0, (len(items) - 1) // size * size)
        return {"items": page, "first": link(1) if start else None,
                "prev": link(max(1, start - size + 1)) if start else None,
                "next": link(start + size + 1) if start + size < len(items) else None,
                "last": link(last_start + 1) if start + size < len(items) else None}

    # --- channels and locations -----------------------------------------------------------------
    @route("GET", "/<version>/channel")
    def channels(self, request, version):
        self._version(version)
        return {"items": [{"id": self.channel_id, "name": "ERP Hub", "application_name": "SMA",
                           "scopes": ["orders_read", "orders_write", "products_read", "products_write", "inventory_read",
                                      "returns_read", "returns_write", "webhooks_read", "webhooks_write", "fulfillments_read"]}],
                "first": None, "next": None, "prev": None, "last": None}

    @route("GET", "/<version>/location")
    def locations(self, request, version):
        self._version(version)
        return [{"id": location_id, "name": name, "abbreviation": name[:3].upper(), "is_active": True, "is_receiving_enabled": True,
                 "is_shipping_enabled": True, "timezone": "Romance Standard Time", "region": {"id": 5, "name": "Europe"},
                 "address": {"country": "FR"}} for location_id, name in sorted(self.fulfilment_centres.items())]

    # --- products -------------------------------------------------------------------------------
    def _variant_input(self, data: dict, *, existing: dict | None = None) -> dict:
        problems = {}
        sku = data.get("sku", existing["sku"] if existing else None)
        if not isinstance(sku, str) or not sku.strip():
            problems["variants.sku"] = ["The SKU field is required."]
        elif (owner := self.variants_by_sku.get(sku)) is not None and owner is not existing:
            raise Abort(self.json({"errors": {"sku": [f"A variant with SKU '{sku}' already exists."]},
                                   "title": "Unprocessable Entity", "status": 422}, 422))
        for section, fields in (("dimension", ("length", "width", "height")), ("customs", ())):
            value = data.get(section)
            if value is not None and not isinstance(value, dict):
                problems[f"variants.{section}"] = ["An object is required."]
            elif isinstance(value, dict):
                for name in fields:
                    if value.get(name) is not None and not isinstance(value[name], (int, float)):
                        problems[f"variants.{section}.{name}"] = ["A number is required."]
        weight = data.get("weight")
        if weight is not None and not isinstance(weight, (int, float)):
            problems["variants.weight"] = ["A number (ounces) is required."]
        if problems:
            raise self._invalid(problems)
        variant = existing or {"id": self.ids.next("variant"), "inventory": {"inventory_id": self.ids.next("inventory")},
                               "status": "Active", "created_on": _iso(self.clock.now())}
        variant.update({key: value for key, value in data.items() if key in (
            "sku", "name", "barcode", "dimension", "weight", "customs", "lot_information", "is_digital", "gtin", "upc")})
        if data.get("barcode"):
            variant["barcodes"] = [{"value": data["barcode"], "sticker_url": None}]
        variant["updated_on"] = _iso(self.clock.now())
        return variant

    def restore_item(self, *, product_id: int, variant_id: int, inventory_id: int, sku: str, name: str, is_lot: bool = False) -> None:
        """Bring back an item the account had (the sandbox keeps its state in memory), with its ids."""
        with self.lock:
            product = self.products.setdefault(product_id, {"id": product_id, "name": name, "type": "Regular", "taxonomy": None, "user_id": 1,
                                                            "created_on": _iso(self.clock.now()), "updated_on": _iso(self.clock.now()),
                                                            "variants": []})
            variant = {"id": variant_id, "sku": sku, "name": name, "product_id": product_id, "status": "Active",
                       "inventory": {"inventory_id": inventory_id}, "lot_information": {"is_lot": is_lot},
                       "created_on": _iso(self.clock.now()), "updated_on": _iso(self.clock.now())}
            product["variants"].append(variant)
            self.variants_by_sku[sku] = variant
            for kind, used in (("product", product_id), ("variant", variant_id), ("inventory", inventory_id)):
                self.ids.begin(kind, max(used + 1, self.ids.next(kind)))

    def _product_json(self, product: dict) -> dict:
        return {**{k: v for k, v in product.items() if k != "variants"}, "variants": [dict(v) for v in product["variants"]]}

    @route("POST", "/<version>/product")
    def product_create(self, request, version):
        self._version(version)
        body = self._body(request)
        variants = body.get("variants")
        if not body.get("name") or not isinstance(variants, list) or not variants:
            raise self._invalid({"name": ["The name field is required."]} if not body.get("name")
                                else {"variants": ["At least one variant is required."]})
        seen = [v.get("sku") for v in variants if isinstance(v, dict)]
        if len(seen) != len(set(seen)):
            raise self._invalid({"variants.sku": ["Variant SKUs must be unique."]})
        built = [self._variant_input(v) for v in variants]
        product = {"id": self.ids.next("product"), "name": body["name"], "type": "Bundle" if body.get("type_id") == 2 else "Regular",
                   "taxonomy": None, "user_id": 1, "created_on": _iso(self.clock.now()), "updated_on": _iso(self.clock.now()),
                   "variants": built}
        self.products[product["id"]] = product
        for variant in built:
            variant["product_id"] = product["id"]
            self.variants_by_sku[variant["sku"]] = variant
        return self.json(self._product_json(product), 201)

    @route("GET", "/<version>/product")
    def products_list(self, request, version):
        self._version(version)
        skus = set(self._list_arg(request, "SKU"))
        search = (request.arg("Search") or "").lower()
        items = [self._product_json(p) for _, p in sorted(self.products.items())
                 if (not skus or any(v["sku"] in skus for v in p["variants"]))
                 and (not search or search in p["name"].lower() or any(search in v["sku"].lower() for v in p["variants"]))]
        return self._cursor_page(request, items, "product", version)

    @route("GET", "/<version>/product/<int:product_id>")
    def product_get(self, request, version, product_id):
        self._version(version)
        return self._product_json(self._product(product_id))

    def _product(self, product_id: int) -> dict:
        product = self.products.get(product_id)
        if product is None:
            raise Abort(self.json({"title": "Not Found", "status": 404, "detail": f"Product {product_id} was not found."}, 404))
        return product

    @route("PATCH", "/<version>/product/<int:product_id>/variants")
    def variants_update(self, request, version, product_id):
        self._version(version)
        product = self._product(product_id)
        body = self._body(request, list)
        by_id = {v["id"]: v for v in product["variants"]}
        for data in body:
            if not isinstance(data, dict) or data.get("id") not in by_id:
                raise self._invalid({"id": [f"Variant {data.get('id') if isinstance(data, dict) else data} is not on product {product_id}."]})
        for data in body:
            variant = by_id[data["id"]]
            old_sku = variant["sku"]
            self._variant_input(data, existing=variant)
            if variant["sku"] != old_sku:
                self.variants_by_sku.pop(old_sku, None)
                self.variants_by_sku[variant["sku"]] = variant
        product["updated_on"] = _iso(self.clock.now())
        return self._product_json(product)

    # --- orders ---------------------------------------------------------------------------------
    def _recipient(self, data) -> dict:
        problems = {}
        if not isinstance(data, dict):
            raise self._invalid({"recipient": ["The recipient field is required."]})
        address = data.get("address") if isinstance(data.get("address"), dict) else {}
        if not data.get("name"):
            problems["recipient.name"] = ["The Name field is required."]
        for name in ("address1", "city", "country"):
            if not address.get(name):
                problems[f"recipient.address.{name}"] = [f"The {name} field is required."]
        if problems:
            raise self._invalid(problems)
        return {"name": data["name"], "email": data.get("email"), "phone_number": data.get("phone_number"),
                "address": {k: address.get(k) for k in ("address1", "address2", "company_name", "city", "state", "country", "zip_code")}}

    @route("POST", "/<version>/order")
    def order_create(self, request, version):
        self._version(version)
        body = self._body(request)
        problems = {}
        reference = body.get("reference_id")
        if not isinstance(reference, str) or not reference.strip() or len(reference) > 300:
            problems["reference_id"] = ["The reference_id field is required (1-300 characters)."]
        if not body.get("shipping_method"):
            problems["shipping_method"] = ["The shipping_method field is required."]
        products = body.get("products")
        if not isinstance(products, list) or not products:
            problems["products"] = ["At least one product is required."]
        location = body.get("location_id")
        if location is not None and int(location) not in self.fulfilment_centres:
            problems["location_id"] = [f"Location {location} is not available to this merchant."]
        if problems:
            raise self._invalid(problems)
        recipient = self._recipient(body.get("recipient"))
        lines, order_products = {}, []
        for index, item in enumerate(products):
            if not isinstance(item, dict) or not (item.get("reference_id") or item.get("id")):
                raise self._invalid({f"products[{index}]": ["A product reference_id or id is required."]})
            quantity = item.get("quantity")
            if not isinstance(quantity, int) or quantity < 1:
                raise self._invalid({f"products[{index}].quantity": ["The quantity must be a positive whole number."]})
            sku = item.get("reference_id")
            variant = self.variants_by_sku.get(sku) if sku else next(
                (v for v in self.variants_by_sku.values() if v["id"] == item.get("id")), None)
            if variant is None:
                if not item.get("name"):
                    raise self._invalid({f"products[{index}].name": ["A product unknown to ShipBob needs its name."]})
                product = {"id": self.ids.next("product"), "name": item["name"], "type": "Regular", "taxonomy": None, "user_id": 1,
                           "created_on": _iso(self.clock.now()), "updated_on": _iso(self.clock.now()), "variants": []}
                variant = self._variant_input({"sku": sku, "name": item["name"]})
                variant["product_id"] = product["id"]
                product["variants"].append(variant)
                self.products[product["id"]] = product
                self.variants_by_sku[sku] = variant
            lines[variant["sku"]] = lines.get(variant["sku"], 0) + quantity
            order_products.append({"id": variant["product_id"], "reference_id": variant["sku"], "sku": variant["sku"],
                                   "quantity": quantity, "unit_price": item.get("unit_price"), "gtin": None, "upc": None,
                                   "external_line_id": item.get("external_line_id"), "quantity_unit_of_measure_code": None})
        if any(o.extra.get("channel") == self.channel_id and o.reference == reference for o in self.warehouse.orders.values()):
            raise Abort(self.json({"reference_id": [f"An order with reference_id '{reference}' already exists for this channel "
                                                    "(Duplicate reference ID)."]}, 422))
        location_id = int(location) if location is not None else sorted(self.fulfilment_centres)[0]
        order = self.warehouse.place(reference=reference, location=str(location_id), lines=lines, address=recipient,
                                     service=body["shipping_method"], extra={
                                         "channel": self.channel_id, "order_number": body.get("order_number") or reference,
                                         "products": order_products, "purchase_date": body.get("purchase_date"),
                                         "type": body.get("type") or "DTC", "tags": body.get("tags") or [],
                                         "open_shipment_id": self.ids.next("shipment"), "gift_message": body.get("gift_message")})
        return self.json(self._order_json(order), 201)

    def _order(self, order_id: int):
        order = self.warehouse.orders.get(order_id)
        if order is None or order.extra.get("channel") is None:
            raise Abort(self.json({"title": "Not Found", "status": 404, "detail": f"Order {order_id} was not found."}, 404))
        return order

    def _order_status(self, order) -> str:
        if order.status == "cancelled":
            return "Cancelled"
        if order.status == "shipped":
            return "Fulfilled"
        if order.parcels:
            return "PartiallyFulfilled"
        if order.short_reported:
            return "Exception"
        return "Processing"

    def _location_json(self, location: str) -> dict:
        return {"id": int(location), "name": self.fulfilment_centres.get(int(location), location)}

    def _inventory_item(self, sku: str, units: int, lots=None) -> list[dict]:
        variant = self.variants_by_sku.get(sku) or {}
        inventory_id = (variant.get("inventory") or {}).get("inventory_id")
        pieces = lots or [("", units)]
        return [{"id": inventory_id, "name": variant.get("name") or sku, "quantity": count, "quantity_committed": 0,
                 "lot": lot or None, "expiration_date": None, "serial_numbers": [], "is_dangerous_goods": False}
                for lot, count in pieces]

    def _shipment_products(self, lines: dict[str, int], lots: dict | None = None) -> list[dict]:
        result = []
        for sku, units in sorted(lines.items()):
            variant = self.variants_by_sku.get(sku) or {}
            result.append({"id": variant.get("product_id"), "reference_id": sku, "name": variant.get("name") or sku, "sku": sku,
                           "inventory_items": self._inventory_item(sku, units, (lots or {}).get(sku))})
        return result

    def _shipment_json(self, order, parcel=None) -> dict:
        now = self.clock.now()
        if parcel is not None:
            shipment_id = self.shipment_ids[parcel.id]
            delivered = shipment_id in self.delivered
            status, details = "Completed", [{"id": 1, "name": "Delivered" if delivered else "Shipped",
                                             "description": "Delivered to the customer" if delivered else "Handed to the carrier"}]
            lines, location = parcel.lines, parcel.location
            tracking = {"carrier": parcel.carrier, "carrier_service": parcel.service, "tracking_number": parcel.tracking_number,
                        "tracking_url": parcel.tracking_url, "shipping_date": _iso(parcel.shipped_at), "bol": None,
                        "pro_number": None, "scac": None}
            fulfilled, updated = parcel.shipped_at, max(parcel.shipped_at, order.updated_at)
            products = self._shipment_products(lines, parcel.lots)
        else:
            shipment_id = order.extra.setdefault("open_shipment_id", self.ids.next("shipment"))
            lines, location, tracking, fulfilled, updated = order.left() or order.lines, order.location, None, None, order.updated_at
            status = {"cancelled": "Cancelled", "held": "OnHold"}.get(order.status, "Exception" if order.short_reported else "Processing")
            details = ([{"id": 2, "name": "OutOfStock", "description": "Inventory is not available for this shipment"}]
                       if order.short_reported and status == "Exception" else
                       [{"id": 3, "name": "Picked" if order.status == "picked" else "Processing", "description": ""}])
            products = self._shipment_products(lines)
        return {
            "id": shipment_id, "order_id": order.id, "reference_id": order.reference, "recipient": {
                "name": order.address["name"], "address": order.address["address"], "email": order.address.get("email"),
                "phone_number": order.address.get("phone_number")},
            "created_date": _iso(order.created_at), "last_update_at": _iso(updated), "last_tracking_update_at": _iso(fulfilled),
            "status": status, "status_details": details, "location": self._location_json(location), "invoice_amount": None,
            "invoice_currency_code": None, "insurance_value": None, "ship_option": order.service, "tracking": tracking,
            "products": products, "package_material_type": "Box", "require_signature": False,
            "actual_fulfillment_date": _iso(fulfilled), "estimated_fulfillment_date": _iso(order.created_at + timedelta(days=1)),
            "estimated_fulfillment_date_status": "FulfilledOnTime" if fulfilled else "PendingOnTime", "is_tracking_uploaded": False,
            "delivery_date": _iso(now) if parcel is not None and self.shipment_ids.get(parcel.id) in self.delivered else None,
            "measurements": {"total_weight_oz": 16, "depth_in": 8, "length_in": 12, "width_in": 10}, "gift_message": ""}

    def _shipments(self, order) -> list[dict]:
        shipments = [self._shipment_json(order, parcel) for parcel in order.parcels]
        if order.left() or not order.parcels:
            shipments.append(self._shipment_json(order))
        return shipments

    def _order_json(self, order) -> dict:
        extra = order.extra
        return {"id": order.id, "created_date": _iso(order.created_at), "purchase_date": extra.get("purchase_date"),
                "reference_id": order.reference, "order_number": extra.get("order_number"), "status": self._order_status(order),
                "type": extra.get("type"), "channel": {"id": self.channel_id, "name": "ERP Hub"}, "shipping_method": order.service,
                "recipient": {"name": order.address["name"], "address": order.address["address"], "email": order.address.get("email"),
                              "phone_number": order.address.get("phone_number")},
                "products": extra.get("products"), "tags": extra.get("tags"), "gift_message": extra.get("gift_message"),
                "shipments": self._shipments(order), "financials": {"total_price": None}, "retailer_program_data": None,
                "shipping_terms": {"carrier_type": "Parcel", "payment_term": "Prepaid"}}

    def _orders(self) -> list:
        return [o for o in sorted(self.warehouse.orders.values(), key=lambda o: o.id) if o.extra.get("channel") == self.channel_id]

    @route("GET", "/<version>/order")
    def orders_list(self, request, version):
        self._version(version)
        page = self._int_arg(request, "Page", 1)
        limit = self._int_arg(request, "Limit", 50, MAX_LIMIT)
        references = set(self._list_arg(request, "ReferenceIds"))
        ids = {int(i) for i in self._list_arg(request, "IDs") if i.isdigit()}
        updated_since = _date_arg(request.arg("LastUpdateStartDate"))
        has_tracking = request.arg("HasTracking")
        orders = []
        for order in self._orders():
            if references and order.reference not in references or ids and order.id not in ids:
                continue
            if updated_since and order.updated_at < updated_since:
                continue
            if has_tracking is not None and (has_tracking.lower() == "true") != bool(order.parcels):
                continue
            orders.append(order)
        if (request.arg("SortOrder") or "Newest") == "Newest":
            orders.reverse()
        total_pages = max(1, -(-len(orders) // limit))
        chunk = [self._order_json(o) for o in orders[(page - 1) * limit: page * limit]]
        headers = {"page-number": str(page), "total-pages": str(total_pages), "total-count": str(len(orders))}
        if page < total_pages:
            params = {k: v[-1] for k, v in request.query.items() if k != "Page"}
            headers["next-page"] = f"/{version}/order?{urlencode({**params, 'Page': page + 1})}"
        return self.json(chunk, 200, headers)

    @route("GET", "/<version>/order/<int:order_id>")
    def order_get(self, request, version, order_id):
        self._version(version)
        return self._order_json(self._order(order_id))

    @route("GET", "/<version>/order/<int:order_id>/shipment")
    def order_shipments(self, request, version, order_id):
        self._version(version)
        return self._shipments(self._order(order_id))

    @route("POST", "/<version>/order/<int:order_id>:cancel")
    def order_cancel(self, request, version, order_id):
        self._version(version)
        order = self._order(order_id)
        open_shipment = order.extra.get("open_shipment_id")
        if order.status == "cancelled":
            results = [{"shipment_id": open_shipment, "action": "Cancel", "is_success": True, "reason": "Already cancelled"}]
            status = "Success"
        else:
            try:
                self.warehouse.cancel(order)
                results = [{"shipment_id": open_shipment, "action": "Cancel", "is_success": True, "reason": "Cancelled"}]
                status = "Success"
                self._send("order.shipment.cancelled", self._shipment_json(order))
            except Refused as refused:
                results = [{"shipment_id": self.shipment_ids.get(p.id), "action": "Cancel", "is_success": False,
                            "reason": "Shipment is already fulfilled"} for p in order.parcels]
                if order.left():
                    results.append({"shipment_id": open_shipment, "action": "Cancel", "is_success": False,
                                    "reason": f"Shipment cannot be cancelled: {refused}"})
                status = "Failure"
        return {"order_id": order.id, "order": self._order_json(order), "status": status, "canceled_shipment_results": results}

    @route("PUT", "/<version>/shipment/<int:shipment_id>:updateAddress")
    def shipment_address(self, request, version, shipment_id):
        self._version(version)
        body = self._body(request)
        order = next((o for o in self._orders() if o.extra.get("open_shipment_id") == shipment_id), None)
        if order is None or not order.left():
            if any(sid == shipment_id for sid in self.shipment_ids.values()):
                raise Abort(self.json({"errors": [{"message": "The address of a fulfilled shipment cannot be changed."}],
                                       "message": "Unprocessable Entity"}, 422))
            raise Abort(self.json({"title": "Not Found", "status": 404, "detail": f"Shipment {shipment_id} was not found."}, 404))
        missing = [name for name in ("street_address1", "city") if not body.get(name)]
        if missing:
            raise self._invalid({name: [f"The {name} field is required."] for name in missing})
        address = {"name": body.get("recipient_name") or order.address["name"], "email": body.get("email") or order.address.get("email"),
                   "phone_number": body.get("phone_number") or order.address.get("phone_number"),
                   "address": {"address1": body["street_address1"], "address2": body.get("street_address2"),
                               "company_name": body.get("company_name"), "city": body["city"], "state": body.get("state"),
                               "country": body.get("country_code") or order.address["address"]["country"],
                               "zip_code": body.get("zip_code")}}
        try:
            self.warehouse.readdress(order, address)
        except Refused as refused:
            raise Abort(self.json({"errors": [{"message": f"The address cannot be changed: {refused}."}],
                                   "message": "Unprocessable Entity"}, 422)) from None
        return self._shipment_json(order)

    # --- inventory ------------------------------------------------------------------------------
    def _inventory_rows(self, request) -> list[tuple[str, dict, dict]]:
        only_location = request.arg("LocationId")
        wanted = {int(i) for i in self._list_arg(request, "InventoryIds") if i.isdigit()}
        levels = self.warehouse.levels()
        rows = []
        for sku, variant in sorted(self.variants_by_sku.items()):
            inventory_id = variant["inventory"]["inventory_id"]
            if wanted and inventory_id not in wanted:
                continue
            places = {loc: value for (loc, s), value in levels.items() if s == sku and (not only_location or loc == only_location)}
            rows.append((sku, variant, places))
        return rows

    @route("GET", "/<version>/inventory-level/locations")
    def levels_by_location(self, request, version):
        self._version(version)
        items = []
        for sku, variant, places in self._inventory_rows(request):
            items.append({"inventory_id": variant["inventory"]["inventory_id"], "sku": sku, "name": variant.get("name") or sku,
                          "locations": [{"location_id": int(loc), "location_name": self.fulfilment_centres.get(int(loc), loc),
                                         "on_hand_quantity": value["on_hand"], "committed_quantity": value["committed"],
                                         "fulfillable_quantity": value["fulfillable"], "awaiting_quantity": value["in_transit"],
                                         "internal_transfer_quantity": 0}
                                        for loc, value in sorted(places.items())]})
        return self._cursor_page(request, items, "inventory-level/locations", version)

    @route("GET", "/<version>/inventory-level/lots")
    def levels_by_lot(self, request, version):
        self._version(version)
        items = []
        for sku, variant, places in self._inventory_rows(request):
            lots: dict[str, dict] = {}
            for loc, value in sorted(places.items()):
                for lot, units, expiry in value["lots"]:
                    entry = lots.setdefault(lot, {"lot_number": lot or None, "expiration_date": expiry.isoformat() if expiry else None,
                                                  "on_hand_quantity": 0, "locations": []})
                    entry["on_hand_quantity"] += units
                    entry["locations"].append({"location_id": int(loc), "name": self.fulfilment_centres.get(int(loc), loc),
                                               "on_hand_quantity": units})
            items.append({"inventory_id": variant["inventory"]["inventory_id"], "sku": sku, "name": variant.get("name") or sku,
                          "lots": list(lots.values())})
        return self._cursor_page(request, items, "inventory-level/lots", version)

    @route("POST", "/<version>/inventory/history:query")
    def history(self, request, version):
        self._version(version)
        body = self._body(request)
        facility = body.get("facility_id")
        if facility is None:
            raise self._invalid({"facility_id": ["The facility_id field is required."]})
        wanted = set(body.get("inventory_ids") or [])
        since = _date_arg(body.get("start_date")) if body.get("start_date") else None
        category = body.get("event_category")
        cursor = int(body.get("cursor") or request.arg("cursor") or 0)
        by_inventory = {v["inventory"]["inventory_id"]: sku for sku, v in self.variants_by_sku.items()}
        by_sku = {sku: i for i, sku in by_inventory.items()}
        events = []
        for event in self.warehouse.history:
            inventory_id = by_sku.get(event.sku)
            if str(event.location) != str(facility) or event.id <= cursor or (wanted and inventory_id not in wanted):
                continue
            if since and event.at < since or category and event.category != category:
                continue
            change = {"quantity_change": event.change, "committed_quantity_change": 0, "facility_id": int(event.location),
                      "location_id": int(event.location), "sku": event.sku, "lot_number": event.lot or None, "expiration_date": None,
                      "inventory_status": "Available"}
            events.append({"inventory_audit_event_id": event.id, "inventory_id": inventory_id, "event_category": event.category,
                           "event_datetime": _iso(event.at), "shipbob_order_id": event.order_id, "merchant_user_id": 1,
                           "primary_reference": {"type": "Order" if event.order_id else "Adjustment", "value": str(event.order_id or event.id)},
                           "additional_reference": [{"key": "Reason", "value": event.reason}],
                           ("increment" if event.change > 0 else "decrement"): change})
        return {"data": events[:100]}

    # --- returns --------------------------------------------------------------------------------
    def _return_json(self, expected) -> dict:
        by_inventory = {v["inventory"]["inventory_id"]: v for v in self.variants_by_sku.values()}
        status = {"awaiting": "AwaitingArrival", "arrived": "Arrived", "completed": "Completed", "cancelled": "Cancelled"}[expected.status]
        inventory = []
        for item in expected.extra["inventory"]:
            variant = by_inventory.get(item["id"]) or {}
            taken = [{"action": outcome.capitalize() if outcome != "restock" else "Restock", "action_reason": reason,
                      "quantity_processed": units, "image_url": None}
                     for units, outcome, reason in expected.outcomes.get(variant.get("sku"), [])]
            inventory.append({"id": item["id"], "name": variant.get("name"), "quantity": item["quantity"],
                              "action_requested": {"action": item.get("requested_action") or "Default", "action_type": "InventoryDefault",
                                                   "instructions": None},
                              "action_taken": taken})
        return {"id": expected.id, "reference_id": expected.reference, "status": status, "return_type": "Regular",
                "channel": {"id": self.channel_id, "name": "ERP Hub"}, "customer_name": None,
                "fulfillment_center": self._location_json(expected.location), "inventory": inventory,
                "original_shipment_id": expected.extra.get("original_shipment_id"), "store_order_id": None,
                "tracking_number": expected.extra.get("tracking_number"), "insert_date": _iso(expected.created_at),
                "completed_date": _iso(expected.updated_at) if expected.status == "completed" else None, "invoice_amount": None,
                "transactions": []}

    @route("POST", "/<version>/return")
    def return_create(self, request, version):
        self._version(version)
        body = self._body(request)
        problems = {}
        reference = body.get("reference_id")
        if not isinstance(reference, str) or not reference or len(reference) > 50:
            problems["reference_id"] = ["The reference_id field is required (at most 50 characters)."]
        centre = body.get("fulfillment_center") if isinstance(body.get("fulfillment_center"), dict) else {}
        if int(centre.get("id") or 0) not in self.fulfilment_centres:
            problems["fulfillment_center.id"] = ["A fulfilment centre of this merchant is required."]
        inventory = body.get("inventory")
        by_inventory = {v["inventory"]["inventory_id"]: sku for sku, v in self.variants_by_sku.items()}
        if not isinstance(inventory, list) or not inventory:
            problems["inventory"] = ["At least one inventory item is required."]
        else:
            for index, item in enumerate(inventory):
                if not isinstance(item, dict) or item.get("id") not in by_inventory or not isinstance(item.get("quantity"), int) \
                        or item["quantity"] < 1:
                    problems[f"inventory[{index}]"] = ["A known inventory id and a positive quantity are required."]
        if problems:
            raise self._invalid(problems)
        if any(r.reference == reference and r.status != "cancelled" for r in self.warehouse.returns.values()):
            raise Abort(self.json({"errors": [{"message": f"A return with reference_id '{reference}' already exists."}],
                                   "message": "Duplicate reference ID"}, 422))
        lines = {}
        for item in inventory:
            lines[by_inventory[item["id"]]] = lines.get(by_inventory[item["id"]], 0) + item["quantity"]
        expected = self.warehouse.expect_return(reference=reference, location=str(centre["id"]), lines=lines, extra={
            "inventory": inventory, "original_shipment_id": body.get("original_shipment_id"), "tracking_number": body.get("tracking_number")})
        return self.json(self._return_json(expected), 201)

    @route("PUT", "/<version>/return/<int:return_id>")
    def return_modify(self, request, version, return_id):
        """Modify Return Order: the create body again; only while the return awaits arrival."""
        self._version(version)
        expected = self._return(return_id)
        body = self._body(request)
        if expected.status != "awaiting":
            raise Abort(self.json({"errors": [{"message": "Returns can only be modified when they are in the AwaitingArrival status."}],
                                   "message": "Unprocessable Entity"}, 422))
        if body.get("reference_id") not in (None, expected.reference):
            raise self._invalid({"reference_id": ["The reference_id of a return cannot change."]})
        tracking = body.get("tracking_number")
        if tracking is not None and (not isinstance(tracking, str) or len(tracking) > 100):
            raise self._invalid({"tracking_number": ["The tracking_number must be text of at most 100 characters."]})
        with self.warehouse.lock:
            expected.extra["tracking_number"] = tracking
            if body.get("original_shipment_id") is not None:
                expected.extra["original_shipment_id"] = body["original_shipment_id"]
            expected.updated_at = self.warehouse.now()
        return self._return_json(expected)

    @route("GET", "/<version>/return")
    def returns_list(self, request, version):
        self._version(version)
        references = set(self._list_arg(request, "ReferenceIds"))
        items = [self._return_json(r) for _, r in sorted(self.warehouse.returns.items()) if not references or r.reference in references]
        return self.json(items, 200, {"page-number": "1", "total-pages": "1", "total-count": str(len(items))})

    def _return(self, return_id: int):
        expected = self.warehouse.returns.get(return_id)
        if expected is None:
            raise Abort(self.json({"title": "Not Found", "status": 404, "detail": f"Return {return_id} was not found."}, 404))
        return expected

    @route("GET", "/<version>/return/<int:return_id>")
    def return_get(self, request, version, return_id):
        self._version(version)
        return self._return_json(self._return(return_id))

    @route("POST", "/<version>/return/<int:return_id>:cancel")
    def return_cancel(self, request, version, return_id):
        self._version(version)
        expected = self._return(return_id)
        try:
            self.warehouse.cancel_return(expected)
        except Refused as refused:
            raise Abort(self.json({"errors": [{"message": str(refused)}], "message": "Unprocessable Entity"}, 422)) from None
        return self._return_json(expected)

    # --- webhooks -------------------------------------------------------------------------------
    @route("POST", "/<version>/webhook")
    def webhook_create(self, request, version):
        self._version(version)
        body = self._body(request)
        topics = body.get("topics")
        if not isinstance(topics, list) or not topics or any(t not in ALL_TOPICS for t in topics) or not body.get("url"):
            raise self._invalid({"topics": [f"Topics must be among {', '.join(ALL_TOPICS)}; url is required."]})
        subscription = {"id": self.ids.next("subscription"), "topics": topics, "url": body["url"], "secret": body.get("secret") or "",
                        "description": body.get("description"), "created_at": _iso(self.clock.now())}
        self.subscriptions.append(subscription)
        return self.json({k: v for k, v in subscription.items() if k != "secret"}, 201)

    @route("GET", "/<version>/webhook")
    def webhooks_list(self, request, version):
        self._version(version)
        return {"items": [{k: v for k, v in s.items() if k != "secret"} for s in self.subscriptions]}

    def _send(self, topic: str, payload: dict) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        for subscription in self.subscriptions:
            if topic in subscription["topics"]:
                message_id = "msg_" + self.ids.token(27)
                self.webhooks.enqueue(subscription["url"], body, topic=topic, subscription=subscription["id"], headers={
                    "webhook-id": message_id, "x-webhook-topic": topic, "Content-Type": "application/json",
                    "User-Agent": "ShipBob-Webhooks/1.0"})

    def before_webhook_send(self, delivery, headers: dict) -> dict:
        """Each attempt is signed with its own timestamp; the message id stays the same."""
        headers = dict(headers)
        secret = next((s["secret"] for s in self.subscriptions if s["id"] == delivery.subscription), "")
        timestamp = int(self.clock.timestamp())
        headers["webhook-timestamp"] = str(timestamp)
        if secret:
            headers["webhook-signature"] = standard_webhook_signature(secret, headers["webhook-id"], timestamp, delivery.body)
        return headers

    def _warehouse_event(self, kind: str, **details) -> None:
        if kind == "shipped":
            order, parcel = details["order"], details["parcel"]
            self.shipment_ids[parcel.id] = order.extra.pop("open_shipment_id", None) or self.ids.next("shipment")
            self._send("order.shipped", self._shipment_json(order, parcel))
        elif kind == "short":
            self._send("order.shipment.exception", self._shipment_json(details["order"]))
        elif kind == "return_completed":
            self._send("return.completed", self._return_json(details["expected"]))

    def _drift(self) -> None:
        """Now and then the warehouse finds a damaged unit, or one more than it thought, as real ones do."""
        stocked = sorted((loc, sku) for (loc, sku, lot), units in self.warehouse.on_hand.items() if units > 0 and not lot)
        if stocked:
            location, sku = self.rng.choice(stocked)
            if self.rng.random() < 0.7:
                self.warehouse.adjust(location, sku, -1, reason="Damaged in storage")
            else:
                self.warehouse.adjust(location, sku, 1, reason="Found during a cycle count")

    def _process_return(self, expected, outcomes) -> None:
        expected.status = "arrived"
        self.warehouse.process_return(expected, outcomes)

    # --- control API ----------------------------------------------------------------------------
    def state(self) -> dict:
        return {"orders": len(self._orders()), "products": len(self.products), "returns": len(self.warehouse.returns),
                "auto": self._auto.is_set()}

    @control("POST", "stock")
    def control_stock(self, request):
        """Goods received at a fulfilment centre: {"location_id", "sku", "quantity", "lot"?, "expiry"?}."""
        body = request.json() or {}
        expiry = date.fromisoformat(body["expiry"]) if body.get("expiry") else None
        self.warehouse.receive(str(body["location_id"]), body["sku"], int(body["quantity"]), lot=body.get("lot") or "", expiry=expiry)
        return self._level(str(body["location_id"]), body["sku"])

    @control("POST", "stock/adjust")
    def control_adjust(self, request):
        """A count or damage: {"location_id", "sku", "change", "reason", "lot"?}."""
        body = request.json() or {}
        made = self.warehouse.adjust(str(body["location_id"]), body["sku"], int(body["change"]), reason=body.get("reason") or "Cycle count",
                                     lot=body.get("lot") or "")
        return {**self._level(str(body["location_id"]), body["sku"]), "change": made}

    @control("POST", "stock/announce")
    def control_announce(self, request):
        body = request.json() or {}
        self.warehouse.announce(str(body["location_id"]), body["sku"], int(body["quantity"]))
        return self._level(str(body["location_id"]), body["sku"])

    def _level(self, location: str, sku: str) -> dict:
        value = self.warehouse.levels().get((location, sku), {"on_hand": 0, "committed": 0, "in_transit": 0, "fulfillable": 0, "lots": []})
        return {"location_id": location, "sku": sku, **{k: v for k, v in value.items() if k != "lots"}}

    @control("GET", "stock")
    def control_levels(self, request):
        return {"levels": [{"location_id": loc, "sku": sku, **{k: v for k, v in value.items() if k != "lots"}}
                           for (loc, sku), value in self.warehouse.levels().items()]}

    @control("POST", "warehouse/advance")
    def control_advance(self, request):
        """Move orders on: {"force": true} picks and ships everything open now."""
        body = request.json() or {}
        parcels = self.warehouse.advance(force=bool(body.get("force")))
        return {"shipped": [{"shipment_id": self.shipment_ids[p.id], "order_id": p.order_id, "tracking_number": p.tracking_number,
                             "lines": p.lines} for p in parcels]}

    @control("POST", "warehouse/auto")
    def control_auto(self, request):
        body = request.json() or {}
        (self._auto.set if body.get("on", True) else self._auto.clear)()
        return {"auto": self._auto.is_set()}

    @control("GET", "orders")
    def control_orders(self, request):
        return {"orders": [{"id": o.id, "reference_id": o.reference, "status": o.status, "location_id": o.location, "lines": o.lines,
                            "shipped": o.shipped, "address": o.address} for o in self._orders()]}

    @control("POST", "orders/<int:order_id>/plan")
    def control_plan(self, request, order_id):
        """The next shipment of this order: {"ship": {"SKU": units}, "parcels": 2}."""
        body = request.json() or {}
        self.warehouse.plan(self._order(order_id), ship=body.get("ship"), parcels=int(body.get("parcels", 1)))
        return {"planned": True}

    @control("POST", "orders/<int:order_id>/pick")
    def control_pick(self, request, order_id):
        order = self._order(order_id)
        if order.status == "open":
            order.status, order.picked_at = "picked", self.clock.now()
        return {"status": order.status}

    @control("POST", "shipments/<int:shipment_id>/deliver")
    def control_deliver(self, request, shipment_id):
        for order in self._orders():
            for parcel in order.parcels:
                if self.shipment_ids.get(parcel.id) == shipment_id:
                    self.delivered.add(shipment_id)
                    self._send("order.shipment.delivered", self._shipment_json(order, parcel))
                    return {"delivered": shipment_id}
        raise ValueError(f"no shipped shipment {shipment_id}")

    @control("POST", "returns/<int:return_id>/process")
    def control_process_return(self, request, return_id):
        """The parcel came back: {"outcomes": {"SKU": [[units, "restock"|"quarantine"|"dispose", "reason"]]}} (default: restock all)."""
        body = request.json() or {}
        outcomes = {sku: [tuple(piece) for piece in pieces] for sku, pieces in (body.get("outcomes") or {}).items()} or None
        expected = self._return(return_id)
        try:
            self._process_return(expected, outcomes)
        except Refused as refused:
            raise ValueError(str(refused)) from None
        return self._return_json(expected)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="A ShipBob account on localhost (sandbox).")
    parser.add_argument("--port", type=int, default=8020)
    parser.add_argument("--token", required=True)
    parser.add_argument("--channel-id", type=int, default=100102)
    parser.add_argument("--location", action="append", default=[], metavar="ID=NAME")
    parser.add_argument("--webhook-url", default="")
    parser.add_argument("--webhook-secret", default="")
    parser.add_argument("--auto", action="store_true", help="The warehouse works by itself (picks, packs, ships after the delays).")
    parser.add_argument("--pick-after", type=float, default=20.0)
    parser.add_argument("--ship-after", type=float, default=20.0)
    parser.add_argument("--partial-rate", type=float, default=0.0)
    parser.add_argument("--parcels-rate", type=float, default=0.0)
    parser.add_argument("--stock", action="append", default=[], metavar="LOCATION:SKU=UNITS")
    parser.add_argument("--rate-window", type=float, default=60.0, help="Seconds of the 150-request window (60 as ShipBob).")
    args = parser.parse_args(argv)
    locations = dict(item.split("=", 1) for item in args.location) if args.location else None
    sandbox = ShipBobSandbox(token=args.token, channel_id=args.channel_id, locations=locations, webhook_url=args.webhook_url,
                             webhook_secret=args.webhook_secret, port=args.port, auto=args.auto, pick_after=args.pick_after,
                             ship_after=args.ship_after, partial_rate=args.partial_rate, parcels_rate=args.parcels_rate,
                             rate_window=args.rate_window, seed=None)
    for item in args.stock:
        place, units = item.rsplit("=", 1)
        location, sku = place.split(":", 1)
        sandbox.warehouse.receive(location, sku, int(units))
    print(f"ShipBob sandbox on {sandbox.url} (channel {sandbox.channel_id})", flush=True)
    sandbox.serve_forever()


if __name__ == "__main__":
    main()
