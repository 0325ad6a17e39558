"""A hub and a BigCommerce sandbox store wired together over real HTTP (webhooks and polling)."""

import re
import time
from decimal import Decimal

import pytest
import requests

from catalog.services import price_entry_set, price_list_create, product_create
from connectors import sync
from connectors.bigcommerce.sandbox import BigCommerceSandbox
from connectors.models import Endpoint, InboxMessage
from connectors.services import inbox_process
from inventory import services as stock
from tests.catalog.factories import ChannelCatalogFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

STORE_HASH, TOKEN, CLIENT_SECRET = "s4ndb0x", "bc-e2e-token", "bc-e2e-client-secret"
ORDER_SCOPES = ("store/order/created", "store/order/updated", "store/order/statusUpdated", "store/order/archived", "store/order/refund/created")


@pytest.fixture
def bc_options():
    return {}


@pytest.fixture
def bigcommerce(hub_url, bc_options):
    hooks = [{"scope": scope, "destination": f"{hub_url}/webhooks/bc-fr/"} for scope in ORDER_SCOPES]
    options = {"quota": 1000, "window_seconds": 30, "locations": ((1, "BC-LOCATION-1", "Lyon"), (2, "PARIS", "Paris")),
               "retry_scale": 0.01, **bc_options}
    sandbox = BigCommerceSandbox(store_hash=STORE_HASH, access_token=TOKEN, client_secret=CLIENT_SECRET, hooks=hooks, **options).start()
    yield sandbox
    sandbox.stop()


class Store:
    """The store through BigCommerce's own APIs, and the sandbox's control API."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()
        self.http.headers["X-Auth-Token"] = TOKEN

    def get(self, path, **params):
        response = self.http.get(f"{self.url}/stores/{STORE_HASH}/{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def control(self, path, body=None):
        response = requests.post(f"{self.url}/_sandbox/{path}", json=body or {}, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def product(self, sku):
        found = self.get("v3/catalog/products", sku=sku, include="variants")["data"]
        return found[0] if found else None

    def levels(self, variant_id):
        items = self.get("v3/inventory/items", **{"variant_id:in": variant_id})["data"]
        return {level["location_id"]: level["total_inventory_onhand"] for level in items[0]["locations"]}


@pytest.fixture
def bc_world(bigcommerce):
    """A hub with a lamp (simple) and a shirt in two sizes (with variants), in stock in Lyon and
    Paris, sold on a BigCommerce store whose locations are 1 (Lyon) and 2 (Paris)."""
    channel = SalesChannelFactory(code="bc-fr")
    public = price_list_create(code="PUBLIC", name="Public")
    ChannelCatalogFactory(channel=channel, public_price_list=public)
    lamp = product_create(sku="LAMP-1", name="Lampe Baladeuse", status="active", weight_g=1200)
    shirt = product_create(sku="SHIRT", name="Chemise lin", status="active", option_axes=["Taille"])
    sizes = [product_create(sku=f"SHIRT-{size}", name=f"Chemise lin {size}", status="active", parent=shirt, option_values={"Taille": size})
             for size in ("S", "M")]
    lyon, paris = WarehouseFactory(code="LYON"), WarehouseFactory(code="PARIS")
    for product, price in ((lamp, "25.00"), *((size, "39.00") for size in sizes)):
        price_entry_set(price_list=public, product=product, unit_price=Decimal(price))
        stock.stock_receive(product=product, warehouse=lyon, quantity=10)
    stock.stock_receive(product=lamp, warehouse=paris, quantity=4)
    endpoint = Endpoint.objects.create(kind="bigcommerce", code="bc-fr", name="Boutique BigCommerce", base_url=bigcommerce.url, channel=channel,
                                       credentials={"access_token": TOKEN}, webhook_secret=CLIENT_SECRET, rate_limit_per_second=20,
                                       settings={"store_hash": STORE_HASH, "warehouse_map": {"LYON": "1", "PARIS": "2"}})
    return {"endpoint": endpoint, "lamp": lamp, "shirt": shirt, "sizes": sizes, "lyon": lyon, "paris": paris, "store": Store(bigcommerce.url),
            "sandbox": bigcommerce}


def run_flows(endpoint, *flows):
    for flow in flows:
        sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=20)


def publish(world):
    for product in (world["lamp"], world["shirt"]):
        sync.sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(product.pk), label=product.sku)
    run_flows(world["endpoint"], "products.out", "stock.out")


def poll(world):
    sync.sync_job_enqueue(endpoint=world["endpoint"], flow="orders.poll", record_key=sync.SCHEDULED_KEY)
    run_flows(world["endpoint"], "orders.poll")


def deliveries(scope, order_id) -> int:
    marker = re.compile(rf'"id":{order_id}[,}}]')
    bodies = InboxMessage.objects.filter(topic=scope).values_list("body", flat=True)
    return sum(bool(marker.search(body if isinstance(body, str) else bytes(body).decode())) for body in bodies)


def delivered(world, scope, order_id, *, count=1, timeout=15):
    """Wait until `count` deliveries of `scope` about the order reached the hub, then process the inbox."""
    deadline = time.monotonic() + timeout
    while deliveries(scope, order_id) < count:
        assert time.monotonic() < deadline, f"no {scope} webhook for {order_id} within {timeout} s"
        time.sleep(0.1)
    world["sandbox"].webhooks.wait_idle(5)
    for message in InboxMessage.objects.filter(status="received").order_by("id"):
        inbox_process(message_id=message.pk)
