"""Three task clusters against one PostgreSQL and one Redis: an endpoint's limits are the
endpoint's, not each process's. A Shopify sandbox shop with a small GraphQL cost bucket receives
a stock push of a few thousand SKUs, run by whichever workers pick the runs up."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db.models import Count

from catalog.models import Product
from connectors.models import Binding, Endpoint, SyncJob
from connectors.shopify.sandbox import ShopifySandbox
from hub.models import SalesChannel
from inventory.models import Warehouse
from inventory.selectors import available_to_sell
from inventory.services import channel_stock_policy_set, stock_receive_many
from tests.hub.test_task_cluster import database_url_of_test_db

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "shpat_scale_out"
SKUS = 3000
IN_FLIGHT_LIMIT = 2
CLUSTERS = 3


def _start_clusters(count: int) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db(), "Q_WORKERS": "2"}
    return [subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True) for _ in range(count)]


def _stop(clusters: list[subprocess.Popen]) -> None:
    for cluster in clusters:
        if cluster.poll() is None:
            os.killpg(cluster.pid, signal.SIGTERM)
    for cluster in clusters:
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)


@pytest.fixture
def small_plan_shop():
    """A shop on a plan far smaller than standard: 24 GraphQL points restoring 4 a second, so a
    push of SKUS quantities (one 12-point call per 250) must queue on the bucket."""
    sandbox = ShopifySandbox(access_token=TOKEN, graphql_maximum=24, graphql_restore=4).start()
    yield sandbox
    sandbox.stop()


@pytest.mark.slow
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_three_clusters_share_the_endpoints_in_flight_limit_and_cost_bucket_and_push_every_sku_once(small_plan_shop):
    shop = small_plan_shop
    lyon = Warehouse.objects.create(code="LYON", name="Lyon")
    channel = SalesChannel.objects.create(code="shopify", name="Shopify")
    channel_stock_policy_set(channel=channel, warehouses=[lyon], safety_buffer=0)
    Product.objects.bulk_create(Product(sku=f"SKU{n:05d}", name=f"Product {n}", status="active") for n in range(SKUS))
    endpoint = Endpoint.objects.create(kind="shopify", code="scale", name="Scale shop", base_url=shop.url, channel=channel,
                                       credentials={"access_token": TOKEN}, settings={"warehouse_map": {"LYON": "1001"}},
                                       concurrency_limit=IN_FLIGHT_LIMIT, enabled_flows=["stock.out"])
    products = dict(Product.objects.values_list("sku", "pk"))
    created = requests.post(f"{shop.url}/_sandbox/products", timeout=120, json={"products": [
        {"title": sku, "variants": [{"sku": sku, "price": "10.00"}]} for sku in products]}).json()["products"]
    Binding.objects.bulk_create([Binding(endpoint=endpoint, model="variant", local_id=str(products[p["variants"][0]["sku"]]),
                                         external_id=str(p["variants"][0]["id"]),
                                         data={"sku": p["variants"][0]["sku"], "inventory_item_id": str(p["variants"][0]["inventory_item_id"])})
                                 for p in created])
    shop.stats.clear()

    clusters = _start_clusters(CLUSTERS)
    try:
        stock_receive_many(rows=[{"product": product, "warehouse": lyon, "quantity": 1 + product.pk % 40}
                                 for product in Product.objects.all()], source="scale-out test")
        deadline = time.monotonic() + 300
        runs_at_once = 0
        while SyncJob.objects.filter(flow="stock.out").exclude(status="done").exists():
            running = SyncJob.objects.filter(status="running").values("lease_token").distinct().count()
            runs_at_once = max(runs_at_once, running)
            for cluster in clusters:
                assert cluster.poll() is None, cluster.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, list(SyncJob.objects.values("status").annotate(n=Count("id")))
            time.sleep(0.5)
    finally:
        _stop(clusters)

    assert 1 <= runs_at_once <= IN_FLIGHT_LIMIT
    assert shop.stats["peak in flight"] <= IN_FLIGHT_LIMIT
    assert shop.stats.get("graphql throttled", 0) == 0, shop.stats  # every call waited for its points in the shared bucket
    assert shop.stats.get("429 sent", 0) == 0
    assert not SyncJob.objects.filter(flow="stock.out").annotate(n=Count("attempt_log")).exclude(n=1).exists()  # each job ran once
    wanted = available_to_sell(channel=channel, skus=list(products))
    bound = {b.data["inventory_item_id"]: b.data["sku"] for b in Binding.objects.filter(endpoint=endpoint, model="variant")}
    levels = requests.get(f"{shop.url}/_sandbox/inventory", timeout=60).json()["inventory_levels"]
    shown = {bound[str(r["inventory_item_id"])]: r["available"] for r in levels if r["location_id"] == 1001}
    assert shown == wanted
