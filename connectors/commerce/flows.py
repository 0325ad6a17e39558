"""Storefront flows, written once: products and prices out, available-to-sell out, a stock
reconcile, fulfilments and cancellations out, and an orders poll. Each calls the storefront's
hooks (`connectors.commerce.storefront.Storefront`) for the vendor protocol, and asks domain
selectors what changed."""

import hashlib
import json
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from catalog.models import Product
from catalog.pricing import PricingRequest, Tier, price_lines
from catalog.selectors import parent_skus, price_changes_for_list, price_list_for_channel
from connectors.binder import ORDER, PRODUCT, SHIPMENT, VARIANT, Binder
from connectors.commerce.storefront import ProductDocument
from connectors.errors import PermanentError, message_of
from connectors.flows import UNCHANGED, Flow, ScheduledFlow
from connectors.sync import SCHEDULED_KEY, cursor_get, cursor_set, sync_job_enqueue
from hub.texts import Text
from inventory.selectors import available_to_sell
from orders.models import OrderStatus, Shipment

POLL_OVERLAP = timedelta(minutes=5)


def fingerprint(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@contextmanager
def refused_alone(ctx, job):
    """Send one job of a batch: a permanent refusal is that job's outcome and the batch goes on
    (a transient error still stops the batch: the shop is unwell, the others retry with it)."""
    try:
        yield
    except PermanentError as exc:
        ctx.fail(job, exc)


def endpoint_price_list(endpoint):
    return price_list_for_channel(channel=endpoint.channel, price_list=endpoint.config.get("price_list"))


def variant_bindings(endpoint, skus: list[str], *, for_update: bool = False) -> dict:
    """SKU → the endpoint's variant binding, through indexed columns (product SKU, binding local id)."""
    found = {}
    for start in range(0, len(skus), 2000):
        pks = dict(Product.objects.filter(sku__in=skus[start:start + 2000]).values_list("pk", "sku"))
        found.update({pks[int(local)]: binding for local, binding in Binder(endpoint).many(VARIANT, pks, for_update=for_update).items()})
    return found


# --- Products, variants and prices out ------------------------------------------------------------

class ProductsOut(Flow):
    name = "products.out"
    label = _("Products and prices sent")
    topics = ("catalog.product", "catalog.price")
    batch_size = 20

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        if topic == "catalog.price":
            from connectors.registry import connector_for

            product_ids = set()
            for price_list in connector_for(endpoint).published_price_lists(endpoint):
                whole_list, changed = price_changes_for_list(price_list_id=price_list.pk, changes=object_ids)
                if whole_list:
                    return [(b.local_id, b.data.get("sku", "")) for b in Binder(endpoint).all(PRODUCT)]
                product_ids |= changed
        else:
            product_ids = {int(i) for i in object_ids if i.isdigit()}
        return list(parent_skus(product_ids=product_ids).items())

    def prepare_batch(self, ctx, jobs):
        endpoint = ctx.endpoint
        price_list = endpoint_price_list(endpoint)
        parents = {str(p.pk): p for p in Product.objects.filter(pk__in=[j.record_key for j in jobs]).select_related("category")}
        children: dict[int, list[Product]] = {}
        for variant in Product.objects.filter(parent_id__in=[p.pk for p in parents.values()]).order_by("sku"):
            children.setdefault(variant.parent_id, []).append(variant)
        sellable = [v for p in parents.values() for v in (children.get(p.pk) or [p])]
        prices = {}
        if price_list is not None and sellable:
            request = PricingRequest(tiers=(Tier(reason="public", list_ids=(price_list.pk,)),), currency=endpoint.channel.currency)
            prices = {line.sku: line.unit_price for line in price_lines(lines=[(v.sku, 1) for v in sellable], request=request) if not line.error}
        bindings = Binder(endpoint).many(PRODUCT, parents)
        payloads = {}
        for job in jobs:
            parent = parents.get(job.record_key)
            if parent is None:
                payloads[job.pk] = PermanentError(Text(gettext_noop("product #%(key)s no longer exists in the hub"), key=job.record_key))
                continue
            binding = bindings.get(job.record_key)
            if binding is None and parent.status != Product.Status.ACTIVE:
                ctx.done(job, Text(gettext_noop("%(sku)s is %(status)s: not published"), sku=parent.sku, status=parent.status))
                payloads[job.pk] = None
                continue
            variants = children.get(parent.pk) or [parent]
            missing = [v.sku for v in variants if v.sku not in prices]
            if missing:
                payloads[job.pk] = PermanentError(Text(gettext_noop("no price for %(skus)s in the endpoint's price list"),
                                                       skus=", ".join(missing[:5])))
                continue
            payload = ctx.connector.product_document(endpoint=endpoint, parent=parent, variants=variants, prices=prices)
            if binding is not None and binding.fingerprint == fingerprint(payload):
                ctx.done(job, Text(gettext_noop("%(sku)s unchanged"), sku=parent.sku))
                payloads[job.pk] = None
                continue
            payloads[job.pk] = payload
        return payloads

    def send(self, ctx, jobs):
        for job in jobs:
            with refused_alone(ctx, job):
                self._send_one(ctx, job)

    def _send_one(self, ctx, job):
        shop, binder = ctx.connector, Binder(ctx.endpoint)
        parent = Product.objects.get(pk=job.record_key)
        variants = list(Product.objects.filter(parent=parent).order_by("sku")) or [parent]
        document = ProductDocument(parent=parent, variants=variants, prices={}, body=json.loads(json.dumps(job.payload)))
        binding = binder.get(PRODUCT, job.record_key)
        if binding is None:
            answer, created = binder.create_once(PRODUCT, job.record_key, find=lambda: self._as_found(shop.product_find(ctx, document=document)),
                                                 create=lambda: self._as_found(shop.product_create(ctx, document=document)),
                                                 fingerprint=fingerprint(job.payload), data={"sku": job.record_label})
            if not created:  # found at the shop (sent before a crash): bring it up to date
                answer = shop.product_update(ctx, external_id=answer.external_id, document=document,
                                             variant_ids={v.sku: v.external_id for v in answer.variants})
        else:
            known = {b.data.get("sku"): b.external_id for b in binder.all(VARIANT).filter(data__product=binding.external_id)}
            answer = shop.product_update(ctx, external_id=binding.external_id, document=document, variant_ids=known)
            created = False
        bound_before = variant_bindings(ctx.endpoint, [v.sku for v in answer.variants])
        self._bind(ctx.endpoint, job, answer)
        self._queue_first_stock(ctx, [v for v in answer.variants if v.sku not in bound_before])
        ctx.done(job, Text(gettext_noop("created %(system)s product %(product)s (%(variants)s variants)") if created
                           else gettext_noop("updated %(system)s product %(product)s (%(variants)s variants)"),
                           system=shop.label, product=answer.external_id, variants=len(answer.variants)))

    @staticmethod
    def _as_found(ref):
        return None if ref is None else (ref.external_id, ref)

    @staticmethod
    def _queue_first_stock(ctx, variants) -> None:
        """Variants just published (a new product, or a new variant of a published one) get their
        stock pushed without waiting for a stock change: their earlier changes found them unbound."""
        if variants and "stock.out" in {flow.name for flow in ctx.connector.enabled_flows(ctx.endpoint)} and endpoint_locations(ctx.endpoint):
            for variant in variants:
                sync_job_enqueue(endpoint=ctx.endpoint, flow="stock.out", record_key=variant.sku, label=variant.sku)

    @staticmethod
    def _bind(endpoint, job, answer) -> None:
        binder = Binder(endpoint)
        local = dict(Product.objects.filter(sku__in=[v.sku for v in answer.variants]).values_list("sku", "pk"))
        with transaction.atomic():
            binder.bind(PRODUCT, job.record_key, answer.external_id, fingerprint=fingerprint(job.payload), data={"sku": job.record_label})
            for variant in answer.variants:
                if variant.sku in local:
                    binder.bind(VARIANT, local[variant.sku], variant.external_id, merge_data=True,
                                data={**variant.data, "sku": variant.sku, "product": str(answer.external_id)})


# --- Available-to-sell out, per location ----------------------------------------------------------

def stock_targets(endpoint, skus: list[str]) -> dict[str, dict[str, int]]:
    """SKU → {location id: units the shop may sell there}."""
    from connectors.registry import connector_for

    targets: dict[str, dict[str, int]] = {sku: {} for sku in skus}
    for location_id, warehouse_codes in endpoint_locations(endpoint).items():
        channel = connector_for(endpoint).location_channel(endpoint, location_id)
        for start in range(0, len(skus), 2000):
            chunk = skus[start:start + 2000]
            for sku, units in available_to_sell(channel=channel, skus=chunk, warehouse_codes=set(warehouse_codes)).items():
                targets[sku][location_id] = units
    return targets


def endpoint_locations(endpoint) -> dict[str, list[str]]:
    from connectors.registry import connector_for

    return connector_for(endpoint).stock_locations(endpoint)


def remember_levels(endpoint, levels_by_sku: dict[str, dict]) -> None:
    with transaction.atomic():
        bindings = list(variant_bindings(endpoint, list(levels_by_sku), for_update=True).values())
        for binding in bindings:
            binding.data = {**binding.data, "levels": {**binding.data.get("levels", {}), **levels_by_sku[binding.data["sku"]]}}
        Binder(endpoint).update_data(bindings)


def _stock_row_data(binding) -> dict:
    return {**binding.data, "external_id": binding.external_id}


class StockOut(Flow):
    name = "stock.out"
    label = _("Available stock sent")
    topics = ("inventory.stock",)
    batch_size = 250

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        if not endpoint_locations(endpoint):
            return []
        bound = set(variant_bindings(endpoint, object_ids))
        return [(sku, sku) for sku in object_ids if sku in bound]

    def prepare_batch(self, ctx, jobs):
        skus = [job.record_key for job in jobs]
        bindings = variant_bindings(ctx.endpoint, skus)
        targets = stock_targets(ctx.endpoint, skus)
        payloads = {}
        for job in jobs:
            binding = bindings.get(job.record_key)
            if binding is None or not ctx.connector.stock_ready(binding.data):
                payloads[job.pk] = PermanentError(Text(gettext_noop("%(key)s is not published to this shop yet (no inventory item)"),
                                                       key=job.record_key))
                continue
            pushed = binding.data.get("levels", {})
            changed = {location: units for location, units in targets[job.record_key].items() if pushed.get(location) != units}
            if not changed:
                ctx.done(job, UNCHANGED)
                payloads[job.pk] = None
            else:
                payloads[job.pk] = {"sku": job.record_key, "variant": _stock_row_data(binding), "levels": changed}
        return payloads

    def send(self, ctx, jobs):
        rows = [(job.payload["variant"], location, int(units)) for job in jobs for location, units in job.payload["levels"].items()]
        ctx.connector.stock_set(ctx, rows=rows)
        remember_levels(ctx.endpoint, {job.payload["sku"]: job.payload["levels"] for job in jobs})
        for job in jobs:
            ctx.done(job, Text(gettext_noop("set %(levels)s"), levels=", ".join(f"{units} @ {location}"
                                                                                for location, units in job.payload["levels"].items())))


class StockReconcile(ScheduledFlow):
    """Safety net: read what the shop shows at each location and push only the differences.
    Each run checks one page of variants and queues the next, so a catalogue of any size is
    reconciled in runs that each stay well inside the task timeout."""

    name = "stock.reconcile"
    label = _("Stock reconciliation")
    every_minutes = 360
    page_size = 2000

    def prepare(self, ctx, job):
        locations = endpoint_locations(ctx.endpoint)
        return {"locations": sorted(locations)} if locations else None

    def send(self, ctx, jobs):
        endpoint, shop = ctx.endpoint, ctx.connector
        locations = endpoint_locations(endpoint)
        after = int(cursor_get(endpoint=endpoint, name=self.name) or 0)
        page = Binder(endpoint).page(VARIANT, after=after, size=self.page_size)
        variants = {b.external_id: _stock_row_data(b) for b in page if shop.stock_ready(b.data)}
        targets = stock_targets(endpoint, sorted({data["sku"] for data in variants.values()}))
        shown = shop.stock_read(ctx, variants=variants, locations=sorted(locations)) if variants else {}
        rows, levels = [], {}
        for external_id, data in variants.items():
            for location, units in targets[data["sku"]].items():
                levels.setdefault(data["sku"], {})[location] = units
                if shown.get((external_id, location)) != units:
                    rows.append((data, location, units))
        if rows:
            shop.stock_set(ctx, rows=rows)
        remember_levels(endpoint, levels)
        more = len(page) == self.page_size
        cursor_set(endpoint=endpoint, name=self.name, value=str(page[-1].pk) if more else "")
        summary = Text(gettext_noop("checked %(variants)s variants at %(locations)s locations, corrected %(corrected)s"),
                       variants=len(variants), locations=len(locations), corrected=len(rows))
        if more:
            ctx.queue_next(SCHEDULED_KEY, f"{self.label}: next page")
            summary = Text(gettext_noop("%(summary)s; next page queued"), summary=summary)
        for job in jobs:
            ctx.done(job, summary)


# --- Orders: fulfilments and cancellations out, polling in ----------------------------------------

class FulfilmentsOut(Flow):
    name = "fulfilments.out"
    label = _("Shipments sent (with tracking)")
    topics = ("orders.shipment",)

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        rows = list(Shipment.objects.filter(pk__in=[i for i in object_ids if i.isdigit()]).values_list("pk", "number", "order_id"))
        from_shop = Binder(endpoint).external_ids(ORDER, [order_id for _, _, order_id in rows])
        return [(str(pk), number) for pk, number, order_id in rows if str(order_id) in from_shop]

    def prepare(self, ctx, job):
        binder = Binder(ctx.endpoint)
        if binder.is_bound(SHIPMENT, local_id=job.record_key):
            ctx.done(job, Text(gettext_noop("already fulfilled in %(system)s"), system=ctx.connector.label))
            return None
        shipment = Shipment.objects.select_related("order").prefetch_related("lines__order_line").get(pk=job.record_key)
        order_id = binder.external_id(ORDER, shipment.order_id)
        if order_id is None:
            raise PermanentError(Text(gettext_noop("order %(order)s did not come from this shop"), order=shipment.order.number))
        return {"order_id": order_id, "shipment": shipment.number,
                "order_shipped": shipment.order.status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED),
                "lines": [{"sku": line.order_line.sku, "quantity": line.quantity} for line in shipment.lines.all()],
                "tracking_info": {"company": shipment.carrier, "number": (shipment.tracking_numbers or [""])[0],
                                  "url": (shipment.tracking_urls or [""])[0]}}

    def send(self, ctx, jobs):
        shop, binder = ctx.connector, Binder(ctx.endpoint)
        for job in jobs:
            payload = job.payload
            number = payload["tracking_info"].get("number")
            _, created = binder.create_once(
                SHIPMENT, job.record_key,
                find=lambda: (lambda found: (found, found) if found else None)(
                    shop.fulfilment_find(ctx, order_id=payload["order_id"], tracking_number=number) if number else None),
                create=lambda: (lambda made: (made, made))(
                    shop.fulfilment_create(ctx, order_id=payload["order_id"], lines=payload["lines"], tracking=payload["tracking_info"],
                                           order_shipped=bool(payload.get("order_shipped")))))
            external_id = binder.external_id(SHIPMENT, job.record_key)
            if created:
                ctx.done(job, Text(gettext_noop("fulfilment %(fulfilment)s with tracking %(tracking)s"), fulfilment=external_id,
                                   tracking=number or "—"))
            else:
                ctx.done(job, Text(gettext_noop("already in %(system)s as fulfilment %(fulfilment)s"), system=shop.label, fulfilment=external_id))


