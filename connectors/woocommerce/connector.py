"""WooCommerce as a storefront: the hooks the storefront flows call, over REST API v3."""

import re
from datetime import date, timezone

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.commerce.flows import STOREFRONT_FLOWS
from connectors.commerce.storefront import ProductRef, RefundData, Storefront, StorefrontSettings, VariantRef
from connectors.errors import PermanentError
from connectors.http import Recorder
from connectors.inbound import Acknowledgement
from connectors.options import WarehouseCodesField, warehouse_codes
from connectors.registry import register
from connectors.woocommerce import mapping
from connectors.woocommerce.client import TRACKING_ROOT, WooCommerceClient
from connectors.woocommerce.webhooks import signature_valid
from hub.texts import Text

STOCK_POOL = "stock"  # WooCommerce keeps one stock quantity per product: one "location"


class WooCommerceSettings(StorefrontSettings):
    warehouse_map = None
    stock_warehouses = WarehouseCodesField(
        label=_("Warehouses feeding the shop's stock"),
        help_text=_("Comma-separated hub warehouse codes; the shop's one stock quantity is what they can sell together. Empty: no stock push."))
    shipment_tracking = forms.BooleanField(
        required=False, initial=False, label=_("Shipment Tracking extension installed"),
        help_text=_("Send tracking to the Shipment Tracking extension; otherwise as a note to the customer."))
    publish_status = forms.ChoiceField(choices=[("publish", _("Published")), ("draft", _("Draft")), ("private", _("Private"))],
                                       initial="publish", required=False, label=_("Status of new products"))


def _variant_ref(item: dict, *, parent_id: str | None) -> VariantRef:
    return VariantRef(sku=item.get("sku") or "", external_id=str(item["id"]),
                      data={"parent": parent_id or "", "variation": parent_id is not None})


