"""Amazon (Selling Partner API, merchant-fulfilled offers) as a marketplace: orders in by polling
(an ORDER_CHANGE notification only brings the next poll forward), shipment confirmations, stock
and prices out, each marketplace its own sales channel."""

from datetime import datetime, timezone

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.amazon import mapping
from connectors.amazon.client import AmazonClient
from connectors.commerce.flows import FulfilmentsOut, OrdersPoll, ProductsOut, StockOut
from connectors.commerce.storefront import ProductRef, Storefront, StorefrontSettings, VariantRef
from connectors.errors import PermanentError, RefusedData, message_of
from connectors.http import Recorder
from connectors.options import MappingField, WarehouseCodesField, warehouse_codes
from connectors.registry import register
from hub.texts import Text

ORDER_CHANGE = "ORDER_CHANGE"
RDT_RESOURCES_PER_TOKEN = 50


class AmazonSettings(StorefrontSettings):
    warehouse_map = None
    seller_id = forms.CharField(label=_("Seller id (merchant token)"), max_length=40)
    marketplaces = MappingField(required=True, label=_("Marketplaces → sales channels"),
                                help_text=_("COUNTRY-or-MARKETPLACE-ID=CHANNEL-CODE per line, e.g. FR=amazon-fr; a missing "
                                            "channel is created with the marketplace's currency."))
    stock_warehouses = WarehouseCodesField(
        label=_("Warehouses feeding merchant-fulfilled stock"),
        help_text=_("Comma-separated hub warehouse codes. Empty: no stock push."))
    token_url = forms.URLField(required=False, assume_scheme="https", label=_("Login with Amazon token URL"),
                               help_text=_("Empty: https://api.amazon.com/auth/o2/token."))

    def clean_marketplaces(self):
        resolved = {}
        for key, channel_code in (self.cleaned_data.get("marketplaces") or {}).items():
            marketplace_id = mapping.COUNTRY_MARKETPLACE.get(key.upper(), key)
            if marketplace_id not in mapping.MARKETPLACES:
                raise ValidationError(_("Unknown Amazon marketplace %(key)s (give a country code such as FR or a marketplace id)."),
                                      params={"key": key})
            resolved[marketplace_id] = channel_code
        if not resolved:
            raise ValidationError(_("Map at least one marketplace to a sales channel."))
        return resolved


