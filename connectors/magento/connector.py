"""Magento 2 / Adobe Commerce as a storefront: the hooks the storefront flows call, over the REST API.

Magento Open Source sends no webhooks: orders, cancellations and credit memos come in through the
orders poll (`updated_at`). Stock goes out per MSI source, catalogue as simple or configurable
products, prices through the bulk base-prices endpoint."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.binder import REFUND, Binder
from connectors.commerce.flows import STOREFRONT_FLOWS
from connectors.commerce.storefront import ProductRef, RefundData, Storefront, StorefrontSettings, VariantRef
from connectors.errors import PermanentError
from connectors.http import Recorder
from connectors.magento import mapping
from connectors.magento.client import MagentoClient, error_text, path_part
from connectors.options import MappingField, warehouse_map_field
from connectors.registry import register
from hub.texts import Text

SOURCE_ITEMS_PER_REQUEST = 500


class MagentoSettings(StorefrontSettings):
    warehouse_map = warehouse_map_field(label=_("Warehouse → MSI source map"),
                                        help_text=_("One HUB-WAREHOUSE-CODE=MAGENTO-SOURCE-CODE pair per line (e.g. LYON=default); "
                                                    "stock is pushed only for mapped warehouses."))
    store_code = forms.SlugField(required=False, initial="default", label=_("Store view code"),
                                 help_text=_("Orders, shipments and stock go through /rest/<store view code>/V1; products are "
                                             "saved for all store views (/rest/all/V1)."))
    attribute_map = MappingField(label=_("Option axis → attribute code"), code_label=_("option axis"),
                                 help_text=_("Hub option axis → Magento attribute code of a configurable product (e.g. "
                                             "Taille=size); an axis not listed uses its own name as the code."))
    attribute_set_id = forms.IntegerField(required=False, initial=4, min_value=1, label=_("Attribute set id of new products"))
    website_id = forms.IntegerField(required=False, initial=1, min_value=1, label=_("Website id of new products"))
    admin_token_lifetime_minutes = forms.IntegerField(required=False, initial=240, min_value=5, label=_("Admin token lifetime (minutes)"),
                                                      help_text=_("As configured in the shop (Stores › Configuration › Services › "
                                                                  "OAuth › Access Token Expiration); the hub fetches a new token before."))


def _variant(product: dict) -> VariantRef:
    return VariantRef(sku=product.get("sku") or "", external_id=str(product["id"]), data={"type_id": product.get("type_id") or "simple"})


class MagentoConnector(Storefront):
    kind = "magento"
    label = "Magento"
    flows = STOREFRONT_FLOWS
    settings_form = MagentoSettings
    credential_names = ("access_token", "admin_username", "admin_password")

    def client(self, *, endpoint, recorder):
        return MagentoClient(endpoint=endpoint, recorder=recorder)

    def verify_webhook(self, *, endpoint, request):
        return False  # Magento Open Source sends no webhooks: anything posted to the hub for it is refused

    def check_connection(self, *, endpoint):
        client = self.client(endpoint=endpoint, recorder=Recorder())
        try:
            stores = client.api("GET", "store/storeConfigs")
        except PermanentError as exc:
            if exc.status in (401, 403):
                raise ValueError(f"the shop refused the credentials ({exc.status}): {exc}") from None
            raise
        codes = ", ".join(f"{s.get('code')} ({s.get('base_currency_code')})" for s in stores or [])
        return f"connected to {endpoint.base_url}, store views: {codes or 'none'}"

    # --- products out ---------------------------------------------------------------------------
    def product_document(self, *, endpoint, parent, variants, prices):
        config = endpoint.config
        return mapping.product_document(parent, variants, prices, currency=endpoint.channel.currency,
                                        attribute_map=config.get("attribute_map") or {},
                                        attribute_set_id=config.get("attribute_set_id") or 4, website_id=config.get("website_id") or 1)

    def _get_product(self, ctx, sku: str) -> dict | None:
        try:
            return ctx.client.api("GET", f"products/{path_part(sku)}", store="all")
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise

    def _ref(self, ctx, product: dict) -> ProductRef:
        if product.get("type_id") != "configurable":
            return ProductRef(external_id=str(product["id"]), variants=[_variant(product)])
        children = ctx.client.api("GET", f"configurable-products/{path_part(product['sku'])}/children", store="all") or []
        return ProductRef(external_id=str(product["id"]), variants=[_variant(child) for child in children if child.get("sku")])

    def product_find(self, ctx, *, document):
        found = self._get_product(ctx, document.body["product"]["sku"])
        return self._ref(ctx, found) if found else None

    def product_create(self, ctx, *, document):
        return self._save(ctx, document.body, new=True)

    def product_update(self, ctx, *, external_id, document, variant_ids):
        return self._save(ctx, document.body, new=False)

    def _save(self, ctx, body: dict, *, new: bool) -> ProductRef:
        """Every step looks before it writes, so a run cut short is finished by the next one
        without duplicates: option values, children, the parent, its options, its children's links,
        then the prices (bulk base prices: Magento answers 200 with the rows it refused)."""
        client = ctx.client
        option_ids = self._option_ids(ctx, body) if body["type"] == "configurable" else {}
        for child in body["children"]:
            self._save_product(ctx, self._with_option_ids(child, option_ids), create=self._get_product(ctx, child["sku"]) is None)
        parent = body["product"]
        saved = self._save_product(ctx, parent, create=new and self._get_product(ctx, parent["sku"]) is None)
        if body["type"] == "configurable":
            sku = path_part(parent["sku"])
            present = {str(option.get("attribute_id")) for option in
                       (saved.get("extension_attributes") or {}).get("configurable_product_options") or []}
            labels = {code: axis for axis, code in body["axes"].items()}
            for position, (code, (attribute_id, values)) in enumerate(option_ids.items()):
                if str(attribute_id) not in present:
                    used = sorted({int(values[child["options"][code]]) for child in body["children"]})
                    client.api("POST", f"configurable-products/{sku}/options", store="all", body={"option": {
                        "attribute_id": str(attribute_id), "label": labels[code], "position": position, "is_use_default": True,
                        "values": [{"value_index": value} for value in used]}})
            linked = {child.get("sku") for child in client.api("GET", f"configurable-products/{sku}/children", store="all") or []}
            for child in body["children"]:
                if child["sku"] not in linked:
                    client.api("POST", f"configurable-products/{sku}/child", store="all", body={"childSku": child["sku"]})
        if body["prices"]:
            refused = client.api("POST", "products/base-prices", store="all",
                                 body={"prices": [{**row, "store_id": 0} for row in body["prices"]]})
            if refused:
                raise PermanentError(Text(gettext_noop("Magento refused prices: %(said)s"), said=error_text(refused)), excerpt=str(refused)[:1000])
        return self._ref(ctx, saved)

    def _save_product(self, ctx, product: dict, *, create: bool) -> dict:
        data = {key: value for key, value in product.items() if key != "options"}
        if create:
            return ctx.client.api("POST", "products", store="all", body={"product": data})
        data.pop("price", None)  # prices go out through base-prices
        return ctx.client.api("PUT", f"products/{path_part(product['sku'])}", store="all", body={"product": data})

    def _option_ids(self, ctx, body: dict) -> dict:
        """Axis attribute code → (attribute id, {option label: option id}), adding the labels the shop lacks."""
        resolved = {}
        for code in body["axes"].values():
            wanted = {child["options"][code] for child in body["children"]}
            attribute = ctx.client.api("GET", f"products/attributes/{path_part(code)}", store="all")
            known = {str(o.get("label")): str(o.get("value")) for o in attribute.get("options") or [] if o.get("value") not in (None, "")}
            missing = sorted(wanted - set(known))
            for label in missing:
                ctx.client.api("POST", f"products/attributes/{path_part(code)}/options", store="all", body={"option": {"label": label}})
            if missing:
                attribute = ctx.client.api("GET", f"products/attributes/{path_part(code)}", store="all")
                known = {str(o.get("label")): str(o.get("value")) for o in attribute.get("options") or [] if o.get("value") not in (None, "")}
            resolved[code] = (attribute.get("attribute_id"), known)
        return resolved

    @staticmethod
    def _with_option_ids(child: dict, option_ids: dict) -> dict:
        attributes = [a for a in child["custom_attributes"] if a["attribute_code"] not in child.get("options", {})]
        attributes += [{"attribute_code": code, "value": option_ids[code][1][label]} for code, label in child.get("options", {}).items()]
        return {**child, "custom_attributes": attributes}

    # --- stock per MSI source -------------------------------------------------------------------
    def stock_set(self, ctx, *, rows):
        items = [{"sku": data["sku"], "source_code": source, "quantity": units, "status": 1 if units > 0 else 0} for data, source, units in rows]
        for start in range(0, len(items), SOURCE_ITEMS_PER_REQUEST):
            ctx.client.api("POST", "inventory/source-items", body={"sourceItems": items[start:start + SOURCE_ITEMS_PER_REQUEST]})

    def stock_read(self, ctx, *, variants, locations):
        by_sku = {data["sku"]: external_id for external_id, data in variants.items()}
        shown = {}
        skus = sorted(by_sku)
        for start in range(0, len(skus), 100):
            filters = [("sku", ",".join(skus[start:start + 100]), "in"), ("source_code", ",".join(locations), "in")]
            for item in ctx.client.search("inventory/source-items", filters=filters, sort=(("sku", "ASC"), ("source_code", "ASC")),
                                          key=lambda item: (item.get("sku"), item.get("source_code"))):
                if item.get("sku") in by_sku:
                    shown[(by_sku[item["sku"]], str(item.get("source_code")))] = int(mapping.money(item.get("quantity")))
        return shown

    # --- shipments and cancellations ------------------------------------------------------------
    def fulfilment_find(self, ctx, *, order_id, tracking_number):
        for shipment in ctx.client.search("shipments", filters=[("order_id", order_id, "eq")]):
            if any(track.get("track_number") == tracking_number for track in shipment.get("tracks") or []):
                return str(shipment["entity_id"])
        return None

    def fulfilment_create(self, ctx, *, order_id, lines, tracking, order_shipped):
        order = ctx.client.api("GET", f"orders/{order_id}")
        open_items: dict[str, list[dict]] = {}
        for item in mapping.top_items(order):
            open_items.setdefault(item.get("sku"), []).append(item)
        items = []
        for line in lines:
            left = int(line["quantity"])
            for item in open_items.get(line["sku"], []):
                room = int(mapping.money(item.get("qty_ordered")) - mapping.money(item.get("qty_shipped")) - mapping.money(item.get("qty_canceled")))
                take = min(room, left)
                if take > 0:
                    items.append({"order_item_id": item["item_id"], "qty": take})
                    left -= take
            if left:
                raise PermanentError(Text(gettext_noop("order #%(order)s has no %(quantity)s × %(sku)s left to ship in Magento"),
                                          order=order.get("increment_id"), quantity=left, sku=line["sku"]))
        body = {"items": items, "notify": True}
        if tracking.get("number"):
            code, title = mapping.carrier(tracking.get("company"))
            body["tracks"] = [{"track_number": tracking["number"], "title": title, "carrier_code": code}]
        return str(ctx.client.api("POST", f"order/{order_id}/ship", body=body))

    def order_is_cancelled(self, ctx, *, order_id):
        return ctx.client.api("GET", f"orders/{order_id}").get("state") == "canceled"

    def order_cancel(self, ctx, *, order_id, reason):
        if ctx.client.api("POST", f"orders/{order_id}/cancel") is True:
            return
        order = ctx.client.api("GET", f"orders/{order_id}")
        if order.get("state") != "canceled":
            raise PermanentError(Text(gettext_noop("Magento does not cancel order #%(order)s (state %(state)s): an invoiced order is refunded "
                                                   "with a credit memo instead"), order=order.get("increment_id"), state=order.get("state")))

    # --- orders and credit memos in -------------------------------------------------------------
    def orders_changed_since(self, ctx, *, since):
        return ctx.client.search("orders", filters=[("updated_at", mapping.filter_stamp(since), "gteq")])

    def order_map(self, order):
        return mapping.order_payload(order)

    def order_label(self, order):
        return f"#{order.get('increment_id') or order.get('entity_id')}"

    def order_external_id(self, order):
        return str(order["entity_id"])

    def order_updated_at(self, order):
        return mapping.utc(order.get("updated_at"))

    def order_cancellation(self, order):
        return mapping.cancellation(order)

    def refund_map(self, refund, *, prices_include_tax):
        order = refund.get("order") or {}
        return RefundData(refund_id=str(refund["entity_id"]), order_external_id=str(refund.get("order_id")),
                          amount=mapping.money(refund.get("grand_total")),
                          lines=mapping.refund_lines(refund, order=order, prices_include_tax=prices_include_tax),
                          reference=f"Magento credit memo {refund.get('increment_id') or refund['entity_id']}")

    def apply_order(self, *, endpoint, order_json, cancelled=False):
        """An order, then its credit memos the hub has not recorded (Magento has no refund event:
        a credit memo changes the order's `updated_at` and `total_refunded`)."""
        from connectors.commerce.inbound import refund_apply

        created = super().apply_order(endpoint=endpoint, order_json=order_json, cancelled=cancelled)
        if mapping.money(order_json.get("total_refunded")) > 0:
            binder = Binder(endpoint)
            client = self.client(endpoint=endpoint, recorder=Recorder())
            for memo in client.search("creditmemos", filters=[("order_id", order_json["entity_id"], "eq")]):
                if not binder.is_bound(REFUND, external_id=str(memo["entity_id"])):
                    refund_apply(endpoint=endpoint, payload={**memo, "order": order_json})
        return created


register(MagentoConnector())
