"""Shipments, stock events and return receipts from a 3PL (webhook or poll), the same for every 3PL.

Each handler returns a short outcome for the operator, or raises with a message a person can act
on. Changes are attributed to the endpoint (`change_origin`) so nothing is echoed back to it;
the storefront an order came from still hears of its shipment (fulfilment with tracking)."""

from django.db import transaction
from django.utils.translation import gettext_noop

from connectors.binder import Binder
from connectors.errors import RefusedData, message_of
from connectors.fulfilment.state import CLOSED, EXPECTED_RETURN, PARCEL, RELEASE, release_for_shipment
from hub.changes import change_origin
from hub.texts import Text

# What the 3PL did with returned goods → the hub's inspection (condition, disposition).
RETURN_OUTCOMES = {"restock": ("sellable", "restock"), "quarantine": ("damaged", "quarantine"), "dispose": ("damaged", "scrap")}


def _actor(endpoint) -> str:
    return f"{endpoint.kind}:{endpoint.code}"


def _label(endpoint) -> str:
    from connectors.registry import connector_for

    return connector_for(endpoint).label


def shipments_event(*, endpoint, topic, payload) -> str:
    from connectors.registry import connector_for

    shipments = connector_for(endpoint).shipments_from_event(endpoint=endpoint, topic=topic, payload=payload)
    if not shipments:
        return "no shipment in this event"
    return "; ".join(shipment_apply(endpoint=endpoint, shipment=shipment) for shipment in shipments)


def shipment_apply(*, endpoint, shipment) -> str:
    """Record a 3PL shipment as a hub shipment through the ledger, once: partial shipments and
    each parcel become their own hub shipment with carrier, tracking numbers and URLs."""
    from inventory.models import Warehouse
    from orders.models import OrderStatus, SalesOrder
    from orders.services import shipment_create

    label = _label(endpoint)
    binder = Binder(endpoint)
    if shipment.status != "shipped":
        return f"{label} shipment {shipment.external_id} is {shipment.status}: nothing shipped yet"
    if binder.is_bound(PARCEL, external_id=shipment.external_id):
        return f"{label} shipment {shipment.external_id} already recorded"
    release = release_for_shipment(endpoint, order_external_id=shipment.order_external_id, reference=shipment.reference)
    if release is None:
        return f"{label} shipment {shipment.external_id} is not for an order the hub released: ignored"
    data = release.data
    with transaction.atomic():
        order = SalesOrder.objects.select_for_update().get(pk=data["order"])
        if binder.is_bound(PARCEL, external_id=shipment.external_id):
            return f"{label} shipment {shipment.external_id} already recorded"
        if order.status == OrderStatus.CANCELLED:
            raise RefusedData(Text(gettext_noop("%(system)s shipped %(shipment)s (%(lines)s) for %(order)s, which is cancelled in the hub: the "
                                                "goods have left %(warehouse)s; handle them as a return, the next stock check corrects the "
                                                "warehouse's stock"),
                                   system=label, shipment=shipment.external_id, lines=", ".join(f"{q} × {s}" for s, q in shipment.lines),
                                   order=order.number, warehouse=data["warehouse"]))
        warehouse = Warehouse.objects.get(code=data["warehouse"])
        lines, unmatched = _shipment_lines(order, shipment.lines)
        if not lines:
            if unmatched:
                raise RefusedData(Text(gettext_noop("%(system)s shipment %(shipment)s for %(order)s ships nothing the order still expects "
                                                    "(%(skus)s)"), system=label, shipment=shipment.external_id, order=order.number,
                                       skus=", ".join(unmatched)))
            raise RefusedData(Text(gettext_noop("%(system)s shipment %(shipment)s for %(order)s ships nothing the order still expects"),
                                   system=label, shipment=shipment.external_id, order=order.number))
        with change_origin(endpoint.code):
            hub_shipment = shipment_create(
                order=order, warehouse=warehouse, lines=lines, carrier=shipment.carrier, service=shipment.service,
                tracking_numbers=[p.tracking_number for p in shipment.parcels if p.tracking_number],
                tracking_urls=[p.tracking_url for p in shipment.parcels if p.tracking_url],
                shipped_at=shipment.shipped_at, actor_label=_actor(endpoint))
        binder.bind(PARCEL, hub_shipment.pk, shipment.external_id,
                    data={"order": order.pk, "release": release.external_id, "warehouse": warehouse.code})
        order.refresh_from_db()
        if order.status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
            binder.bind(RELEASE, release.local_id, release.external_id, data={"state": CLOSED}, merge_data=True)
    tracking = ", ".join(p.tracking_number for p in shipment.parcels if p.tracking_number) or "no tracking"
    note = f" (not on the order: {', '.join(unmatched)})" if unmatched else ""
    return f"recorded {hub_shipment.number} from {label} shipment {shipment.external_id}, {tracking}{note}"


