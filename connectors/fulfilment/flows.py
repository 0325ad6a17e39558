"""3PL flows, written once: items out, orders out (release, updates, holds, cancellations),
shipments in (the polling safety net; webhooks go through `inbound`), stock in, expected returns
out and return receipts in. Each calls the 3PL's hooks (`provider.FulfilmentProvider`) for the
protocol and asks domain selectors what changed."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from catalog.selectors import sellable_skus
from connectors.binder import Binder
from connectors.errors import PermanentError, SyncError, message_of
from connectors.flows import Flow, ScheduledFlow, texts_joined
from connectors.fulfilment import inbound, stock
from connectors.fulfilment.provider import FulfilmentRefused, ItemRef, Release, ReleaseRef
from connectors.fulfilment.state import (
    CANCELLED,
    CLOSED,
    EXPECTED_RETURN,
    HELD,
    ITEM,
    OPEN,
    PARCEL,
    RELEASE,
    alert,
    fingerprint,
    mapped_locations,
    now_iso,
    release_bindings,
    release_key,
    release_reference,
    served_locations,
)
from connectors.sync import cursor_get, cursor_set
from hub.texts import Text, text_shown
from orders.models import OrderStatus, SalesOrder
from orders.selectors import order_ready_to_fulfil, order_reserved_lines, orders_holding_stock_in, shipped_quantities
from returns.models import Rma, RmaStatus

# --- Items out ------------------------------------------------------------------------------------


class ItemsOut(Flow):
    """Products and variants the 3PL will handle (SKU, name, barcode, weight, dimensions, customs
    data, lot and expiry tracking); the 3PL's item id is bound back."""

    name = "items.out"
    label = _("Items sent")
    topics = ("catalog.product",)
    batch_size = 20

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        if not mapped_locations(endpoint):
            return []
        return list(sellable_skus(product_ids=[i for i in object_ids if str(i).isdigit()]).items())

    def prepare_batch(self, ctx, jobs):
        products = {str(p.pk): p for p in Product.objects.filter(pk__in=[j.record_key for j in jobs]).select_related("parent")}
        bindings = Binder(ctx.endpoint).many(ITEM, products)
        payloads = {}
        for job in jobs:
            product = products.get(job.record_key)
            if product is None:
                payloads[job.pk] = PermanentError(Text(gettext_noop("product #%(key)s no longer exists in the hub"), key=job.record_key))
                continue
            binding = bindings.get(job.record_key)
            if binding is None and product.status != Product.Status.ACTIVE:
                ctx.done(job, Text(gettext_noop("%(sku)s is %(status)s: not sent"), sku=product.sku, status=product.status))
                payloads[job.pk] = None
                continue
            document = ctx.connector.item_document(endpoint=ctx.endpoint, product=product)
            if binding is not None and binding.fingerprint == fingerprint(document):
                ctx.done(job, Text(gettext_noop("%(sku)s unchanged"), sku=product.sku))
                payloads[job.pk] = None
                continue
            payloads[job.pk] = {"sku": product.sku, "document": document}
        return payloads

    def send(self, ctx, jobs):
        provider, binder = ctx.connector, Binder(ctx.endpoint)
        for job in jobs:
            sku, document = job.payload["sku"], job.payload["document"]
            bound = binder.get(ITEM, job.record_key)
            try:
                if bound is not None:
                    ref = provider.item_update(ctx, ref=ItemRef(bound.external_id, bound.data), document=document)
                    said = gettext_noop("updated %(system)s item %(item)s for %(sku)s")
                else:
                    ref = provider.item_find(ctx, sku=sku)
                    if ref is not None:
                        ref = provider.item_update(ctx, ref=ref, document=document)
                        said = gettext_noop("found and updated %(system)s item %(item)s for %(sku)s")
                    else:
                        ref = provider.item_create(ctx, sku=sku, document=document)
                        said = gettext_noop("created %(system)s item %(item)s for %(sku)s")
                        if ref is None:
                            ctx.done(job, Text(gettext_noop("%(sku)s: %(system)s creates it with its first order"), sku=sku, system=provider.label))
                            continue
            except SyncError as exc:
                ctx.fail(job, exc)
                continue
            binder.bind(ITEM, job.record_key, ref.external_id, fingerprint=fingerprint(document), data={**ref.data, "sku": sku})
            ctx.done(job, Text(said, system=provider.label, item=ref.external_id, sku=sku))