class AmazonConnector(Storefront):
    kind = "amazon"
    label = "Amazon"
    flows = (ProductsOut(), StockOut(), FulfilmentsOut(), OrdersPoll())
    settings_form = AmazonSettings
    credential_names = ("refresh_token", "client_id", "client_secret")

    def client(self, *, endpoint, recorder):
        return AmazonClient(endpoint=endpoint, recorder=recorder)

    # --- marketplaces and their channels ------------------------------------------------------
    def marketplace_channels(self, endpoint) -> dict:
        """Marketplace id → its sales channel, created with the marketplace's currency if missing."""
        from hub.models import SalesChannel
        from hub.services import sales_channel_get_or_create

        channels = {}
        for marketplace_id, code in endpoint.config["marketplaces"].items():
            country, currency, _vat = mapping.MARKETPLACES[marketplace_id]
            channels[marketplace_id], _ = sales_channel_get_or_create(code=code, name=f"Amazon {country}", kind=SalesChannel.Kind.MARKETPLACE,
                                                                      currency=currency)
        return channels

    def location_channel(self, endpoint, location_id):
        return self.marketplace_channels(endpoint).get(location_id) or endpoint.channel

    def order_channel(self, endpoint, order):
        channel = self.marketplace_channels(endpoint).get(order.get("MarketplaceId"))
        if channel is None:
            raise RefusedData(Text(gettext_noop("marketplace %(marketplace)s is not mapped to a sales channel in the endpoint's settings"),
                                   marketplace=order.get("MarketplaceId")))
        return channel

    # --- inbound: ORDER_CHANGE notifications relayed from the merchant's queue -----------------
    def verify_webhook(self, *, endpoint, request):
        import hmac

        token = (request.header("Authorization") or "").removeprefix("Bearer ").strip()
        return bool(endpoint.webhook_secret) and hmac.compare_digest(token.encode(), endpoint.webhook_secret.encode())

    def delivery_id(self, request):
        import json

        try:
            return str((json.loads(request.body).get("NotificationMetadata") or {}).get("NotificationId") or "")
        except (ValueError, AttributeError):
            return ""

    def topic(self, request):
        import json

        try:
            return str(json.loads(request.body).get("NotificationType") or "")
        except (ValueError, AttributeError):
            return ""

    def topics(self):
        return {ORDER_CHANGE}

    def process(self, *, message):
        """A notification is a hint, never the order itself: the order is read from the API by the
        next poll, which this brings forward (polling alone stays correct)."""
        from connectors.sync import SCHEDULED_KEY, sync_job_enqueue

        if message.topic != ORDER_CHANGE:
            return "ignored"
        payload = self.parse_webhook(bytes(message.body))
        order_id = ((payload.get("Payload") or {}).get("OrderChangeNotification") or {}).get("AmazonOrderId", "?")
        sync_job_enqueue(endpoint=message.endpoint, flow="orders.poll", record_key=SCHEDULED_KEY, label="poll after ORDER_CHANGE")
        return f"orders poll brought forward (order {order_id} changed)"

    def check_connection(self, *, endpoint):
        self.marketplace_channels(endpoint)
        client = self.client(endpoint=endpoint, recorder=Recorder())
        answer = client.call("getMarketplaceParticipations", "GET", "sellers/v1/marketplaceParticipations")
        joined = {(p.get("marketplace") or {}).get("id") for p in answer.get("payload") or []}
        missing = sorted(set(endpoint.config["marketplaces"]) - joined)
        if missing:
            raise ValueError(f"the seller does not participate in marketplace(s) {', '.join(missing)}")
        return f"connected to seller {endpoint.config['seller_id']}, {len(joined)} marketplaces"

    # --- prices out (listings are created in Seller Central; the hub updates their offers) -----
    def product_document(self, *, endpoint, parent, variants, prices):
        from catalog.pricing import PricingRequest, Tier, price_lines
        from connectors.commerce.flows import endpoint_price_list

        price_list = endpoint_price_list(endpoint)
        offers = {}
        for marketplace_id, channel in self.marketplace_channels(endpoint).items():
            request = PricingRequest(tiers=(Tier(reason="public", list_ids=(price_list.pk,)),), currency=channel.currency)
            priced = {line.sku: str(line.unit_price) for line in price_lines(lines=[(v.sku, 1) for v in variants], request=request)
                      if not line.error}
            offers[marketplace_id] = {"currency": channel.currency, "prices": priced}
        return {"skus": [v.sku for v in variants], "offers": offers}

    def product_find(self, ctx, *, document):
        seller = ctx.endpoint.config["seller_id"]
        marketplaces = ",".join(ctx.endpoint.config["marketplaces"])
        found = []
        for sku in document.body["skus"]:
            try:
                ctx.client.call("getListingsItem", "GET", f"listings/2021-08-01/items/{seller}/{sku}",
                                params={"marketplaceIds": marketplaces, "includedData": "summaries"})
            except PermanentError as exc:
                if exc.status == 404:
                    continue
                raise
            found.append(VariantRef(sku=sku, external_id=sku))
        return ProductRef(external_id=document.parent.sku, variants=found) if found else None

    def product_create(self, ctx, *, document):
        raise PermanentError(Text(gettext_noop("%(sku)s has no Amazon listing: create the offer in Seller Central (the hub then keeps its "
                                               "price and stock)"), sku=document.parent.sku))

    def product_update(self, ctx, *, external_id, document, variant_ids):
        seller = ctx.endpoint.config["seller_id"]
        for sku in document.body["skus"]:
            if sku not in variant_ids:
                continue
            for marketplace_id, offer in document.body["offers"].items():
                if sku in offer["prices"]:
                    self._patch(ctx, seller, sku, marketplace_id,
                                mapping.price_patch(marketplace_id=marketplace_id, currency=offer["currency"], price=offer["prices"][sku]))
        return ProductRef(external_id=external_id, variants=[VariantRef(sku=sku, external_id=sku) for sku in variant_ids])

    @staticmethod
    def _patch(ctx, seller, sku, marketplace_id, body) -> None:
        answer = ctx.client.call("patchListingsItem", "PATCH", f"listings/2021-08-01/items/{seller}/{sku}",
                                 params={"marketplaceIds": marketplace_id}, json_body=body)
        if answer.get("status") not in ("ACCEPTED", None):
            issues = "; ".join(issue.get("message", "") for issue in answer.get("issues") or [])
            raise PermanentError(Text(gettext_noop("Amazon refused the listing update of %(sku)s in %(marketplace)s: %(said)s"), sku=sku,
                                      marketplace=marketplace_id, said=issues or answer.get("status")))

    # --- stock out: merchant-fulfilled quantity, per marketplace --------------------------------
    def stock_locations(self, endpoint):
        codes = warehouse_codes(endpoint.config.get("stock_warehouses"))
        return {marketplace_id: codes for marketplace_id in endpoint.config["marketplaces"]} if codes else {}

    def stock_set(self, ctx, *, rows):
        seller = ctx.endpoint.config["seller_id"]
        for data, marketplace_id, units in rows:
            self._patch(ctx, seller, data["sku"], marketplace_id, mapping.availability_patch(units))

    # --- shipments out ----------------------------------------------------------------------
    def fulfilment_find(self, ctx, *, order_id, tracking_number):
        return None  # confirmations cannot be read back; the package reference makes a re-send the same package

    def fulfilment_create(self, ctx, *, order_id, lines, tracking, order_shipped):
        order = (ctx.client.call("getOrder", "GET", f"orders/v0/orders/{order_id}").get("payload") or {})
        item_ids = {item.get("SellerSKU"): item.get("OrderItemId") for item in self._items(ctx.client, order_id)}
        marker = ",".join(f"{line['sku']}x{line['quantity']}" for line in lines)
        try:
            body = mapping.shipment_confirmation(marketplace_id=order.get("MarketplaceId") or "", order_id=order_id, item_ids=item_ids,
                                                 lines=lines, tracking=tracking, shipment=marker, ship_date=datetime.now(timezone.utc))
        except ValueError as exc:
            raise PermanentError(message_of(exc)) from None
        ctx.client.call("confirmShipment", "POST", f"orders/v0/orders/{order_id}/shipmentConfirmation", json_body=body)
        return f"{order_id}/{body['packageDetail']['packageReferenceId']}"

    # --- orders in --------------------------------------------------------------------------
    @staticmethod
    def _items(client, order_id) -> list[dict]:
        items, token = [], None
        while True:
            answer = client.call("getOrderItems", "GET", f"orders/v0/orders/{order_id}/orderItems",
                                 params={"NextToken": token} if token else None).get("payload") or {}
            items.extend(answer.get("OrderItems") or [])
            token = answer.get("NextToken")
            if not token:
                return items

    def orders_changed_since(self, ctx, *, since):
        """Merchant-fulfilled orders updated since `since`, page by page; an order seen on two
        pages is applied once. Items, and (with a restricted data token for exactly these orders)
        addresses and buyer details, are fetched only for orders the hub will import."""
        client = ctx.client
        params = {"MarketplaceIds": ",".join(ctx.endpoint.config["marketplaces"]), "LastUpdatedAfter": mapping.iso(since),
                  "FulfillmentChannels": "MFN"}
        seen: set[str] = set()
        while True:
            page = client.call("getOrders", "GET", "orders/v0/orders", params=params).get("payload") or {}
            fresh = [o for o in page.get("Orders") or [] if o.get("AmazonOrderId") not in seen]
            seen.update(o["AmazonOrderId"] for o in fresh)
            importable = [o for o in fresh if o.get("OrderStatus") not in mapping.NOT_YET_ORDERS and o.get("FulfillmentChannel", "MFN") == "MFN"]
            self._complete(client, importable)
            yield from sorted(fresh, key=lambda o: o.get("LastUpdateDate") or "")
            token = page.get("NextToken")
            if not token:
                return
            params = {"MarketplaceIds": params["MarketplaceIds"], "NextToken": token}

    def _complete(self, client, orders: list[dict]) -> None:
        for order in orders:
            order["OrderItems"] = self._items(client, order["AmazonOrderId"])
        open_orders = [o for o in orders if o.get("OrderStatus") not in mapping.CANCELLED_STATUSES]
        for start in range(0, len(open_orders), RDT_RESOURCES_PER_TOKEN // 2):
            chunk = open_orders[start:start + RDT_RESOURCES_PER_TOKEN // 2]
            resources = [{"method": "GET", "path": f"/orders/v0/orders/{o['AmazonOrderId']}/{part}"}
                         for o in chunk for part in ("address", "buyerInfo")]
            with client.restricted(resources):
                for order in chunk:
                    path = f"orders/v0/orders/{order['AmazonOrderId']}"
                    order["ShippingAddress"] = (client.call("getOrderAddress", "GET", f"{path}/address").get("payload") or {}).get("ShippingAddress")
                    order["BuyerInfo"] = client.call("getOrderBuyerInfo", "GET", f"{path}/buyerInfo").get("payload") or {}

    def apply_order(self, *, endpoint, order_json, cancelled=False):
        if order_json.get("OrderStatus") in mapping.NOT_YET_ORDERS or order_json.get("FulfillmentChannel", "MFN") != "MFN":
            return False  # Pending: held until Amazon marks it Unshipped (a later update brings it back)
        return super().apply_order(endpoint=endpoint, order_json=order_json, cancelled=cancelled)

    def order_external_id(self, order):
        return order["AmazonOrderId"]

    def order_label(self, order):
        return order.get("AmazonOrderId", "?")

    def order_map(self, order):
        return mapping.order_payload(order)

    def order_updated_at(self, order):
        return mapping.stamp(order.get("LastUpdateDate"))

    def order_cancellation(self, order):
        return mapping.cancellation(order)


register(AmazonConnector())
