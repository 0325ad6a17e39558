"""BigCommerce's traps over real HTTP: v2 lists that answer 204 past their last page, a request
quota per window shared with the store's other apps (announced in headers, no Retry-After), a 429
from an overloaded platform, and a server-error storm."""

import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.services import price_entry_set, product_create, product_update
from connectors import sync
from connectors.bigcommerce import client as bc_client
from connectors.models import SyncJob
from inventory import services as stock
from orders.models import SalesOrder
from orders.services import shipment_create
from tests.connectors.bigcommerce_world import delivered, poll, publish, run_flows


def _more_products(world, count):
    public = world["endpoint"].channel.catalog.public_price_list
    products = []
    for n in range(count):
        product = product_create(sku=f"GARL-{n}", name=f"Guirlande {n}", status="active")
        price_entry_set(price_list=public, product=product, unit_price=Decimal("19.90"))
        stock.stock_receive(product=product, warehouse=world["lyon"], quantity=5 + n)
        products.append(product)
        sync.sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(product.pk), label=product.sku)
    return products


def test_a_v2_list_past_its_last_page_is_204_with_an_empty_body(bc_world):
    publish(bc_world)
    bc_world["store"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}]})
    response = bc_world["store"].http.get(f"{bc_world['sandbox'].url}/stores/s4ndb0x/v2/orders", params={"page": 2}, timeout=5)
    assert (response.status_code, response.content) == (204, b"")
    bc_world["store"].control("settings", {"empty_list_204": False})
    assert bc_world["store"].get("v2/orders", page=2) == []


@pytest.mark.parametrize("bc_options", [{"empty_list_204": True}, {"empty_list_204": False}])
def test_the_orders_poll_pages_until_the_empty_page_and_takes_each_order_once(bc_world, bc_options, monkeypatch):
    monkeypatch.setattr(bc_client, "PAGE_SIZE", 2)
    publish(bc_world)
    bc_world["sandbox"].set_faults(webhook_drop_rate=1.0)
    placed = [bc_world["store"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}]}) for _ in range(4)]
    poll(bc_world)
    job = SyncJob.objects.get(flow="orders.poll")
    assert job.status == "done" and job.outcome.startswith("4 orders checked, 4 new"), job.last_error
    assert sorted(SalesOrder.objects.values_list("external_id", flat=True)) == sorted(str(o["id"]) for o in placed)
    assert bc_world["sandbox"].stats["empty pages"] == 1  # 2 + 2, then the empty third page ends the listing


@pytest.mark.parametrize("bc_options", [{"quota": 12, "window_seconds": 2}])
def test_the_shared_limiter_follows_the_announced_quota_and_gets_no_429(bc_world, bc_options):
    endpoint = bc_world["endpoint"]
    endpoint.rate_limit_per_second = 100  # far above the store's quota: only the announced figures hold the pace
    endpoint.save()
    products = _more_products(bc_world, 8)
    started = time.monotonic()
    run_flows(endpoint, "products.out")
    assert not SyncJob.objects.filter(flow="products.out").exclude(status="done").exists()
    assert bc_world["sandbox"].stats.get("429 sent", 0) == 0
    assert time.monotonic() - started >= 2  # more requests than one window holds: it waited for the refill
    assert sorted(p["name"] for p in bc_world["sandbox"].products.values()) == sorted(p.name for p in products)  # each once


@pytest.mark.parametrize("bc_options", [{"quota": 10, "window_seconds": 2}])
def test_a_quota_other_apps_used_up_is_waited_out_and_nothing_is_sent_twice(bc_world, bc_options):
    endpoint = bc_world["endpoint"]
    endpoint.rate_limit_per_second = 100
    endpoint.save()
    products = _more_products(bc_world, 3)
    bc_world["store"].control("quota", {"use": 10})  # another app of the store spent the window
    run_flows(endpoint, "products.out")
    assert bc_world["sandbox"].stats["429 sent"] == 1  # the first answer told the hub; it waited for the refill
    assert not SyncJob.objects.filter(flow="products.out").exclude(status="done").exists()
    assert bc_world["sandbox"].stats["products created"] == 3
    assert sorted(p["sku"] for p in bc_world["sandbox"].products.values()) == sorted(p.sku for p in products)


def test_a_429_without_rate_limit_headers_is_retried_later(bc_world):
    publish(bc_world)
    bc_world["sandbox"].set_faults(throttle={"requests": 10})
    product_update(product=bc_world["lamp"], name="Lampe surchargée")
    run_flows(bc_world["endpoint"], "products.out")
    job = SyncJob.objects.get(flow="products.out", record_label="LAMP-1", status="pending")
    assert job.error_class == "transient" and "overloaded" in job.last_error


def test_hub_endpoint_test_makes_an_authenticated_request(bc_world):
    call_command("hub_endpoint", "test", "bc-fr")
    endpoint = bc_world["endpoint"]
    endpoint.credentials = {"access_token": "revoked"}
    endpoint.save()
    with pytest.raises(CommandError, match="refused the access token"):
        call_command("hub_endpoint", "test", "bc-fr")


@pytest.mark.slow
def test_a_server_error_storm_delays_everything_and_loses_or_doubles_nothing(bc_world, monkeypatch):
    monkeypatch.setattr(sync, "BACKOFF_BASE_SECONDS", 1)
    publish(bc_world)
    first = bc_world["store"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 2}]})
    delivered(bc_world, "store/order/created", first["id"])
    bc_world["sandbox"].set_faults(fail_5xx={"seconds": 8}, webhook_drop_rate=1.0)
    started = time.monotonic()
    more = [bc_world["store"].control("orders", {"lines": [{"sku": "SHIRT-S", "quantity": 1}]}) for _ in range(2)]
    products = _more_products(bc_world, 2)
    product_update(product=bc_world["lamp"], name="Lampe (tempête)")
    order = SalesOrder.objects.get(external_id=str(first["id"]))
    shipment_create(order=order, warehouse=bc_world["lyon"], lines=[(order.lines.get(), 2)], carrier="UPS", tracking_numbers=["1ZSTORM"])
    endpoint = bc_world["endpoint"]
    sync.sync_job_enqueue(endpoint=endpoint, flow="orders.poll", record_key=sync.SCHEDULED_KEY)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        sync.sync_sweep()
        for flow in ("products.out", "stock.out", "fulfilments.out", "orders.poll"):
            sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=5)
        if not SyncJob.objects.filter(endpoint=endpoint, status__in=["pending", "running"]).exists():
            break
        time.sleep(0.5)
    assert time.monotonic() - started >= 8 and bc_world["sandbox"].stats["5xx sent"] > 0
    assert not SyncJob.objects.exclude(status__in=["done", "resolved"]).exists(), list(SyncJob.objects.exclude(status="done").values("flow", "last_error"))
    assert sorted(SalesOrder.objects.values_list("external_id", flat=True)) == sorted(str(o["id"]) for o in [first, *more])
    assert [s["tracking_number"] for s in bc_world["store"].get(f"v2/orders/{first['id']}/shipments")] == ["1ZSTORM"]
    assert bc_world["store"].product("LAMP-1")["name"] == "Lampe (tempête)"
    assert bc_world["sandbox"].stats["products created"] == 2 + len(products)
