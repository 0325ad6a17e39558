"""Demo returns at every stage, from shipped demo orders."""

from django.utils.translation import gettext_noop

from hub.registry import DemoSeeder, register_demo_seeder
from hub.models import SalesChannel
from hub.texts import Text
from orders.models import SalesOrder
from returns import services
from returns.models import ChannelReturnPolicy, RmaLine

STAGES = ["requested", "rejected", "authorised", "in_transit", "received", "inspected", "closed", "cancelled"]


def seed(*, scale, rng):
    web = SalesChannel.objects.filter(code="web-fr").first()
    if web:
        ChannelReturnPolicy.objects.get_or_create(channel=web, defaults={"refund_trigger": "inspected", "return_window_days": 30})
    shipped = list(SalesOrder.objects.filter(status__in=["shipped", "partially_shipped", "completed"]).order_by("pk"))
    made = 0
    for index, order in enumerate(shipped):
        stage = STAGES[index % len(STAGES)]
        line = next((l for l in order.lines.all() if services.returnable_quantity(order_line=l) > 0), None)
        if line is None:
            continue
        reason = rng.choice([r for r, _ in RmaLine.Reason.choices])
        rma = services.rma_request(order=order, lines=[{"order_line": line, "quantity": 1, "reason": reason}],
                                   source=rng.choice(["returns_app", "helpdesk", "storefront"]), actor_label="demo")
        made += 1
        if stage == "requested":
            continue
        if stage == "rejected":
            services.rma_reject(rma=rma, reason=Text(gettext_noop("outside the 30-day return window")))
            continue
        services.rma_authorise(rma=rma, actor_label="demo")
        if stage == "authorised":
            continue
        if stage == "cancelled":
            services.rma_cancel(rma=rma, reason=Text(gettext_noop("customer kept the item")))
            continue
        services.rma_mark_in_transit(rma=rma, carrier="Colissimo", tracking_number=f"8R{rng.randint(10**8, 10**9)}", actor_label="demo")
        if stage == "in_transit":
            continue
        rma_line = rma.lines.get()
        services.rma_receive(rma=rma, quantities={rma_line.pk: 1}, actor_label="demo")
        if stage == "received":
            continue
        condition = "sellable" if index % 2 else "damaged"
        services.rma_inspect(rma=rma, results={rma_line.pk: {"condition": condition, "disposition": "restock" if condition == "sellable" else "quarantine"}})
        if stage == "closed":
            services.rma_close(rma=rma)
    return f"{made} returns"


register_demo_seeder(DemoSeeder(name="returns", seed=seed, order=40))
