"""A hub and an eBay seller account (the Sell APIs sandbox) wired together over real HTTP."""

from decimal import Decimal

import pytest
import requests

from catalog.services import price_entry_set, price_list_create, product_create
from connectors.ebay.sandbox import EbaySandbox
from connectors.models import Endpoint
from inventory import services as stock
from tests.catalog.factories import ChannelCatalogFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = "HubApp-PRD-1234", "PRD-hub-secret", "v^1.1#i^1#hub-refresh"
VERIFICATION_TOKEN = "hub-ebay-verification-token-0123456789abcdef"


@pytest.fixture
def ebay():
    sandbox = EbaySandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN).start()
    yield sandbox
    sandbox.stop()


class EbaySeller:
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

    def quantity(self, sku):
        return self.get("listings")["inventory"][sku]["quantity"]


def ebay_endpoint(sandbox, *, code="ebay-fr", channel_code="ebay-fr", price_list=None, notification_url="", **settings):
    channel = SalesChannelFactory(code=channel_code, name="eBay FR", kind="marketplace")
    if price_list is not None and not hasattr(channel, "catalog"):
        ChannelCatalogFactory(channel=channel, public_price_list=price_list)
    return Endpoint.objects.create(
        kind="ebay", code=code, name="eBay France", base_url=sandbox.url, channel=channel, rate_limit_per_second=50,
        credentials={"refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        webhook_secret=VERIFICATION_TOKEN,
        settings={"marketplaces": {"EBAY_FR": channel_code}, "stock_warehouses": "LYON", "notification_url": notification_url, **settings})


@pytest.fixture
def ebay_world(ebay, hub_url):
    public = price_list_create(code="PUBLIC", name="Public")
    lyon = WarehouseFactory(code="LYON")
    products = {}
    for sku, price in (("LAMP-1", "25.00"), ("MUG-1", "9.50")):
        products[sku] = product_create(sku=sku, name=sku.title(), status="active")
        price_entry_set(price_list=public, product=products[sku], unit_price=Decimal(price))
        stock.stock_receive(product=products[sku], warehouse=lyon, quantity=10)
    endpoint = ebay_endpoint(ebay, price_list=public, notification_url=f"{hub_url}/webhooks/ebay-fr/")
    seller = EbaySeller(ebay.url)
    seller.post("listings", {"skus": list(products)})
    return {"endpoint": endpoint, "products": products, "lyon": lyon, "seller": seller, "sandbox": ebay, "public": public, "hub_url": hub_url}
