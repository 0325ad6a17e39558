"""The demo's 3PL: ShipBob serves 3PL-NORD first for the web shop, and its sandbox comes back
after a restart with the hub's stock and the orders the hub is still waiting for."""

import random

import pytest
import requests

from catalog import demo as catalog_demo
from connectors.binder import Binder
from connectors.fulfilment.state import ITEM, RELEASE
from connectors.models import Endpoint, SyncJob
from connectors.shipbob import demo
from connectors.shipbob.management.commands.shipbob_demo_sandbox import demo_sandbox
from hub import demo as hub_demo
from hub.models import SalesChannel
from hub.registry import processes
from inventory import demo as inventory_demo
from inventory.models import StockLevel, Warehouse
from orders.models import SalesOrder
from orders.services import order_import
from tests.orders.factories import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_hub():
    rng = random.Random(7)
    for seeder in (hub_demo, catalog_demo, inventory_demo, demo):
        seeder.seed(scale=1, rng=rng)
    return Endpoint.objects.get(code=demo.DEMO_ENDPOINT)


def test_the_demo_hands_web_orders_to_the_3pl_first_and_sends_it_the_items(demo_hub):
    assert Warehouse.objects.get(code="3PL-NORD").priority > Warehouse.objects.get(code="LYON-DC").priority
    assert demo_hub.config["warehouse_map"] == {"3PL-NORD": "1001"} and demo_hub.channel is None
    stocked = StockLevel.objects.filter(warehouse__code="3PL-NORD", on_hand__gt=0).count()
    assert SyncJob.objects.filter(endpoint=demo_hub, flow="items.out").count() == stocked > 0
    from connectors.shipbob import runtime  # noqa: F401  (registers the companion process)

    assert "shipbob-sandbox" in processes and "demo-warehouse" not in processes


def test_the_demo_sandbox_restarts_with_the_hubs_stock_and_the_orders_not_yet_shipped(demo_hub):
    level = StockLevel.objects.filter(warehouse__code="3PL-NORD", on_hand__gt=5, product__track_expiry=False).select_related("product").first()
    sku = level.product.sku
    order, _ = order_import(channel=SalesChannel.objects.get(code="web-fr"), data=order_payload(
        "DEMO-1", lines=[{"sku": sku, "name": "x", "quantity": 1, "unit_price": "10.00"}], shipping="0"))
    Binder(demo_hub).bind(ITEM, level.product.pk, "8000042", data={"sku": sku, "product_id": "7000042", "inventory_id": "20000042",
                                                                   "is_lot": False})
    Binder(demo_hub).bind(RELEASE, f"{order.pk}:3PL-NORD", "100007", data={
        "order": order.pk, "warehouse": "3PL-NORD", "reference": f"{order.number}-3PL-NORD", "lines": {sku: 1}, "state": "open"})
    sandbox = demo_sandbox(port=0, hub_url="http://127.0.0.1:1")
    try:
        assert sandbox.warehouse.stock("1001", sku) == level.on_hand
        restored = sandbox.warehouse.orders[100007]
        assert restored.reference == f"{order.number}-3PL-NORD" and restored.lines == {sku: 1}
        fresh = sandbox.warehouse.place(reference="X", location="1001", lines={sku: 1}, address={}, service="Standard")
        assert fresh.id == 100008
        variant = sandbox.variants_by_sku[sku]  # the catalogue it had, with its ids: its stock is listed, not lost
        assert (variant["id"], variant["product_id"], variant["inventory"]["inventory_id"]) == (8000042, 7000042, 20000042)
        sandbox.start()
        listed = requests.get(f"{sandbox.url}/2026-01/inventory-level/locations", timeout=5,
                              headers={"Authorization": f"Bearer {demo.DEMO_TOKEN}"}).json()["items"]
        assert [(i["sku"], i["locations"][0]["on_hand_quantity"]) for i in listed] == [(sku, level.on_hand)]
    finally:
        sandbox.stop()