# --- Orders out -----------------------------------------------------------------------------------

def _release(endpoint, order, *, code: str, location_id: str, lines: list[dict], reference: str, state: str = OPEN) -> Release:
    provider = _provider(endpoint)
    shipping = order.shipping_lines.first()
    code_, title = (shipping.code, shipping.title) if shipping else ("", "")
    by_sku = {line.sku: line for line in order.lines.all()}
    return Release(
        reference=reference, order_number=order.number, warehouse_code=code, location_id=location_id,
        lines=[{"sku": line["sku"], "name": by_sku[line["sku"]].name if line["sku"] in by_sku else line["sku"],
                "quantity": line["quantity"], "unit_price": str(by_sku[line["sku"]].unit_price) if line["sku"] in by_sku else "0"}
               for line in lines],
        ship_to=dict(order.shipping_address or {}), email=order.customer.email,
        service=provider.service_for(endpoint, code=code_, title=title), requested_service=title,
        placed_at=order.placed_at, currency=order.currency, state=state)


def _provider(endpoint):
    from connectors.registry import connector_for

    return connector_for(endpoint)


def _part_fingerprint(release: Release) -> str:
    return fingerprint({"ship_to": release.ship_to, "service": release.service, "lines": release.lines})


class OrdersOut(Flow):
    """Each part of an order held in a warehouse this 3PL serves goes to it once the order is
    allocated and paid (by the channel's rule), with the order's reference as idempotency key;
    holds, address changes and cancellations follow while the 3PL has not picked it."""

    name = "orders.out"
    label = _("Orders sent to the warehouse")
    topics = ("orders.order",)
    batch_size = 10

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        codes = list(mapped_locations(endpoint))
        if not codes:
            return []
        ids = [int(i) for i in object_ids if str(i).isdigit()]
        wanted = orders_holding_stock_in(order_ids=ids, warehouse_codes=codes)
        released = {b.data["order"] for b in release_bindings(endpoint, order_ids=ids, warehouse_codes=codes)} - set(wanted)
        if released:
            wanted.update(SalesOrder.objects.filter(pk__in=released).order_by().values_list("pk", "number"))
        return [(str(pk), wanted.get(pk, "")) for pk in sorted(wanted)]

    def prepare(self, ctx, job):
        order = SalesOrder.objects.select_related("customer", "channel").filter(pk=job.record_key).first()
        if order is None:
            raise PermanentError(Text(gettext_noop("order #%(key)s no longer exists in the hub"), key=job.record_key))
        locations = served_locations(ctx.endpoint)
        ready = order_ready_to_fulfil(order=order)
        reserved = order_reserved_lines(order=order, warehouse_codes=list(locations)) if ready else {}
        bindings = {b.data["warehouse"]: b for b in release_bindings(ctx.endpoint, order_ids=[order.pk], warehouse_codes=locations)}
        shipped = {}
        actions = []
        for code in sorted(set(reserved) | set(bindings)):
            if code not in locations:
                continue
            held_now = {line["sku"]: line["quantity"] for line in reserved.get(code, [])}
            binding = bindings.get(code)
            state = binding.data.get("state") if binding else None
            if binding is None or state == CANCELLED:
                if held_now:
                    generation = (binding.data.get("generation", 1) + 1) if binding else 1
                    release = _release(ctx.endpoint, order, code=code, location_id=locations[code], lines=reserved[code],
                                       reference=release_reference(order.number, code, generation))
                    actions.append({"action": "create", "generation": generation, "release": release.as_payload()})
                continue
            if state == CLOSED:
                continue
            if code not in shipped:
                shipped[code] = shipped_quantities(order_ids=[order.pk], warehouse_code=code)
            released = binding.data.get("lines") or {}
            open_left = {sku: units - shipped[code].get((order.pk, sku), 0) for sku, units in released.items()}
            open_left = {sku: units for sku, units in open_left.items() if units > 0}
            lines = [{"sku": sku, "quantity": units} for sku, units in released.items()]
            release = _release(ctx.endpoint, order, code=code, location_id=locations[code], lines=lines,
                               reference=binding.data["reference"])
            ref = {"external_id": binding.external_id, "data": binding.data}
            if order.status == OrderStatus.CANCELLED:
                actions.append({"action": "cancel", "reason": "cancelled in the hub", "ref": ref, "release": release.as_payload()})
            elif order.status == OrderStatus.ON_HOLD:
                if state != HELD:
                    release.state = HELD
                    actions.append({"action": "hold", "reason": order.hold_reason or "on hold in the hub", "ref": ref,
                                    "release": release.as_payload()})
            elif not open_left:
                actions.append({"action": "close", "ref": ref})
            elif held_now and held_now == open_left:
                if state == HELD:
                    actions.append({"action": "resume", "ref": ref, "release": release.as_payload()})
                elif binding.data.get("fingerprint") != _part_fingerprint(release):
                    actions.append({"action": "update", "ref": ref, "release": release.as_payload()})
            else:
                # The hub no longer holds these units here (allocated again elsewhere): the 3PL must not ship them.
                actions.append({"action": "cancel", "reason": "no longer held in this warehouse", "ref": ref,
                                "release": release.as_payload()})
        if not actions:
            ctx.done(job, Text(gettext_noop("nothing to change at the 3PL")))
            return None
        return {"order": order.number, "order_id": order.pk, "actions": actions}

    def send(self, ctx, jobs):
        for job in jobs:
            done = []
            try:
                for action in job.payload["actions"]:
                    done.append(self._apply(ctx, job.payload, action))
            except FulfilmentRefused as exc:
                self._refused(ctx, job, exc)
                ctx.fail(job, exc)
                continue
            except SyncError as exc:
                ctx.fail(job, exc)
                continue
            ctx.done(job, texts_joined(done))

    def _apply(self, ctx, payload, action) -> Text:
        provider, binder = ctx.connector, Binder(ctx.endpoint)
        kind = action["action"]
        release = Release.from_payload(action["release"]) if "release" in action else None
        if kind == "create":
            ref = provider.release_create(ctx, release=release)
            lines = {line["sku"]: line["quantity"] for line in release.lines}
            binder.bind(RELEASE, release_key(payload["order_id"], release.warehouse_code), ref.external_id, data={
                **ref.data, "order": payload["order_id"], "warehouse": release.warehouse_code, "reference": release.reference,
                "generation": action["generation"], "lines": lines, "state": OPEN, "released_at": now_iso(), "changed_at": now_iso(),
                "fingerprint": _part_fingerprint(release)})
            return Text(gettext_noop("released %(reference)s to %(system)s (%(external_id)s)"), reference=release.reference, system=provider.label,
                        external_id=ref.external_id)
        ref = ReleaseRef(action["ref"]["external_id"], action["ref"]["data"])
        key = release_key(payload["order_id"], ref.data["warehouse"])
        if kind == "close":
            binder.bind(RELEASE, key, ref.external_id, data={"state": CLOSED, "changed_at": now_iso()}, merge_data=True)
            return Text(gettext_noop("%(reference)s shipped in full"), reference=ref.data["reference"])
        if kind == "update":
            answer = provider.release_update(ctx, ref=ref, release=release)
            binder.bind(RELEASE, key, ref.external_id, merge_data=True,
                        data={**answer.data, "fingerprint": _part_fingerprint(release), "changed_at": now_iso()})
            return Text(gettext_noop("updated %(reference)s at %(system)s"), reference=release.reference, system=provider.label)
        if kind == "resume":
            answer = provider.release_resume(ctx, ref=ref, release=release)
            binder.bind(RELEASE, key, ref.external_id, merge_data=True,
                        data={**answer.data, "state": OPEN, "fingerprint": _part_fingerprint(release), "changed_at": now_iso()})
            return Text(gettext_noop("resumed %(reference)s at %(system)s"), reference=release.reference, system=provider.label)
        if kind == "hold":
            if provider.release_hold(ctx, ref=ref, release=release):
                binder.bind(RELEASE, key, ref.external_id, merge_data=True, data={"state": HELD, "changed_at": now_iso()})
                return Text(gettext_noop("held %(reference)s at %(system)s"), reference=release.reference, system=provider.label)
            provider.release_cancel(ctx, ref=ref, release=release, reason=action["reason"])
            binder.bind(RELEASE, key, ref.external_id, merge_data=True, data={"state": CANCELLED, "changed_at": now_iso()})
            return Text(gettext_noop("cancelled %(reference)s at %(system)s (it has no holds; released again when the hold ends)"),
                        reference=release.reference, system=provider.label)
        if kind == "cancel":
            provider.release_cancel(ctx, ref=ref, release=release, reason=action["reason"])
            binder.bind(RELEASE, key, ref.external_id, merge_data=True, data={"state": CANCELLED, "changed_at": now_iso()})
            return Text(gettext_noop("cancelled %(reference)s at %(system)s"), reference=release.reference, system=provider.label)
        raise PermanentError(Text(gettext_noop("unknown action %(action)s in the payload"), action=repr(kind)))

    @staticmethod
    def _refused(ctx, job, exc) -> None:
        endpoint = ctx.endpoint
        with translation.override(settings.LANGUAGE_CODE):  # e-mails are written in the hub's language
            params = {"order": job.payload.get("order"), "error": text_shown(exc.stored(), str(exc)), "system": ctx.connector.label, "job": job.pk}
            alert(endpoint=endpoint, subject=gettext("%(order)s: %(error)s") % params,
                  body=gettext("%(system)s refused a change to order %(order)s:\n\n%(error)s\n\n"
                               "The hub order is left as it is. The 3PL will go on with what it has (an order already picked "
                               "will ship): contact the 3PL, or handle the goods as a return once they are delivered.\n"
                               "Job: /admin/connectors/syncjob/%(job)s/change/\n") % params)


