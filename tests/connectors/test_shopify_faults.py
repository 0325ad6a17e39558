"""Shopify under faults, over real HTTP: server-error storms, a worker killed mid-job, 429 bursts."""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from catalog.services import price_entry_set, product_create, product_update
from connectors import sync
from connectors.models import Binding, SyncJob
from inventory import services as stock
from inventory.selectors import available_to_sell
from orders.models import SalesOrder
from orders.services import shipment_create
from tests.connectors.engine import drain
from tests.connectors.shopify_world import publish, run_flows, wait_for_inbox
from tests.hub.test_task_cluster import database_url_of_test_db

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow




def more_products(world, count):
    public = world["endpoint"].channel.catalog.public_price_list
    products = []
    for n in range(count):
        product = product_create(sku=f"GARL-{n}", name=f"Guirlande {n}", status="active")
        price_entry_set(price_list=public, product=product, unit_price=Decimal("19.90"))
        stock.stock_receive(product=product, warehouse=world["lyon"], quantity=20 + n)
        products.append(product)
    return products


def test_a_30_second_server_error_storm_delays_everything_and_loses_or_doubles_nothing(world, monkeypatch):
    monkeypatch.setattr(sync, "BACKOFF_BASE_SECONDS", 1)
    publish(world)
    placed = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 2}], "email": "storm@example.com", "financial_status": "paid"})
    order_id = str(placed["order"]["id"])
    wait_for_inbox("orders/create", order_id)
    world["sandbox"].set_faults(fail_5xx_for_seconds=30)
    started = time.monotonic()
    products = more_products(world, 5)
    for product in products:
        sync.sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(product.pk), label=product.sku)
    product_update(product=world["lamp"], name="Lampe Baladeuse (storm edition)")
    order = SalesOrder.objects.get(external_id=order_id)
    shipment_create(order=order, warehouse=world["lyon"], lines=[(order.lines.get(), 2)], carrier="Colissimo", tracking_numbers=["6ASTORM"])
    drain(world["endpoint"], until_seconds=5)
    assert SyncJob.objects.filter(status="pending", error_class="transient").exists(), "the storm should make jobs wait"
    drain(world["endpoint"], until_seconds=120)
    assert time.monotonic() - started >= 30
    assert not SyncJob.objects.exclude(status__in=["done", "resolved"]).exists(), list(SyncJob.objects.exclude(status="done").values("flow", "status", "last_error"))
    shop = world["shop"]
    titles = sorted(p["title"] for p in shop.get("products.json", limit=250)["products"])
    assert titles == sorted(["Lampe Baladeuse (storm edition)"] + [p.name for p in products])  # each product once
    assert [f["tracking_number"] for f in shop.get(f"orders/{order_id}.json")["order"]["fulfillments"]] == ["6ASTORM"]
    wanted = available_to_sell(channel=world["endpoint"].channel, skus=["LAMP-1"] + [p.sku for p in products])
    for sku, units in wanted.items():
        item = Binding.objects.get(endpoint=world["endpoint"], model="variant", data__sku=sku).data["inventory_item_id"]
        level = shop.get("inventory_levels.json", inventory_item_ids=item, location_ids=world["location"])["inventory_levels"][0]
        assert level["available"] == units, sku


