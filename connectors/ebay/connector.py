"""eBay (Sell APIs) as a marketplace: orders, payments, cancellations and refunds in through the
Fulfillment API (polled), shipping fulfilments out, price and quantity out with
bulk_update_price_quantity, and the Notification API's signed notifications."""

from datetime import datetime, timezone
from urllib.parse import quote

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.commerce.flows import FulfilmentsOut, OrdersPoll, ProductsOut, StockOut
from connectors.commerce.storefront import ProductRef, RefundData, Storefront, StorefrontSettings, VariantRef
from connectors.ebay import mapping, notifications
from connectors.ebay.client import EbayClient
from connectors.errors import PermanentError, RefusedData, message_of
from connectors.http import Recorder
from connectors.inbound import Acknowledgement
from connectors.options import MappingField, WarehouseCodesField, warehouse_codes
from connectors.registry import register
from hub.texts import Text

PAGE_LIMIT = 200
STOCK_POOL = "ebay"  # an inventory item has one ship-to-location quantity, shared by its offers


class EbaySettings(StorefrontSettings):
    warehouse_map = None
    marketplaces = MappingField(required=True, label=_("Marketplaces → sales channels"),
                                help_text=_("EBAY-MARKETPLACE-ID=CHANNEL-CODE per line, e.g. EBAY_FR=ebay-fr; the first one's "
                                            "channel sets the stock policy; a missing channel is created with the marketplace's currency."))
    stock_warehouses = WarehouseCodesField(
        label=_("Warehouses feeding eBay stock"),
        help_text=_("Comma-separated hub warehouse codes. Empty: no stock push."))
    notification_url = forms.URLField(required=False, assume_scheme="https", label=_("Notification endpoint URL"),
                                      help_text=_("The public URL registered with eBay for notifications (part of the challenge answer)."))

    def clean_marketplaces(self):
        value = self.cleaned_data.get("marketplaces") or {}
        unknown = sorted(set(value) - set(mapping.MARKETPLACES))
        if unknown:
            raise ValidationError(_("Unknown eBay marketplace(s) %(ids)s (e.g. EBAY_FR, EBAY_DE)."), params={"ids": ", ".join(unknown)})
        if not value:
            raise ValidationError(_("Map at least one marketplace to a sales channel."))
        return value


