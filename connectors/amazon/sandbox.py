"""An Amazon seller account on localhost, speaking the Selling Partner API as its published models
(amzn/selling-partner-api-models: ordersV0, listingsItems_2021-08-01, tokens_2021-03-01,
sellers) and the Login with Amazon token endpoint describe them:

- `POST /auth/o2/token` exchanges the refresh token (and the application's client id and secret)
  for a one-hour bearer access token; calls carry it as `x-amz-access-token`; an expired token is
  refused with 403 `Unauthorized` ("The access token you provided has expired").
- Each operation has its own token bucket (rate, burst) as published in the models' usage plans,
  announced in `x-amzn-RateLimit-Limit`; an empty bucket answers 429 `QuotaExceeded` without
  Retry-After. Quotas can be set per sandbox (tests, the benchmark).
- Orders v0: `getOrders` by `LastUpdatedAfter` with `NextToken` pages (`MaxResultsPerPage` ≤ 100,
  oldest update first), `getOrder`, `getOrderItems`, and the restricted `getOrderAddress` /
  `getOrderBuyerInfo`, which need a restricted data token naming their path
  (`createRestrictedDataToken`); `confirmShipment` with package reference, carrier, tracking
  and order item quantities (partial shipments move the order to PartiallyShipped).
- Listings Items 2021-08-01: `getListingsItem`, and `patchListingsItem` replacing
  `fulfillment_availability` (quantity) or `purchasable_offer` (price) per marketplace.
- The control API places buyers' orders, moves them through statuses, expires tokens, sets
  quotas, and sends ORDER_CHANGE notifications (as a queue relay would post them).

Standard library and the harness only."""

import argparse
import hmac
import json
import time
import uuid
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from connectors.testing.harness import Abort, Request, Sandbox, TokenBucket, control, cursor_token, read_cursor, route

# Usage plans published in the SP-API models (requests per second, burst).
PUBLISHED_QUOTAS = {
    "getOrders": (0.0167, 20), "getOrder": (0.5, 30), "getOrderItems": (0.5, 30), "getOrderAddress": (0.5, 30),
    "getOrderBuyerInfo": (0.5, 30), "confirmShipment": (2.0, 10), "getListingsItem": (5.0, 10), "patchListingsItem": (5.0, 10),
    "createRestrictedDataToken": (1.0, 10), "getMarketplaceParticipations": (0.016, 15),
}
RESTRICTED = ("getOrderAddress", "getOrderBuyerInfo")
MARKETPLACE_COUNTRIES = {"A13V1IB3VIYZZH": ("FR", "EUR"), "A1PA6795UKMFR9": ("DE", "EUR"), "A1RKKUPIHCS9HS": ("ES", "EUR"),
                         "APJ6JRA9NG5V4": ("IT", "EUR"), "A1F83G8C2ARO7P": ("GB", "GBP")}
VAT = Decimal("0.20")
CENT = Decimal("0.01")


def sp_error(status: int, code: str, message: str, details: str = "") -> Abort:
    return Abort(_json_response({"errors": [{"code": code, "message": message, "details": details}]}, status))


def _json_response(payload, status):
    from connectors.testing.harness import json_response

    return json_response(payload, status)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount(value: Decimal, currency: str) -> dict:
    return {"CurrencyCode": currency, "Amount": str(value.quantize(CENT))}