class WooCommerceConnector(Storefront):
    kind = "woocommerce"
    label = "WooCommerce"
    flows = STOREFRONT_FLOWS
    settings_form = WooCommerceSettings
    credential_names = ("consumer_key", "consumer_secret")
    order_topics = {"order.created": False, "order.updated": False, "order.restored": False}
    customer_topics = ("customer.created", "customer.updated")

    def client(self, *, endpoint, recorder):
        return WooCommerceClient(endpoint=endpoint, recorder=recorder)

    # --- webhooks -------------------------------------------------------------------------------
    def acknowledge(self, *, endpoint, request):
        """The ping WooCommerce sends when a webhook is created: form-encoded `webhook_id=N`, unsigned."""
        if not request.header("X-WC-Webhook-Signature") and request.content_type == "application/x-www-form-urlencoded":
            if re.fullmatch(rb"webhook_id=\d+", request.body.strip()):
                return Acknowledgement(status=200, body={"ping": "ok"})
        return None

    def verify_webhook(self, *, endpoint, request):
        return signature_valid(secret=endpoint.webhook_secret, body=request.body, header_value=request.header("X-WC-Webhook-Signature"))

    def topic(self, request):
        return request.header("X-WC-Webhook-Topic")

    def delivery_id(self, request):
        return ""  # WooCommerce's delivery id hashes the webhook id and the second: not an event id

    def check_connection(self, *, endpoint):
        client = self.client(endpoint=endpoint, recorder=Recorder())
        try:
            status = client.api("GET", "system_status")
        except PermanentError as exc:
            if exc.status in (401, 403):
                raise ValueError(f"the shop refused the consumer key ({exc.status})") from None
            raise
        environment = status.get("environment") or {}
        return f"connected to {environment.get('site_url') or endpoint.base_url}, WooCommerce {environment.get('version') or '?'}"

    def topic_handlers(self):
        return {**super().topic_handlers(), "order.deleted": self._order_deleted}

    # --- products out ---------------------------------------------------------------------------
    def product_document(self, *, endpoint, parent, variants, prices):
        return mapping.product_json(parent, variants, prices, currency=endpoint.channel.currency,
                                    publish_status=endpoint.config.get("publish_status") or "publish")

    def _product_ref(self, ctx, product: dict) -> ProductRef:
        product_id = str(product["id"])
        if product.get("type") != "variable":
            return ProductRef(external_id=product_id, variants=[_variant_ref(product, parent_id=None)])
        variations = ctx.client.pages(f"products/{product_id}/variations", params={})
        return ProductRef(external_id=product_id, variants=[_variant_ref(v, parent_id=product_id) for v in variations if v.get("sku")])

    def product_find(self, ctx, *, document):
        found = ctx.client.api("GET", "products", params={"sku": document.body["product"]["sku"]})
        return self._product_ref(ctx, found[0]) if found else None

    def product_create(self, ctx, *, document):
        product = ctx.client.api("POST", "products", body=document.body["product"])
        if document.body["variations"]:
            ctx.client.batch(f"products/{product['id']}/variations", create=document.body["variations"])
        return self._product_ref(ctx, product)

    def product_update(self, ctx, *, external_id, document, variant_ids):
        body = {key: value for key, value in document.body["product"].items() if key != "type"}
        product = ctx.client.api("PUT", f"products/{external_id}", body=body)
        if document.body["variations"]:
            update = [{**v, "id": int(variant_ids[v["sku"]])} for v in document.body["variations"] if v["sku"] in variant_ids]
            create = [v for v in document.body["variations"] if v["sku"] not in variant_ids]
            ctx.client.batch(f"products/{external_id}/variations", create=create, update=update)
        return self._product_ref(ctx, product)

    # --- stock ----------------------------------------------------------------------------------
    def stock_locations(self, endpoint):
        codes = warehouse_codes(endpoint.config.get("stock_warehouses"))
        return {STOCK_POOL: codes} if codes else {}

    def stock_set(self, ctx, *, rows):
        simple, variations = [], {}
        for data, _location, units in rows:
            item = {"id": int(data["external_id"]), "manage_stock": True, "stock_quantity": int(units)}
            if data.get("variation"):
                variations.setdefault(data["parent"], []).append(item)
            else:
                simple.append(item)
        if simple:
            ctx.client.batch("products", update=simple)
        for parent, items in variations.items():
            ctx.client.batch(f"products/{parent}/variations", update=items)

    def stock_read(self, ctx, *, variants, locations):
        shown = {}
        simple = [external_id for external_id, data in variants.items() if not data.get("variation")]
        for start in range(0, len(simple), 100):
            for product in ctx.client.pages("products", params={"include": ",".join(simple[start:start + 100])}):
                shown[(str(product["id"]), STOCK_POOL)] = product.get("stock_quantity")
        for parent in sorted({data["parent"] for data in variants.values() if data.get("variation")}):
            for variation in ctx.client.pages(f"products/{parent}/variations", params={}):
                shown[(str(variation["id"]), STOCK_POOL)] = variation.get("stock_quantity")
        return shown

    # --- fulfilments and cancellations ----------------------------------------------------------
    def fulfilment_find(self, ctx, *, order_id, tracking_number):
        if ctx.endpoint.config.get("shipment_tracking"):
            for item in ctx.client.api("GET", f"orders/{order_id}/shipment-trackings", root=TRACKING_ROOT) or []:
                if item.get("tracking_number") == tracking_number:
                    return f"tracking:{item.get('tracking_id')}"
            return None
        for note in ctx.client.api("GET", f"orders/{order_id}/notes") or []:
            if tracking_number and tracking_number in (note.get("note") or ""):
                return f"note:{note['id']}"
        return None

    def fulfilment_create(self, ctx, *, order_id, lines, tracking, order_shipped):
        shipped_on = date.today().isoformat()
        if ctx.endpoint.config.get("shipment_tracking"):
            item = ctx.client.api("POST", f"orders/{order_id}/shipment-trackings", root=TRACKING_ROOT, body={
                "custom_tracking_provider": tracking.get("company") or "", "tracking_number": tracking.get("number") or "",
                "custom_tracking_link": tracking.get("url") or "", "date_shipped": shipped_on})
            reference = f"tracking:{item.get('tracking_id')}"
        else:
            parts = ", ".join(f"{line['quantity']} × {line['sku']}" for line in lines)
            text = f"Shipped {parts}" + (f" with {tracking['company']}" if tracking.get("company") else "")
            if tracking.get("number"):
                text += f", tracking {tracking['number']}" + (f" ({tracking['url']})" if tracking.get("url") else "")
            note = ctx.client.api("POST", f"orders/{order_id}/notes", body={"note": text, "customer_note": True})
            reference = f"note:{note['id']}"
        if order_shipped:
            ctx.client.api("PUT", f"orders/{order_id}", body={"status": "completed"})
        return reference

    def order_is_cancelled(self, ctx, *, order_id):
        return ctx.client.api("GET", f"orders/{order_id}").get("status") in ("cancelled", "trash")

    def order_cancel(self, ctx, *, order_id, reason):
        ctx.client.api("PUT", f"orders/{order_id}", body={"status": "cancelled"})

    # --- orders, customers, refunds in ----------------------------------------------------------
    def orders_changed_since(self, ctx, *, since):
        stamp = since.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")
        return ctx.client.pages("orders", params={"modified_after": stamp, "dates_are_gmt": "true", "orderby": "id", "order": "asc"})

    def order_map(self, order):
        return mapping.order_payload(order)

    def order_label(self, order):
        return f"#{order.get('number') or order.get('id')}"

    def order_updated_at(self, order):
        return mapping.gmt(order.get("date_modified_gmt"))

    def order_cancellation(self, order):
        return mapping.cancellation(order)

    def customer_map(self, customer):
        return mapping.customer_payload(customer)

    def refund_map(self, refund, *, prices_include_tax):
        order = refund.get("order") or {}
        lines = mapping.refund_lines(refund, order=order, prices_include_tax=prices_include_tax)
        return RefundData(refund_id=str(refund["id"]), order_external_id=str(order.get("id") or refund.get("order_id")),
                          amount=mapping.money(refund.get("amount")), lines=lines, reference=f"WooCommerce refund {refund['id']}")

    def apply_order(self, *, endpoint, order_json, cancelled=False):
        """An order, then the refunds it lists that the hub has not recorded (WooCommerce sends
        refunds as order updates; their lines come from the order's refunds resource)."""
        from connectors.binder import REFUND, Binder
        from connectors.commerce.inbound import refund_apply

        if order_json.get("status") in mapping.NOT_YET_ORDERS:
            return False
        created = super().apply_order(endpoint=endpoint, order_json=order_json, cancelled=cancelled)
        binder = Binder(endpoint)
        new_refunds = [r for r in order_json.get("refunds") or [] if not binder.is_bound(REFUND, external_id=str(r.get("id")))]
        if new_refunds:
            client = self.client(endpoint=endpoint, recorder=Recorder())
            for refund in client.api("GET", f"orders/{order_json['id']}/refunds"):
                if any(str(refund.get("id")) == str(r.get("id")) for r in new_refunds):
                    refund_apply(endpoint=endpoint, payload={**refund, "order": order_json})
        return created

    @staticmethod
    def _order_deleted(*, endpoint, payload):
        from connectors.commerce.inbound import order_removed

        return order_removed(endpoint=endpoint, external_id=payload.get("id"), how=Text(gettext_noop("deleted in WooCommerce")))


register(WooCommerceConnector())
