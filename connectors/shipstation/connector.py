"""ShipStation (API v1) as a 3PL: the hooks the fulfilment flows call.

ShipStation v1 creates products from orders (there is no product creation, only updates) and
has neither stock levels nor returns: its endpoints run items, orders and shipments."""

import json
from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.errors import PermanentError, RefusedData
from connectors.fulfilment.flows import fulfilment_flows
from connectors.fulfilment.provider import FulfilmentProvider, FulfilmentRefused, FulfilmentSettings, ItemRef, ReleaseRef
from connectors.http import Recorder
from connectors.registry import register
from connectors.shipstation import mapping
from connectors.shipstation.client import ShipStationClient
from connectors.shipstation.pacific import utc_to_pacific
from connectors.shipstation.webhooks import delivery_key, on_api_host, secret_valid
from hub.texts import Text

SHIPMENT_TOPICS = ("SHIP_NOTIFY",)
REFUSED_ACTIONS = {
    "update": gettext_noop("ShipStation refused to update %(order)s: %(said)s"),
    "hold": gettext_noop("ShipStation refused to hold %(order)s: %(said)s"),
    "resume": gettext_noop("ShipStation refused to resume %(order)s: %(said)s"),
    "cancel": gettext_noop("ShipStation refused to cancel %(order)s: %(said)s"),
}
SECRET_PARAMETER = "secret"


class ShipStationSettings(FulfilmentSettings):
    store_id = forms.IntegerField(required=False, min_value=1, label=_("Store id"),
                                  help_text=_("The ShipStation store the orders are filed under (empty: the account's manual store)."))
    dimension_unit = forms.ChoiceField(choices=[("centimeters", _("centimetres")), ("inches", _("inches"))], initial="centimeters",
                                       required=False, label=_("Dimension unit of the ShipStation account"),
                                       help_text=_("ShipStation stores product dimensions in the unit its interface uses, without conversion."))


def _body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class ShipStationConnector(FulfilmentProvider):
    kind = "shipstation"
    label = "ShipStation"
    flows = fulfilment_flows(reads_stock=False, takes_returns=False)
    settings_form = ShipStationSettings
    credential_names = ("api_key", "api_secret")
    creates_items_from_orders = True
    reads_stock = False
    takes_returns = False
    shipment_topics = SHIPMENT_TOPICS
    # The repeated hour of November is read as the first one: the poll reads back past it.
    poll_overlap = timedelta(hours=2)

    def client(self, *, endpoint, recorder):
        return ShipStationClient(endpoint=endpoint, recorder=recorder)

    # --- webhooks -------------------------------------------------------------------------------
    def verify_webhook(self, *, endpoint, request):
        """No signature in v1: the secret in the subscribed URL's query string is the proof of origin."""
        return secret_valid(expected=endpoint.webhook_secret, given=request.arg(SECRET_PARAMETER))

    def delivery_id(self, request):
        body = _body(request)
        url = body.get("resource_url")
        return delivery_key(str(body.get("resource_type") or ""), url) if isinstance(url, str) else ""

    def topic(self, request):
        return str(_body(request).get("resource_type") or "")

    def check_connection(self, *, endpoint):
        client = self.client(endpoint=endpoint, recorder=Recorder())
        try:
            warehouses = client.api("GET", "warehouses") or []
        except PermanentError as exc:
            if exc.status in (401, 403):
                raise ValueError(f"ShipStation refused the API key and secret ({exc.status})") from None
            raise
        known = {str(w.get("warehouseId")): w.get("warehouseName") for w in warehouses}
        missing = sorted(set(self.locations(endpoint).values()) - set(known))
        if missing:
            raise ValueError(f"ShipStation has no warehouse {', '.join(missing)}; its warehouses: "
                             + ", ".join(f"{i} ({n})" for i, n in known.items()))
        return f"connected to ShipStation, warehouses {', '.join(f'{i} ({n})' for i, n in known.items())}"

    # --- items ----------------------------------------------------------------------------------
    def item_document(self, *, endpoint, product):
        return mapping.item_document(product)

    def _product(self, ctx, sku: str) -> dict | None:
        return next((p for p in ctx.client.pages("products", key="products", params={"sku": sku}) if p.get("sku") == sku), None)

    def item_find(self, ctx, *, sku):
        product = self._product(ctx, sku)
        return ItemRef(external_id=str(product["productId"])) if product else None

    def item_create(self, ctx, *, sku, document):
        return None  # ShipStation v1 has no product creation: the first order carrying the SKU creates it

    def item_update(self, ctx, *, ref, document):
        from catalog.models import Product

        current = ctx.client.api("GET", f"products/{ref.external_id}")
        product = Product.objects.get(sku=document["sku"])
        body = mapping.product_update(current, product, dimension_unit=ctx.endpoint.config.get("dimension_unit") or "centimeters")
        ctx.client.api("PUT", f"products/{ref.external_id}", body=body)
        return ref

    # --- orders ---------------------------------------------------------------------------------
    def _upsert(self, ctx, release, *, status: str, action: str) -> ReleaseRef:
        body = mapping.order_body(release, status=status, store_id=ctx.endpoint.config.get("store_id"))
        try:
            order = ctx.client.api("POST", "orders/createorder", body=body)
        except PermanentError as exc:
            if exc.status == 400 and action != "create":
                raise FulfilmentRefused(Text(REFUSED_ACTIONS.get(action, REFUSED_ACTIONS["update"]), order=release.reference,
                                             said=exc.excerpt[:200]),
                                        status=400, excerpt=exc.excerpt) from None
            raise
        return ReleaseRef(external_id=str(order["orderId"]), data={"order_key": order.get("orderKey")})

    def release_create(self, ctx, *, release):
        # createorder upserts by orderKey: sent again after a timeout, it updates the same order.
        return self._upsert(ctx, release, status="on_hold" if release.state == "held" else "awaiting_shipment", action="create")

    def release_update(self, ctx, *, ref, release):
        return self._upsert(ctx, release, status="on_hold" if release.state == "held" else "awaiting_shipment", action="update")

    def release_hold(self, ctx, *, ref, release):
        self._upsert(ctx, release, status="on_hold", action="hold")
        return True

    def release_resume(self, ctx, *, ref, release):
        return self._upsert(ctx, release, status="awaiting_shipment", action="resume")

    def release_cancel(self, ctx, *, ref, release, reason):
        self._upsert(ctx, release, status="cancelled", action="cancel")

    # --- shipments ------------------------------------------------------------------------------
    def shipments_since(self, ctx, *, since):
        params = {"createDateStart": utc_to_pacific(since), "includeShipmentItems": "true", "sortBy": "CreateDate", "sortDir": "ASC"}
        if ctx.endpoint.config.get("store_id"):
            params["storeId"] = ctx.endpoint.config["store_id"]
        for shipment in ctx.client.pages("shipments", key="shipments", params=params):
            yield mapping.shipment_data(shipment)

    def shipments_from_event(self, *, endpoint, topic, payload):
        url = payload.get("resource_url")
        if not isinstance(url, str) or not on_api_host(url, endpoint.base_url):
            raise RefusedData(Text(gettext_noop("refused: the webhook points at %(url)s, not at the endpoint's API host (%(host)s); nothing was "
                                                "fetched"), url=repr(str(url)[:200]), host=endpoint.base_url))
        client = self.client(endpoint=endpoint, recorder=Recorder())
        shipments = client.resource_pages(url, key="shipments", overrides={"includeShipmentItems": "True"})
        return [mapping.shipment_data(shipment) for shipment in shipments]


register(ShipStationConnector())
