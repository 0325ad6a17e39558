"""The demo's returns portal: Loop serves the web shop, and its sandbox shopper returns one unit of
a shipped web order, which the hub takes as an RMA with the label's tracking."""

import random

from catalog import demo as catalog_demo
from connectors.loop import demo
from connectors.loop.management.commands.loop_demo_sandbox import shopper
from connectors.loop.sandbox import LoopSandbox
from connectors.models import Endpoint, InboxMessage
from connectors.services import inbox_process
from hub import demo as hub_demo
from hub.registry import processes
from inventory import demo as inventory_demo
from orders import demo as orders_demo
from returns import demo as returns_demo
from returns.models import Rma


def test_the_demo_loop_portal_returns_a_shipped_web_order_into_an_rma_with_its_tracking(hub_url):
    rng = random.Random(7)
    for seeder in (hub_demo, catalog_demo, inventory_demo, orders_demo, returns_demo, demo):
        seeder.seed(scale=1, rng=rng)
    endpoint = Endpoint.objects.get(code=demo.DEMO_ENDPOINT)
    assert endpoint.kind == "loop" and endpoint.channel.code == "web-fr"
    from connectors.loop import runtime  # noqa: F401  (registers the companion process)

    assert "loop-sandbox" in processes
    before = set(Rma.objects.values_list("pk", flat=True))
    sandbox = LoopSandbox(api_key=demo.DEMO_API_KEY, webhook_url=f"{hub_url}/webhooks/{demo.DEMO_ENDPOINT}/",
                          webhook_secret=demo.DEMO_WEBHOOK_SECRET).start()
    try:
        shopper(sandbox, hub_url, first_after=0, label_after=0)
    finally:
        sandbox.stop()
    for message in InboxMessage.objects.filter(status="received").order_by("id"):
        inbox_process(message_id=message.pk)
    rma = Rma.objects.exclude(pk__in=before).get()
    assert rma.source == Rma.Source.RETURNS_APP and rma.order.channel.code == "web-fr"
    assert (rma.status, rma.carrier, rma.tracking_number) == ("in_transit", "Colissimo", "8R/DEMO-0001")
    assert not InboxMessage.objects.filter(status="failed").exists()
