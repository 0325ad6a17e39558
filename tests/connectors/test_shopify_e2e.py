"""Shopify end to end over real HTTP: the hub (served on a local port) and the Shopify sandbox
shop talk to each other exactly as they would in production."""

import json
import threading
import time
from decimal import Decimal
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests
from django.core.handlers.wsgi import WSGIHandler

from catalog.services import price_entry_set, price_list_create, product_create, product_update
from connectors import sync
from connectors.models import Binding, Endpoint, InboxMessage, SyncJob
from connectors.services import inbox_process
from connectors.shopify.sandbox import ShopifySandbox
from inventory import services as stock
from orders.models import SalesOrder
from orders.services import order_cancel, shipment_create
from tests.catalog.factories import ChannelCatalogFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

TOKEN = "shpat_e2e_token"
SECRET = "e2e-webhook-secret"
API = "admin/api/2025-01"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def hub_url(transactional_db):
    server = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def shop(hub_url):
    sandbox = ShopifySandbox(access_token=TOKEN, webhook_url=f"{hub_url}/webhooks/shop-fr/", webhook_secret=SECRET).start()
    yield sandbox
    sandbox.stop()


class Shop:
    """The shop seen through Shopify's own REST API (and the sandbox's control API for shoppers)."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()
        self.http.headers["X-Shopify-Access-Token"] = TOKEN

    def get(self, resource, **params):
        response = self.http.get(f"{self.url}/{API}/{resource}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def control(self, path, body=None):
        response = requests.post(f"{self.url}/_sandbox/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def world(shop):
    """A hub with one lamp in stock, published on a Shopify endpoint whose first location is the Lyon warehouse."""
    channel = SalesChannelFactory(code="shopify-fr")
    public = price_list_create(code="PUBLIC", name="Public")
    ChannelCatalogFactory(channel=channel, public_price_list=public)
    lamp = product_create(sku="LAMP-1", name="Lampe Baladeuse", status="active", brand="Lumière")
    price_entry_set(price_list=public, product=lamp, unit_price=Decimal("25.00"))
    lyon = WarehouseFactory(code="LYON")
    stock.stock_receive(product=lamp, warehouse=lyon, quantity=10)
    api = Shop(shop.url)
    location_id = str(api.get("locations.json")["locations"][0]["id"])
    endpoint = Endpoint.objects.create(kind="shopify", code="shop-fr", name="Boutique Shopify", base_url=shop.url, channel=channel,
                                       credentials={"access_token": TOKEN}, webhook_secret=SECRET, warehouse_map={"LYON": location_id})
    return {"endpoint": endpoint, "lamp": lamp, "lyon": lyon, "shop": api, "location": location_id, "sandbox": shop}


def run_flows(endpoint, *flows):
    for flow in flows:
        sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=20)


def publish(world):
    from connectors.sync import sync_job_enqueue

    sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(world["lamp"].pk), label="LAMP-1")
    run_flows(world["endpoint"], "products.out", "stock.out")


def wait_for_inbox(topic, resource_id, timeout=15):
    """Wait until the shop's webhook for `topic` about `resource_id` reached the hub, then process the inbox."""
    deadline = time.monotonic() + timeout
    while not InboxMessage.objects.filter(topic=topic, body__contains=f'"id": {resource_id},').exists():
        assert time.monotonic() < deadline, f"no {topic} webhook for {resource_id} within {timeout} s"
        time.sleep(0.1)
    for message in InboxMessage.objects.filter(status="received").order_by("id"):
        inbox_process(message_id=message.pk)


def shop_available(world, sku="LAMP-1"):
    item = Binding.objects.get(endpoint=world["endpoint"], model="variant", data__sku=sku).data["inventory_item_id"]
    levels = world["shop"].get("inventory_levels.json", inventory_item_ids=item, location_ids=world["location"])["inventory_levels"]
    return levels[0]["available"]


def test_a_product_goes_out_with_its_price_and_its_stock_at_the_mapped_location(world):
    publish(world)
    products = world["shop"].get("products.json")["products"]
    assert [(p["title"], p["variants"][0]["sku"], p["variants"][0]["price"]) for p in products] == [("Lampe Baladeuse", "LAMP-1", "25.00")]
    assert Binding.objects.get(endpoint=world["endpoint"], model="product").external_id == str(products[0]["id"])
    assert shop_available(world) == 10
    product_update(product=world["lamp"], name="Lampe Baladeuse LED")
    run_flows(world["endpoint"], "products.out")
    assert world["shop"].get(f"products/{products[0]['id']}.json")["product"]["title"] == "Lampe Baladeuse LED"
    assert len(world["shop"].get("products.json")["products"]) == 1


