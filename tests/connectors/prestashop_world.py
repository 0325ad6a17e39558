"""A hub and a PrestaShop sandbox shop wired together over real HTTP (the hub polls: PrestaShop
sends no webhooks)."""

from decimal import Decimal

import pytest
import requests

from catalog.services import price_entry_set, price_list_create, product_create
from connectors import sync
from connectors.models import Endpoint
from connectors.prestashop.sandbox import PrestaShopSandbox
from connectors.sync import sync_job_enqueue
from inventory import services as stock
from tests.catalog.factories import ChannelCatalogFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

KEY = "HUB0TEST0KEY0FOR0THE0PRESTASHOP0"
assert len(KEY) == 32


@pytest.fixture
def prestashop_options():
    return {}


@pytest.fixture
def prestashop(prestashop_options):
    sandbox = PrestaShopSandbox(webservice_key=KEY, **prestashop_options).start()
    yield sandbox
    sandbox.stop()


class Shop:
    """The shop through its own Webservice (JSON output) and the sandbox's control API."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()
        self.http.auth = (KEY, "")

    def get(self, resource, **params):
        response = self.http.get(f"{self.url}/api/{resource}", params={"output_format": "JSON", **params}, timeout=10)
        response.raise_for_status()
        return response.json()

    def list(self, resource, **params):
        """Every item (display=full) matching the params, [] when none."""
        found = self.get(resource, display="full", **params)
        return found[resource] if found else []

    def one(self, resource, item_id):
        node = {"order_slip": "order_slip"}.get(resource, resource[:-1] if not resource.endswith("ies") else resource[:-3] + "y")
        return self.get(f"{resource}/{item_id}")[node]

    def control(self, path, body=None):
        response = requests.post(f"{self.url}/_sandbox/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def ps_world(db, prestashop):
    """A hub with a lamp (simple) and a shirt in two sizes (combinations), in stock in Lyon, sold on a PrestaShop shop."""
    channel = SalesChannelFactory(code="ps-fr")
    public = price_list_create(code="PUBLIC", name="Public", prices_include_tax=True)
    ChannelCatalogFactory(channel=channel, public_price_list=public)
    lamp = product_create(sku="LAMP-1", name="Lampe Baladeuse", status="active", weight_g=500)
    shirt = product_create(sku="SHIRT", name="Chemise lin", status="active", option_axes=["Taille"])
    sizes = [product_create(sku=f"SHIRT-{size}", name=f"Chemise lin {size}", status="active", parent=shirt, option_values={"Taille": size})
             for size in ("S", "M")]
    lyon = WarehouseFactory(code="LYON")
    for product, price in ((lamp, "25.00"), (sizes[0], "39.00"), (sizes[1], "42.00")):
        price_entry_set(price_list=public, product=product, unit_price=Decimal(price))
        stock.stock_receive(product=product, warehouse=lyon, quantity=10)
    endpoint = Endpoint.objects.create(kind="prestashop", code="ps-fr", name="Boutique PrestaShop", base_url=prestashop.url + "/",
                                       channel=channel, credentials={"webservice_key": KEY}, rate_limit_per_second=50,
                                       settings={"warehouse_map": "LYON=1"})
    return {"endpoint": endpoint, "lamp": lamp, "shirt": shirt, "sizes": sizes, "lyon": lyon, "public": public,
            "shop": Shop(prestashop.url), "sandbox": prestashop}


def run_flows(endpoint, *flows):
    for flow in flows:
        sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=20)


def publish(world):
    for product in (world["lamp"], world["shirt"]):
        sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(product.pk), label=product.sku)
    run_flows(world["endpoint"], "products.out", "stock.out")


def poll(world):
    """One orders poll, as the schedule would queue it."""
    sync_job_enqueue(endpoint=world["endpoint"], flow="orders.poll", record_key=sync.SCHEDULED_KEY, label="poll")
    run_flows(world["endpoint"], "orders.poll")


def place(world, lines, **extra):
    """A shopper's order: lines as (reference, quantity)."""
    return world["shop"].control("orders", {"lines": [{"reference": ref, "quantity": qty} for ref, qty in lines], **extra})


def shop_quantity(world, reference):
    """What the shop shows for a product or combination reference (its stock_available in shop 1)."""
    shop = world["shop"]
    combinations = shop.list("combinations", **{"filter[reference]": f"[{reference}]"})
    if combinations:
        product_id, attribute = combinations[0]["id_product"], str(combinations[0]["id"])
    else:
        product_id, attribute = str(shop.list("products", **{"filter[reference]": f"[{reference}]"})[0]["id"]), "0"
    rows = shop.list("stock_availables", **{"filter[id_product]": f"[{product_id}]", "filter[id_product_attribute]": f"[{attribute}]"})
    return int(rows[0]["quantity"])