# --- Shipments in (polling safety net) ------------------------------------------------------------

class ShipmentsPoll(ScheduledFlow):
    """Shipments the 3PL made or changed since the last poll (with an overlap), applied like
    webhooks: a missed or dropped webhook costs at most one poll interval."""

    name = "shipments.poll"
    label = _("Shipments fetched")
    every_minutes = 15

    def prepare(self, ctx, job):
        if not served_locations(ctx.endpoint):
            return None
        cursor = cursor_get(endpoint=ctx.endpoint, name=self.name)
        since = datetime.fromisoformat(cursor) if cursor else ctx.endpoint.created_at
        return {"since": (since - ctx.connector.poll_overlap).isoformat()}

    def send(self, ctx, jobs):
        started = timezone.now()
        seen, outcomes, failures = shipments_catch_up(ctx, since=datetime.fromisoformat(jobs[0].payload["since"]))
        if failures:
            raise PermanentError(Text(gettext_noop("%(failed)s of %(seen)s shipments could not be recorded: %(errors)s"), failed=len(failures),
                                      seen=seen, errors=failures[:5]))
        cursor_set(endpoint=ctx.endpoint, name=self.name, value=started.isoformat())
        recorded = sum(1 for outcome in outcomes if inbound.is_recorded(outcome))
        for job in jobs:
            ctx.done(job, Text(gettext_noop("%(seen)s shipments checked, %(recorded)s recorded"), seen=seen, recorded=recorded))


