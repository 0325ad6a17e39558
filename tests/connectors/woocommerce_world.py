"""A hub and a WooCommerce sandbox shop wired together over real HTTP."""

import time
from decimal import Decimal

import pytest
import requests

from catalog.services import price_entry_set, price_list_create, product_create
from connectors import sync
from connectors.models import Endpoint, InboxMessage
from connectors.services import inbox_process
from connectors.woocommerce.sandbox import WooCommerceSandbox
from inventory import services as stock
from tests.catalog.factories import ChannelCatalogFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

KEY, SECRET = "ck_e2e_key", "cs_e2e_secret"
WEBHOOK_SECRET = "woo-webhook-secret"
API = "wp-json/wc/v3"
ORDER_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")


@pytest.fixture
def woo_options():
    return {}


@pytest.fixture
def woo(hub_url, woo_options):
    webhooks = [{"topic": topic, "delivery_url": f"{hub_url}/webhooks/woo-fr/", "secret": WEBHOOK_SECRET} for topic in ORDER_TOPICS]
    sandbox = WooCommerceSandbox(consumer_key=KEY, consumer_secret=SECRET, webhooks=webhooks, **woo_options).start()
    yield sandbox
    sandbox.stop()


class Shop:
    """The shop through WooCommerce's own REST API, and the sandbox's control API for shoppers."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()
        self.http.auth = (KEY, SECRET)

    def get(self, resource, **params):
        response = self.http.get(f"{self.url}/{API}/{resource}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, resource, body):
        response = self.http.post(f"{self.url}/{API}/{resource}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def control(self, path, body=None):
        response = requests.post(f"{self.url}/_sandbox/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def woo_world(woo):
    """A hub with a lamp (simple) and a shirt in two sizes (variable), in stock in Lyon, sold on a WooCommerce shop."""
    channel = SalesChannelFactory(code="woo-fr")
    public = price_list_create(code="PUBLIC", name="Public")
    ChannelCatalogFactory(channel=channel, public_price_list=public)
    lamp = product_create(sku="LAMP-1", name="Lampe Baladeuse", status="active")
    shirt = product_create(sku="SHIRT", name="Chemise lin", status="active", option_axes=["Taille"])
    sizes = [product_create(sku=f"SHIRT-{size}", name=f"Chemise lin {size}", status="active", parent=shirt, option_values={"Taille": size})
             for size in ("S", "M")]
    lyon = WarehouseFactory(code="LYON")
    for product, price in ((lamp, "25.00"), *((size, "39.00") for size in sizes)):
        price_entry_set(price_list=public, product=product, unit_price=Decimal(price))
        stock.stock_receive(product=product, warehouse=lyon, quantity=10)
    endpoint = Endpoint.objects.create(kind="woocommerce", code="woo-fr", name="Boutique WooCommerce", base_url=woo.url, channel=channel,
                                       credentials={"consumer_key": KEY, "consumer_secret": SECRET}, webhook_secret=WEBHOOK_SECRET,
                                       settings={"stock_warehouses": "LYON"})
    return {"endpoint": endpoint, "lamp": lamp, "shirt": shirt, "sizes": sizes, "lyon": lyon, "shop": Shop(woo.url), "sandbox": woo}


def run_flows(endpoint, *flows):
    for flow in flows:
        sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=20)


def publish(world):
    from connectors.sync import sync_job_enqueue

    for product in (world["lamp"], world["shirt"]):
        sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(product.pk), label=product.sku)
    run_flows(world["endpoint"], "products.out", "stock.out")


def deliveries(topic, order_id) -> int:
    """How many deliveries of `topic` about the order reached the hub."""
    marker = f'"id":{order_id},'
    bodies = InboxMessage.objects.filter(topic=topic).values_list("body", flat=True)
    return sum(marker in (bytes(body).decode() if not isinstance(body, str) else body) for body in bodies)


def deliveries_processed(topic, order_id, *, count=1, timeout=15):
    """Wait until `count` deliveries of `topic` about the order reached the hub, then process the inbox."""
    deadline = time.monotonic() + timeout
    while deliveries(topic, order_id) < count:
        assert time.monotonic() < deadline, f"no {topic} webhook for {order_id} within {timeout} s"
        time.sleep(0.1)
    for message in InboxMessage.objects.filter(status="received").order_by("id"):
        inbox_process(message_id=message.pk)


def shop_stock(world, sku):
    found = world["shop"].get("products", sku=sku)
    return found[0]["stock_quantity"]
