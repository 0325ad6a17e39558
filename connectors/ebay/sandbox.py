"""An eBay seller account on localhost, speaking the Sell APIs as eBay's OpenAPI specs
(sell_fulfillment_v1, sell_inventory_v1, commerce_notification_v1) and its OAuth and Notification
documentation describe them:

- `POST /identity/v1/oauth2/token` (HTTP Basic client id:secret): `refresh_token` grant → a user
  access token of 7200 s; `client_credentials` → an application token; expired or unknown tokens
  are refused with 401 (errorId 1001).
- Fulfillment: `GET /sell/fulfillment/v1/order` with `filter=lastmodifieddate:[from..]`, `limit`
  (≤ 200) and `offset`, `href`/`next`/`total`; one order; `shipping_fulfillment` create (201 with
  Location) and list. Orders carry payment status, cancel state and line refunds.
- Inventory: `GET /sell/inventory/v1/offer?sku=`, and `bulk_update_price_quantity` (at most 25
  requests a call, `Content-Language` required) answering per SKU/offer.
- Notification: `GET /commerce/notification/v1/public_key/{kid}` (application token) serves the
  ECDSA public key the sandbox signs its notifications with (`X-EBAY-SIGNATURE`: base64 JSON of
  alg, kid, signature, digest); the control API sends MARKETPLACE_ACCOUNT_DELETION notifications
  and the endpoint challenge.

Standard library, `cryptography` and the harness only."""

import argparse
import base64
import json
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from connectors.testing.harness import Abort, Request, Sandbox, control, json_response, route

LANGUAGES = {"fr-FR", "de-DE", "es-ES", "it-IT", "en-GB", "en-US", "nl-NL", "fr-BE", "de-AT"}
CENT = Decimal("0.01")


def ebay_error(status: int, error_id: int, message: str) -> Abort:
    return Abort(json_response({"errors": [{"errorId": error_id, "domain": "API", "category": "REQUEST", "message": message}]}, status))


