"""Reads on orders: the channel's order rules, and what a warehouse holds or shipped for orders."""

from django.db.models import Sum

from inventory.models import Reservation
from orders.models import ChannelOrderSettings, Customer, OrderStatus, PaymentStatus, PaymentTerms, SalesOrder, ShipmentLine

FULFILLABLE_STATUSES = {OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED}


def channel_settings(channel) -> ChannelOrderSettings:
    return ChannelOrderSettings.objects.filter(channel=channel).first() or ChannelOrderSettings(channel=channel)


def order_payment_allows_fulfilment(*, order) -> bool:
    """The channel's payment rule: paid or authorised, a B2B customer on terms, or a channel that
    confirms unpaid orders. Orders are confirmed, and handed to a warehouse, only under it."""
    on_terms = order.customer.type == Customer.Type.B2B and order.customer.payment_terms != PaymentTerms.IMMEDIATE
    return (order.payment_status in {PaymentStatus.AUTHORISED, PaymentStatus.PAID} or on_terms
            or channel_settings(order.channel).confirm_unpaid)


def order_ready_to_fulfil(*, order) -> bool:
    """Allocated (stock held) and paid as the channel requires: a warehouse may pick it."""
    return order.status in FULFILLABLE_STATUSES and order_payment_allows_fulfilment(order=order)


def orders_holding_stock_in(*, order_ids, warehouse_codes) -> set[int]:
    """Of these orders, those with units reserved in one of these warehouses."""
    numbers = dict(SalesOrder.objects.filter(pk__in=list(order_ids)).values_list("number", "pk"))
    held = (Reservation.objects.filter(document__in=list(numbers), warehouse__code__in=list(warehouse_codes))
            .values_list("document", flat=True).distinct())
    return {numbers[number] for number in held}


def order_reserved_lines(*, order, warehouse_codes) -> dict[str, list[dict]]:
    """Per warehouse code, the order's units still reserved there, line by line:
    [{"line": OrderLine, "sku", "name", "quantity"}] in line order."""
    lines = {str(line.pk): line for line in order.lines.all()}
    held: dict[tuple[str, str], int] = {}
    for code, line_ref, quantity in (Reservation.objects.filter(document=order.number, warehouse__code__in=list(warehouse_codes))
                                     .values_list("warehouse__code", "line_ref").annotate(units=Sum("quantity"))):
        held[(code, line_ref)] = quantity
    parts: dict[str, list[dict]] = {}
    for (code, line_ref), quantity in sorted(held.items(), key=lambda item: (item[0][0], lines[item[0][1]].position)):
        line = lines[line_ref]
        parts.setdefault(code, []).append({"line": line, "sku": line.sku, "name": line.name, "quantity": quantity})
    return parts


def shipped_quantities(*, order_ids, warehouse_code) -> dict[tuple[int, str], int]:
    """(order id, SKU) → units the hub recorded as shipped from this warehouse."""
    rows = (ShipmentLine.objects.filter(shipment__order_id__in=list(order_ids), shipment__warehouse__code=warehouse_code)
            .values_list("shipment__order_id", "order_line__sku").annotate(units=Sum("quantity")))
    return {(order_id, sku): units for order_id, sku, units in rows}