def test_a_worker_killed_mid_job_leaves_one_fulfilment_once_the_job_is_handed_out_again(world):
    publish(world)
    placed = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "kill@example.com", "financial_status": "paid"})
    order_id = str(placed["order"]["id"])
    wait_for_inbox("orders/create", order_id)
    order = SalesOrder.objects.get(external_id=order_id)
    shipment_create(order=order, warehouse=world["lyon"], lines=[(order.lines.get(), 1)], carrier="DPD", tracking_numbers=["DPD-KILL-1"])
    world["sandbox"].set_faults(slow_after_ms=4000)  # the shop applies the fulfilment, then answers late
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db()}
    worker = subprocess.Popen([sys.executable, "manage.py", "hub_endpoint", "sync", "shop-fr", "--flow", "fulfilments.out"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    # Read through the sandbox's control API: polling Shopify's REST API would empty the shop's
    # request bucket and wait out 429s past the moment the worker must be killed.
    while not requests.get(f"{world['sandbox'].url}/_sandbox/orders/{order_id}", timeout=10).json()["order"]["fulfillments"]:
        assert time.monotonic() < deadline and worker.poll() is None, worker.stderr.read().decode() if worker.poll() is not None else "timeout"
        time.sleep(0.1)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    world["sandbox"].set_faults(slow_after_ms=0)
    job = SyncJob.objects.get(flow="fulfilments.out")
    assert job.status == "running" and not Binding.objects.filter(model="shipment").exists()
    SyncJob.objects.filter(pk=job.pk).update(lease_expires_at=job.started_at)  # the lease runs out
    assert sync.sync_sweep() == 1
    run_flows(world["endpoint"], "fulfilments.out")
    job.refresh_from_db()
    assert job.status == "done" and "already in Shopify" in job.outcome
    assert list(job.attempt_log.order_by("number").values_list("outcome", flat=True)) == ["lost", "ok"]
    assert len(world["shop"].get(f"orders/{order_id}.json")["order"]["fulfillments"]) == 1
    assert Binding.objects.filter(model="shipment").count() == 1


@pytest.mark.parametrize("sandbox_options", [{"rest_bucket": 5, "rest_leak_per_second": 2.0}])
def test_429_bursts_are_waited_out_and_everything_is_delivered_once(world, sandbox_options):
    world["endpoint"].rate_limit_per_second = 100  # far above the shop's real limit: it answers 429s
    world["endpoint"].save()
    products = more_products(world, 25)
    for product in products:
        sync.sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(product.pk), label=product.sku)
    run_flows(world["endpoint"], "products.out")
    assert world["sandbox"].stats.get("429 sent", 0) > 0
    assert not SyncJob.objects.filter(flow="products.out").exclude(status="done").exists()
    assert len(world["shop"].get("products.json", limit=250)["products"]) == 25


@pytest.mark.parametrize("sandbox_options", [{"rest_bucket": 5, "rest_leak_per_second": 10.0}])
def test_a_rate_that_follows_the_shops_limits_gets_no_429_at_all(world, sandbox_options):
    world["endpoint"].rate_limit_per_second = 10
    world["endpoint"].save()
    products = more_products(world, 25)
    for product in products:
        sync.sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(product.pk), label=product.sku)
    started = time.monotonic()
    run_flows(world["endpoint"], "products.out")
    assert world["sandbox"].stats.get("429 sent", 0) == 0
    assert not SyncJob.objects.filter(flow="products.out").exclude(status="done").exists()
    assert time.monotonic() - started >= (25 - 5) / 10 * 0.9  # the shop's bucket bounds the pace


def test_the_console_shows_a_job_that_gave_up_and_retry_from_the_admin_succeeds_after_the_fault_clears(world, admin_client):
    from django.urls import reverse

    publish(world)
    world["sandbox"].set_faults(fail_5xx_for_seconds=600)
    product_update(product=world["lamp"], name="Lampe pendant la panne")
    SyncJob.objects.filter(flow="products.out", status="pending").update(attempts=9)  # its last allowed attempt
    run_flows(world["endpoint"], "products.out")
    job = SyncJob.objects.get(flow="products.out", status="failed")
    assert "gave up after 10 attempts" in job.last_error
    console = admin_client.get(reverse("admin:connectors_console")).content.decode()
    assert '<td class="open-errors">' in console and "server error" in console
    world["sandbox"].set_faults(fail_5xx_for_seconds=0)
    response = admin_client.post(reverse("admin:connectors_syncjob_changelist"), {"action": "retry", "_selected_action": [job.pk]}, follow=True)
    assert "1 job queued again." in response.content.decode()
    run_flows(world["endpoint"], "products.out")
    job.refresh_from_db()
    assert job.status == "done"
    assert [p["title"] for p in world["shop"].get("products.json")["products"]] == ["Lampe pendant la panne"]


