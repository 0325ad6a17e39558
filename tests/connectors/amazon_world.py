"""A hub and an Amazon seller account (the SP-API sandbox) wired together over real HTTP."""

from decimal import Decimal

import pytest
import requests

from catalog.services import price_entry_set, price_list_create, product_create
from connectors import sync
from connectors.amazon.sandbox import AmazonSandbox
from connectors.models import Endpoint
from connectors.sync import sync_job_enqueue
from inventory import services as stock
from tests.catalog.factories import ChannelCatalogFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, SELLER = "amzn1.application-oa2-client.hub", "lwa-secret", "Atzr|hub-refresh", "A2HUBSELLER"
RELAY_SECRET = "queue-relay-secret"
FR = "A13V1IB3VIYZZH"


@pytest.fixture
def amazon_options():
    return {}


@pytest.fixture
def amazon(amazon_options):
    sandbox = AmazonSandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN, seller_id=SELLER,
                            **amazon_options).start()
    yield sandbox
    sandbox.stop()


class SellerCentral:
    """The sandbox's control API: buyers placing orders, Amazon moving them along."""

    def __init__(self, url):
        self.url = url

    def post(self, path, body=None):
        response = requests.post(f"{self.url}/_sandbox/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    def get(self, path):
        response = requests.get(f"{self.url}/_sandbox/{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def quantity(self, sku, marketplace=FR):
        return self.get("listings")["listings"][sku]["quantity"].get(marketplace)


def amazon_endpoint(sandbox, *, code="amazon-eu", channel_code="amazon-fr", price_list=None, **settings):
    channel = SalesChannelFactory(code=channel_code, name="Amazon FR", kind="marketplace")
    if price_list is not None and not hasattr(channel, "catalog"):
        ChannelCatalogFactory(channel=channel, public_price_list=price_list)
    return Endpoint.objects.create(
        kind="amazon", code=code, name="Amazon Europe", base_url=sandbox.url, channel=channel,
        credentials={"refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, webhook_secret=RELAY_SECRET,
        settings={"seller_id": SELLER, "marketplaces": {"FR": channel_code}, "stock_warehouses": "LYON",
                  "token_url": f"{sandbox.url}/auth/o2/token", **settings})


@pytest.fixture
def amazon_world(amazon, transactional_db):
    """A lamp and a mug, 10 in stock in Lyon, listed on Amazon FR (the offers exist in Seller Central)."""
    public = price_list_create(code="PUBLIC", name="Public")
    lyon = WarehouseFactory(code="LYON")
    products = {}
    for sku, price in (("LAMP-1", "25.00"), ("MUG-1", "9.50")):
        products[sku] = product_create(sku=sku, name=sku.title(), status="active")
        price_entry_set(price_list=public, product=products[sku], unit_price=Decimal(price))
        stock.stock_receive(product=products[sku], warehouse=lyon, quantity=10)
    endpoint = amazon_endpoint(amazon, price_list=public)
    seller = SellerCentral(amazon.url)
    seller.post("listings", {"skus": list(products), "marketplaces": [FR]})
    return {"endpoint": endpoint, "products": products, "lyon": lyon, "seller": seller, "sandbox": amazon, "public": public}


def run_flows(endpoint, *flows, budget=30):
    for flow in flows:
        sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=budget)


def poll(endpoint):
    sync_job_enqueue(endpoint=endpoint, flow="orders.poll", record_key=sync.SCHEDULED_KEY, label="poll")
    run_flows(endpoint, "orders.poll")


def publish(world):
    for product in world["products"].values():
        sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(product.pk), label=product.sku)
    run_flows(world["endpoint"], "products.out", "stock.out")
