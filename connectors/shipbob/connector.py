"""ShipBob as a 3PL: the hooks the fulfilment flows call, over ShipBob's dated REST API."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.binder import Binder
from connectors.errors import PermanentError, RefusedData
from connectors.fulfilment.flows import fulfilment_flows
from connectors.fulfilment.provider import FulfilmentProvider, FulfilmentRefused, FulfilmentSettings, ItemRef, ReleaseRef
from connectors.fulfilment.state import ITEM
from connectors.http import Recorder
from connectors.registry import register
from connectors.shipbob import mapping
from connectors.shipbob.client import API_VERSION, ShipBobClient
from connectors.shipbob.webhooks import signature_valid
from hub.texts import Text

SHIPMENT_TOPICS = ("order.shipped", "order.shipment.delivered", "order.shipment.tracking.updated")
STOCK_TOPICS = ("order.shipment.exception",)
RETURN_TOPICS = ("return.completed", "return.updated")


class ShipBobSettings(FulfilmentSettings):
    channel_id = forms.IntegerField(min_value=1, label=_("Channel id"),
                                    help_text=_("The ShipBob channel the token writes with (GET /channel: the one with write scopes)."))
    api_version = forms.ChoiceField(choices=[("2026-01", "2026-01"), ("2025-07", "2025-07"), ("2026-07", "2026-07")],
                                    initial=API_VERSION, required=False, label=_("API version"))


def _payload(payload: dict) -> dict:
    """Webhook bodies carry the resource itself (or, in some subscriptions, under `data`)."""
    return payload.get("data") if isinstance(payload.get("data"), dict) else payload


class ShipBobConnector(FulfilmentProvider):
    kind = "shipbob"
    label = "ShipBob"
    flows = fulfilment_flows()
    settings_form = ShipBobSettings
    credential_names = ("token",)
    shipment_topics = SHIPMENT_TOPICS
    stock_topics = STOCK_TOPICS
    return_topics = RETURN_TOPICS

    def client(self, *, endpoint, recorder):
        return ShipBobClient(endpoint=endpoint, recorder=recorder)

    # --- webhooks -------------------------------------------------------------------------------
    def verify_webhook(self, *, endpoint, request):
        return signature_valid(secret=endpoint.webhook_secret, message_id=request.header("webhook-id"),
                               timestamp=request.header("webhook-timestamp"), signatures=request.header("webhook-signature"),
                               body=request.body)

    def delivery_id(self, request):
        return request.header("webhook-id")

    def topic(self, request):
        return request.header("x-webhook-topic") or request.header("shipbob-topic")

    def check_connection(self, *, endpoint):
        client = self.client(endpoint=endpoint, recorder=Recorder())
        try:
            channels = client.api("GET", "channel") or {}
        except PermanentError as exc:
            if exc.status in (401, 403):
                raise ValueError(f"ShipBob refused the token ({exc.status})") from None
            raise
        items = channels.get("items", channels) if isinstance(channels, dict) else channels
        mine = next((c for c in items or [] if str(c.get("id")) == str(client.channel_id)), None)
        if mine is None:
            raise ValueError(f"the token has no channel {client.channel_id}; its channels: "
                             + ", ".join(f"{c.get('id')} ({c.get('name')})" for c in items or []))
        return f"connected to ShipBob channel {mine['id']} ({mine.get('name')}), API {client.version}"

    # --- items ----------------------------------------------------------------------------------
    def item_document(self, *, endpoint, product):
        return mapping.product_body(product)

    @staticmethod
    def _ref(product: dict, sku: str) -> ItemRef | None:
        variant = next((v for v in product.get("variants") or [] if v.get("sku") == sku), None)
        if variant is None:
            return None
        return ItemRef(external_id=str(variant["id"]), data={
            "product_id": str(product["id"]), "inventory_id": str((variant.get("inventory") or {}).get("inventory_id") or ""),
            "is_lot": bool((variant.get("lot_information") or {}).get("is_lot"))})

    def item_find(self, ctx, *, sku):
        for product in ctx.client.cursor_pages("product", params={"SKU": sku}):
            ref = self._ref(product, sku)
            if ref is not None:
                return ref
        return None

    def item_create(self, ctx, *, sku, document):
        product = ctx.client.api("POST", "product", body=document)
        return self._ref(product, sku)

    def item_update(self, ctx, *, ref, document):
        variant = {**document["variants"][0], "id": int(ref.external_id)}
        product = ctx.client.api("PATCH", f"product/{ref.data['product_id']}/variants", body=[variant])
        return self._ref(product, variant["sku"]) or ref

    # --- orders ---------------------------------------------------------------------------------
    def _find_order(self, ctx, reference: str) -> dict | None:
        """Our order with this reference (references are unique per channel: another channel's is not ours)."""
        channel = str(ctx.client.channel_id)
        return next((o for o in ctx.client.pages("order", params={"ReferenceIds": reference})
                     if o.get("reference_id") == reference and str((o.get("channel") or {}).get("id", channel)) == channel), None)

    @staticmethod
    def _release_ref(order: dict) -> ReleaseRef:
        return ReleaseRef(external_id=str(order["id"]), data={"shipments": [str(s["id"]) for s in order.get("shipments") or []]})

    def release_create(self, ctx, *, release):
        try:
            order = ctx.client.api("POST", "order", body=mapping.order_body(release))
        except PermanentError as exc:
            if exc.status != 422:
                raise
            # 422: ShipBob already has an order with this reference (sent before a timeout): that is the one.
            order = self._find_order(ctx, release.reference)
            if order is None:
                raise
        return self._release_ref(order)

    def release_update(self, ctx, *, ref, release):
        order = ctx.client.api("GET", f"order/{ref.external_id}")
        body = mapping.address_update_body(release.ship_to, release.email)
        for shipment in order.get("shipments") or []:
            if shipment.get("status") in mapping.SHIPPED_STATUSES or shipment.get("status") == "Cancelled":
                continue
            try:
                ctx.client.api("PUT", f"shipment/{shipment['id']}:updateAddress", body=body)
            except PermanentError as exc:
                if exc.status == 422:
                    raise FulfilmentRefused(Text(gettext_noop("ShipBob refused the new address of %(order)s (shipment %(shipment)s): %(said)s"),
                                                 order=release.reference, shipment=shipment["id"], said=exc.excerpt[:200]),
                                            status=422, excerpt=exc.excerpt) from None
                raise
        return self._release_ref(order)

    def release_cancel(self, ctx, *, ref, release, reason):
        answer = ctx.client.api("POST", f"order/{ref.external_id}:cancel")
        if (answer or {}).get("status") != "Success":
            refused = [f"shipment {r.get('shipment_id')}: {r.get('reason')}" for r in (answer or {}).get("canceled_shipment_results") or []
                       if not r.get("is_success")]
            raise FulfilmentRefused(Text(gettext_noop("ShipBob refused to cancel %(order)s (%(reason)s): %(said)s"), order=release.reference,
                                         reason=reason, said="; ".join(refused) or f"status {(answer or {}).get('status')}"))

    # --- shipments ------------------------------------------------------------------------------
    def shipments_since(self, ctx, *, since):
        for order in ctx.client.pages("order", params={"LastUpdateStartDate": since.isoformat(), "SortOrder": "Oldest"}):
            for shipment in order.get("shipments") or []:
                yield mapping.shipment_data(shipment, order_id=order["id"], reference=order.get("reference_id") or "")

    def shipments_from_event(self, *, endpoint, topic, payload):
        shipment = _payload(payload)
        if "id" not in shipment:
            raise RefusedData(Text(gettext_noop("%(topic)s: no shipment in the body"), topic=topic))
        return [mapping.shipment_data(shipment)]

    # --- stock ----------------------------------------------------------------------------------
    def _inventory_ids(self, endpoint, skus) -> list[str]:
        rows = Binder(endpoint).all(ITEM)
        if skus is not None:
            rows = rows.filter(data__sku__in=list(skus))
        return [row.data.get("inventory_id") for row in rows if row.data.get("inventory_id")]

    def stock_levels(self, ctx, *, location_ids, skus=None):
        params = {"LocationId": location_ids[0]} if len(location_ids) == 1 else {}
        if skus is not None:
            ids = self._inventory_ids(ctx.endpoint, skus)
            if not ids:
                return []
            params["InventoryIds"] = ",".join(ids)
        wanted = set(map(str, location_ids))
        items = list(ctx.client.cursor_pages("inventory-level/locations", params=params))
        if skus is not None:
            items = [item for item in items if item.get("sku") in set(skus)]
        rows = mapping.stock_rows(items, location_ids=wanted)
        lot_skus = {row.data.get("sku") for row in Binder(ctx.endpoint).all(ITEM).filter(data__is_lot=True)}
        if not lot_skus & {row.sku for row in rows}:
            return rows
        totals = {(row.sku, row.location_id): row for row in rows}
        lots = [item for item in ctx.client.cursor_pages("inventory-level/lots", params=params) if item.get("sku") in lot_skus]
        return [row for row in rows if row.sku not in lot_skus] + mapping.lot_rows(lots, location_ids=wanted, totals=totals)

    def stock_reasons(self, ctx, *, location_id, skus, since):
        ids = self._inventory_ids(ctx.endpoint, skus)
        body = {"facility_id": int(location_id), "inventory_ids": [int(i) for i in ids]}
        if since:
            body["start_date"] = since.isoformat()
        events = (ctx.client.api("POST", "inventory/history:query", body=body) or {}).get("data") or []
        return mapping.history_reasons(events, sku_by_inventory=self._sku_by_inventory(ctx.endpoint))

    def stock_event_skus(self, *, endpoint, topic, payload):
        shipment = _payload(payload)
        return sorted({product.get("sku") or product.get("reference_id") for product in shipment.get("products") or []} - {None})

    # --- returns --------------------------------------------------------------------------------
    @staticmethod
    def _sku_by_inventory(endpoint) -> dict[str, str]:
        return {row.data.get("inventory_id"): row.data.get("sku") for row in Binder(endpoint).all(ITEM) if row.data.get("inventory_id")}

    def _inventory_id(self, ctx, sku: str) -> int:
        bound = Binder(ctx.endpoint).all(ITEM).filter(data__sku=sku).first()
        if bound is not None and bound.data.get("inventory_id"):
            return int(bound.data["inventory_id"])
        ref = self.item_find(ctx, sku=sku)
        if ref is None or not ref.data.get("inventory_id"):
            raise PermanentError(Text(gettext_noop("ShipBob has no item %(sku)s: it cannot expect it back (send the item first)"), sku=sku))
        return int(ref.data["inventory_id"])

    def return_create(self, ctx, *, reference, location_id, lines, original_shipment, tracking_number):
        inventory = [(self._inventory_id(ctx, line["sku"]), line["quantity"]) for line in lines]
        body = mapping.return_body(reference=reference, location_id=location_id, inventory=inventory,
                                   original_shipment=original_shipment, tracking_number=tracking_number)
        try:
            return str(ctx.client.api("POST", "return", body=body)["id"])
        except PermanentError as exc:
            if exc.status != 422:
                raise
            found = next((r for r in ctx.client.pages("return", params={"ReferenceIds": reference})
                          if r.get("reference_id") == reference and r.get("status") != "Cancelled"), None)
            if found is None:
                raise
            return str(found["id"])

    def return_update(self, ctx, *, external_id, reference, location_id, lines, original_shipment, tracking_number):
        inventory = [(self._inventory_id(ctx, line["sku"]), line["quantity"]) for line in lines]
        body = mapping.return_body(reference=reference, location_id=location_id, inventory=inventory,
                                   original_shipment=original_shipment, tracking_number=tracking_number)
        try:
            ctx.client.api("PUT", f"return/{external_id}", body=body)
        except PermanentError as exc:
            if exc.status != 422:
                raise
            return False  # no longer awaiting arrival: ShipBob has the parcel
        return True

    def return_cancel(self, ctx, *, external_id):
        ctx.client.api("POST", f"return/{external_id}:cancel")

    def return_fetch(self, ctx, *, external_id):
        body = ctx.client.api("GET", f"return/{external_id}")
        return mapping.return_receipt(body, sku_by_inventory=self._sku_by_inventory(ctx.endpoint))

    def return_from_event(self, *, endpoint, topic, payload):
        body = _payload(payload)
        if "id" not in body:
            return None
        return mapping.return_receipt(body, sku_by_inventory=self._sku_by_inventory(endpoint))


register(ShipBobConnector())
