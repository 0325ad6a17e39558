"""Orders, customers and refunds from a storefront (webhook or poll), the same for every shop.

Each handler returns a short outcome for the operator, or raises with a message a person can act
on. Changes are attributed to the endpoint (`change_origin`) so nothing is echoed back to it."""

from datetime import timezone as dt_timezone

from django.utils.translation import gettext_noop

from connectors.binder import CUSTOMER, ORDER, REFUND, Binder
from connectors.errors import RefusedData, message_of
from connectors.registry import connector_for
from hub.changes import change_origin
from hub.texts import Text


def order_apply(*, endpoint, order: dict, cancelled: bool = False) -> bool:
    """Create or update the hub order from the shop's order; cancel it when the shop did.
    An update older than the last one applied (a late or repeated delivery) changes nothing.
    Returns True when the order is new to the hub."""
    from orders.models import SalesOrder
    from orders.services import order_cancel, order_import

    shop = connector_for(endpoint)
    binder = Binder(endpoint)
    external_id = shop.order_external_id(order)
    updated_at = shop.order_updated_at(order)
    stamp = updated_at.astimezone(dt_timezone.utc).isoformat() if updated_at else None
    local_id = binder.local_id(ORDER, external_id)
    if local_id is not None and stamp is not None:
        applied = (binder.get(ORDER, local_id).data or {}).get("updated_at")
        if applied and applied > stamp:
            return False
    actor = f"{endpoint.kind}:{endpoint.code}"
    with change_origin(endpoint.code):
        hub_order, created = order_import(channel=shop.order_channel(endpoint, order), data=shop.order_map(order), actor_label=actor)
        if created and local_id is None:
            binder.bind_new(ORDER, hub_order.pk, external_id, data={"updated_at": stamp} if stamp else {})
        else:
            binder.bind(ORDER, hub_order.pk, external_id, data={"updated_at": stamp} if stamp else {})
        reason = shop.order_cancellation(order) if not cancelled else (shop.order_cancellation(order) or "cancelled in the shop")
        if reason:
            hub_order = SalesOrder.objects.get(pk=hub_order.pk)
            if hub_order.status != "cancelled":
                order_cancel(order=hub_order, reason=reason, actor_label=actor)
    return created


def order_removed(*, endpoint, external_id, how: str) -> str:
    """The shop deleted or archived an order: the hub order is cancelled, unless it can no
    longer be (shipped), which a person must look at. `how` says what the shop did, e.g. "deleted in the shop"."""
    from orders.models import SalesOrder
    from orders.services import OrderError, order_cancel

    local_id = Binder(endpoint).local_id(ORDER, external_id)
    order = SalesOrder.objects.filter(pk=local_id).first() if local_id else None
    if order is None:
        return f"order {external_id} {how}: not in the hub"
    if order.status == "cancelled":
        return f"order {order.number} already cancelled"
    with change_origin(endpoint.code):
        try:
            order_cancel(order=order, reason=how, actor_label=f"{endpoint.kind}:{endpoint.code}")
        except OrderError as exc:
            raise RefusedData(Text(gettext_noop("order %(order)s was %(how)s but cannot be cancelled here: %(error)s"), order=order.number,
                                   how=how, error=message_of(exc))) from None
    return f"order {order.number} cancelled ({how})"


def order_handler(*, cancelled: bool):
    def handle(*, endpoint, payload):
        created = connector_for(endpoint).apply_order(endpoint=endpoint, order_json=payload, cancelled=cancelled)
        return f"order {connector_for(endpoint).order_label(payload)} {'created' if created else 'updated'}"
    return handle


def customer_apply(*, endpoint, payload: dict) -> str:
    from orders.services import customer_upsert_from_channel

    with change_origin(endpoint.code):
        customer, created = customer_upsert_from_channel(channel=endpoint.channel, **connector_for(endpoint).customer_map(payload))
        Binder(endpoint).bind(CUSTOMER, customer.pk, payload["id"])
    return f"customer {customer.code} {'created' if created else 'updated'}"


def refund_apply(*, endpoint, payload: dict) -> str:
    from orders.models import SalesOrder
    from returns.services import refund_record_external

    shop = connector_for(endpoint)
    binder = Binder(endpoint)
    preview = shop.refund_map(payload, prices_include_tax=False)
    if binder.is_bound(REFUND, external_id=preview.refund_id):
        return f"refund {preview.refund_id} already recorded"
    local_id = binder.local_id(ORDER, preview.order_external_id)
    order = SalesOrder.objects.filter(pk=local_id).first() if local_id else None
    if order is None:
        raise RefusedData(Text(gettext_noop("order %(order)s is not in the hub yet; replay this refund once the order has arrived"),
                               order=preview.order_external_id))
    refund = shop.refund_map(payload, prices_include_tax=order.prices_include_tax)
    if refund.amount <= 0:
        return f"refund {refund.refund_id} moves no money: nothing to record"
    lines = []
    for item in refund.lines:
        line = order.lines.filter(sku=item["sku"]).order_by("position").first() if item["sku"] else None
        if line is None:
            raise RefusedData(Text(gettext_noop("refund %(refund)s: %(line)s is not a line of %(order)s"), refund=refund.refund_id,
                                   line=item["sku"] or item.get("line_ref"), order=order.number))
        lines.append({"order_line": line, "quantity": item["quantity"], "amount": item["amount"]})
    with change_origin(endpoint.code):
        rma, recorded = refund_record_external(order=order, amount=refund.amount, lines=lines, reference=refund.reference,
                                               source_label=endpoint.kind, actor_label=f"{endpoint.kind}:{endpoint.code}")
        binder.bind(REFUND, f"{order.pk}:{refund.refund_id}", refund.refund_id)
    return f"{recorded} {order.currency} refunded on {order.number}" + (f", return {rma.number}" if rma else " (no return: not shipped)")
