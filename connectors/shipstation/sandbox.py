"""A ShipStation account on localhost, speaking API v1 (`https://ssapi.shipstation.com`) as
ShipStation's documentation and its apiary-derived swagger describe it, with a simulated
warehouse behind it:

- HTTP Basic with the API key and secret (401 otherwise).
- 40 requests per minute per key in fixed windows, announced on every answer in
  `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset` (seconds to the next
  window); over it, 429 `{"message": "Too Many Requests"}`.
- Times in Pacific time without an offset, both ways (`2026-07-01T05:00:00.0000000` in answers,
  `2026-07-01 05:00:00` in filters), with the real daylight-saving rules.
- `POST /orders/createorder` creates an order or, given an `orderKey` it knows, replaces it
  whole; only open orders (`awaiting_payment`, `awaiting_shipment`, `on_hold`) change: shipped and
  cancelled ones are locked (400). `on_hold` holds, `awaiting_shipment` releases, `cancelled`
  cancels (refused once the warehouse has started the label). `GET /orders`, `GET /orders/{id}`.
- `GET /shipments` by `orderId`, `orderNumber`, `batchId`, `createDateStart`/`End`, with
  `includeShipmentItems`, paged ({shipments, total, page, pages}); no tracking link, a carrier code.
- Products are created from order items (v1 has no product creation): `GET /products?sku=`,
  `GET /products/{id}`, `PUT /products/{id}`. `GET /warehouses`.
- Webhooks (`POST /webhooks/subscribe`, `GET /webhooks` in ShipStation's PascalCase,
  `DELETE /webhooks/{id}`): unsigned pointers `{"resource_url", "resource_type": "SHIP_NOTIFY"}`
  to the shipments of a label batch, posted once (no retries documented).

The simulated warehouse (`connectors.fulfilment.simulation`) prints labels after a delay — in
part, short of stock, in several parcels now and then. Control API under `/_sandbox/`.

Standard library and the harness only: no hub code, no Django."""

import argparse
import json
import threading
from datetime import datetime
from urllib.parse import urlencode

from connectors.fulfilment.simulation import Refused, SimulatedWarehouse
from connectors.shipstation.pacific import PACIFIC, pacific_stamp, pacific_to_utc
from connectors.testing.harness import Abort, FixedWindow, Keyed, Request, Response, Sandbox, control, raw_response, route

OPEN_STATUSES = ("awaiting_payment", "awaiting_shipment", "on_hold")
STATUSES = (*OPEN_STATUSES, "pending_fulfillment", "shipped", "cancelled")
CARRIER_CODES = {"Colissimo": "colissimo", "Chronopost": "chronopost", "DHL Parcel": "dhl_parcel"}
MAX_PAGE_SIZE = 500


