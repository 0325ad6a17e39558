"""A hub and a Shopify sandbox shop wired together over real HTTP, for end-to-end and fault tests."""

import threading
import time
from decimal import Decimal
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests
from django.core.handlers.wsgi import WSGIHandler

from catalog.services import price_entry_set, price_list_create, product_create
from connectors import sync
from connectors.models import Binding, Endpoint, InboxMessage
from connectors.services import inbox_process
from connectors.shopify.sandbox import ShopifySandbox
from inventory import services as stock
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
def sandbox_options():
    return {}


@pytest.fixture
def shop(hub_url, sandbox_options):
    sandbox = ShopifySandbox(access_token=TOKEN, webhook_url=f"{hub_url}/webhooks/shop-fr/", webhook_secret=SECRET, **sandbox_options).start()
    yield sandbox
    sandbox.stop()


class Shop:
    """The shop seen through Shopify's own REST API (and the sandbox's control API for shoppers)."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()
        self.http.headers["X-Shopify-Access-Token"] = TOKEN

    def get(self, resource, **params):
        for _ in range(20):
            response = self.http.get(f"{self.url}/{API}/{resource}", params=params, timeout=10)
            if response.status_code != 429:
                break
            time.sleep(float(response.headers["Retry-After"]))
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
                                       credentials={"access_token": TOKEN}, webhook_secret=SECRET, settings={"warehouse_map": {"LYON": location_id}})
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
    mention = f'"id": {resource_id},'.encode()
    while not any(mention in bytes(body) for body in InboxMessage.objects.filter(topic=topic).values_list("body", flat=True)):
        assert time.monotonic() < deadline, f"no {topic} webhook for {resource_id} within {timeout} s"
        time.sleep(0.1)
    for message in InboxMessage.objects.filter(status="received").order_by("id"):
        inbox_process(message_id=message.pk)


def shop_available(world, sku="LAMP-1"):
    item = Binding.objects.get(endpoint=world["endpoint"], model="variant", data__sku=sku).data["inventory_item_id"]
    levels = world["shop"].get("inventory_levels.json", inventory_item_ids=item, location_ids=world["location"])["inventory_levels"]
    return levels[0]["available"]


