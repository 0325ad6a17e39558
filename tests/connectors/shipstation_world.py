"""A hub whose 3PL warehouse runs on a ShipStation (API v1) sandbox, over real HTTP."""

from decimal import Decimal

import pytest
import requests

from catalog.services import price_entry_set, price_list_create
from connectors.models import Endpoint
from connectors.shipstation.sandbox import ShipStationSandbox
from inventory import services as stock
from inventory.models import Warehouse
from tests.catalog.factories import ChannelCatalogFactory
from tests.connectors.shipbob_world import add_products
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

SS_KEY, SS_SECRET = "ss-api-key", "ss-api-secret"
SS_HOOK_SECRET = "ss-hook-secret-7f3a9"
OUEST = "2001"


@pytest.fixture
def shipstation_options():
    return {}


@pytest.fixture
def shipstation(hub_url, shipstation_options):
    sandbox = ShipStationSandbox(api_key=SS_KEY, api_secret=SS_SECRET, warehouses={2001: "Entrepôt Ouest", 2002: "Entrepôt Est"},
                                 webhook_url=f"{hub_url}/webhooks/shipstation-eu/?secret={SS_HOOK_SECRET}", **shipstation_options).start()
    yield sandbox
    sandbox.stop()


class ShipStationAccount:
    def __init__(self, url):
        self.url = url
        self.http = requests.Session()
        self.http.auth = (SS_KEY, SS_SECRET)

    def get(self, resource, **params):
        response = self.http.get(f"{self.url}/{resource}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def control(self, path, body=None, method="post"):
        response = getattr(requests, method)(f"{self.url}/_sandbox/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    def orders(self):
        return self.control("orders", method="get")["orders"]


def shipstation_endpoint(url) -> Endpoint:
    return Endpoint.objects.create(kind="shipstation", code="shipstation-eu", name="ShipStation", base_url=url,
                                   credentials={"api_key": SS_KEY, "api_secret": SS_SECRET}, webhook_secret=SS_HOOK_SECRET,
                                   settings={"warehouse_map": {"3PL-OUEST": OUEST}, "service_map": {"Express": "chronopost:chrono_13"}})


@pytest.fixture
def shipstation_world(shipstation):
    from inventory.services import channel_stock_policy_set

    channel = SalesChannelFactory(code="web")
    public = price_list_create(code="PUBLIC", name="Public")
    ChannelCatalogFactory(channel=channel, public_price_list=public)
    lamp, shirt, sizes, honey = add_products()
    ouest = WarehouseFactory(code="3PL-OUEST", kind=Warehouse.Kind.THIRD_PARTY, priority=10)
    channel_stock_policy_set(channel=channel, warehouses=[ouest])
    for product, units in ((lamp, 10), (sizes[0], 5), (sizes[1], 5)):
        price_entry_set(price_list=public, product=product, unit_price=Decimal("25.00"))
        stock.stock_receive(product=product, warehouse=ouest, quantity=units, reference="OPENING")
        shipstation.warehouse.receive(OUEST, product.sku, units)
    return {"endpoint": shipstation_endpoint(shipstation.url), "channel": channel, "ouest": ouest, "lamp": lamp, "sizes": sizes,
            "account": ShipStationAccount(shipstation.url), "sandbox": shipstation}