def shipments_catch_up(ctx, *, since) -> tuple[int, list[Text], list[Text]]:
    seen, outcomes, failures = 0, [], []
    for shipment in ctx.connector.shipments_since(ctx, since=since):
        seen += 1
        try:
            outcomes.append(inbound.shipment_apply(endpoint=ctx.endpoint, shipment=shipment))
        except Exception as exc:  # one bad shipment must not hide the others; reported below
            failures.append(Text(gettext_noop("%(shipment)s: %(error)s"), shipment=shipment.external_id, error=message_of(exc)))
    return seen, outcomes, failures


# --- Stock in -------------------------------------------------------------------------------------

class StockIn(ScheduledFlow):
    """The 3PL's stock levels compared with the ledger; each difference becomes one 3PL
    correction movement with the 3PL's reason. Runs on its schedule (`*`) and for the SKUs of a
    3PL's stock event (one job per SKU, checked together)."""

    name = "stock.in"
    label = _("Warehouse stock checked")
    every_minutes = 60
    batch_size = 500

    def prepare_batch(self, ctx, jobs):
        if not ctx.connector.reads_stock or not served_locations(ctx.endpoint):
            for job in jobs:
                ctx.done(job, Text(gettext_noop("%(system)s reports no stock levels"), system=ctx.connector.label) if not ctx.connector.reads_stock
                         else Text(gettext_noop("no warehouse mapped")))
            return {job.pk: None for job in jobs}
        every = any(job.record_key == "*" for job in jobs)
        skus = None if every else sorted({job.record_key for job in jobs})
        return {job.pk: {"skus": skus} for job in jobs}

    def send(self, ctx, jobs):
        summary = stock.stock_compare(ctx, skus=jobs[0].payload["skus"])
        for job in jobs:
            ctx.done(job, summary)


