"""Shopify as a storefront: the hooks the storefront flows call, over the Admin API (REST and
GraphQL, version pinned in `client.API_VERSION`)."""

import json
from datetime import datetime

from django.utils.translation import gettext_noop

from connectors.commerce.flows import STOREFRONT_FLOWS
from connectors.commerce.storefront import ProductRef, RefundData, Storefront, VariantRef
from connectors.errors import PermanentError
from connectors.http import Recorder
from connectors.registry import register
from connectors.shopify import mapping
from connectors.shopify.client import API_VERSION, ShopifyClient
from connectors.shopify.webhooks import signature_valid
from hub.texts import Text

QUANTITIES_PER_CALL = 250

SET_QUANTITIES = """
mutation SetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { createdAt }
    userErrors { field message code }
  }
}"""
SET_QUANTITIES_COST = 12  # the mutation (10) and the two objects it selects (1 each)


FIND_VARIANTS = """
query FindVariants($query: String!) {
  productVariants(first: 250, query: $query) {
    nodes { sku product { legacyResourceId } }
  }
}"""


def _search_term(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def gid(kind: str, number) -> str:
    return f"gid://shopify/{kind}/{number}"


def _product_ref(product: dict) -> ProductRef:
    return ProductRef(external_id=str(product["id"]), variants=[
        VariantRef(sku=v["sku"], external_id=str(v["id"]), data={"inventory_item_id": str(v.get("inventory_item_id") or "")})
        for v in product.get("variants", []) if v.get("sku")])


class ShopifyConnector(Storefront):
    kind = "shopify"
    label = "Shopify"
    flows = STOREFRONT_FLOWS
    credential_names = ("access_token",)
    order_topics = {"orders/create": False, "orders/updated": False, "orders/paid": False, "orders/cancelled": True}
    customer_topics = ("customers/create", "customers/update")
    refund_topics = ("refunds/create",)

    def client(self, *, endpoint, recorder):
        return ShopifyClient(endpoint=endpoint, recorder=recorder)

    # --- webhooks -------------------------------------------------------------------------------
    def verify_webhook(self, *, endpoint, request):
        return signature_valid(secret=endpoint.webhook_secret, body=request.body, header_value=request.header("X-Shopify-Hmac-Sha256"))

    def delivery_id(self, request):
        return request.header("X-Shopify-Webhook-Id")

    def topic(self, request):
        return request.header("X-Shopify-Topic")

    def check_connection(self, *, endpoint):
        client = self.client(endpoint=endpoint, recorder=Recorder())
        try:
            shop = client.rest("GET", "shop.json").get("shop", {})
        except PermanentError as exc:
            if exc.status in (401, 403):
                raise ValueError(f"the shop refused the access token ({exc.status})") from None
            raise
        return f"connected to {shop.get('name', '?')} ({shop.get('myshopify_domain', '?')}), API {API_VERSION}"

    # --- products out ---------------------------------------------------------------------------
    def product_document(self, *, endpoint, parent, variants, prices):
        return mapping.product_json(parent, variants, prices)

    def product_find(self, ctx, *, document):
        """The shop's product carrying these SKUs, found with the GraphQL variant search (the search
        also matches prefixes and other words, so only exact SKUs count)."""
        skus = [row["sku"] for row in document.body["product"]["variants"] if row.get("sku")]
        ids = set()
        for start in range(0, len(skus), 100):
            chunk = skus[start:start + 100]
            data = ctx.client.graphql(FIND_VARIANTS, {"query": " OR ".join(f"sku:{_search_term(sku)}" for sku in chunk)})
            ids |= {str(node["product"]["legacyResourceId"]) for node in (data.get("productVariants") or {}).get("nodes") or []
                    if node.get("sku") in chunk}
        if len(ids) > 1:
            raise PermanentError(Text(gettext_noop("%(skus)s are on several Shopify products (%(products)s): keep one, then retry"),
                                      skus=", ".join(skus[:5]), products=", ".join(sorted(ids))))
        return _product_ref(ctx.client.rest("GET", f"products/{ids.pop()}.json")["product"]) if ids else None

    def product_create(self, ctx, *, document):
        return _product_ref(ctx.client.rest("POST", "products.json", body=document.body)["product"])

    def product_update(self, ctx, *, external_id, document, variant_ids):
        """PUT the product with every variant's id; a variant new to the shop is created first, once
        (found by SKU among the product's variants when an earlier answer was lost)."""
        body = json.loads(json.dumps(document.body))
        shop_variants: dict[str, dict] = {}
        for row in body["product"]["variants"]:
            if row["sku"] not in variant_ids:
                if not shop_variants:
                    shop_variants.update({v.get("sku"): v for v in ctx.client.rest("GET", f"products/{external_id}.json")["product"]["variants"]})
                variant = shop_variants.get(row["sku"]) or \
                    ctx.client.rest("POST", f"products/{external_id}/variants.json", body={"variant": row})["variant"]
                variant_ids = {**variant_ids, row["sku"]: str(variant["id"])}
            row["id"] = int(variant_ids[row["sku"]])
        body["product"]["id"] = int(external_id)
        return _product_ref(ctx.client.rest("PUT", f"products/{external_id}.json", body=body)["product"])

    # --- stock ----------------------------------------------------------------------------------
    def stock_ready(self, variant_data):
        return bool(variant_data.get("inventory_item_id"))

    def stock_set(self, ctx, *, rows):
        """Absolute quantities through GraphQL `inventorySetQuantities`, 250 a call."""
        for start in range(0, len(rows), QUANTITIES_PER_CALL):
            chunk = rows[start:start + QUANTITIES_PER_CALL]
            variables = {"input": {"name": "available", "reason": "correction", "ignoreCompareQuantity": True,
                                   "quantities": [{"inventoryItemId": gid("InventoryItem", data["inventory_item_id"]),
                                                   "locationId": gid("Location", location), "quantity": units}
                                                  for data, location, units in chunk]}}
            answer = ctx.client.graphql(SET_QUANTITIES, variables, cost=SET_QUANTITIES_COST)
            errors = (answer.get("inventorySetQuantities") or {}).get("userErrors") or []
            if errors:
                raise PermanentError(Text(gettext_noop("Shopify refused quantities: %(said)s"), said="; ".join(e.get("message", "") for e in errors[:5])),
                                     excerpt=json.dumps(errors)[:1000])

    def stock_read(self, ctx, *, variants, locations):
        variant_of_item = {data["inventory_item_id"]: external_id for external_id, data in variants.items()}
        items = sorted(variant_of_item)
        shown = {}
        for start in range(0, len(items), 50):
            for level in ctx.client.paginate("inventory_levels.json", "inventory_levels", params={
                    "inventory_item_ids": ",".join(items[start:start + 50]), "location_ids": ",".join(locations), "limit": 250}):
                variant = variant_of_item.get(str(level["inventory_item_id"]))
                if variant is not None:
                    shown[(variant, str(level["location_id"]))] = level.get("available")
        return shown

    # --- fulfilments and cancellations ----------------------------------------------------------
    def fulfilment_find(self, ctx, *, order_id, tracking_number):
        for fulfilment in ctx.client.rest("GET", f"orders/{order_id}.json")["order"].get("fulfillments") or []:
            if tracking_number in (fulfilment.get("tracking_numbers") or [fulfilment.get("tracking_number")]):
                return str(fulfilment["id"])
        return None

    def fulfilment_create(self, ctx, *, order_id, lines, tracking, order_shipped):
        body = {"fulfillment": {"line_items_by_fulfillment_order": self._fulfilment_lines(ctx, order_id, lines),
                                "tracking_info": tracking, "notify_customer": True}}
        return str(ctx.client.rest("POST", "fulfillments.json", body=body)["fulfillment"]["id"])

    @staticmethod
    def _fulfilment_lines(ctx, order_id, lines) -> list[dict]:
        wanted = {}
        for line in lines:
            wanted[line["sku"]] = wanted.get(line["sku"], 0) + int(line["quantity"])
        order = ctx.client.rest("GET", f"orders/{order_id}.json")["order"]
        sku_of_line = {item["id"]: item.get("sku") for item in order.get("line_items", [])}
        result = []
        for fulfilment_order in ctx.client.rest("GET", f"orders/{order_id}/fulfillment_orders.json")["fulfillment_orders"]:
            if fulfilment_order.get("status") not in ("open", "in_progress"):
                continue
            items = []
            for item in fulfilment_order.get("line_items", []):
                sku = sku_of_line.get(item.get("line_item_id"))
                take = min(wanted.get(sku, 0), int(item.get("fulfillable_quantity", 0)))
                if take > 0:
                    items.append({"id": item["id"], "quantity": take})
                    wanted[sku] -= take
            if items:
                result.append({"fulfillment_order_id": fulfilment_order["id"], "fulfillment_order_line_items": items})
        left = {sku: qty for sku, qty in wanted.items() if qty}
        if left:
            raise PermanentError(Text(gettext_noop("Shopify has nothing left to fulfil for %(lines)s"),
                                      lines=", ".join(f"{q} × {s}" for s, q in left.items())))
        return result

    def order_is_cancelled(self, ctx, *, order_id):
        return bool(ctx.client.rest("GET", f"orders/{order_id}.json")["order"].get("cancelled_at"))

    def order_cancel(self, ctx, *, order_id, reason):
        ctx.client.rest("POST", f"orders/{order_id}/cancel.json", body={"reason": reason, "email": False})

    # --- orders, customers, refunds in ----------------------------------------------------------
    def orders_changed_since(self, ctx, *, since):
        return ctx.client.paginate("orders.json", "orders", params={
            "status": "any", "updated_at_min": since.isoformat(), "limit": 250, "order": "updated_at asc"})

    def order_map(self, order):
        return mapping.order_payload(order)

    def order_updated_at(self, order):
        return datetime.fromisoformat(order["updated_at"]) if order.get("updated_at") else None

    def order_cancellation(self, order):
        if order.get("cancelled_at"):
            return f"cancelled in Shopify ({order.get('cancel_reason') or 'no reason'})"
        return None

    def customer_map(self, customer):
        return mapping.customer_payload(customer)

    def refund_map(self, refund, *, prices_include_tax):
        lines = [{"sku": item["sku"], "quantity": item["quantity"], "amount": item["amount"], "line_ref": item["line_item_id"]}
                 for item in mapping.refund_lines(refund, prices_include_tax=prices_include_tax)]
        return RefundData(refund_id=str(refund["id"]), order_external_id=str(refund.get("order_id")), amount=mapping.refund_total(refund),
                          lines=lines, reference=f"Shopify refund {refund['id']}")


register(ShopifyConnector())