class CancellationsOut(Flow):
    name = "cancellations.out"
    label = _("Cancellations sent")
    topics = ("orders.order",)

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        cancelled = [i for i in object_ids if (data_by_id.get(i) or {}).get("status") == "cancelled"]
        return [(pk, f"order {ext}") for pk, ext in Binder(endpoint).external_ids(ORDER, cancelled).items()]

    def prepare(self, ctx, job):
        order_id = Binder(ctx.endpoint).external_id(ORDER, job.record_key)
        if order_id is None:
            raise PermanentError(Text(gettext_noop("order #%(key)s did not come from this shop"), key=job.record_key))
        return {"order_id": order_id, "reason": "other", "email": False}

    def send(self, ctx, jobs):
        shop = ctx.connector
        for job in jobs:
            order_id = job.payload["order_id"]
            if shop.order_is_cancelled(ctx, order_id=order_id):
                ctx.done(job, Text(gettext_noop("already cancelled in %(system)s"), system=shop.label))
                continue
            shop.order_cancel(ctx, order_id=order_id, reason=job.payload["reason"])
            ctx.done(job, Text(gettext_noop("cancelled %(system)s order %(order)s"), system=shop.label, order=order_id))


class OrdersPoll(ScheduledFlow):
    """Safety net for missed webhooks: orders updated since the last successful poll (with an overlap)."""

    name = "orders.poll"
    label = _("Orders fetched")
    every_minutes = 10

    def prepare(self, ctx, job):
        cursor = cursor_get(endpoint=ctx.endpoint, name=self.name)
        since = datetime.fromisoformat(cursor) if cursor else ctx.endpoint.created_at
        return {"updated_at_min": (since - POLL_OVERLAP).isoformat()}

    def send(self, ctx, jobs):
        shop = ctx.connector
        started = timezone.now()
        seen = created = 0
        newest, failures = None, []
        for order in shop.orders_changed_since(ctx, since=datetime.fromisoformat(jobs[0].payload["updated_at_min"])):
            updated = shop.order_updated_at(order)
            seen += 1
            try:
                created += shop.apply_order(endpoint=ctx.endpoint, order_json=order)
            except Exception as exc:  # one bad order must not hide the others; it is reported below
                failures.append((updated, Text(gettext_noop("%(order)s: %(error)s"), order=shop.order_label(order), error=message_of(exc))))
                continue
            if updated and (newest is None or updated > newest):
                newest = updated
        if failures:
            # Poll again from the first order that failed (re-imports are idempotent).
            first_failed = min((u for u, _ in failures if u), default=None)
            if first_failed is not None:
                cursor_set(endpoint=ctx.endpoint, name=self.name, value=first_failed.isoformat())
            raise PermanentError(Text(gettext_noop("%(failed)s of %(seen)s orders could not be imported: %(errors)s"), failed=len(failures),
                                      seen=seen, errors=[m for _, m in failures[:5]]))
        cursor_set(endpoint=ctx.endpoint, name=self.name, value=(newest or started).isoformat())
        for job in jobs:
            ctx.done(job, Text(gettext_noop("%(seen)s orders checked, %(created)s new"), seen=seen, created=created))


STOREFRONT_FLOWS = (ProductsOut(), StockOut(), StockReconcile(), FulfilmentsOut(), CancellationsOut(), OrdersPoll())