# --- Returns --------------------------------------------------------------------------------------

OPEN_RMA = {RmaStatus.AUTHORISED, RmaStatus.IN_TRANSIT}
STOPPED_RMA = {RmaStatus.CANCELLED, RmaStatus.REJECTED}


class ReturnsOut(Flow):
    """An authorised return whose goods go back to a warehouse this 3PL serves becomes an
    expected return there, with the tracking number of its label when it has one; a label that
    comes later is given to the expected return (while the 3PL can still change it); a
    cancelled return is cancelled there."""

    name = "returns.out"
    label = _("Expected returns sent")
    topics = ("returns.rma",)

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        codes = list(mapped_locations(endpoint))
        ids = [int(i) for i in object_ids if str(i).isdigit()]
        rows = Rma.objects.filter(pk__in=ids, expected_warehouse__code__in=codes).values_list("pk", "number")
        return [(str(pk), number) for pk, number in rows]

    def prepare(self, ctx, job):
        rma = Rma.objects.select_related("expected_warehouse", "order").filter(pk=job.record_key).first()
        if rma is None:
            raise PermanentError(Text(gettext_noop("return #%(key)s no longer exists in the hub"), key=job.record_key))
        locations = served_locations(ctx.endpoint)
        code = rma.expected_warehouse.code if rma.expected_warehouse else ""
        binding = Binder(ctx.endpoint).get(EXPECTED_RETURN, rma.pk)
        announced = binding is not None and binding.data.get("state") == OPEN
        relabelled = announced and rma.tracking_number and rma.tracking_number != binding.data.get("tracking_number", "")
        if (binding is None or relabelled) and rma.status in OPEN_RMA and code in locations:
            shipments = list(rma.order.shipments.filter(warehouse__code=code).values_list("pk", flat=True))
            parcels = Binder(ctx.endpoint).external_ids(PARCEL, shipments)
            return {"action": "update" if binding else "create", "external_id": binding.external_id if binding else "",
                    "reference": rma.number, "warehouse": code, "location_id": locations[code],
                    "original_shipment": next(iter(parcels.values()), ""), "tracking_number": rma.tracking_number,
                    "carrier": rma.carrier,
                    "lines": [{"sku": line.order_line.sku, "name": line.order_line.name, "quantity": line.quantity}
                              for line in rma.lines.select_related("order_line")]}
        if binding is not None and rma.status in STOPPED_RMA and binding.data.get("state") == OPEN:
            return {"action": "cancel", "external_id": binding.external_id, "reference": rma.number}
        ctx.done(job, Text(gettext_noop("%(rma)s is %(status)s: nothing to tell %(system)s"), rma=rma.number, status=rma.status,
                           system=ctx.connector.label))
        return None

    def send(self, ctx, jobs):
        provider, binder = ctx.connector, Binder(ctx.endpoint)
        for job in jobs:
            payload = job.payload
            try:
                if payload["action"] == "create":
                    external_id = provider.return_create(ctx, reference=payload["reference"], location_id=payload["location_id"],
                                                         lines=payload["lines"], original_shipment=payload["original_shipment"],
                                                         tracking_number=payload["tracking_number"])
                    binder.bind(EXPECTED_RETURN, job.record_key, external_id,
                                data={"reference": payload["reference"], "warehouse": payload["warehouse"], "state": OPEN,
                                      "tracking_number": payload["tracking_number"]})
                    if payload["tracking_number"]:
                        ctx.done(job, Text(gettext_noop("%(reference)s expected at %(system)s as return %(external_id)s, tracking %(tracking)s"),
                                           reference=payload["reference"], system=provider.label, external_id=external_id,
                                           tracking=payload["tracking_number"]))
                    else:
                        ctx.done(job, Text(gettext_noop("%(reference)s expected at %(system)s as return %(external_id)s"),
                                           reference=payload["reference"], system=provider.label, external_id=external_id))
                elif payload["action"] == "update":
                    changed = provider.return_update(ctx, external_id=payload["external_id"], reference=payload["reference"],
                                                     location_id=payload["location_id"], lines=payload["lines"],
                                                     original_shipment=payload["original_shipment"],
                                                     tracking_number=payload["tracking_number"])
                    if changed:
                        binder.bind(EXPECTED_RETURN, job.record_key, payload["external_id"],
                                    data={"tracking_number": payload["tracking_number"]}, merge_data=True)
                        tracking = f"{payload['carrier']} {payload['tracking_number']}".strip()
                        ctx.done(job, Text(gettext_noop("return %(external_id)s at %(system)s now tracked as %(tracking)s"),
                                           external_id=payload["external_id"], system=provider.label, tracking=tracking))
                    else:
                        ctx.done(job, Text(gettext_noop("%(system)s can no longer change return %(external_id)s: tracking %(tracking)s "
                                                        "stays on %(reference)s only"), system=provider.label,
                                           external_id=payload["external_id"], tracking=payload["tracking_number"],
                                           reference=payload["reference"]))
                else:
                    provider.return_cancel(ctx, external_id=payload["external_id"])
                    binder.bind(EXPECTED_RETURN, job.record_key, payload["external_id"], data={"state": CANCELLED}, merge_data=True)
                    ctx.done(job, Text(gettext_noop("return %(external_id)s cancelled at %(system)s"), external_id=payload["external_id"],
                                       system=provider.label))
            except SyncError as exc:
                ctx.fail(job, exc)