class ShipStationSandbox(Sandbox):
    name = "shipstation"

    def __init__(self, *, api_key: str, api_secret: str, warehouses: dict | None = None, webhook_url: str = "", store_id: int = 310001,
                 rate_limit: int = 40, rate_window: float = 60.0, pick_after: float = 20.0, ship_after: float = 20.0,
                 partial_rate: float = 0.0, parcels_rate: float = 0.0, auto: bool = False, tick: float = 2.0, **options):
        self.credentials = {(api_key, api_secret)}
        self.warehouse_names = {int(k): v for k, v in (warehouses or {2001: "Entrepôt Ouest"}).items()}
        self.webhook_url, self.store_id = webhook_url, int(store_id)
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self.warehouse_options = {"pick_after": pick_after, "ship_after": ship_after, "partial_rate": partial_rate,
                                  "parcels_rate": parcels_rate}
        self.tick = tick
        super().__init__(**options)
        self._auto = threading.Event()
        if auto:
            self._auto.set()
        threading.Thread(target=self._run_clock, name="shipstation-warehouse", daemon=True).start()

    def reset_state(self) -> None:
        self.limits = Keyed(lambda: FixedWindow(self.rate_limit, self.rate_window, clock=self.clock.monotonic))
        self.warehouse = SimulatedWarehouse(now=self.clock.now, rng=self.rng, on_event=self._warehouse_event, **self.warehouse_options)
        self.products: dict[int, dict] = {}
        self.by_key: dict[str, int] = {}
        self.hooks: list[dict] = []
        if self.webhook_url:
            self.hooks.append({"id": 1, "target_url": self.webhook_url, "event": "SHIP_NOTIFY", "store_id": None, "friendly_name": "hub"})
        self.labels: dict[int, dict] = {}     # warehouse parcel id → shipment fields (shipmentId, batch, …)
        self._batch = None
        self.ids.begin("shipment", 41000001)
        self.ids.begin("product", 17000001)
        self.ids.begin("item", 9100001)
        self.ids.begin("batch", 88001)
        self.ids.begin("hook", 2)

    def _run_clock(self) -> None:
        while not self._stopped.wait(self.tick):
            if self._auto.is_set():
                try:
                    with self.lock:
                        self._advance(force=False)
                except Exception:
                    import traceback

                    self.errors.append(traceback.format_exc())

    # --- protocol -------------------------------------------------------------------------------
    def normalize_path(self, path: str) -> str:
        return path.rstrip("/") or "/"

    def authenticate(self, request: Request) -> Response | None:
        import base64

        header = request.header("Authorization") or ""
        try:
            key, _, secret = base64.b64decode(header[6:]).decode().partition(":") if header.startswith("Basic ") else ("", "", "")
        except (ValueError, UnicodeDecodeError):
            key, secret = "", ""
        if (key, secret) not in self.credentials:
            return raw_response("401 Unauthorized", 401, content_type="text/plain")
        request.context["key"] = key
        return None

    def _rate_headers(self, window) -> list[tuple[str, str]]:
        return [("X-Rate-Limit-Limit", str(self.rate_limit)), ("X-Rate-Limit-Remaining", str(window.remaining())),
                ("X-Rate-Limit-Reset", str(max(0, int(window.reset_in() + 0.999))))]

    def throttle(self, request: Request) -> Response | None:
        window = self.limits[request.context.get("key", "")]
        allowed, _ = window.take()
        if not allowed:
            return self.json({"message": "Too Many Requests"}, 429, self._rate_headers(window))
        request.reply_headers.extend(self._rate_headers(window))
        return None

    def throttled_response(self, request: Request, retry_after: float | None) -> Response:
        return self.json({"message": "Too Many Requests"}, 429, [("X-Rate-Limit-Limit", str(self.rate_limit)),
                                                                 ("X-Rate-Limit-Remaining", "0"),
                                                                 ("X-Rate-Limit-Reset", str(int(retry_after or 60)))])

    def _bad(self, message: str, status: int = 400) -> Abort:
        return Abort(self.json({"Message": "The request is invalid.", "ExceptionMessage": message,
                                "ExceptionType": "System.ArgumentException", "StackTrace": None}, status))

    def no_route_response(self, request: Request, allowed: list[str]) -> Response:
        if allowed:
            return self.json({"Message": f"The requested resource does not support http method '{request.method}'."}, 405)
        return self.json({"Message": f"No HTTP resource was found that matches the request URI '{request.path}'."}, 404)

    def invalid_body_response(self, request: Request, error) -> Response:
        return self.json({"Message": "The request is invalid.", "ModelState": {"apiOrder": [str(error)]}}, 400)

    def _page(self, request, key: str, items: list) -> dict:
        try:
            page = max(1, int(request.arg("page") or 1))
            size = max(1, min(MAX_PAGE_SIZE, int(request.arg("pageSize") or 100)))
        except ValueError:
            raise self._bad("page and pageSize are whole numbers") from None
        pages = -(-len(items) // size) if items else 0
        return {key: items[(page - 1) * size: page * size], "total": len(items), "page": page, "pages": pages}

    @staticmethod
    def _date_filter(value: str | None) -> datetime | None:
        if not value:
            return None
        try:
            return pacific_to_utc(value)
        except ValueError:
            raise Abort(json_error(f"The value '{value}' is not a valid date (yyyy-mm-dd hh:mm:ss, Pacific time).")) from None

    # --- warehouses -----------------------------------------------------------------------------
    @route("GET", "/warehouses")
    def warehouses(self, request):
        return [{"warehouseId": wid, "warehouseName": name, "originAddress": {"country": "FR"}, "returnAddress": {"country": "FR"},
                 "createDate": pacific_stamp(self.clock.now()), "isDefault": index == 0}
                for index, (wid, name) in enumerate(sorted(self.warehouse_names.items()))]

    # --- orders ---------------------------------------------------------------------------------
    def _product_for(self, sku: str, name: str, unit_price) -> dict:
        product = next((p for p in self.products.values() if p["sku"] == sku), None)
        if product is None:
            now = pacific_stamp(self.clock.now())
            product = {"productId": self.ids.next("product"), "sku": sku, "name": name, "price": unit_price, "defaultCost": None,
                       "length": None, "width": None, "height": None, "weightOz": None, "internalNotes": None, "fulfillmentSku": None,
                       "createDate": now, "modifyDate": now, "active": True, "productCategory": None, "productType": None,
                       "warehouseLocation": None, "defaultCarrierCode": None, "defaultServiceCode": None, "defaultPackageCode": None,
                       "defaultIntlCarrierCode": None, "defaultIntlServiceCode": None, "defaultIntlPackageCode": None,
                       "defaultConfirmation": None, "defaultIntlConfirmation": None, "customsDescription": None, "customsValue": None,
                       "customsTariffNo": None, "customsCountryCode": None, "noCustoms": None, "tags": None}
            self.products[product["productId"]] = product
        return product

    @route("POST", "/orders/createorder")
    def createorder(self, request):
        body = request.json()
        if not isinstance(body, dict):
            raise self._bad("The order is required.")
        missing = [name for name in ("orderNumber", "orderDate", "orderStatus", "billTo", "shipTo") if not body.get(name)]
        if missing:
            raise Abort(self.json({"Message": "The request is invalid.",
                                   "ModelState": {f"apiOrder.{name}": [f"The {name} field is required."] for name in missing}}, 400))
        if body["orderStatus"] not in STATUSES:
            raise self._bad(f"'{body['orderStatus']}' is not a valid order status.")
        ship_to = body["shipTo"]
        if not isinstance(ship_to, dict) or not all(ship_to.get(k) for k in ("name", "street1", "city", "country")):
            raise self._bad("shipTo needs name, street1, city and country.")
        options = body.get("advancedOptions") or {}
        warehouse_id = int(options.get("warehouseId") or sorted(self.warehouse_names)[0])
        if warehouse_id not in self.warehouse_names:
            raise self._bad(f"Warehouse {warehouse_id} does not exist in this account.")
        lines, items = {}, []
        for index, item in enumerate(body.get("items") or []):
            if not item.get("sku") or not isinstance(item.get("quantity"), int) or item["quantity"] < 1:
                raise self._bad(f"items[{index}] needs a sku and a positive quantity.")
            product = self._product_for(item["sku"], item.get("name") or item["sku"], item.get("unitPrice"))
            lines[item["sku"]] = lines.get(item["sku"], 0) + item["quantity"]
            items.append({**{k: item.get(k) for k in ("lineItemKey", "sku", "name", "quantity", "unitPrice", "weight", "options")},
                          "orderItemId": self.ids.next("item"), "productId": product["productId"], "imageUrl": None, "taxAmount": None,
                          "shippingAmount": None, "warehouseLocation": None, "fulfillmentSku": None, "adjustment": False, "upc": None,
                          "createDate": pacific_stamp(self.clock.now()), "modifyDate": pacific_stamp(self.clock.now())})
        key = body.get("orderKey")
        existing = self.warehouse.orders.get(self.by_key.get(key)) if key else None
        status = body["orderStatus"]
        if existing is not None:
            current = existing.extra["status"]
            if current in ("shipped", "cancelled") or existing.parcels and status != current:
                raise self._bad(f"Order {existing.extra['orderNumber']} is {current if not existing.parcels else 'shipped'}: "
                                "shipped and cancelled orders cannot be changed.")
            try:
                if status == "cancelled":
                    self.warehouse.cancel(existing)
                elif status in ("on_hold", "awaiting_payment"):
                    self.warehouse.hold(existing)
                else:
                    self.warehouse.resume(existing)
                if status != "cancelled":
                    self.warehouse.readdress(existing, ship_to)
            except Refused as refused:
                raise self._bad(f"Order {existing.extra['orderNumber']} cannot be changed: {refused} (a label is being created).") from None
            existing.lines = lines or existing.lines
            existing.extra.update(self._order_fields(body, items, warehouse_id, status))
            existing.updated_at = self.clock.now()
            return self._order_json(existing)
        order = self.warehouse.place(reference=key or f"ss-{self.ids.hex(8)}", location=str(warehouse_id), lines=lines, address=ship_to,
                                     service=body.get("requestedShippingService") or "", extra=self._order_fields(body, items, warehouse_id, status))
        if status in ("on_hold", "awaiting_payment"):
            self.warehouse.hold(order)
        elif status == "cancelled":
            self.warehouse.cancel(order)
        self.by_key[order.reference] = order.id
        return self._order_json(order)

    def _order_fields(self, body, items, warehouse_id, status) -> dict:
        return {"orderNumber": body["orderNumber"], "orderDate": body.get("orderDate"), "paymentDate": body.get("paymentDate"),
                "status": status, "customerEmail": body.get("customerEmail"), "billTo": body.get("billTo"), "items": items,
                "requestedShippingService": body.get("requestedShippingService"), "carrierCode": body.get("carrierCode"),
                "serviceCode": body.get("serviceCode"),
                "advancedOptions": {**(body.get("advancedOptions") or {}), "warehouseId": warehouse_id,
                                    "storeId": (body.get("advancedOptions") or {}).get("storeId") or self.store_id}}

    def _status(self, order) -> str:
        if order.status == "cancelled":
            return "cancelled"
        if order.status == "shipped":
            return "shipped"
        if order.status == "held":
            return order.extra["status"] if order.extra["status"] in ("on_hold", "awaiting_payment") else "on_hold"
        return "awaiting_shipment"

    def _order_json(self, order) -> dict:
        extra = order.extra
        extra["status"] = self._status(order)
        return {"orderId": order.id, "orderNumber": extra["orderNumber"], "orderKey": order.reference, "orderDate": extra.get("orderDate"),
                "createDate": pacific_stamp(order.created_at), "modifyDate": pacific_stamp(order.updated_at),
                "paymentDate": extra.get("paymentDate"), "shipByDate": None, "orderStatus": extra["status"], "customerId": None,
                "customerUsername": extra.get("customerEmail"), "customerEmail": extra.get("customerEmail"), "billTo": extra.get("billTo"),
                "shipTo": order.address, "items": extra["items"], "orderTotal": None, "amountPaid": None, "taxAmount": None,
                "shippingAmount": None, "customerNotes": None, "internalNotes": None, "gift": False, "giftMessage": None,
                "paymentMethod": None, "requestedShippingService": extra.get("requestedShippingService"),
                "carrierCode": extra.get("carrierCode"), "serviceCode": extra.get("serviceCode"), "packageCode": None,
                "confirmation": "none", "shipDate": None, "holdUntilDate": None, "weight": {"value": 0, "units": "ounces", "WeightUnits": 1},
                "dimensions": None, "insuranceOptions": {"provider": None, "insureShipment": False, "insuredValue": 0},
                "internationalOptions": {"contents": None, "customsItems": None, "nonDelivery": None},
                "advancedOptions": extra["advancedOptions"], "tagIds": None, "userId": None, "externallyFulfilled": False,
                "externallyFulfilledBy": None, "labelMessages": None}

    @route("GET", "/orders")
    def orders_list(self, request):
        number, status = request.arg("orderNumber"), request.arg("orderStatus")
        since = self._date_filter(request.arg("modifyDateStart"))
        orders = [self._order_json(o) for o in sorted(self.warehouse.orders.values(), key=lambda o: o.id)
                  if (not number or o.extra["orderNumber"] == number) and (not since or o.updated_at >= since)]
        if status:
            orders = [o for o in orders if o["orderStatus"] == status]
        return self._page(request, "orders", orders)

    @route("GET", "/orders/<int:order_id>")
    def order_get(self, request, order_id):
        order = self.warehouse.orders.get(order_id)
        if order is None:
            raise Abort(self.json({"Message": f"Order {order_id} not found"}, 404))
        return self._order_json(order)

    # --- shipments ------------------------------------------------------------------------------
    def _shipment_json(self, order, parcel, *, with_items: bool) -> dict:
        label = self.labels[parcel.id]
        items = None
        if with_items:
            by_sku = {item["sku"]: item for item in order.extra["items"]}
            items = [{"orderItemId": by_sku.get(sku, {}).get("orderItemId"), "lineItemKey": by_sku.get(sku, {}).get("lineItemKey"),
                      "sku": sku, "name": by_sku.get(sku, {}).get("name"), "imageUrl": None, "weight": None, "quantity": units,
                      "unitPrice": by_sku.get(sku, {}).get("unitPrice"), "taxAmount": None, "shippingAmount": None,
                      "warehouseLocation": None, "options": [], "productId": by_sku.get(sku, {}).get("productId"),
                      "fulfillmentSku": None, "adjustment": False, "upc": None} for sku, units in sorted(parcel.lines.items())]
        return {"shipmentId": label["shipmentId"], "orderId": order.id, "orderKey": order.reference, "userId": None,
                "customerEmail": order.extra.get("customerEmail"), "orderNumber": order.extra["orderNumber"],
                "createDate": pacific_stamp(label["created"]), "shipDate": label["created"].astimezone(PACIFIC).date().isoformat(),
                "shipmentCost": 6.9, "insuranceCost": 0, "trackingNumber": parcel.tracking_number, "isReturnLabel": False,
                "batchNumber": str(label["batch"]), "carrierCode": CARRIER_CODES.get(parcel.carrier, "other"),
                "serviceCode": parcel.service.lower().replace(" ", "_"), "packageCode": "package", "confirmation": "none",
                "warehouseId": int(parcel.location), "voided": False, "voidDate": None, "marketplaceNotified": False,
                "notifyErrorMessage": None, "shipTo": order.address, "weight": {"value": 16, "units": "ounces", "WeightUnits": 1},
                "dimensions": None, "insuranceOptions": {"provider": None, "insureShipment": False, "insuredValue": 0},
                "advancedOptions": {"billToParty": None, "storeId": order.extra["advancedOptions"].get("storeId")},
                "shipmentItems": items, "labelData": None, "formData": None}

    @route("GET", "/shipments")
    def shipments_list(self, request):
        with_items = (request.arg("includeShipmentItems") or "false").lower() == "true"
        order_id, number, batch = request.arg("orderId"), request.arg("orderNumber"), request.arg("batchId")
        since, until = self._date_filter(request.arg("createDateStart")), self._date_filter(request.arg("createDateEnd"))
        shipments = []
        for order in sorted(self.warehouse.orders.values(), key=lambda o: o.id):
            if order_id and str(order.id) != order_id or number and order.extra["orderNumber"] != number:
                continue
            for parcel in order.parcels:
                label = self.labels[parcel.id]
                if batch and str(label["batch"]) != batch or since and label["created"] < since or until and label["created"] > until:
                    continue
                shipments.append(self._shipment_json(order, parcel, with_items=with_items))
        shipments.sort(key=lambda s: s["shipmentId"], reverse=(request.arg("sortDir") or "ASC").upper() == "DESC")
        return self._page(request, "shipments", shipments)

    # --- products -------------------------------------------------------------------------------
    @route("GET", "/products")
    def products_list(self, request):
        sku = request.arg("sku")
        products = [p for _, p in sorted(self.products.items()) if not sku or p["sku"] == sku]
        return self._page(request, "products", products)

    def _product(self, product_id: int) -> dict:
        product = self.products.get(product_id)
        if product is None:
            raise Abort(self.json({"Message": f"Product {product_id} not found"}, 404))
        return product

    @route("GET", "/products/<int:product_id>")
    def product_get(self, request, product_id):
        return self._product(product_id)

    @route("PUT", "/products/<int:product_id>")
    def product_put(self, request, product_id):
        product = self._product(product_id)
        body = request.json()
        if not isinstance(body, dict) or body.get("productId") not in (None, product_id) or not body.get("sku"):
            raise self._bad("The product is required, with its sku and its own productId.")
        for name in ("weightOz", "length", "width", "height", "customsValue"):
            if body.get(name) is not None and not isinstance(body[name], (int, float)):
                raise self._bad(f"{name} is a number.")
        product.update({k: v for k, v in body.items() if k in product and k not in ("productId", "createDate")})
        product["modifyDate"] = pacific_stamp(self.clock.now())
        return {"success": True, "message": "The requested product has been updated"}

    # --- webhooks -------------------------------------------------------------------------------
    @route("POST", "/webhooks/subscribe")
    def subscribe(self, request):
        body = request.json() or {}
        if not body.get("target_url") or body.get("event") not in ("ORDER_NOTIFY", "ITEM_ORDER_NOTIFY", "SHIP_NOTIFY", "ITEM_SHIP_NOTIFY"):
            raise self._bad("target_url and a known event are required.")
        hook = {"id": self.ids.next("hook"), "target_url": body["target_url"], "event": body["event"], "store_id": body.get("store_id"),
                "friendly_name": body.get("friendly_name")}
        self.hooks.append(hook)
        return self.json({"id": hook["id"]}, 201)

    @route("GET", "/webhooks")
    def webhooks_list(self, request):
        return {"webhooks": [{"IsLabelAPIHook": False, "WebHookID": h["id"], "SellerID": 1, "StoreID": h["store_id"], "HookType": h["event"],
                              "MessageFormat": "Json", "Url": h["target_url"], "Name": h["friendly_name"], "BulkCopyBatchID": None,
                              "BulkCopyRecordID": None, "Active": True, "WebhookLogs": [], "Seller": None, "Store": None} for h in self.hooks]}

    @route("DELETE", "/webhooks/<int:hook_id>")
    def unsubscribe(self, request, hook_id):
        self.hooks = [h for h in self.hooks if h["id"] != hook_id]
        return None

    def notify(self, resource_url: str, resource_type: str = "SHIP_NOTIFY") -> None:
        body = json.dumps({"resource_url": resource_url, "resource_type": resource_type}).encode()
        for hook in self.hooks:
            if hook["event"] == resource_type:
                self.webhooks.enqueue(hook["target_url"], body, topic=resource_type, subscription=hook["id"],
                                      headers={"Content-Type": "application/json", "User-Agent": "ShipStation"})

    # --- the warehouse --------------------------------------------------------------------------
    def _advance(self, *, force: bool):
        self._batch = {"id": self.ids.next("batch"), "parcels": []}
        try:
            parcels = self.warehouse.advance(force=force)
        finally:
            batch, self._batch = self._batch, None
        if batch["parcels"]:
            query = urlencode({"storeID": self.store_id, "batchId": batch["id"], "includeShipmentItems": "False"})
            self.notify(f"{self.url}/shipments?{query}")
        return parcels

    def _warehouse_event(self, kind: str, **details) -> None:
        if kind == "shipped":
            parcel = details["parcel"]
            batch = self._batch or {"id": self.ids.next("batch"), "parcels": []}
            self.labels[parcel.id] = {"shipmentId": self.ids.next("shipment"), "batch": batch["id"], "created": parcel.shipped_at}
            batch["parcels"].append(parcel.id)

    # --- control API ----------------------------------------------------------------------------
    def state(self) -> dict:
        return {"orders": len(self.warehouse.orders), "products": len(self.products), "hooks": len(self.hooks), "auto": self._auto.is_set()}

    @control("POST", "stock")
    def control_stock(self, request):
        body = request.json() or {}
        self.warehouse.receive(str(body["warehouse_id"]), body["sku"], int(body["quantity"]))
        return {"on_hand": self.warehouse.stock(str(body["warehouse_id"]), body["sku"])}

    @control("POST", "warehouse/advance")
    def control_advance(self, request):
        body = request.json() or {}
        parcels = self._advance(force=bool(body.get("force")))
        return {"shipped": [{"shipmentId": self.labels[p.id]["shipmentId"], "orderId": p.order_id, "trackingNumber": p.tracking_number,
                             "lines": p.lines} for p in parcels]}

    @control("POST", "warehouse/auto")
    def control_auto(self, request):
        body = request.json() or {}
        (self._auto.set if body.get("on", True) else self._auto.clear)()
        return {"auto": self._auto.is_set()}

    @control("GET", "orders")
    def control_orders(self, request):
        return {"orders": [self._order_json(o) for o in sorted(self.warehouse.orders.values(), key=lambda o: o.id)]}

    @control("POST", "orders/<int:order_id>/plan")
    def control_plan(self, request, order_id):
        body = request.json() or {}
        self.warehouse.plan(self.warehouse.orders[order_id], ship=body.get("ship"), parcels=int(body.get("parcels", 1)))
        return {"planned": True}

    @control("POST", "orders/<int:order_id>/pick")
    def control_pick(self, request, order_id):
        order = self.warehouse.orders[order_id]
        if order.status == "open":
            order.status, order.picked_at = "picked", self.clock.now()
        return {"status": order.status}

    @control("POST", "notify")
    def control_notify(self, request):
        """Post a webhook pointing at any URL (as an impostor would)."""
        body = request.json() or {}
        self.notify(body["resource_url"], body.get("resource_type", "SHIP_NOTIFY"))
        return {"queued": True}


def json_error(message: str) -> Response:
    from connectors.testing.harness import json_response

    return json_response({"Message": "The request is invalid.", "ExceptionMessage": message}, 400)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="A ShipStation account (API v1) on localhost (sandbox).")
    parser.add_argument("--port", type=int, default=8030)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--api-secret", required=True)
    parser.add_argument("--warehouse", action="append", default=[], metavar="ID=NAME")
    parser.add_argument("--webhook-url", default="", help="SHIP_NOTIFY target (include the hub's ?secret=…).")
    parser.add_argument("--auto", action="store_true")
    parser.add_argument("--pick-after", type=float, default=20.0)
    parser.add_argument("--ship-after", type=float, default=20.0)
    parser.add_argument("--rate-window", type=float, default=60.0)
    parser.add_argument("--stock", action="append", default=[], metavar="WAREHOUSE:SKU=UNITS")
    args = parser.parse_args(argv)
    warehouses = dict(item.split("=", 1) for item in args.warehouse) if args.warehouse else None
    sandbox = ShipStationSandbox(api_key=args.api_key, api_secret=args.api_secret, warehouses=warehouses, webhook_url=args.webhook_url,
                                 port=args.port, auto=args.auto, pick_after=args.pick_after, ship_after=args.ship_after,
                                 rate_window=args.rate_window, seed=None)
    for item in args.stock:
        place, units = item.rsplit("=", 1)
        warehouse, sku = place.split(":", 1)
        sandbox.warehouse.receive(warehouse, sku, int(units))
    print(f"ShipStation sandbox on {sandbox.url}", flush=True)
    sandbox.serve_forever()


if __name__ == "__main__":
    main()
