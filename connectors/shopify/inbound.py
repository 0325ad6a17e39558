"""Shopify webhooks other than orders: customers and refunds in (each handler returns a short
outcome for the operator, or raises with a message a person can act on)."""

from connectors.models import Binding
from connectors.services import binding_save
from connectors.shopify.mapping import customer_payload, refund_lines, refund_total
from hub.changes import change_origin


def customer_apply(*, endpoint, payload: dict) -> str:
    from orders.services import customer_upsert_from_channel

    with change_origin(endpoint.code):
        customer, created = customer_upsert_from_channel(channel=endpoint.channel, **customer_payload(payload))
        binding_save(endpoint=endpoint, model="customer", local_id=customer.pk, external_id=payload["id"])
    return f"customer {customer.code} {'created' if created else 'updated'}"


def refund_apply(*, endpoint, payload: dict) -> str:
    from orders.models import SalesOrder
    from returns.services import refund_record_external

    refund_id = str(payload["id"])
    if Binding.objects.filter(endpoint=endpoint, model="refund", external_id=refund_id).exists():
        return f"refund {refund_id} already recorded"
    order_binding = Binding.objects.filter(endpoint=endpoint, model="order", external_id=str(payload.get("order_id"))).first()
    order = SalesOrder.objects.filter(pk=order_binding.local_id).first() if order_binding else None
    if order is None:
        raise ValueError(f"order {payload.get('order_id')} is not in the hub yet; replay this refund once the order has arrived")
    amount = refund_total(payload)
    if amount <= 0:
        return f"refund {refund_id} moves no money: nothing to record"
    lines = []
    for item in refund_lines(payload, prices_include_tax=order.prices_include_tax):
        line = order.lines.filter(sku=item["sku"]).order_by("position").first() if item["sku"] else None
        if line is None:
            raise ValueError(f"refund {refund_id}: {item['sku'] or item['line_item_id']} is not a line of {order.number}")
        lines.append({"order_line": line, "quantity": item["quantity"], "amount": item["amount"]})
    with change_origin(endpoint.code):
        rma, recorded = refund_record_external(order=order, amount=amount, lines=lines, reference=f"Shopify refund {refund_id}",
                                               source_label="shopify", actor_label=f"shopify:{endpoint.code}")
        binding_save(endpoint=endpoint, model="refund", local_id=f"{order.pk}:{refund_id}", external_id=refund_id)
    return f"{recorded} {order.currency} refunded on {order.number}" + (f", return {rma.number}" if rma else " (no return: not shipped)")


TOPIC_HANDLERS = {"customers/create": customer_apply, "customers/update": customer_apply, "refunds/create": refund_apply}