class ReturnsPoll(ScheduledFlow):
    """Open expected returns read back from the 3PL: a receipt whose webhook was missed is
    recorded at the next poll."""

    name = "returns.poll"
    label = _("Returns fetched")
    every_minutes = 30

    def prepare(self, ctx, job):
        if not ctx.connector.takes_returns:
            return None
        open_returns = list(Binder(ctx.endpoint).all(EXPECTED_RETURN).filter(data__state=OPEN).values_list("external_id", flat=True))
        return {"returns": open_returns} if open_returns else None

    def send(self, ctx, jobs):
        seen, outcomes, failures = returns_catch_up(ctx, external_ids=jobs[0].payload["returns"])
        if failures:
            raise PermanentError(Text(gettext_noop("%(failed)s of %(seen)s returns could not be recorded: %(errors)s"), failed=len(failures),
                                      seen=seen, errors=failures[:5]))
        for job in jobs:
            recorded = [outcome for outcome in outcomes if "recorded" in str(outcome)]
            ctx.done(job, Text(gettext_noop("%(seen)s returns checked: %(recorded)s"), seen=seen,
                               recorded=recorded or Text(gettext_noop("no new receipt"))))


def returns_catch_up(ctx, *, external_ids=None) -> tuple[int, list[Text], list[Text]]:
    if external_ids is None:
        external_ids = list(Binder(ctx.endpoint).all(EXPECTED_RETURN).filter(data__state=OPEN).values_list("external_id", flat=True))
    outcomes, failures = [], []
    for external_id in external_ids:
        try:
            receipt = ctx.connector.return_fetch(ctx, external_id=external_id)
            outcomes.append(inbound.return_receipt_apply(endpoint=ctx.endpoint, receipt=receipt))
        except SyncError:
            raise
        except Exception as exc:  # reported together below
            failures.append(Text(gettext_noop("%(return)s: %(error)s"), **{"return": external_id}, error=message_of(exc)))
    return len(external_ids), outcomes, failures


def fulfilment_flows(*, reads_stock: bool = True, takes_returns: bool = True) -> tuple:
    flows = [ItemsOut(), OrdersOut(), ShipmentsPoll()]
    if reads_stock:
        flows.append(StockIn())
    if takes_returns:
        flows += [ReturnsOut(), ReturnsPoll()]
    return tuple(flows)

