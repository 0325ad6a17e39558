import json
from decimal import Decimal

import pytest

from catalog.models import Product
from hub.services import api_token_create
from inventory import services as stock
from tests.catalog.factories import ChannelCatalogFactory, PriceEntryFactory, PriceListFactory, ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from orders import services as orders
from tests.orders.factories import CustomerFactory, order_payload

SKUS = ("LAMP-1", "GARLAND-10M", "CHAIR-OAK")


def seed_storefront(code="web", *, shipped_order=False):
    """A channel with a public price list, three priced products in stock, a B2B customer and a
    token: what a storefront's calls need to reach every branch of the API; with
    `shipped_order`, a shipped order of every SKU (external id SHIPPED-1) to return goods from."""
    channel = SalesChannelFactory(code=code)
    public = PriceListFactory(code=f"{code.upper()}-PUBLIC")
    ChannelCatalogFactory(channel=channel, public_price_list=public)
    warehouse = WarehouseFactory(code="LYON")
    for sku, price in zip(SKUS, ("20.00", "35.00", "80.00")):
        product = ProductFactory(sku=sku, status=Product.Status.ACTIVE)
        PriceEntryFactory(price_list=public, product=product, unit_price=Decimal(price))
        stock.stock_receive(product=product, warehouse=warehouse, quantity=1_000)
    customer = CustomerFactory(code="ACME", channels=[channel])
    _, key = api_token_create(channel=channel)
    if shipped_order:
        lines = [{"sku": sku, "quantity": 50, "unit_price": "10.00"} for sku in SKUS]
        order, _ = orders.order_import(channel=channel, data=order_payload("SHIPPED-1", lines=lines, shipping="0"))
        orders.shipment_create(order=order, warehouse=warehouse, lines=[(line, line.quantity) for line in order.lines.all()])
    return {"channel": channel, "customer": customer, "key": key}


@pytest.fixture
def storefront(db):
    return seed_storefront()


@pytest.fixture
def api(client, storefront):
    """Calls with the storefront's token: api.get(url, **extra), api.post(url, body_or_bytes, **extra)."""
    auth = {"HTTP_AUTHORIZATION": f"Token {storefront['key']}"}

    class Api:
        @staticmethod
        def get(url, **extra):
            return client.get(url, **auth, **extra)

        @staticmethod
        def post(url, body, content_type="application/json", **extra):
            data = body if isinstance(body, bytes) else json.dumps(body)
            return client.post(url, data=data, content_type=content_type, **auth, **extra)

        @staticmethod
        def options(url, **extra):
            return client.options(url, **auth, **extra)

    return Api()