def _shipment_lines(order, shipped: list[tuple[str, int]]):
    """(order line, units) pairs for what the 3PL shipped, at most what each line still expects."""
    lines = list(order.lines.select_for_update().order_by("position", "id"))
    open_units = {line.pk: line.quantity_open for line in lines}
    result, unmatched = {}, []
    for sku, units in shipped:
        left = units
        for line in lines:
            if line.sku != sku or not open_units[line.pk]:
                continue
            take = min(left, open_units[line.pk])
            open_units[line.pk] -= take
            result[line.pk] = (line, result.get(line.pk, (line, 0))[1] + take)
            left -= take
            if not left:
                break
        if left:
            unmatched.append(f"{left} × {sku}")
    return list(result.values()), unmatched


def stock_event(*, endpoint, topic, payload) -> str:
    """A 3PL event that says its stock moved (an order it could not fill, a count): the SKUs
    concerned are checked against the ledger at once."""
    from connectors.registry import connector_for
    from connectors.sync import sync_job_enqueue

    skus = connector_for(endpoint).stock_event_skus(endpoint=endpoint, topic=topic, payload=payload)
    if not any(flow.name == "stock.in" for flow in connector_for(endpoint).enabled_flows(endpoint)):
        return f"{topic}: stock in is not enabled for this endpoint"
    for sku in skus:
        sync_job_enqueue(endpoint=endpoint, flow="stock.in", record_key=sku, label=sku)
    return f"{topic}: stock check queued for {', '.join(skus) or 'no SKU'}"


def return_event(*, endpoint, topic, payload) -> str:
    from connectors.registry import connector_for

    receipt = connector_for(endpoint).return_from_event(endpoint=endpoint, topic=topic, payload=payload)
    if receipt is None:
        return f"{topic}: no return in this event"
    return return_receipt_apply(endpoint=endpoint, receipt=receipt)


def return_receipt_apply(*, endpoint, receipt) -> str:
    """The 3PL's receipt of an expected return becomes the return's receipt and inspection; the
    refund and the restock follow the channel's return policy (returns services)."""
    from returns.models import Rma, RmaStatus
    from returns.services import ReturnError, rma_inspect, rma_receive

    label = _label(endpoint)
    binder = Binder(endpoint)
    binding = binder.all(EXPECTED_RETURN).filter(external_id=str(receipt.external_id)).first()
    if binding is None and receipt.reference:
        binding = binder.all(EXPECTED_RETURN).filter(data__reference=receipt.reference).first()
    if binding is None:
        return f"{label} return {receipt.external_id} is not one the hub expects: ignored"
    if binding.data.get("state") == "received":
        return f"{label} return {receipt.external_id} already recorded"
    if not receipt.completed:
        return f"{label} return {receipt.external_id} is {receipt.status}: waiting for its receipt"
    with transaction.atomic():
        rma = Rma.objects.select_for_update().get(pk=binding.local_id)
        lines = {line.order_line.sku: line for line in rma.lines.select_related("order_line")}
        received, outcomes, unknown = {}, {}, []
        for item in receipt.lines:
            line = lines.get(item.sku)
            if line is None:
                unknown.append(item.sku)
                continue
            units = min(item.quantity, line.quantity - line.received_quantity - received.get(line.pk, 0))
            if units > 0:
                received[line.pk] = received.get(line.pk, 0) + units
                outcomes.setdefault(line.pk, {}).setdefault(item.outcome, 0)
                outcomes[line.pk][item.outcome] += units
        if unknown:
            raise RefusedData(Text(gettext_noop("%(system)s return %(return)s received %(skus)s, not on %(rma)s"), system=label,
                                   **{"return": receipt.external_id}, skus=", ".join(unknown), rma=rma.number))
        if not received:
            binder.bind(EXPECTED_RETURN, rma.pk, binding.external_id, data={"state": "received"}, merge_data=True)
            return f"{label} return {receipt.external_id} completed with nothing received for {rma.number}"
        try:
            with change_origin(endpoint.code):
                if rma.status in (RmaStatus.AUTHORISED, RmaStatus.IN_TRANSIT, RmaStatus.RECEIVED):
                    rma_receive(rma=rma, quantities=received, actor_label=_actor(endpoint))
                rma = Rma.objects.get(pk=rma.pk)
                results = {}
                for line_id, by_outcome in outcomes.items():
                    # One inspection per line: mixed outcomes keep the most cautious one (the 3PL's split is in the timeline).
                    outcome = max(by_outcome, key=lambda o: (by_outcome[o], ("restock", "quarantine", "dispose").index(o)))
                    condition, disposition = RETURN_OUTCOMES[outcome]
                    results[line_id] = {"condition": condition, "disposition": disposition}
                if rma.status == RmaStatus.RECEIVED:
                    rma_inspect(rma=rma, results=results)
        except ReturnError as exc:
            raise RefusedData(Text(gettext_noop("%(system)s return %(return)s for %(rma)s: %(error)s"), system=label,
                                   **{"return": receipt.external_id}, rma=rma.number, error=message_of(exc))) from None
        binder.bind(EXPECTED_RETURN, rma.pk, binding.external_id, data={"state": "received"}, merge_data=True)
    summary = ", ".join(f"{item.quantity} × {item.sku} {item.outcome}" for item in receipt.lines)
    return f"recorded {label} return {receipt.external_id} as the receipt and inspection of {rma.number}: {summary}"