def test_an_order_placed_in_the_shop_is_reserved_shipped_and_fulfilled_back_with_tracking(world):
    publish(world)
    placed = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 2}], "email": "jon@example.com",
                                              "financial_status": "paid"})
    order_id = str(placed["order"]["id"])
    wait_for_inbox("orders/create", order_id)
    order = SalesOrder.objects.get(external_id=order_id)
    assert order.status == "allocated" and order.total > 0
    run_flows(world["endpoint"], "stock.out")
    assert shop_available(world) == 8
    shipment_create(order=order, warehouse=world["lyon"], lines=[(order.lines.get(), 2)], carrier="Colissimo",
                    tracking_numbers=["6A123456789"], tracking_urls=["https://track.example/6A123456789"])
    run_flows(world["endpoint"], "fulfilments.out")
    shop_order = world["shop"].get(f"orders/{order_id}.json")["order"]
    assert [(f["tracking_number"], f["tracking_company"]) for f in shop_order["fulfillments"]] == [("6A123456789", "Colissimo")]
    assert SyncJob.objects.get(flow="fulfilments.out").status == "done"


def test_a_cancellation_in_the_hub_cancels_the_shop_order_and_one_in_the_shop_cancels_the_hub_order(world):
    publish(world)
    first = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "a@example.com", "financial_status": "paid"})
    second = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "b@example.com", "financial_status": "paid"})
    first_id, second_id = (str(o["order"]["id"]) for o in (first, second))
    wait_for_inbox("orders/create", first_id)
    wait_for_inbox("orders/create", second_id)
    order_cancel(order=SalesOrder.objects.get(external_id=first_id), reason="customer asked by phone")
    run_flows(world["endpoint"], "cancellations.out")
    assert world["shop"].get(f"orders/{first_id}.json")["order"]["cancelled_at"]

    world["shop"].control(f"orders/{second_id}/cancel", {"reason": "customer"})
    wait_for_inbox("orders/cancelled", second_id)
    assert SalesOrder.objects.get(external_id=second_id).status == "cancelled"
    assert not SyncJob.objects.filter(flow="cancellations.out", record_key=str(SalesOrder.objects.get(external_id=second_id).pk)).exists()


def test_the_same_order_webhook_delivered_five_times_makes_one_order(world):
    publish(world)
    world["sandbox"].set_faults(webhook_duplicate_rate=1.0)
    placed = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "dup@example.com", "financial_status": "paid"})
    order_id = str(placed["order"]["id"])
    wait_for_inbox("orders/create", order_id)
    deadline = time.monotonic() + 10
    while not InboxMessage.objects.filter(topic="orders/create", status="duplicate").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    messages = InboxMessage.objects.filter(topic="orders/create")
    assert messages.count() >= 2 and messages.filter(status="duplicate").exists()
    assert SalesOrder.objects.filter(external_id=order_id).count() == 1


def test_orders_missed_by_webhooks_are_found_by_polling(world):
    publish(world)
    world["sandbox"].set_faults(drop_webhooks=True)
    placed = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "poll@example.com", "financial_status": "paid"})
    order_id = str(placed["order"]["id"])
    assert not SalesOrder.objects.filter(external_id=order_id).exists()
    sync.sync_job_enqueue(endpoint=world["endpoint"], flow="orders.poll", record_key="*", label="poll")
    run_flows(world["endpoint"], "orders.poll")
    assert SalesOrder.objects.get(external_id=order_id).status == "allocated"
    assert SyncJob.objects.get(flow="orders.poll").outcome.startswith("1 orders checked, 1 new")


def test_the_demo_warehouse_ships_only_orders_that_came_from_a_shop(world):
    from connectors.management.commands.demo_warehouse import ship_ready_orders
    from tests.orders.factories import order_payload
    from orders.services import order_import

    publish(world)
    placed = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "w@example.com", "financial_status": "paid"})
    order_id = str(placed["order"]["id"])
    wait_for_inbox("orders/create", order_id)
    staff_order, _ = order_import(channel=world["endpoint"].channel, data=order_payload("PHONE-1"))
    assert staff_order.status == "allocated"
    shipped = ship_ready_orders(older_than_seconds=0)
    assert shipped == [f"{SalesOrder.objects.get(external_id=order_id).number}-1"]
    run_flows(world["endpoint"], "fulfilments.out")
    assert world["shop"].get(f"orders/{order_id}.json")["order"]["fulfillment_status"] == "fulfilled"
