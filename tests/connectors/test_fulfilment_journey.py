"""One order from a WooCommerce shop to the hub, to a ShipBob warehouse, back to the hub and on
to the shop with its tracking — with nobody in between: the hub's own task cluster (a real
`qcluster` process) does every step, the 3PL's simulated warehouse ships by itself."""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from catalog.services import price_entry_set, price_list_create
from connectors.models import Endpoint
from connectors.sync import sync_job_enqueue
from inventory import services as stock
from inventory.models import Warehouse
from inventory.services import channel_stock_policy_set
from orders.models import SalesOrder
from tests.catalog.factories import ChannelCatalogFactory
from tests.connectors.shipbob_world import NORD, SHIPBOB_CHANNEL, SHIPBOB_SECRET, SHIPBOB_TOKEN, add_products, run_flows
from tests.connectors.woocommerce_world import KEY, SECRET, WEBHOOK_SECRET, Shop
from tests.hub.factories import SalesChannelFactory
from tests.hub.test_task_cluster import database_url_of_test_db
from tests.inventory.factories import WarehouseFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shipbob_options():
    return {"auto": True, "tick": 0.3, "pick_after": 1.0, "ship_after": 1.0}


@pytest.fixture
def cluster():
    from hub.services import schedules_sync

    schedules_sync()
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db(), "Q_WORKERS": "2", "DEBUG": "1"}
    process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def wait_for(condition, *, timeout, cluster, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        assert cluster.poll() is None, cluster.stderr.read().decode()[-3000:]
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.mark.slow
def test_an_order_goes_from_the_shop_to_the_3pl_and_back_to_the_shop_with_tracking_untouched_by_a_person(woo, shipbob, cluster):
    channel = SalesChannelFactory(code="woo-fr")
    public = price_list_create(code="PUBLIC", name="Public")
    ChannelCatalogFactory(channel=channel, public_price_list=public)
    lamp, *_ = add_products()
    nord = WarehouseFactory(code="3PL-NORD", kind=Warehouse.Kind.THIRD_PARTY, priority=20)
    channel_stock_policy_set(channel=channel, warehouses=[nord])
    price_entry_set(price_list=public, product=lamp, unit_price=Decimal("25.00"))
    stock.stock_receive(product=lamp, warehouse=nord, quantity=10)
    shipbob.warehouse.receive(NORD, "LAMP-1", 10)
    shop = Endpoint.objects.create(kind="woocommerce", code="woo-fr", name="Boutique", base_url=woo.url, channel=channel,
                                   credentials={"consumer_key": KEY, "consumer_secret": SECRET}, webhook_secret=WEBHOOK_SECRET,
                                   settings={"stock_warehouses": "3PL-NORD"})
    Endpoint.objects.create(kind="shipbob", code="shipbob-eu", name="ShipBob", base_url=shipbob.url, credentials={"token": SHIPBOB_TOKEN},
                            webhook_secret=SHIPBOB_SECRET, settings={"warehouse_map": {"3PL-NORD": NORD}, "channel_id": SHIPBOB_CHANNEL})
    sync_job_enqueue(endpoint=shop, flow="products.out", record_key=str(lamp.pk), label=lamp.sku)
    run_flows(shop, "products.out", "stock.out")  # the catalogue is in the shop before anyone buys

    storefront = Shop(woo.url)
    placed = storefront.control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 2}], "customer": "new"})

    order = wait_for(lambda: SalesOrder.objects.filter(external_id=str(placed["id"]), status="shipped").first(), timeout=120,
                     cluster=cluster, what="the order shipped by the 3PL, recorded in the hub")
    shipment = order.shipments.get()
    assert shipment.warehouse == nord and shipment.tracking_numbers and shipment.carrier
    [at_3pl] = shipbob.warehouse.orders.values()
    assert at_3pl.reference == f"{order.number}-3PL-NORD" and at_3pl.status == "shipped"

    def shop_has_tracking():
        notes = storefront.get(f"orders/{placed['id']}/notes")
        return storefront.get(f"orders/{placed['id']}")["status"] == "completed" and [
            n for n in notes if n["customer_note"] and shipment.tracking_numbers[0] in n["note"]]

    [note] = wait_for(shop_has_tracking, timeout=60, cluster=cluster, what="the shop's order completed with the tracking")
    assert shipment.tracking_urls[0] in note["note"]
    timeline = order_timeline(order)
    assert all(actor is None for _, actor, _ in timeline)  # no person acted on the order
    assert ("shipped", None, "shipbob:shipbob-eu") in timeline and ("received", None, "woocommerce:woo-fr") in timeline


def order_timeline(order):
    from hub.models import TimelineEvent

    return list(TimelineEvent.objects.filter(object_id=str(order.pk), content_type__model="salesorder")
                .values_list("event", "actor", "actor_label"))
