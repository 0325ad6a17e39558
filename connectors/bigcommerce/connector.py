"""BigCommerce as a storefront: the hooks the storefront flows call, over REST v2 (orders,
shipments) and v3 (catalogue, inventory, refunds).

Order webhooks carry only the order's id: each delivery makes the hub read the order (with its
products and shipping addresses) and apply it, then any refund it has not recorded; the orders
poll does the same for whatever the webhooks missed."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.bigcommerce import mapping
from connectors.bigcommerce.client import BigCommerceClient
from connectors.bigcommerce.webhooks import delivery_key, payload, signature_valid
from connectors.binder import REFUND, Binder
from connectors.commerce.flows import STOREFRONT_FLOWS
from connectors.commerce.storefront import ProductRef, RefundData, Storefront, StorefrontSettings, VariantRef
from connectors.errors import PermanentError
from connectors.http import Recorder
from connectors.options import warehouse_map_field
from connectors.registry import register
from hub.texts import Text

ORDER_SCOPES = ("store/order/created", "store/order/updated", "store/order/statusUpdated", "store/order/refund/created")
ARCHIVED = "store/order/archived"
ADJUSTMENTS_PER_REQUEST = 2000
VARIANTS_PER_BATCH = 50


class BigCommerceSettings(StorefrontSettings):
    store_hash = forms.SlugField(label=_("Store hash"), help_text=_("The store's id in API paths: https://api.bigcommerce.com/stores/<store hash>/…"))
    warehouse_map = warehouse_map_field(label=_("Warehouse → location map"),
                                        help_text=_("One HUB-WAREHOUSE-CODE=BIGCOMMERCE-LOCATION-ID pair per line (the default "
                                                    "location is 1); stock is pushed only for mapped warehouses."))


def _variant(variant: dict, product: dict) -> VariantRef:
    return VariantRef(sku=variant.get("sku") or "", external_id=str(variant["id"]),
                      data={"product_id": str(product["id"]), "tracking": product.get("inventory_tracking") or "none"})


class BigCommerceConnector(Storefront):
    kind = "bigcommerce"
    label = "BigCommerce"
    flows = STOREFRONT_FLOWS
    settings_form = BigCommerceSettings
    credential_names = ("access_token",)

    def client(self, *, endpoint, recorder):
        return BigCommerceClient(endpoint=endpoint, recorder=recorder)

    # --- webhooks -------------------------------------------------------------------------------
    def verify_webhook(self, *, endpoint, request):
        return signature_valid(secret=endpoint.webhook_secret, request=request)

    def topic(self, request):
        return str(payload(request).get("scope") or "")

    def delivery_id(self, request):
        return delivery_key(payload(request))

    def topic_handlers(self):
        return {**{scope: self._order_event for scope in ORDER_SCOPES}, ARCHIVED: self._order_archived}

    def check_connection(self, *, endpoint):
        client = self.client(endpoint=endpoint, recorder=Recorder())
        try:
            store = client.v2("GET", "store")
        except PermanentError as exc:
            if exc.status in (401, 403, 404):
                raise ValueError(f"the store refused the access token or the store hash ({exc.status}): {exc}") from None
            raise
        return f"connected to {store.get('name') or '?'} ({store.get('domain') or client.store_hash}), plan {store.get('plan_name') or '?'}"

    # --- products out ---------------------------------------------------------------------------
    def product_document(self, *, endpoint, parent, variants, prices):
        return mapping.product_document(parent, variants, prices, currency=endpoint.channel.currency)

    def _ref(self, ctx, product: dict) -> ProductRef:
        variants = product.get("variants")
        if variants is None:
            variants = list(ctx.client.v3_pages(f"catalog/products/{product['id']}/variants"))
        return ProductRef(external_id=str(product["id"]), variants=[_variant(v, product) for v in variants if v.get("sku")])

    def product_find(self, ctx, *, document):
        found = ctx.client.v3("GET", "catalog/products", params={"sku": document.body["product"]["sku"], "include": "variants"}).get("data") or []
        return self._ref(ctx, found[0]) if found else None

    def product_create(self, ctx, *, document):
        body = {**document.body["product"], **({"variants": document.body["variants"]} if document.body["variants"] else {})}
        return self._ref(ctx, ctx.client.v3("POST", "catalog/products", body=body)["data"])

    def product_update(self, ctx, *, external_id, document, variant_ids):
        product = ctx.client.v3("PUT", f"catalog/products/{external_id}", body=document.body["product"])["data"]
        rows = document.body["variants"]
        known = [{"id": int(variant_ids[row["sku"]]), "price": row["price"], "weight": row["weight"]} for row in rows if row["sku"] in variant_ids]
        for start in range(0, len(known), VARIANTS_PER_BATCH):
            ctx.client.v3("PUT", "catalog/variants", body=known[start:start + VARIANTS_PER_BATCH])
        new = [row for row in rows if row["sku"] not in variant_ids]
        if new:
            self._add_variants(ctx, external_id, new)
        return self._ref(ctx, {**product, "variants": None})

    def _add_variants(self, ctx, product_id: str, rows: list[dict]) -> None:
        """A variant added to an existing product needs its option values' ids (created when the shop lacks them)."""
        present = {v.get("sku") for v in ctx.client.v3_pages(f"catalog/products/{product_id}/variants")}
        options = {o["display_name"]: o for o in ctx.client.v3_pages(f"catalog/products/{product_id}/options")}
        for row in rows:
            if row["sku"] in present:
                continue
            values = []
            for wanted in row["option_values"]:
                option = options.get(wanted["option_display_name"])
                if option is None:
                    raise PermanentError(Text(gettext_noop("%(sku)s: the BigCommerce product %(product)s has no option %(option)s; add it there "
                                                           "or publish the variant under a new product"),
                                              sku=row["sku"], product=product_id, option=repr(wanted["option_display_name"])))
                value = next((v for v in option.get("option_values") or [] if v.get("label") == wanted["label"]), None)
                if value is None:
                    value = ctx.client.v3("POST", f"catalog/products/{product_id}/options/{option['id']}/values",
                                          body={"label": wanted["label"]})["data"]
                    option.setdefault("option_values", []).append(value)
                values.append({"id": value["id"], "option_id": option["id"]})
            ctx.client.v3("POST", f"catalog/products/{product_id}/variants",
                          body={"sku": row["sku"], "price": row["price"], "weight": row["weight"], "option_values": values})

    # --- stock per location ---------------------------------------------------------------------
    def stock_set(self, ctx, *, rows):
        items = []
        for data, location, units in rows:
            item = {"location_id": int(location), "quantity": int(units)}
            if data.get("tracking") == "product":
                item["product_id"] = int(data["product_id"])
            else:
                item["variant_id"] = int(data["external_id"])
            items.append(item)
        for start in range(0, len(items), ADJUSTMENTS_PER_REQUEST):
            ctx.client.v3("PUT", "inventory/adjustments/absolute", body={"reason": "available to sell in the hub",
                                                                         "items": items[start:start + ADJUSTMENTS_PER_REQUEST]})

    def stock_read(self, ctx, *, variants, locations):
        shown = {}
        ids = sorted(variants, key=int)
        for start in range(0, len(ids), 200):
            params = {"variant_id:in": ",".join(ids[start:start + 200]), "location_id:in": ",".join(locations)}
            for item in ctx.client.v3_pages("inventory/items", params=params, limit=1000):
                variant_id = str((item.get("identity") or {}).get("variant_id"))
                for level in item.get("locations") or []:
                    shown[(variant_id, str(level.get("location_id")))] = level.get("total_inventory_onhand")
        return shown

    # --- shipments and cancellations ------------------------------------------------------------
    def fulfilment_find(self, ctx, *, order_id, tracking_number):
        for shipment in ctx.client.v2_list(f"orders/{order_id}/shipments"):
            if shipment.get("tracking_number") == tracking_number:
                return str(shipment["id"])
        return None

    def fulfilment_create(self, ctx, *, order_id, lines, tracking, order_shipped):
        products = mapping.order_lines({"products": ctx.client.v2_list(f"orders/{order_id}/products")})
        by_address: dict[int, list[dict]] = {}
        for line in lines:
            left = int(line["quantity"])
            for product in products:
                if product.get("sku") != line["sku"]:
                    continue
                room = int(product.get("quantity") or 0) - int(product.get("quantity_shipped") or 0)
                take = min(room, left)
                if take > 0:
                    by_address.setdefault(product["order_address_id"], []).append({"order_product_id": product["id"], "quantity": take})
                    left -= take
            if left:
                raise PermanentError(Text(gettext_noop("BigCommerce order %(order)s has no %(quantity)s × %(sku)s left to ship"), order=order_id,
                                          quantity=left, sku=line["sku"]))
        created = []
        for address_id, items in by_address.items():
            body = {"order_address_id": address_id, "items": items, "tracking_number": tracking.get("number") or "",
                    "shipping_method": tracking.get("company") or "", "shipping_provider": "",
                    "tracking_carrier": mapping.tracking_carrier(tracking.get("company"))}
            if tracking.get("url"):
                body["tracking_link"] = tracking["url"]
            created.append(str(ctx.client.v2("POST", f"orders/{order_id}/shipments", body=body)["id"]))
        return ",".join(created)

    def order_is_cancelled(self, ctx, *, order_id):
        return int(ctx.client.v2("GET", f"orders/{order_id}").get("status_id") or 0) == mapping.CANCELLED

    def order_cancel(self, ctx, *, order_id, reason):
        ctx.client.v2("PUT", f"orders/{order_id}", body={"status_id": mapping.CANCELLED})

    # --- orders and refunds in ------------------------------------------------------------------
    @staticmethod
    def _order_document(client, order: dict) -> dict:
        """The v2 order with its products and shipping addresses (the order only links to them)."""
        return {**order, "products": client.v2_list(f"orders/{order['id']}/products"),
                "shipping_addresses": client.v2_list(f"orders/{order['id']}/shipping_addresses")}

    def orders_changed_since(self, ctx, *, since):
        params = {"min_date_modified": mapping.rfc2822_text(since), "sort": "id:asc"}
        for order in ctx.client.v2_pages("orders", params=params):
            yield self._order_document(ctx.client, order)

    def order_map(self, order):
        return mapping.order_payload(order)

    def order_label(self, order):
        return f"#{order.get('id')}"

    def order_updated_at(self, order):
        return mapping.rfc2822(order.get("date_modified"))

    def order_cancellation(self, order):
        return mapping.cancellation(order)

    def refund_map(self, refund, *, prices_include_tax):
        return RefundData(refund_id=str(refund["id"]), order_external_id=str(refund.get("order_id")),
                          amount=mapping.money(refund.get("total_amount")),
                          lines=mapping.refund_lines(refund, products=refund.get("order_products") or [], prices_include_tax=prices_include_tax),
                          reference=f"BigCommerce refund {refund['id']}")

    def apply_order(self, *, endpoint, order_json, cancelled=False):
        """An order, then its refunds the hub has not recorded (from a refund webhook or the poll)."""
        from connectors.commerce.inbound import refund_apply

        if int(order_json.get("status_id") or 0) in mapping.NOT_YET_ORDERS:
            return False
        created = super().apply_order(endpoint=endpoint, order_json=order_json, cancelled=cancelled)
        if mapping.money(order_json.get("refunded_amount")) > 0:
            binder = Binder(endpoint)
            client = self.client(endpoint=endpoint, recorder=Recorder())
            for refund in client.v3("GET", f"orders/{order_json['id']}/payment_actions/refunds").get("data") or []:
                if not binder.is_bound(REFUND, external_id=str(refund["id"])):
                    refund_apply(endpoint=endpoint, payload={**refund, "order_products": order_json.get("products") or []})
        return created

    def _order_event(self, *, endpoint, payload):
        order_id = (payload.get("data") or {}).get("id")
        client = self.client(endpoint=endpoint, recorder=Recorder())
        try:
            order = client.v2("GET", f"orders/{order_id}")
        except PermanentError as exc:
            if exc.status == 404:
                return f"order {order_id} is no longer in BigCommerce"
            raise
        if int(order.get("status_id") or 0) in mapping.NOT_YET_ORDERS:
            return f"order {order_id} is incomplete: not an order yet"
        created = self.apply_order(endpoint=endpoint, order_json=self._order_document(client, order))
        return f"order #{order_id} {'created' if created else 'updated'}"

    @staticmethod
    def _order_archived(*, endpoint, payload):
        from connectors.commerce.inbound import order_removed

        return order_removed(endpoint=endpoint, external_id=(payload.get("data") or {}).get("id"), how="archived in BigCommerce")


register(BigCommerceConnector())