class AmazonSandbox(Sandbox):
    name = "amazon"

    def __init__(self, *, client_id="amzn1.application-oa2-client.test", client_secret="secret", refresh_token="Atzr|test",
                 seller_id="A1SELLERTEST", quotas: dict | None = None, token_lifetime: float = 3600.0, page_size: int = 100, **kwargs):
        self.client_id, self.client_secret, self.refresh_token, self.seller_id = client_id, client_secret, refresh_token, seller_id
        self.quotas = {**PUBLISHED_QUOTAS, **{k: tuple(v) for k, v in (quotas or {}).items()}}
        self.token_lifetime, self.page_size = token_lifetime, page_size
        super().__init__(**kwargs)

    def reset_state(self):
        self.tokens: dict[str, float] = {}
        self.restricted_tokens: dict[str, tuple[float, set]] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self.orders: dict[str, dict] = {}
        self.listings: dict[str, dict] = {}
        self.packages: dict[str, dict] = {}
        self.repeat_page_edge = False
        self.patches = 0

    # --- auth and quotas --------------------------------------------------------------------
    def authenticate(self, request: Request):
        token = request.header("x-amz-access-token") or ""
        operation = request.route.name
        if token in self.restricted_tokens:
            expires, paths = self.restricted_tokens[token]
            if expires < time.time():
                return self._expired()
            if operation in RESTRICTED and request.path not in paths:
                return sp_error(403, "Unauthorized", "Access to requested resource is denied.",
                                "The restricted data token does not cover this resource.").response
            return None
        expires = self.tokens.get(token)
        if expires is None:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "The access token is invalid.").response
        if expires < time.time():
            return self._expired()
        if operation in RESTRICTED:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.",
                            "A restricted data token is required for this operation.").response
        return None

    @staticmethod
    def _expired():
        return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "The access token you provided has expired.").response

    def bucket(self, operation: str) -> TokenBucket:
        if operation not in self._buckets:
            rate, burst = self.quotas.get(operation, (1.0, 1))
            self._buckets[operation] = TokenBucket(burst, rate)
        return self._buckets[operation]

    def throttle(self, request: Request):
        operation = request.route.name
        if operation not in self.quotas:
            return None
        request.reply_headers.append(("x-amzn-RateLimit-Limit", str(self.quotas[operation][0])))
        allowed, _ = self.bucket(operation).take()
        if not allowed:
            self.count(f"QuotaExceeded {operation}")
            return self.json({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                                          "details": ""}]}, 429)
        return None

    def throttled_response(self, request, retry_after):
        return self.json({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}]}, 429)

    # --- Login with Amazon ------------------------------------------------------------------
    @route("POST", "/auth/o2/token", auth=False, name="lwaToken")
    def token(self, request):
        form = {key: values[0] for key, values in request.form().items()}
        if form.get("grant_type") != "refresh_token":
            return self.json({"error": "unsupported_grant_type", "error_description": "grant_type must be refresh_token"}, 400)
        if form.get("client_id") != self.client_id or not hmac.compare_digest(form.get("client_secret", ""), self.client_secret):
            return self.json({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        if not hmac.compare_digest(form.get("refresh_token", ""), self.refresh_token):
            return self.json({"error": "invalid_grant", "error_description": "The request has an invalid grant parameter : refresh_token"}, 400)
        token = f"Atza|{uuid.uuid4().hex}"
        self.tokens[token] = time.time() + self.token_lifetime
        self.count("access tokens issued")
        return {"access_token": token, "token_type": "bearer", "expires_in": int(self.token_lifetime), "refresh_token": self.refresh_token}

    @route("POST", "/tokens/2021-03-01/restrictedDataToken", name="createRestrictedDataToken")
    def restricted_data_token(self, request):
        resources = (request.json_object().get("restrictedResources") or [])
        if not resources:
            raise sp_error(400, "InvalidInput", "restrictedResources is required")
        token = f"Atz.sprdt|{uuid.uuid4().hex}"
        self.restricted_tokens[token] = (time.time() + 3600, {r.get("path") for r in resources})
        self.count("restricted resources granted", len(resources))
        return {"restrictedDataToken": token, "expiresIn": 3600}

    @route("GET", "/sellers/v1/marketplaceParticipations", name="getMarketplaceParticipations")
    def participations(self, request):
        return {"payload": [{"marketplace": {"id": mp, "countryCode": country, "defaultCurrencyCode": currency},
                             "participation": {"isParticipating": True}} for mp, (country, currency) in MARKETPLACE_COUNTRIES.items()]}

    # --- orders -----------------------------------------------------------------------------
    def _public(self, order: dict) -> dict:
        return {k: v for k, v in order.items() if k not in ("items", "address", "buyer")}

    @route("GET", "/orders/v0/orders", name="getOrders")
    def get_orders(self, request):
        token = request.arg("NextToken")
        size = min(int(request.arg("MaxResultsPerPage") or self.page_size), 100, self.page_size)
        if token:
            try:
                position = read_cursor(token)
            except ValueError:
                raise sp_error(400, "InvalidInput", "Invalid NextToken") from None
        else:
            if not request.arg("MarketplaceIds"):
                raise sp_error(400, "InvalidInput", "MarketplaceIds is required")
            after = request.arg("LastUpdatedAfter")
            if not after:
                raise sp_error(400, "InvalidInput", "LastUpdatedAfter or CreatedAfter is required")
            position = {"after": after, "marketplaces": request.arg("MarketplaceIds").split(","),
                        "channels": (request.arg("FulfillmentChannels") or "").split(",") if request.arg("FulfillmentChannels") else [],
                        "offset": 0}
        after = datetime.fromisoformat(position["after"].replace("Z", "+00:00"))
        matching = sorted((o for o in self.orders.values()
                           if o["MarketplaceId"] in position["marketplaces"] and datetime.fromisoformat(o["LastUpdateDate"].replace("Z", "+00:00")) >= after
                           and (not position["channels"] or o["FulfillmentChannel"] in position["channels"])),
                          key=lambda o: (o["LastUpdateDate"], o["AmazonOrderId"]))
        start = position["offset"]
        if start and self.repeat_page_edge:
            start -= 1  # as when an order changes while the pages are read: it shows up on two pages
            self.count("orders repeated across pages")
        page = matching[start:position["offset"] + size]
        payload = {"Orders": [self._public(o) for o in page], "LastUpdatedBefore": _iso(_now())}
        if position["offset"] + size < len(matching):
            payload["NextToken"] = cursor_token({**position, "offset": position["offset"] + size})
        return {"payload": payload}

    def _order(self, order_id: str) -> dict:
        order = self.orders.get(order_id)
        if order is None:
            raise sp_error(404, "InvalidInput", f"Invalid AmazonOrderId {order_id}")
        return order

    @route("GET", "/orders/v0/orders/<order_id>", name="getOrder")
    def get_order(self, request, order_id):
        return {"payload": self._public(self._order(order_id))}

    @route("GET", "/orders/v0/orders/<order_id>/orderItems", name="getOrderItems")
    def get_order_items(self, request, order_id):
        order = self._order(order_id)
        return {"payload": {"AmazonOrderId": order_id, "OrderItems": order["items"]}}

    @route("GET", "/orders/v0/orders/<order_id>/address", name="getOrderAddress")
    def get_order_address(self, request, order_id):
        return {"payload": {"AmazonOrderId": order_id, "ShippingAddress": self._order(order_id)["address"]}}

    @route("GET", "/orders/v0/orders/<order_id>/buyerInfo", name="getOrderBuyerInfo")
    def get_order_buyer(self, request, order_id):
        return {"payload": {"AmazonOrderId": order_id, **self._order(order_id)["buyer"]}}

    @route("POST", "/orders/v0/orders/<order_id>/shipmentConfirmation", name="confirmShipment")
    def confirm_shipment(self, request, order_id):
        order = self._order(order_id)
        body = request.json_object()
        package = body.get("packageDetail") or {}
        if body.get("marketplaceId") != order["MarketplaceId"]:
            raise sp_error(400, "InvalidInput", "marketplaceId does not match the order")
        reference = str(package.get("packageReferenceId") or "")
        if not reference.isdigit() or not package.get("carrierCode") or not package.get("shipDate"):
            raise sp_error(400, "InvalidInput", "packageReferenceId (numeric), carrierCode and shipDate are required")
        if package["carrierCode"] == "Other" and not package.get("carrierName"):
            raise sp_error(400, "InvalidInput", "carrierName is required when carrierCode is Other")
        if order["OrderStatus"] not in ("Unshipped", "PartiallyShipped"):
            raise sp_error(400, "InvalidInput", f"The order is {order['OrderStatus']} and cannot be confirmed")
        key = f"{order_id}/{reference}"
        if key in self.packages:
            return None  # the same package again: already confirmed
        items = {item["OrderItemId"]: item for item in order["items"]}
        for line in package.get("orderItems") or []:
            item = items.get(line.get("orderItemId"))
            if item is None or int(line.get("quantity") or 0) <= 0 or item["QuantityShipped"] + int(line["quantity"]) > item["QuantityOrdered"]:
                raise sp_error(400, "InvalidInput", f"Invalid orderItems entry {line}")
        for line in package.get("orderItems") or []:
            items[line["orderItemId"]]["QuantityShipped"] += int(line["quantity"])
        self.packages[key] = package
        shipped = all(item["QuantityShipped"] >= item["QuantityOrdered"] for item in order["items"])
        self._touch(order, "Shipped" if shipped else "PartiallyShipped")
        return None

    def _touch(self, order: dict, status: str | None = None) -> None:
        if status:
            order["OrderStatus"] = status
        order["LastUpdateDate"] = _iso(_now())

    # --- listings ---------------------------------------------------------------------------
    def _listing(self, seller_id: str, sku: str) -> dict:
        if seller_id != self.seller_id or sku not in self.listings:
            raise sp_error(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace")
        return self.listings[sku]

    @route("GET", "/listings/2021-08-01/items/<seller_id>/<sku>", name="getListingsItem")
    def get_listing(self, request, seller_id, sku):
        listing = self._listing(seller_id, sku)
        return {"sku": sku, "summaries": [{"marketplaceId": mp, "status": ["BUYABLE"]} for mp in listing["marketplaces"]],
                "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": listing["quantity"].get(mp)}
                                            for mp in listing["marketplaces"]]}

    @route("PATCH", "/listings/2021-08-01/items/<seller_id>/<sku>", name="patchListingsItem")
    def patch_listing(self, request, seller_id, sku):
        listing = self._listing(seller_id, sku)
        marketplaces = (request.arg("marketplaceIds") or "").split(",")
        body = request.json_object()
        issues = []
        if not body.get("productType") or not isinstance(body.get("patches"), list):
            raise sp_error(400, "InvalidInput", "productType and patches are required")
        for patch in body["patches"]:
            value = patch.get("value") or [{}]
            if patch.get("path") == "/attributes/fulfillment_availability":
                quantity = value[0].get("quantity")
                if not isinstance(quantity, int) or quantity < 0:
                    issues.append({"code": "4000001", "message": "quantity must be a non-negative integer", "severity": "ERROR"})
                    continue
                for mp in marketplaces:
                    listing["quantity"][mp] = quantity
            elif patch.get("path") == "/attributes/purchasable_offer":
                for offer in value:
                    price = offer["our_price"][0]["schedule"][0]["value_with_tax"]
                    listing["price"][offer["marketplace_id"]] = (offer.get("currency"), str(Decimal(str(price)).quantize(CENT)))
            else:
                issues.append({"code": "4000002", "message": f"unsupported path {patch.get('path')}", "severity": "ERROR"})
        self.patches += 1
        status = "INVALID" if issues else "ACCEPTED"
        return {"sku": sku, "status": status, "submissionId": uuid.uuid4().hex, "issues": issues}

    # --- control API --------------------------------------------------------------------------
    @control("POST", "listings")
    def _control_listings(self, request):
        body = request.json_object()
        for sku in body["skus"]:
            self.listings.setdefault(sku, {"marketplaces": list(body.get("marketplaces") or MARKETPLACE_COUNTRIES), "quantity": {}, "price": {}})
        return {"listings": len(self.listings)}

    @control("GET", "listings")
    def _control_listing_state(self, request):
        return {"listings": self.listings, "patches": self.patches}

    @control("POST", "orders")
    def _control_order(self, request):
        body = request.json_object()
        marketplace = body.get("marketplace", "A13V1IB3VIYZZH")
        country, currency = MARKETPLACE_COUNTRIES[marketplace]
        order_id = body.get("id") or f"402-{self.ids.next('order'):07d}-{self.rng.randrange(10**7):07d}"
        items, total = [], Decimal(0)
        for number, line in enumerate(body["lines"], start=1):
            quantity, unit = int(line["quantity"]), Decimal(str(line["price"]))
            price = unit * quantity
            promotion = Decimal(str(line.get("promotion") or 0))
            shipping = Decimal(str(line.get("shipping") or 0))
            tax = lambda gross: (gross - gross / (1 + VAT)).quantize(CENT, ROUND_HALF_UP)  # noqa: E731
            items.append({"ASIN": f"B0{number:08d}", "SellerSKU": line["sku"], "OrderItemId": f"{order_id[-7:]}{number:05d}",
                          "Title": line.get("title") or line["sku"], "QuantityOrdered": quantity, "QuantityShipped": 0,
                          "ItemPrice": _amount(price, currency), "ItemTax": _amount(tax(price), currency),
                          "ShippingPrice": _amount(shipping, currency), "ShippingTax": _amount(tax(shipping), currency),
                          "PromotionDiscount": _amount(promotion, currency), "PromotionDiscountTax": _amount(tax(promotion), currency),
                          "PromotionIds": [line["promotion_id"]] if line.get("promotion_id") else []})
            total += price + shipping - promotion
        now = _iso(_now())
        order = {"AmazonOrderId": order_id, "PurchaseDate": now, "LastUpdateDate": now, "OrderStatus": body.get("status", "Unshipped"),
                 "FulfillmentChannel": body.get("fulfillment", "MFN"), "SalesChannel": f"Amazon.{country.lower()}",
                 "ShipServiceLevel": "Std FR Dom", "ShipmentServiceLevelCategory": "Standard", "OrderTotal": _amount(total, currency),
                 "NumberOfItemsShipped": 0, "NumberOfItemsUnshipped": sum(i["QuantityOrdered"] for i in items),
                 "PaymentMethod": "Other", "MarketplaceId": marketplace, "IsPrime": False, "IsBusinessOrder": False,
                 "items": items, "buyer": {"BuyerEmail": f"{uuid.uuid4().hex[:12]}@marketplace.amazon.fr", "BuyerName": "Camille Martin"},
                 "address": {"Name": "Camille Martin", "AddressLine1": "12 rue des Lilas", "City": "Lyon", "PostalCode": "69003",
                             "CountryCode": country, "Phone": "+33 4 00 00 00 00"}}
        self.orders[order_id] = order
        return {"id": order_id, "total": str(total.quantize(CENT)), "status": order["OrderStatus"]}

    @control("POST", "orders/<order_id>/status")
    def _control_status(self, request, order_id):
        order = self._order(order_id)
        self._touch(order, request.json_object()["status"])
        return self._public(order)

    @control("GET", "orders/<order_id>")
    def _control_order_state(self, request, order_id):
        order = self._order(order_id)
        return {**self._public(order), "items": order["items"],
                "packages": [p for key, p in self.packages.items() if key.startswith(f"{order_id}/")]}

    @control("POST", "tokens/expire")
    def _control_expire(self, request):
        for token in self.tokens:
            self.tokens[token] = time.time() - 1
        return {"expired": len(self.tokens)}

    @control("POST", "quotas")
    def _control_quotas(self, request):
        for operation, (rate, burst) in request.json_object().items():
            self.quotas[operation] = (float(rate), int(burst))
            self._buckets.pop(operation, None)
        return {"quotas": self.quotas}

    @control("POST", "pages")
    def _control_pages(self, request):
        body = request.json_object()
        self.page_size = int(body.get("page_size", self.page_size))
        self.repeat_page_edge = bool(body.get("repeat_page_edge", self.repeat_page_edge))
        return {"page_size": self.page_size, "repeat_page_edge": self.repeat_page_edge}

    @control("POST", "notifications", locked=False)
    def _control_notify(self, request):
        """An ORDER_CHANGE notification, posted as the merchant's queue relay would post it."""
        body = request.json_object()
        with self.lock:
            order = self._order(body["order_id"])
            notification = {
                "NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE", "PayloadVersion": "1.0", "EventTime": _iso(_now()),
                "Payload": {"OrderChangeNotification": {
                    "NotificationLevel": "OrderLevel", "SellerId": self.seller_id, "AmazonOrderId": order["AmazonOrderId"],
                    "OrderChangeType": "OrderStatusChange", "OrderChangeTrigger": {"TimeOfOrderChange": order["LastUpdateDate"],
                                                                                  "ChangeReason": "NoReason"},
                    "Summary": {"MarketplaceId": order["MarketplaceId"], "OrderStatus": order["OrderStatus"],
                                "FulfillmentType": order["FulfillmentChannel"]}}},
                "NotificationMetadata": {"ApplicationId": self.client_id, "SubscriptionId": "sub-1", "PublishTime": _iso(_now()),
                                         "NotificationId": body.get("notification_id") or str(uuid.uuid4())}}
        raw = json.dumps(notification).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {body['secret']}"}
        record = self.webhooks.send_now(body["url"], raw, headers=headers, topic="ORDER_CHANGE")
        return {"status": record.status, "notification_id": notification["NotificationMetadata"]["NotificationId"]}

    def state(self):
        return {"orders": len(self.orders), "listings": len(self.listings), "quotas": self.quotas}


def main(argv=None):
    parser = argparse.ArgumentParser(description="An Amazon Selling Partner API sandbox on localhost.")
    parser.add_argument("--port", type=int, default=8031)
    parser.add_argument("--quota", action="append", default=[], metavar="OPERATION=RATE/BURST",
                        help="Override an operation's published usage plan, e.g. patchListingsItem=5/10.")
    args = parser.parse_args(argv)
    quotas = {}
    for item in args.quota:
        operation, _, plan = item.partition("=")
        rate, _, burst = plan.partition("/")
        quotas[operation] = (float(rate), int(burst or 1))
    sandbox = AmazonSandbox(port=args.port, quotas=quotas)
    print(f"Amazon sandbox on {sandbox.url}", flush=True)
    sandbox.serve_forever()


if __name__ == "__main__":
    main()