class EbayConnector(Storefront):
    kind = "ebay"
    label = "eBay"
    flows = (ProductsOut(), StockOut(), FulfilmentsOut(), OrdersPoll())
    settings_form = EbaySettings
    credential_names = ("refresh_token", "client_id", "client_secret")

    def client(self, *, endpoint, recorder):
        return EbayClient(endpoint=endpoint, recorder=recorder)

    # --- marketplaces and channels ------------------------------------------------------------
    def marketplace_channels(self, endpoint) -> dict:
        from hub.models import SalesChannel
        from hub.services import sales_channel_get_or_create

        channels = {}
        for marketplace_id, code in endpoint.config["marketplaces"].items():
            country, currency, _language = mapping.MARKETPLACES[marketplace_id]
            channels[marketplace_id], _ = sales_channel_get_or_create(code=code, name=f"eBay {country}", kind=SalesChannel.Kind.MARKETPLACE,
                                                                      currency=currency)
        return channels

    def _language(self, endpoint) -> str:
        return mapping.MARKETPLACES[next(iter(endpoint.config["marketplaces"]))][2]

    def location_channel(self, endpoint, location_id):
        return next(iter(self.marketplace_channels(endpoint).values()))

    def order_channel(self, endpoint, order):
        channels = self.marketplace_channels(endpoint)
        marketplace = mapping.marketplace_of(order)
        if marketplace not in channels:
            raise RefusedData(Text(gettext_noop("eBay marketplace %(marketplace)s is not mapped to a sales channel in the endpoint's settings"),
                                   marketplace=marketplace or "?"))
        return channels[marketplace]

    # --- notifications ------------------------------------------------------------------------
    def acknowledge(self, *, endpoint, request):
        if request.method != "GET":
            return None
        code = request.arg("challenge_code")
        if not code:
            return Acknowledgement(status=400, body={"error": "challenge_code is required"})
        url = endpoint.config.get("notification_url") or ""
        if not url or not endpoint.webhook_secret:
            return Acknowledgement(status=409, body={"error": "set the endpoint's notification URL and verification token (webhook secret) first"})
        return Acknowledgement(status=200, body={"challengeResponse": notifications.challenge_response(
            challenge_code=code, verification_token=endpoint.webhook_secret, endpoint_url=url)})

    def verify_webhook(self, *, endpoint, request):
        header = notifications.signature_header(request.header("X-EBAY-SIGNATURE"))
        client = self.client(endpoint=endpoint, recorder=Recorder())

        def fetch(kid):
            client.bearer = client.application_token()
            try:
                return client.api("GET", f"commerce/notification/v1/public_key/{quote(kid, safe='')}")
            finally:
                client.bearer = ""

        document = notifications.public_key_cached(endpoint=endpoint, kid=header["kid"], fetch=fetch)
        return notifications.signature_valid(header=header, body=request.body, public_key_pem=document.get("key") or "",
                                             digest=document.get("digest") or header.get("digest") or "SHA1")

    def _document(self, request) -> dict:
        import json

        try:
            document = json.loads(request.body)
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}

    def delivery_id(self, request):
        return str((self._document(request).get("notification") or {}).get("notificationId") or "")

    def topic(self, request):
        return str((self._document(request).get("metadata") or {}).get("topic") or "")

    def topic_handlers(self):
        return {"MARKETPLACE_ACCOUNT_DELETION": self._account_deleted}

    @staticmethod
    def _account_deleted(*, endpoint, payload):
        """The hub keeps an eBay buyer's details only on the orders they placed (an accounting
        record); the notification is acknowledged and kept in the inbox as the deletion request."""
        data = (payload.get("notification") or {}).get("data") or {}
        return f"account deletion of eBay user {data.get('username') or data.get('userId') or '?'} recorded"

    def check_connection(self, *, endpoint):
        self.marketplace_channels(endpoint)
        client = self.client(endpoint=endpoint, recorder=Recorder())
        answer = client.api("GET", "sell/fulfillment/v1/order", params={"limit": 1})
        return f"connected to eBay, {answer.get('total', 0)} orders visible"

    # --- prices out ---------------------------------------------------------------------------
    def product_document(self, *, endpoint, parent, variants, prices):
        from hub.money import round_money

        currency = endpoint.channel.currency
        return {"skus": [v.sku for v in variants], "currency": currency,
                "prices": {v.sku: str(round_money(prices[v.sku], currency)) for v in variants if v.sku in prices}}

    def _offers(self, ctx, sku) -> list[dict]:
        try:
            return ctx.client.api("GET", "sell/inventory/v1/offer", params={"sku": sku}).get("offers") or []
        except PermanentError as exc:
            if exc.status == 404:
                return []
            raise

    def product_find(self, ctx, *, document):
        marketplaces = set(ctx.endpoint.config["marketplaces"])
        found = []
        for sku in document.body["skus"]:
            offers = [o["offerId"] for o in self._offers(ctx, sku) if o.get("marketplaceId") in marketplaces]
            if offers:
                found.append(VariantRef(sku=sku, external_id=sku, data={"offers": offers}))
        return ProductRef(external_id=document.parent.sku, variants=found) if found else None

    def product_create(self, ctx, *, document):
        raise PermanentError(Text(gettext_noop("%(sku)s has no eBay offer: list it on eBay first (the hub then keeps its price and quantity)"),
                                  sku=document.parent.sku))

    def product_update(self, ctx, *, external_id, document, variant_ids):
        refs = self.product_find(ctx, document=document)
        variants = refs.variants if refs else []
        requests_ = [{"sku": v.sku, "offers": [{"offerId": offer, "price": {"value": document.body["prices"][v.sku],
                                                                             "currency": document.body["currency"]}} for offer in v.data["offers"]]}
                     for v in variants if v.sku in document.body["prices"]]
        if requests_:
            ctx.client.bulk_update_price_quantity(requests_, language=self._language(ctx.endpoint))
        return ProductRef(external_id=external_id, variants=variants)

    # --- stock out ----------------------------------------------------------------------------
    def stock_locations(self, endpoint):
        codes = warehouse_codes(endpoint.config.get("stock_warehouses"))
        return {STOCK_POOL: codes} if codes else {}

    def stock_set(self, ctx, *, rows):
        requests_ = [{"sku": data["sku"], "shipToLocationAvailability": {"quantity": int(units)}} for data, _location, units in rows]
        ctx.client.bulk_update_price_quantity(requests_, language=self._language(ctx.endpoint))

    # --- shipping fulfilments out ---------------------------------------------------------------
    def fulfilment_find(self, ctx, *, order_id, tracking_number):
        answer = ctx.client.api("GET", f"sell/fulfillment/v1/order/{quote(order_id, safe='')}/shipping_fulfillment")
        for fulfilment in answer.get("fulfillments") or []:
            if fulfilment.get("shipmentTrackingNumber") == tracking_number:
                return fulfilment["fulfillmentId"]
        return None

    def fulfilment_create(self, ctx, *, order_id, lines, tracking, order_shipped):
        order = ctx.client.api("GET", f"sell/fulfillment/v1/order/{quote(order_id, safe='')}")
        line_items = {item.get("sku"): item.get("lineItemId") for item in order.get("lineItems") or []}
        try:
            body = mapping.fulfilment_body(line_items=line_items, lines=lines, tracking=tracking, shipped=datetime.now(timezone.utc))
        except ValueError as exc:
            raise PermanentError(message_of(exc)) from None
        answer = ctx.client.api("POST", f"sell/fulfillment/v1/order/{quote(order_id, safe='')}/shipping_fulfillment", body=body)
        return (answer.get("_location") or "").rstrip("/").rsplit("/", 1)[-1] or answer.get("fulfillmentId") or tracking.get("number") or "?"

    # --- orders and refunds in ----------------------------------------------------------------
    def orders_changed_since(self, ctx, *, since):
        offset = 0
        seen: set[str] = set()
        while True:
            answer = ctx.client.api("GET", "sell/fulfillment/v1/order", params={
                "filter": f"lastmodifieddate:[{mapping.iso(since)}..]", "limit": PAGE_LIMIT, "offset": offset})
            orders = [o for o in answer.get("orders") or [] if o.get("orderId") not in seen]
            seen.update(o["orderId"] for o in orders)
            yield from orders
            offset += PAGE_LIMIT
            if not answer.get("next") or offset >= int(answer.get("total") or 0):
                return

    def order_external_id(self, order):
        return order["orderId"]

    def order_label(self, order):
        return order.get("orderId", "?")

    def order_map(self, order):
        return mapping.order_payload(order)

    def order_updated_at(self, order):
        return mapping.stamp(order.get("lastModifiedDate"))

    def order_cancellation(self, order):
        return mapping.cancellation(order)

    def refund_map(self, refund, *, prices_include_tax):
        return RefundData(refund_id=refund["refund_id"], order_external_id=refund["order_id"], amount=refund["amount"],
                          lines=refund["lines"], reference=f"eBay refund {refund['refund_id']}")

    def apply_order(self, *, endpoint, order_json, cancelled=False):
        from connectors.binder import REFUND, Binder
        from connectors.commerce.inbound import refund_apply

        if order_json.get("orderPaymentStatus") == "PENDING" and not mapping.cancellation(order_json):
            return False  # not paid yet: imported once eBay has the money
        created = super().apply_order(endpoint=endpoint, order_json=order_json, cancelled=cancelled)
        binder = Binder(endpoint)
        for refund in mapping.refunds(order_json):
            if not binder.is_bound(REFUND, external_id=refund["refund_id"]):
                refund_apply(endpoint=endpoint, payload={**refund, "order_id": order_json["orderId"]})
        return created


register(EbayConnector())
