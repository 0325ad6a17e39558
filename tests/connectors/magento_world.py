"""A hub and a Magento 2 sandbox shop wired together over real HTTP (orders come in by polling)."""

from decimal import Decimal

import pytest
import requests

from catalog.services import price_entry_set, price_list_create, product_create
from connectors import sync
from connectors.magento.sandbox import MagentoSandbox
from connectors.models import Endpoint
from inventory import services as stock
from tests.catalog.factories import ChannelCatalogFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

ADMIN, PASSWORD = "hub-api", "Hub-api-password-1"


@pytest.fixture
def magento_options():
    return {}


@pytest.fixture
def magento(transactional_db, magento_options):
    options = {"sources": ("default", "paris-store"), "attributes": {"size": ["XS"], "color": ["Blue"]}, **magento_options}
    sandbox = MagentoSandbox(admin_username=ADMIN, admin_password=PASSWORD, **options).start()
    yield sandbox
    sandbox.stop()


class Shop:
    """The shop through Magento's own REST API (an admin token of its own), and the control API."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()
        token = requests.post(f"{url}/rest/default/V1/integration/admin/token", json={"username": ADMIN, "password": PASSWORD}, timeout=5).json()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def get(self, resource, **params):
        response = self.http.get(f"{self.url}/rest/default/V1/{resource}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def search(self, resource, **filters):
        params = {}
        for n, (field, value) in enumerate(filters.items()):
            params.update({f"searchCriteria[filter_groups][{n}][filters][0][field]": field,
                           f"searchCriteria[filter_groups][{n}][filters][0][value]": value})
        return self.get(resource, **params)["items"]

    def control(self, path, body=None):
        response = requests.post(f"{self.url}/_sandbox/{path}", json=body or {}, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def stock(self, sku):
        return {item["source_code"]: item["quantity"] for item in self.search("inventory/source-items", sku=sku)}


@pytest.fixture
def magento_world(magento):
    """A hub with a lamp (simple) and a shirt in two sizes (configurable), in stock in Lyon and
    Paris, sold on a Magento shop whose MSI sources are `default` (Lyon) and `paris-store`."""
    channel = SalesChannelFactory(code="magento-fr")
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
    endpoint = Endpoint.objects.create(kind="magento", code="magento-fr", name="Boutique Magento", base_url=magento.url, channel=channel,
                                       credentials={"admin_username": ADMIN, "admin_password": PASSWORD}, rate_limit_per_second=50,
                                       settings={"warehouse_map": {"LYON": "default", "PARIS": "paris-store"}, "attribute_map": {"Taille": "size"}})
    return {"endpoint": endpoint, "lamp": lamp, "shirt": shirt, "sizes": sizes, "lyon": lyon, "paris": paris, "shop": Shop(magento.url),
            "sandbox": magento}


def run_flows(endpoint, *flows):
    for flow in flows:
        sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=20)


def publish(world):
    for product in (world["lamp"], world["shirt"]):
        sync.sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(product.pk), label=product.sku)
    run_flows(world["endpoint"], "products.out", "stock.out")


def poll(world):
    """What the schedule does every few minutes: one orders poll, now."""
    sync.sync_job_enqueue(endpoint=world["endpoint"], flow="orders.poll", record_key=sync.SCHEDULED_KEY)
    run_flows(world["endpoint"], "orders.poll")
