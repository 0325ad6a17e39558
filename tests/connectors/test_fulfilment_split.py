"""An order held in two 3PL warehouses, each run by a different 3PL: each part goes to its own."""

import pytest
from decimal import Decimal

from catalog.services import price_entry_set, price_list_create
from connectors.errors import PermanentError
from connectors.fulfilment.state import served_locations
from connectors.models import Endpoint, SyncJob
from inventory import services as stock
from inventory.models import Warehouse
from inventory.services import channel_stock_policy_set
from tests.catalog.factories import ChannelCatalogFactory
from tests.connectors.shipbob_world import (
    NORD, SHIPBOB_CHANNEL, SHIPBOB_SECRET, SHIPBOB_TOKEN, ShipBobAccount, add_products, inbox_settle, place, run_flows,
)
from tests.connectors.shipstation_world import OUEST, ShipStationAccount, shipstation_endpoint
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory


@pytest.fixture
def two_3pls(shipbob, shipstation):
    channel = SalesChannelFactory(code="web")
    public = price_list_create(code="PUBLIC", name="Public")
    ChannelCatalogFactory(channel=channel, public_price_list=public)
    lamp, _, sizes, _ = add_products()
    nord = WarehouseFactory(code="3PL-NORD", kind=Warehouse.Kind.THIRD_PARTY, priority=20)
    ouest = WarehouseFactory(code="3PL-OUEST", kind=Warehouse.Kind.THIRD_PARTY, priority=10)
    channel_stock_policy_set(channel=channel, warehouses=[nord, ouest], allow_split=True)
    for product in (lamp, sizes[0]):
        price_entry_set(price_list=public, product=product, unit_price=Decimal("25.00"))
    stock.stock_receive(product=lamp, warehouse=nord, quantity=3)
    shipbob.warehouse.receive(NORD, "LAMP-1", 3)
    stock.stock_receive(product=lamp, warehouse=ouest, quantity=5)
    shipstation.warehouse.receive(OUEST, "LAMP-1", 5)
    stock.stock_receive(product=sizes[0], warehouse=ouest, quantity=4)
    shipstation.warehouse.receive(OUEST, "SHIRT-S", 4)
    shipbob_endpoint = Endpoint.objects.create(
        kind="shipbob", code="shipbob-eu", name="ShipBob", base_url=shipbob.url, credentials={"token": SHIPBOB_TOKEN},
        webhook_secret=SHIPBOB_SECRET, settings={"warehouse_map": {"3PL-NORD": NORD}, "channel_id": SHIPBOB_CHANNEL})
    return {"channel": channel, "shipbob": shipbob_endpoint, "shipstation": shipstation_endpoint(shipstation.url),
            "shipbob_account": ShipBobAccount(shipbob.url), "shipstation_account": ShipStationAccount(shipstation.url),
            "shipbob_sandbox": shipbob, "shipstation_sandbox": shipstation}


def test_an_order_split_across_two_3pls_sends_each_part_to_its_own_and_both_shipments_come_back(two_3pls):
    order = place(two_3pls, lines=[{"sku": "LAMP-1", "name": "Lampe", "quantity": 4, "unit_price": "25.00"},
                                   {"sku": "SHIRT-S", "name": "Chemise S", "quantity": 1, "unit_price": "25.00"}])
    assert order.status == "allocated"
    run_flows(two_3pls["shipbob"], "orders.out")
    run_flows(two_3pls["shipstation"], "orders.out")
    [at_shipbob] = two_3pls["shipbob_account"].orders()
    [at_shipstation] = two_3pls["shipstation_account"].orders()
    assert (at_shipbob["reference_id"], at_shipbob["lines"]) == (f"{order.number}-3PL-NORD", {"LAMP-1": 3})
    assert at_shipstation["orderKey"] == f"{order.number}-3PL-OUEST"
    assert sorted((i["sku"], i["quantity"]) for i in at_shipstation["items"]) == [("LAMP-1", 1), ("SHIRT-S", 1)]
    two_3pls["shipbob_sandbox"].warehouse.advance(force=True)
    inbox_settle("order.shipped")
    order.refresh_from_db()
    assert order.status == "partially_shipped"
    two_3pls["shipstation_account"].control("warehouse/advance", {"force": True})
    inbox_settle("SHIP_NOTIFY", endpoint_code="shipstation-eu")
    order.refresh_from_db()
    assert order.status == "shipped"
    assert sorted(order.shipments.values_list("warehouse__code", flat=True)) == ["3PL-NORD", "3PL-OUEST"]


def test_a_warehouse_mapped_by_two_3pl_endpoints_is_refused_with_both_names(two_3pls):
    endpoint = two_3pls["shipstation"]
    endpoint.settings = {**endpoint.settings, "warehouse_map": {"3PL-OUEST": OUEST, "3PL-NORD": "2002"}}
    endpoint.save()
    with pytest.raises(PermanentError, match="3PL-NORD is mapped by endpoints shipstation-eu and shipbob-eu"):
        served_locations(endpoint)
    order = place(two_3pls, lines=[{"sku": "LAMP-1", "name": "Lampe", "quantity": 1, "unit_price": "25.00"}])
    assert order.status == "allocated"  # the hub's own work is never held up by a connector's settings
    run_flows(endpoint, "orders.out")
    job = SyncJob.objects.get(endpoint=endpoint, flow="orders.out")
    assert job.status == "failed" and "mapped by endpoints shipstation-eu and shipbob-eu" in job.last_error
    assert two_3pls["shipstation_account"].orders() == []