def test_a_worker_killed_after_the_shop_created_a_product_leaves_one_product_bound_once_the_job_is_handed_out_again(world):
    world["sandbox"].set_faults(slow_after_ms=4000)  # the shop creates the product, then answers late
    sync.sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(world["lamp"].pk), label="LAMP-1")
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db()}
    worker = subprocess.Popen([sys.executable, "manage.py", "hub_endpoint", "sync", "shop-fr", "--flow", "products.out"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 30
    while not world["sandbox"].products:
        assert time.monotonic() < deadline and worker.poll() is None, worker.stderr.read().decode() if worker.poll() is not None else "timeout"
        time.sleep(0.1)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    world["sandbox"].set_faults(slow_after_ms=0)
    job = SyncJob.objects.get(flow="products.out")
    assert job.status == "running" and not Binding.objects.filter(model="product").exists()
    SyncJob.objects.filter(pk=job.pk).update(lease_expires_at=job.started_at)
    assert sync.sync_sweep() == 1
    run_flows(world["endpoint"], "products.out")
    job.refresh_from_db()
    assert job.status == "done", job.last_error
    products = world["shop"].get("products.json")["products"]
    assert len(products) == 1
    assert Binding.objects.get(model="product").external_id == str(products[0]["id"])
    variant = Binding.objects.get(model="variant")
    assert variant.external_id == str(products[0]["variants"][0]["id"])
    assert variant.data["inventory_item_id"] == str(products[0]["variants"][0]["inventory_item_id"])


def test_a_new_variant_whose_answer_was_lost_is_found_by_sku_and_kept_not_created_again(world, monkeypatch):
    from connectors.shopify.client import ShopifyClient

    public = world["endpoint"].channel.catalog.public_price_list
    shade = product_create(sku="SHADE", name="Abat-jour", status="active", option_axes=["size"])
    for sku, size in (("SHADE-S", "S"), ("SHADE-L", "L")):
        variant = product_create(sku=sku, name=f"Abat-jour {size}", status="active", parent=shade, option_values={"size": size})
        price_entry_set(price_list=public, product=variant, unit_price=Decimal("12.00"))
    sync.sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(shade.pk), label="SHADE")
    run_flows(world["endpoint"], "products.out")
    medium = product_create(sku="SHADE-M", name="Abat-jour M", status="active", parent=shade, option_values={"size": "M"})
    price_entry_set(price_list=public, product=medium, unit_price=Decimal("12.00"))
    monkeypatch.setattr(ShopifyClient, "timeout", (5, 1))
    world["sandbox"].set_faults(slow_after_ms=2500)  # applied, but the answer comes after the hub gave up waiting
    run_flows(world["endpoint"], "products.out")
    job = SyncJob.objects.get(flow="products.out", status="pending")
    assert job.error_class == "transient"
    shop_product = lambda: next(p for p in world["shop"].get("products.json")["products"] if p["handle"] == "shade")  # noqa: E731
    created = [v["id"] for v in shop_product()["variants"] if v["sku"] == "SHADE-M"]
    assert len(created) == 1  # the shop has it; the hub does not know its id
    world["sandbox"].set_faults(slow_after_ms=0)
    SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=job.created_at)
    run_flows(world["endpoint"], "products.out")
    job.refresh_from_db()
    assert job.status == "done", job.last_error
    assert [v["id"] for v in shop_product()["variants"] if v["sku"] == "SHADE-M"] == created  # the same variant, not a new one
    assert Binding.objects.get(model="variant", local_id=str(medium.pk)).external_id == str(created[0])
