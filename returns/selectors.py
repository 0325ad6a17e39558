"""Reads of returns used by more than one caller (the API, connectors, services)."""

from datetime import date, timedelta

from django.db.models import Max, Sum

from inventory.models import Warehouse
from orders.models import SalesOrder
from returns.models import ChannelReturnPolicy, Rma


def return_policy_of(*, channel) -> ChannelReturnPolicy:
    """The channel's return policy, or the defaults when it has none."""
    return ChannelReturnPolicy.objects.filter(channel=channel).first() or ChannelReturnPolicy(channel=channel)


def return_window_end(*, order) -> date | None:
    """The last day the order's goods may be returned: its last shipment plus the channel's
    window; None before anything shipped."""
    shipped = order.shipments.aggregate(last=Max("shipped_at"))["last"]
    if shipped is None:
        return None
    return shipped.date() + timedelta(days=return_policy_of(channel=order.channel).return_window_days)


def order_of_channel(*, channel, number: str = "", external_id: str = "") -> SalesOrder | None:
    """One of the channel's orders by the hub's number or the channel's own id."""
    orders = SalesOrder.objects.filter(channel=channel)
    return orders.filter(number=number).first() if number else orders.filter(external_id=external_id).first()


def rma_of_channel(*, channel, number: str) -> Rma | None:
    """A return on one of the channel's orders; None for another channel's, as for an unknown number."""
    return (Rma.objects.select_related("order", "channel", "replacement_order")
            .filter(number=number, order__channel=channel).first())


def customer_returns(*, customer, recent: int = 10) -> tuple[list[Rma], int]:
    """The customer's latest returns and how many there are in all."""
    returns = Rma.objects.filter(customer=customer).select_related("order").order_by("-created_at", "-id")
    return list(returns[:recent]), returns.count()


def return_warehouse_for(*, order_line_ids) -> Warehouse | None:
    """Where returned goods are expected: the active warehouse that shipped most of these lines'
    units (a 3PL's goods go back to the 3PL), else the highest-priority sellable one."""
    shipped_from = (Warehouse.objects.filter(is_active=True, shipments__lines__order_line_id__in=list(order_line_ids))
                    .annotate(units=Sum("shipments__lines__quantity")).order_by("-units", "pk").first())
    if shipped_from is not None:
        return shipped_from
    return Warehouse.objects.filter(is_active=True, is_sellable=True).order_by("-priority").first()
