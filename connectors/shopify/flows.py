"""What the hub exchanges with a Shopify shop, flow by flow."""

import hashlib
import json
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from catalog.models import ChannelCatalog, Product
from catalog.pricing import PricingRequest, Tier, price_lines
from connectors.errors import PermanentError
from connectors.flows import Flow, ScheduledFlow
from connectors.models import Binding
from connectors.services import binding_save
from connectors.sync import cursor_get, cursor_set, sync_job_enqueue
from hub.bulk import bulk_update_fields
from inventory.selectors import available_to_sell
from orders.models import Shipment

QUANTITIES_PER_CALL = 250
POLL_OVERLAP = timedelta(minutes=5)

SET_QUANTITIES = """
mutation SetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { createdAt }
    userErrors { field message code }
  }
}"""


def fingerprint(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def gid(kind: str, number) -> str:
    return f"gid://shopify/{kind}/{number}"


def _endpoint_price_list_id(endpoint) -> int | None:
    if endpoint.config.get("price_list"):
        return endpoint.config["price_list"].pk
    return ChannelCatalog.objects.filter(channel=endpoint.channel).values_list("public_price_list_id", flat=True).first()


def _location_map(endpoint) -> dict[str, list[str]]:
    """Shopify location id → the hub warehouse codes that feed it."""
    locations: dict[str, list[str]] = {}
    for warehouse_code, location_id in endpoint.config["warehouse_map"].items():
        locations.setdefault(str(location_id), []).append(warehouse_code)
    return locations


# --- Products, variants and prices out ------------------------------------------------------------

class ProductsOut(Flow):
    name = "products.out"
    label = "Products, variants and prices out"
    topics = ("catalog.product", "catalog.price")
    batch_size = 20

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        if topic == "catalog.price":
            list_id = _endpoint_price_list_id(endpoint)
            if list_id is None:
                return []
            product_ids, whole_list = set(), False
            for object_id in object_ids:
                head, _, tail = object_id.partition(":")
                if head == "list" and tail == str(list_id):
                    whole_list = True
                elif head == str(list_id) and tail.isdigit():
                    product_ids.add(int(tail))
            if whole_list:
                return [(b.local_id, b.data.get("sku", "")) for b in Binding.objects.filter(endpoint=endpoint, model="product")]
        else:
            product_ids = {int(i) for i in object_ids if i.isdigit()}
        keys: dict[str, str] = {}
        ids = sorted(product_ids)
        for start in range(0, len(ids), 5000):  # a 100 000-row import must stay under SQLite's variable limit
            rows = Product.objects.filter(pk__in=ids[start:start + 5000]).values_list("pk", "parent_id", "parent__sku", "sku")
            keys.update({str(parent or pk): (parent_sku or sku) for pk, parent, parent_sku, sku in rows})
        return list(keys.items())

    def prepare_batch(self, ctx, jobs):
        endpoint = ctx.endpoint
        list_id = _endpoint_price_list_id(endpoint)
        parents = {str(p.pk): p for p in Product.objects.filter(pk__in=[j.record_key for j in jobs]).select_related("category")}
        children: dict[int, list[Product]] = {}
        for variant in Product.objects.filter(parent_id__in=[p.pk for p in parents.values()]).order_by("sku"):
            children.setdefault(variant.parent_id, []).append(variant)
        sellable = [v for p in parents.values() for v in (children.get(p.pk) or [p])]
        prices = {}
        if list_id is not None and sellable:
            request = PricingRequest(tiers=(Tier(reason="public", list_ids=(list_id,)),), currency=endpoint.channel.currency)
            prices = {line.sku: line.unit_price for line in price_lines(lines=[(v.sku, 1) for v in sellable], request=request) if not line.error}
        bindings = {b.local_id: b for b in Binding.objects.filter(endpoint=endpoint, model="product", local_id__in=list(parents))}
        payloads = {}
        for job in jobs:
            parent = parents.get(job.record_key)
            if parent is None:
                payloads[job.pk] = PermanentError(f"product #{job.record_key} no longer exists in the hub")
                continue
            binding = bindings.get(job.record_key)
            if binding is None and parent.status != Product.Status.ACTIVE:
                ctx.done(job, f"{parent.sku} is {parent.status}: not published")
                payloads[job.pk] = None
                continue
            variants = children.get(parent.pk) or [parent]
            missing = [v.sku for v in variants if v.sku not in prices]
            if missing:
                payloads[job.pk] = PermanentError(f"no price for {', '.join(missing[:5])} in the endpoint's price list")
                continue
            payload = self._product_json(parent, variants, prices)
            if binding is not None and binding.fingerprint == fingerprint(payload):
                ctx.done(job, f"{parent.sku} unchanged")
                payloads[job.pk] = None
                continue
            payloads[job.pk] = payload
        return payloads

    @staticmethod
    def _product_json(parent, variants, prices) -> dict:
        axes = list(parent.option_axes or [])[:3]
        status = {"active": "active", "draft": "draft", "archived": "archived"}[parent.status]
        product = {"title": parent.name, "body_html": parent.description, "vendor": parent.brand,
                   "product_type": parent.category.name if parent.category else "", "status": status, "handle": parent.sku.lower(),
                   "variants": []}
        if axes:
            product["options"] = [{"name": axis} for axis in axes]
        for variant in variants:
            row = {"sku": variant.sku, "price": str(prices[variant.sku]), "barcode": variant.gtin or None,
                   "grams": variant.weight_g or 0, "inventory_management": "shopify"}
            for index, axis in enumerate(axes, start=1):
                row[f"option{index}"] = str((variant.option_values or {}).get(axis, "—"))
            product["variants"].append(row)
        return {"product": product}

    def send(self, ctx, jobs):
        endpoint = ctx.endpoint
        for job in jobs:
            binding = Binding.objects.filter(endpoint=endpoint, model="product", local_id=job.record_key).first()
            body = json.loads(json.dumps(job.payload))
            if binding is None:
                answer = ctx.client.rest("POST", "products.json", body=body)["product"]
            else:
                known = {b.data.get("sku"): b.external_id for b in Binding.objects.filter(endpoint=endpoint, model="variant", data__product=binding.external_id)}
                for row in body["product"]["variants"]:
                    if row["sku"] in known:
                        row["id"] = int(known[row["sku"]])
                body["product"]["id"] = int(binding.external_id)
                answer = ctx.client.rest("PUT", f"products/{binding.external_id}.json", body=body)["product"]
            self._bind(endpoint, job, answer)
            if binding is None:
                self._queue_first_stock(ctx, answer)
            ctx.done(job, f"{'created' if binding is None else 'updated'} Shopify product {answer['id']} ({len(answer.get('variants', []))} variants)")

    @staticmethod
    def _queue_first_stock(ctx, answer) -> None:
        """A newly published product gets its stock pushed without waiting for a stock change."""
        if "stock.out" in {flow.name for flow in ctx.connector.enabled_flows(ctx.endpoint)} and ctx.endpoint.config["warehouse_map"]:
            for variant in answer.get("variants", []):
                if variant.get("sku"):
                    sync_job_enqueue(endpoint=ctx.endpoint, flow="stock.out", record_key=variant["sku"], label=variant["sku"])

    @staticmethod
    def _bind(endpoint, job, answer) -> None:
        skus = {v["sku"]: v for v in answer.get("variants", []) if v.get("sku")}
        local = dict(Product.objects.filter(sku__in=list(skus)).values_list("sku", "pk"))
        with transaction.atomic():
            binding_save(endpoint=endpoint, model="product", local_id=job.record_key, external_id=answer["id"],
                         fingerprint_value=fingerprint(job.payload), data={"sku": job.record_label})
            for sku, variant in skus.items():
                if sku in local:
                    previous = Binding.objects.filter(endpoint=endpoint, model="variant", local_id=str(local[sku])).values_list("data", flat=True).first() or {}
                    binding_save(endpoint=endpoint, model="variant", local_id=local[sku], external_id=variant["id"],
                                 data={**previous, "sku": sku, "product": str(answer["id"]), "inventory_item_id": str(variant.get("inventory_item_id") or "")})


# --- Available-to-sell out, per location ----------------------------------------------------------

def _variant_bindings(endpoint, skus: list[str], *, for_update: bool = False) -> dict[str, Binding]:
    """SKU → the endpoint's variant binding, through indexed columns (product SKU, binding local id)."""
    found: dict[str, Binding] = {}
    for start in range(0, len(skus), 2000):
        pks = dict(Product.objects.filter(sku__in=skus[start:start + 2000]).values_list("pk", "sku"))
        bindings = Binding.objects.filter(endpoint=endpoint, model="variant", local_id__in=[str(pk) for pk in pks])
        if for_update:
            bindings = bindings.select_for_update()
        found.update({pks[int(b.local_id)]: b for b in bindings})
    return found


def stock_targets(endpoint, skus: list[str]) -> dict[str, dict[str, int]]:
    """SKU → {location id: units the shop may sell there}."""
    targets: dict[str, dict[str, int]] = {sku: {} for sku in skus}
    for location_id, warehouse_codes in _location_map(endpoint).items():
        for start in range(0, len(skus), 2000):
            chunk = skus[start:start + 2000]
            for sku, units in available_to_sell(channel=endpoint.channel, skus=chunk, warehouse_codes=set(warehouse_codes)).items():
                targets[sku][location_id] = units
    return targets


def set_quantities(ctx, rows: list[tuple[str, str, int]]) -> None:
    """rows: (inventory item id, location id, units), sent as absolute quantities 250 at a time."""
    for start in range(0, len(rows), QUANTITIES_PER_CALL):
        chunk = rows[start:start + QUANTITIES_PER_CALL]
        variables = {"input": {"name": "available", "reason": "correction", "ignoreCompareQuantity": True,
                               "quantities": [{"inventoryItemId": gid("InventoryItem", item), "locationId": gid("Location", location),
                                               "quantity": units} for item, location, units in chunk]}}
        data = ctx.client.graphql(SET_QUANTITIES, variables, cost=11)
        errors = (data.get("inventorySetQuantities") or {}).get("userErrors") or []
        if errors:
            raise PermanentError("Shopify refused quantities: " + "; ".join(e.get("message", "") for e in errors[:5]), excerpt=json.dumps(errors)[:1000])


class StockOut(Flow):
    name = "stock.out"
    label = "Available-to-sell out"
    topics = ("inventory.stock",)
    batch_size = 250

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        if not endpoint.config["warehouse_map"]:
            return []
        bound = set(_variant_bindings(endpoint, object_ids))
        return [(sku, sku) for sku in object_ids if sku in bound]

    def prepare_batch(self, ctx, jobs):
        skus = [job.record_key for job in jobs]
        bindings = _variant_bindings(ctx.endpoint, skus)
        targets = stock_targets(ctx.endpoint, skus)
        payloads = {}
        for job in jobs:
            binding = bindings.get(job.record_key)
            if binding is None or not binding.data.get("inventory_item_id"):
                payloads[job.pk] = PermanentError(f"{job.record_key} is not published to this shop yet (no inventory item)")
                continue
            pushed = binding.data.get("levels", {})
            changed = {location: units for location, units in targets[job.record_key].items() if pushed.get(location) != units}
            if not changed:
                ctx.done(job, "unchanged")
                payloads[job.pk] = None
            else:
                payloads[job.pk] = {"sku": job.record_key, "inventory_item_id": binding.data["inventory_item_id"], "levels": changed}
        return payloads

    def send(self, ctx, jobs):
        rows = [(job.payload["inventory_item_id"], location, int(units)) for job in jobs for location, units in job.payload["levels"].items()]
        set_quantities(ctx, rows)
        _remember_levels(ctx.endpoint, {job.payload["sku"]: job.payload["levels"] for job in jobs})
        for job in jobs:
            ctx.done(job, "set " + ", ".join(f"{units} @ {location}" for location, units in job.payload["levels"].items()))


def _remember_levels(endpoint, levels_by_sku: dict[str, dict]) -> None:
    with transaction.atomic():
        bindings = list(_variant_bindings(endpoint, list(levels_by_sku), for_update=True).values())
        for binding in bindings:
            binding.data = {**binding.data, "levels": {**binding.data.get("levels", {}), **levels_by_sku[binding.data["sku"]]}}
        bulk_update_fields(bindings, ["data"])


class StockReconcile(ScheduledFlow):
    """Safety net: read what the shop shows at each location and push only the differences."""

    name = "stock.reconcile"
    label = "Stock reconcile"
    every_minutes = 360

    def prepare(self, ctx, job):
        return {"locations": sorted(_location_map(ctx.endpoint))} if ctx.endpoint.config["warehouse_map"] else None

    def send(self, ctx, jobs):
        endpoint = ctx.endpoint
        variants = {b.data["inventory_item_id"]: b.data["sku"] for b in Binding.objects.filter(endpoint=endpoint, model="variant")
                    if b.data.get("inventory_item_id")}
        targets = stock_targets(endpoint, sorted(set(variants.values())))
        items = sorted(variants)
        shown: dict[tuple[str, str], int] = {}
        for start in range(0, len(items), 50):
            for level in ctx.client.paginate("inventory_levels.json", "inventory_levels", params={
                    "inventory_item_ids": ",".join(items[start:start + 50]), "location_ids": ",".join(_location_map(endpoint)), "limit": 250}):
                shown[(str(level["inventory_item_id"]), str(level["location_id"]))] = level.get("available")
        rows, levels = [], {}
        for item, sku in variants.items():
            for location, units in targets[sku].items():
                levels.setdefault(sku, {})[location] = units
                if shown.get((item, location)) != units:
                    rows.append((item, location, units))
        if rows:
            set_quantities(ctx, rows)
        _remember_levels(endpoint, levels)
        for job in jobs:
            ctx.done(job, f"checked {len(variants)} variants at {len(_location_map(endpoint))} locations, corrected {len(rows)}")


# --- Orders: fulfilments and cancellations out, polling in ----------------------------------------

def _shop_orders(endpoint, object_ids) -> dict[str, str]:
    """Hub order id → Shopify order id, for orders that came from this shop."""
    return dict(Binding.objects.filter(endpoint=endpoint, model="order", local_id__in=[str(i) for i in object_ids]).values_list("local_id", "external_id"))


class FulfilmentsOut(Flow):
    name = "fulfilments.out"
    label = "Fulfilments out (with tracking)"
    topics = ("orders.shipment",)

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        rows = list(Shipment.objects.filter(pk__in=[i for i in object_ids if i.isdigit()]).values_list("pk", "number", "order_id"))
        from_shop = _shop_orders(endpoint, [order_id for _, _, order_id in rows])
        return [(str(pk), number) for pk, number, order_id in rows if str(order_id) in from_shop]

    def prepare(self, ctx, job):
        if Binding.objects.filter(endpoint=ctx.endpoint, model="shipment", local_id=job.record_key).exists():
            ctx.done(job, "already fulfilled in Shopify")
            return None
        shipment = Shipment.objects.select_related("order").prefetch_related("lines__order_line").get(pk=job.record_key)
        order_binding = Binding.objects.filter(endpoint=ctx.endpoint, model="order", local_id=str(shipment.order_id)).first()
        if order_binding is None:
            raise PermanentError(f"order {shipment.order.number} did not come from this shop")
        return {"order_id": order_binding.external_id, "shipment": shipment.number,
                "lines": [{"sku": line.order_line.sku, "quantity": line.quantity} for line in shipment.lines.all()],
                "tracking_info": {"company": shipment.carrier, "number": (shipment.tracking_numbers or [""])[0],
                                  "url": (shipment.tracking_urls or [""])[0]}}

    def send(self, ctx, jobs):
        for job in jobs:
            payload = job.payload
            order_id = payload["order_id"]
            number = payload["tracking_info"].get("number")
            existing = ctx.client.rest("GET", f"orders/{order_id}.json")["order"].get("fulfillments") or []
            for fulfilment in existing:  # sent before a crash, not yet recorded: bind it, don't send twice
                if number and number in (fulfilment.get("tracking_numbers") or [fulfilment.get("tracking_number")]):
                    binding_save(endpoint=ctx.endpoint, model="shipment", local_id=job.record_key, external_id=fulfilment["id"])
                    ctx.done(job, f"already in Shopify as fulfilment {fulfilment['id']}")
                    break
            else:
                body = {"fulfillment": {"line_items_by_fulfillment_order": self._fulfilment_lines(ctx, order_id, payload["lines"]),
                                        "tracking_info": payload["tracking_info"], "notify_customer": True}}
                fulfilment = ctx.client.rest("POST", "fulfillments.json", body=body)["fulfillment"]
                binding_save(endpoint=ctx.endpoint, model="shipment", local_id=job.record_key, external_id=fulfilment["id"])
                ctx.done(job, f"fulfilment {fulfilment['id']} with tracking {number or '—'}")

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
            raise PermanentError(f"Shopify has nothing left to fulfil for {', '.join(f'{q} × {s}' for s, q in left.items())}")
        return result


class CancellationsOut(Flow):
    name = "cancellations.out"
    label = "Cancellations out"
    topics = ("orders.order",)

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        cancelled = [i for i in object_ids if (data_by_id.get(i) or {}).get("status") == "cancelled"]
        return [(pk, f"order {ext}") for pk, ext in _shop_orders(endpoint, cancelled).items()]

    def prepare(self, ctx, job):
        order_binding = Binding.objects.filter(endpoint=ctx.endpoint, model="order", local_id=job.record_key).first()
        if order_binding is None:
            raise PermanentError(f"order #{job.record_key} did not come from this shop")
        return {"order_id": order_binding.external_id, "reason": "other", "email": False}

    def send(self, ctx, jobs):
        for job in jobs:
            order_id = job.payload["order_id"]
            current = ctx.client.rest("GET", f"orders/{order_id}.json")["order"]
            if current.get("cancelled_at"):
                ctx.done(job, "already cancelled in Shopify")
                continue
            ctx.client.rest("POST", f"orders/{order_id}/cancel.json", body={"reason": job.payload["reason"], "email": job.payload["email"]})
            ctx.done(job, f"cancelled Shopify order {order_id}")


class OrdersPoll(ScheduledFlow):
    """Safety net for missed webhooks: orders updated since the last successful poll (with an overlap)."""

    name = "orders.poll"
    label = "Orders poll"
    every_minutes = 10

    def prepare(self, ctx, job):
        cursor = cursor_get(endpoint=ctx.endpoint, name=self.name)
        since = datetime.fromisoformat(cursor) if cursor else ctx.endpoint.created_at
        return {"updated_at_min": (since - POLL_OVERLAP).isoformat()}

    def send(self, ctx, jobs):
        started = timezone.now()
        seen = created = 0
        newest, failures = None, []
        for order_json in ctx.client.paginate("orders.json", "orders", params={
                "status": "any", "updated_at_min": jobs[0].payload["updated_at_min"], "limit": 250, "order": "updated_at asc"}):
            updated = datetime.fromisoformat(order_json["updated_at"]) if order_json.get("updated_at") else None
            seen += 1
            try:
                created += ctx.connector.apply_order(endpoint=ctx.endpoint, order_json=order_json, topic="orders/updated")
            except Exception as exc:  # one bad order must not hide the others; it is reported below
                failures.append((updated, f"{order_json.get('name') or order_json.get('id')}: {exc}"))
                continue
            if updated and (newest is None or updated > newest):
                newest = updated
        if failures:
            # Poll again from the first order that failed (re-imports are idempotent).
            first_failed = min((u for u, _ in failures if u), default=None)
            if first_failed is not None:
                cursor_set(endpoint=ctx.endpoint, name=self.name, value=first_failed.isoformat())
            raise PermanentError(f"{len(failures)} of {seen} orders could not be imported: " + "; ".join(m for _, m in failures[:5]))
        cursor_set(endpoint=ctx.endpoint, name=self.name, value=(newest or started).isoformat())
        for job in jobs:
            ctx.done(job, f"{seen} orders checked, {created} new")


FLOWS = (ProductsOut(), StockOut(), StockReconcile(), FulfilmentsOut(), CancellationsOut(), OrdersPoll())