def _iso(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _amount(value, currency="EUR") -> dict:
    return {"value": str(Decimal(str(value)).quantize(CENT)), "currency": currency}


class EbaySandbox(Sandbox):
    name = "ebay"

    def __init__(self, *, client_id="HubApp-PRD-0000", client_secret="PRD-secret", refresh_token="v^1.1#refresh", token_lifetime=7200.0,
                 **kwargs):
        self.client_id, self.client_secret, self.refresh_token, self.token_lifetime = client_id, client_secret, refresh_token, token_lifetime
        self.signing_key = ec.generate_private_key(ec.SECP256R1())
        self.kid = uuid.uuid4().hex
        super().__init__(**kwargs)

    def reset_state(self):
        self.tokens: dict[str, tuple[float, str]] = {}
        self.orders: dict[str, dict] = {}
        self.inventory: dict[str, dict] = {}
        self.offers: dict[str, dict] = {}
        self.fulfilments: dict[str, list] = {}
        self.bulk_calls = 0
        self.languages: list[str] = []

    # --- OAuth --------------------------------------------------------------------------------
    def _token(self, kind: str) -> str:
        token = f"v^1.1#i^1#{kind}#{uuid.uuid4().hex}"
        self.tokens[token] = (time.time() + self.token_lifetime, kind)
        self.count(f"{kind} tokens issued")
        return token

    @route("POST", "/identity/v1/oauth2/token", auth=False)
    def token(self, request):
        basic = (request.header("Authorization") or "").removeprefix("Basic ").strip()
        try:
            client_id, _, secret = base64.b64decode(basic).decode().partition(":")
        except ValueError:
            client_id, secret = "", ""
        if client_id != self.client_id or secret != self.client_secret:
            return self.json({"error": "invalid_client", "error_description": "client authentication failed"}, 401)
        form = {key: values[0] for key, values in request.form().items()}
        if form.get("grant_type") == "client_credentials":
            return {"access_token": self._token("application"), "expires_in": int(self.token_lifetime), "token_type": "Application Access Token"}
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token:
            return self.json({"error": "invalid_grant", "error_description": "the provided authorization refresh token is invalid"}, 400)
        return {"access_token": self._token("user"), "expires_in": int(self.token_lifetime), "token_type": "User Access Token"}

    def authenticate(self, request: Request):
        token = (request.header("Authorization") or "").removeprefix("Bearer ").strip()
        expires, kind = self.tokens.get(token, (0, ""))
        needed = "application" if request.path.startswith("/commerce/notification/") else "user"
        if expires < time.time() or kind != needed:
            return ebay_error(401, 1001, "Invalid access token. Check the value of the Authorization HTTP request header.").response
        return None

    # --- Fulfillment --------------------------------------------------------------------------
    @staticmethod
    def _public(order):
        return {**order, "lineItems": [{k: v for k, v in item.items() if not k.startswith("_")} for item in order["lineItems"]]}

    @route("GET", "/sell/fulfillment/v1/order")
    def orders_list(self, request):
        limit, offset = int(request.arg("limit") or 50), int(request.arg("offset") or 0)
        if not 1 <= limit <= 200:
            raise ebay_error(400, 30700, "The 'limit' value must be between 1 and 200.")
        since = None
        flt = request.arg("filter") or ""
        if flt:
            if not (flt.startswith("lastmodifieddate:[") and flt.endswith("..]")):
                raise ebay_error(400, 30800, f"Invalid filter {flt}")
            since = _parse(flt[len("lastmodifieddate:["):-3])
        matching = sorted((o for o in self.orders.values() if since is None or _parse(o["lastModifiedDate"]) >= since),
                          key=lambda o: (o["lastModifiedDate"], o["orderId"]))
        page = matching[offset:offset + limit]
        answer = {"href": f"{self.url}{request.path}?limit={limit}&offset={offset}", "total": len(matching), "limit": limit, "offset": offset,
                  "orders": [self._public(o) for o in page]}
        if offset + limit < len(matching):
            answer["next"] = f"{self.url}{request.path}?limit={limit}&offset={offset + limit}"
        return answer

    def _order(self, order_id):
        if order_id not in self.orders:
            raise ebay_error(404, 32100, f"Order {order_id} not found")
        return self.orders[order_id]

    @route("GET", "/sell/fulfillment/v1/order/<order_id>")
    def order_get(self, request, order_id):
        return self._public(self._order(order_id))

    @route("GET", "/sell/fulfillment/v1/order/<order_id>/shipping_fulfillment")
    def fulfilments_list(self, request, order_id):
        self._order(order_id)
        return {"fulfillments": self.fulfilments.get(order_id, []), "total": len(self.fulfilments.get(order_id, []))}

    @route("POST", "/sell/fulfillment/v1/order/<order_id>/shipping_fulfillment")
    def fulfilment_create(self, request, order_id):
        order = self._order(order_id)
        body = request.json_object()
        if not body.get("lineItems") or not body.get("trackingNumber") or not body.get("shippingCarrierCode"):
            raise ebay_error(400, 32400, "lineItems, shippingCarrierCode and trackingNumber are required")
        items = {item["lineItemId"]: item for item in order["lineItems"]}
        for line in body["lineItems"]:
            item = items.get(line.get("lineItemId"))
            if item is None or int(line.get("quantity") or 0) < 1 or item["_shipped"] + int(line["quantity"]) > item["quantity"]:
                raise ebay_error(400, 32400, f"Invalid line item {line}")
        for line in body["lineItems"]:
            items[line["lineItemId"]]["_shipped"] += int(line["quantity"])
        fulfilment_id = uuid.uuid4().hex[:12].upper()
        self.fulfilments.setdefault(order_id, []).append({"fulfillmentId": fulfilment_id, "shipmentTrackingNumber": body["trackingNumber"],
                                                          "shippingCarrierCode": body["shippingCarrierCode"], "lineItems": body["lineItems"],
                                                          "shippedDate": body.get("shippedDate")})
        done = all(item["_shipped"] >= item["quantity"] for item in order["lineItems"])
        order["orderFulfillmentStatus"] = "FULFILLED" if done else "IN_PROGRESS"
        order["lastModifiedDate"] = _iso()
        from connectors.testing.harness import empty_response

        return empty_response(201, {"Location": f"{self.url}/sell/fulfillment/v1/order/{order_id}/shipping_fulfillment/{fulfilment_id}"})

    # --- Inventory ----------------------------------------------------------------------------
    @route("GET", "/sell/inventory/v1/offer")
    def offers_get(self, request):
        sku = request.arg("sku") or ""
        offers = [o for o in self.offers.values() if o["sku"] == sku]
        if not offers:
            raise ebay_error(404, 25713, "This Offer is not available.")
        return {"offers": offers, "total": len(offers)}

    @route("POST", "/sell/inventory/v1/bulk_update_price_quantity")
    def bulk_update(self, request):
        language = request.header("Content-Language") or ""
        if language not in LANGUAGES:
            raise ebay_error(400, 25709, "Invalid value for header Content-Language.")
        entries = request.json_object().get("requests") or []
        if not 1 <= len(entries) <= 25:
            raise ebay_error(400, 25003, "The request must contain between 1 and 25 entries.")
        self.bulk_calls += 1
        self.languages.append(language)
        responses = []
        for entry in entries:
            sku = entry.get("sku")
            if sku not in self.inventory:
                responses.append({"statusCode": 404, "sku": sku, "errors": [{"errorId": 25702, "message": f"SKU {sku} is not available"}]})
                continue
            if "shipToLocationAvailability" in entry:
                self.inventory[sku]["quantity"] = int(entry["shipToLocationAvailability"]["quantity"])
                responses.append({"statusCode": 200, "sku": sku})
            for offer in entry.get("offers") or []:
                known = self.offers.get(offer.get("offerId"))
                if known is None:
                    responses.append({"statusCode": 404, "sku": sku, "offerId": offer.get("offerId"), "errors": [{"errorId": 25713, "message": "no such offer"}]})
                    continue
                if "price" in offer:
                    known["pricingSummary"]["price"] = offer["price"]
                if "availableQuantity" in offer:
                    known["availableQuantity"] = int(offer["availableQuantity"])
                responses.append({"statusCode": 200, "sku": sku, "offerId": known["offerId"]})
        return {"responses": responses}

    # --- Notification -------------------------------------------------------------------------
    @route("GET", "/commerce/notification/v1/public_key/<kid>")
    def public_key(self, request, kid):
        if kid != self.kid:
            raise ebay_error(404, 195006, "The public key was not found.")
        self.count("public keys served")
        pem = self.signing_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        return {"algorithm": "ECDSA", "digest": "SHA1", "key": pem}

    def sign(self, body: bytes, *, key=None) -> str:
        signature = (key or self.signing_key).sign(body, ec.ECDSA(hashes.SHA1()))
        header = {"alg": "ecdsa", "kid": self.kid, "signature": base64.b64encode(signature).decode(), "digest": "SHA1"}
        return base64.b64encode(json.dumps(header).encode()).decode()

    # --- control API --------------------------------------------------------------------------
    @control("POST", "listings")
    def _control_listings(self, request):
        body = request.json_object()
        for sku in body["skus"]:
            self.inventory.setdefault(sku, {"sku": sku, "quantity": 0})
            for marketplace in body.get("marketplaces") or ["EBAY_FR"]:
                offer_id = str(self.ids.next("offer") + 5000000000)
                self.offers[offer_id] = {"offerId": offer_id, "sku": sku, "marketplaceId": marketplace, "format": "FIXED_PRICE",
                                         "availableQuantity": 0, "pricingSummary": {"price": _amount("1.00")}, "status": "PUBLISHED"}
        return {"listings": len(self.inventory)}

    @control("GET", "listings")
    def _control_listing_state(self, request):
        return {"inventory": self.inventory, "offers": self.offers, "bulk_calls": self.bulk_calls, "languages": self.languages}

    @control("POST", "orders")
    def _control_order(self, request):
        body = request.json_object()
        order_id = f"{self.ids.next('order'):02d}-{self.rng.randrange(10**5):05d}-{self.rng.randrange(10**5):05d}"
        currency = body.get("currency", "EUR")
        lines, subtotal, discounts = [], Decimal(0), Decimal(0)
        for number, line in enumerate(body["lines"], start=1):
            cost = Decimal(str(line["price"])) * int(line["quantity"])
            promotion = Decimal(str(line.get("promotion") or 0))
            subtotal += cost
            discounts += promotion
            lines.append({"lineItemId": f"{order_id[-5:]}{number:04d}", "legacyItemId": f"1100{number:08d}", "sku": line["sku"],
                          "title": line["sku"], "quantity": int(line["quantity"]), "lineItemCost": _amount(cost, currency),
                          "total": _amount(cost - promotion, currency), "listingMarketplaceId": body.get("marketplace", "EBAY_FR"),
                          "appliedPromotions": [{"discountAmount": _amount(promotion, currency), "description": "promo"}] if promotion else [],
                          "lineItemFulfillmentStatus": "NOT_STARTED", "refunds": [], "_shipped": 0})
        delivery = Decimal(str(body.get("shipping") or 0))
        now = _iso()
        order = {"orderId": order_id, "creationDate": now, "lastModifiedDate": now, "orderFulfillmentStatus": "NOT_STARTED",
                 "orderPaymentStatus": body.get("payment", "PAID"), "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
                 "buyer": {"username": body.get("buyer", "acheteur_fr"),
                           "buyerRegistrationAddress": {"fullName": "Jean Dupont", "email": "jdupont@example.fr"}},
                 "pricingSummary": {"priceSubtotal": _amount(subtotal, currency), "deliveryCost": _amount(delivery, currency),
                                    "priceDiscount": _amount(-discounts, currency), "total": _amount(subtotal - discounts + delivery, currency)},
                 "paymentSummary": {"refunds": [], "totalDueSeller": _amount(subtotal - discounts + delivery, currency)},
                 "fulfillmentStartInstructions": [{"fulfillmentInstructionsType": "SHIP_TO", "shippingStep": {"shipTo": {
                     "fullName": "Jean Dupont", "contactAddress": {"addressLine1": "3 place Bellecour", "city": "Lyon", "postalCode": "69002",
                                                                   "countryCode": "FR"}, "primaryPhone": {"phoneNumber": "0400000000"},
                     "email": "jdupont@example.fr"}}}],
                 "lineItems": lines}
        self.orders[order_id] = order
        return {"id": order_id, "total": order["pricingSummary"]["total"]["value"]}

    @control("POST", "orders/<order_id>/refund")
    def _control_refund(self, request, order_id):
        order = self._order(order_id)
        body = request.json_object()
        refund_id = f"5{self.ids.next('refund'):011d}"
        item = next(i for i in order["lineItems"] if i["sku"] == body["sku"])
        item["refunds"].append({"refundId": refund_id, "amount": _amount(body["amount"]), "refundDate": _iso()})
        order["paymentSummary"]["refunds"].append({"refundId": refund_id, "refundStatus": "REFUNDED", "amount": _amount(body["amount"]),
                                                   "refundDate": _iso()})
        order["orderPaymentStatus"] = "PARTIALLY_REFUNDED"
        order["lastModifiedDate"] = _iso()
        return {"refund_id": refund_id}

    @control("POST", "orders/<order_id>/cancel")
    def _control_cancel(self, request, order_id):
        order = self._order(order_id)
        order["cancelStatus"] = {"cancelState": "CANCELED", "cancelledDate": _iso(), "cancelRequests": []}
        order["lastModifiedDate"] = _iso()
        return {"cancelled": order_id}

    @control("GET", "orders/<order_id>")
    def _control_order_state(self, request, order_id):
        return {**self._public(self._order(order_id)), "fulfillments": self.fulfilments.get(order_id, [])}

    @control("POST", "tokens/expire")
    def _control_expire(self, request):
        for token, (_, kind) in list(self.tokens.items()):
            self.tokens[token] = (time.time() - 1, kind)
        return {"expired": len(self.tokens)}

    @control("POST", "notifications", locked=False)
    def _control_notify(self, request):
        """A MARKETPLACE_ACCOUNT_DELETION notification, signed with the served key (or, with
        `forged`, with another key under the same key id)."""
        body = request.json_object()
        document = {"metadata": {"topic": "MARKETPLACE_ACCOUNT_DELETION", "schemaVersion": "1.0", "deprecated": False},
                    "notification": {"notificationId": body.get("notification_id") or str(uuid.uuid4()), "eventDate": _iso(),
                                     "publishDate": _iso(), "publishAttemptCount": 1,
                                     "data": {"username": body.get("username", "acheteur_fr"), "userId": "ma8vp1jySJC",
                                              "eiasToken": "nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ=="}}}
        raw = json.dumps(document).encode()
        key = ec.generate_private_key(ec.SECP256R1()) if body.get("forged") else None
        headers = {"Content-Type": "application/json", "X-EBAY-SIGNATURE": self.sign(raw, key=key)}
        record = self.webhooks.send_now(body["url"], raw, headers=headers, topic="MARKETPLACE_ACCOUNT_DELETION")
        return {"status": record.status}

    @control("POST", "challenge", locked=False)
    def _control_challenge(self, request):
        """eBay's endpoint validation: a GET with `challenge_code`; returns what the endpoint answered."""
        body = request.json_object()
        code = body.get("challenge_code") or uuid.uuid4().hex
        answer = requests.get(body["url"], params={"challenge_code": code}, timeout=5)
        return {"status": answer.status_code, "challenge_code": code, "answer": answer.json() if answer.content else None}

    def state(self):
        return {"orders": len(self.orders), "inventory": len(self.inventory), "bulk_calls": self.bulk_calls}


def main(argv=None):
    parser = argparse.ArgumentParser(description="An eBay Sell APIs sandbox on localhost.")
    parser.add_argument("--port", type=int, default=8032)
    args = parser.parse_args(argv)
    sandbox = EbaySandbox(port=args.port)
    print(f"eBay sandbox on {sandbox.url}", flush=True)
    sandbox.serve_forever()


if __name__ == "__main__":
    main()
