"""A hub whose 3PL warehouse is run by a ShipBob sandbox, over real HTTP."""

import base64
import time
from decimal import Decimal

import pytest
import requests

from catalog.services import price_entry_set, price_list_create, product_create
from connectors import sync
from connectors.models import Endpoint, InboxMessage
from connectors.services import inbox_process
from connectors.shipbob.sandbox import ShipBobSandbox
from inventory import services as stock
from inventory.models import Warehouse
from orders.services import order_import
from tests.catalog.factories import ChannelCatalogFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_payload

SHIPBOB_TOKEN = "pat_e2e_token"
SHIPBOB_CHANNEL = 100102
SHIPBOB_SECRET = "whsec_" + base64.b64encode(b"shipbob-e2e-signing-key-0123456").decode()
NORD = "1001"
API = "2026-01"


@pytest.fixture
def shipbob_options():
    return {}


@pytest.fixture
def shipbob(hub_url, shipbob_options):
    sandbox = ShipBobSandbox(token=SHIPBOB_TOKEN, channel_id=SHIPBOB_CHANNEL, locations={1001: "Nord (FR)", 1002: "Sud (FR)"},
                             webhook_url=f"{hub_url}/webhooks/shipbob-eu/", webhook_secret=SHIPBOB_SECRET, **shipbob_options).start()
    yield sandbox
    sandbox.stop()


class ShipBobAccount:
    """The 3PL through its own API, and the sandbox's control API (its warehouse staff)."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {SHIPBOB_TOKEN}", "shipbob_channel_id": str(SHIPBOB_CHANNEL)})

    def get(self, resource, **params):
        response = self.http.get(f"{self.url}/{API}/{resource}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def control(self, path, body=None, method="post"):
        response = getattr(requests, method)(f"{self.url}/_sandbox/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    def orders(self):
        return self.control("orders", method="get")["orders"]

    def order(self, reference):
        return next(o for o in self.get("order", ReferenceIds=reference))


def add_products():
    lamp = product_create(sku="LAMP-1", name="Lampe Baladeuse", status="active", gtin="3700000000013", weight_g=850,
                          length_mm=300, width_mm=200, height_mm=150, customs_code="940540", country_of_origin="FR")
    shirt = product_create(sku="SHIRT", name="Chemise lin", status="active", option_axes=["Taille"])
    sizes = [product_create(sku=f"SHIRT-{size}", name=f"Chemise lin {size}", status="active", parent=shirt,
                            option_values={"Taille": size}, weight_g=250) for size in ("S", "M")]
    honey = product_create(sku="HONEY", name="Miel de lavande", status="active", track_expiry=True, shelf_life_days=540, weight_g=500)
    return lamp, shirt, sizes, honey


@pytest.fixture
def shipbob_world(shipbob):
    """A web shop whose orders are fulfilled by ShipBob's Nord centre (hub warehouse 3PL-NORD)."""
    from datetime import date, timedelta

    from inventory.services import channel_stock_policy_set

    channel = SalesChannelFactory(code="web")
    public = price_list_create(code="PUBLIC", name="Public")
    ChannelCatalogFactory(channel=channel, public_price_list=public)
    lamp, shirt, sizes, honey = add_products()
    nord = WarehouseFactory(code="3PL-NORD", kind=Warehouse.Kind.THIRD_PARTY, priority=20)
    WarehouseFactory(code="QUARANTINE", is_sellable=False)
    channel_stock_policy_set(channel=channel, warehouses=[nord])
    expiry = date.today() + timedelta(days=300)
    for product, units in ((lamp, 10), (sizes[0], 5), (sizes[1], 5)):
        price_entry_set(price_list=public, product=product, unit_price=Decimal("25.00"))
        stock.stock_receive(product=product, warehouse=nord, quantity=units, reference="OPENING")
        shipbob.warehouse.receive(NORD, product.sku, units)
    stock.stock_receive(product=honey, warehouse=nord, quantity=6, lot="L2601", expiry=expiry, reference="OPENING")
    shipbob.warehouse.receive(NORD, "HONEY", 6, lot="L2601", expiry=expiry)
    endpoint = Endpoint.objects.create(kind="shipbob", code="shipbob-eu", name="ShipBob EU", base_url=shipbob.url,
                                       credentials={"token": SHIPBOB_TOKEN}, webhook_secret=SHIPBOB_SECRET,
                                       settings={"warehouse_map": {"3PL-NORD": NORD}, "channel_id": SHIPBOB_CHANNEL,
                                                 "service_map": {"Colissimo": "Standard", "Express": "2-Day"}})
    return {"endpoint": endpoint, "channel": channel, "nord": nord, "lamp": lamp, "sizes": sizes, "honey": honey,
            "account": ShipBobAccount(shipbob.url), "sandbox": shipbob}


def place(world, external_id="1001", *, lines=None, **extra):
    """A paid storefront order, as a shop connector would import it."""
    lines = lines or [{"sku": "LAMP-1", "name": "Lampe", "quantity": 2, "unit_price": "25.00", "tax_rate": "0.2000", "tax_amount": "8.33"}]
    order, _ = order_import(channel=world["channel"], data=order_payload(external_id, lines=lines, **extra))
    return order


def run_flows(endpoint, *flows):
    for flow in flows:
        sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=30)


def inbox_settle(topic, count=1, *, timeout=15, endpoint_code="shipbob-eu"):
    """Wait until `count` deliveries of `topic` reached the hub, then process the inbox."""
    deadline = time.monotonic() + timeout
    while InboxMessage.objects.filter(topic=topic, endpoint__code=endpoint_code).count() < count:
        assert time.monotonic() < deadline, f"no {topic} webhook within {timeout} s"
        time.sleep(0.05)
    process_inbox()


def process_inbox():
    for message in InboxMessage.objects.filter(status="received").order_by("id"):
        inbox_process(message_id=message.pk)
