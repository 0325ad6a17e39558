"""PrestaShop under faults and refusals, over real HTTP: validation errors shown as the shop wrote
them, a server-error storm, broken answers, the connection check, bad keys."""

import html
import time
from decimal import Decimal

import pytest
import requests
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog.services import price_entry_set, product_create, product_update
from connectors import sync
from connectors.models import Binding, InboxMessage, SyncJob
from connectors.prestashop.client import PrestaShopClient
from connectors.sync import sync_job_enqueue
from inventory import services as stock
from inventory.selectors import available_to_sell
from orders.models import SalesOrder
from orders.services import shipment_create
from tests.connectors.engine import drain as drain_jobs
from tests.connectors.prestashop_world import KEY, place, poll, publish, run_flows, shop_quantity


def drain(endpoint, *, until_seconds: float):
    return drain_jobs(endpoint, until_seconds=until_seconds, flows=("products.out", "stock.out", "orders.poll", "fulfilments.out"), pause=0.3)


def test_a_validation_error_is_permanent_and_the_console_shows_the_shops_message(ps_world, admin_client):
    product_update(product=ps_world["lamp"], description='<p>Lampe</p><script>alert("x")</script>')
    publish(ps_world)
    job = SyncJob.objects.get(flow="products.out", record_key=str(ps_world["lamp"].pk))
    assert (job.status, job.error_class) == ("failed", "permanent")
    assert job.last_error == 'PrestaShop refused POST api/products (400): [84] Validation error: "Property Product->description is not valid"'
    assert job.attempts == 1 and not ps_world["shop"].list("products", **{"filter[reference]": "[LAMP-1]"})
    console = html.unescape(admin_client.get(reverse("admin:connectors_console")).content.decode())
    assert 'Validation error: "Property Product->description is not valid"' in console
    assert SyncJob.objects.get(flow="products.out", record_key=str(ps_world["shirt"].pk)).status == "done"


def test_a_switched_on_xml_error_on_stock_is_permanent_with_the_vendors_code_and_message(ps_world):
    publish(ps_world)
    ps_world["sandbox"].set_traps(xml_errors={"match": "stock_availables", "code": 85, "requests": 1,
                                              "message": 'Validation error: "Property StockAvailable->quantity is not valid"'})
    stock.stock_adjust(product=ps_world["lamp"], warehouse=ps_world["lyon"], quantity_delta=-1, reason="count")
    run_flows(ps_world["endpoint"], "stock.out")
    job = SyncJob.objects.filter(flow="stock.out", record_key="LAMP-1").latest("id")
    assert job.status == "failed" and job.error_class == "permanent"
    assert "[85] Validation error: \"Property StockAvailable->quantity is not valid\"" in job.last_error
    sync.sync_job_retry(job=job)
    run_flows(ps_world["endpoint"], "stock.out")
    assert shop_quantity(ps_world, "LAMP-1") == 9


def test_a_truncated_answer_is_transient_and_the_retry_does_not_create_the_product_twice(ps_world, monkeypatch):
    monkeypatch.setattr(sync, "BACKOFF_BASE_SECONDS", 0.2)
    ps_world["sandbox"].set_faults(malformed={"requests": 1, "match": "POST /api/products"})
    publish(ps_world)
    job = SyncJob.objects.get(flow="products.out", record_key=str(ps_world["lamp"].pk))
    assert job.status == "pending" and job.error_class == "transient"
    time.sleep(0.5)
    drain(ps_world["endpoint"], until_seconds=20)
    assert len(ps_world["shop"].list("products", **{"filter[reference]": "[LAMP-1]"})) == 1
    assert SyncJob.objects.get(pk=job.pk).status == "done"


@pytest.mark.slow
def test_a_server_error_storm_delays_everything_and_loses_or_doubles_nothing(ps_world, monkeypatch):
    monkeypatch.setattr(sync, "BACKOFF_BASE_SECONDS", 1)
    publish(ps_world)
    placed = place(ps_world, [("LAMP-1", 2)])
    poll(ps_world)
    ps_world["sandbox"].set_faults(fail_5xx={"seconds": 6})
    started = time.monotonic()
    public = ps_world["public"]
    garlands = []
    for n in range(3):
        garland = product_create(sku=f"GARL-{n}", name=f"Guirlande {n}", status="active")
        price_entry_set(price_list=public, product=garland, unit_price=Decimal("19.90"))
        stock.stock_receive(product=garland, warehouse=ps_world["lyon"], quantity=20 + n)
        sync_job_enqueue(endpoint=ps_world["endpoint"], flow="products.out", record_key=str(garland.pk), label=garland.sku)
        garlands.append(garland)
    product_update(product=ps_world["lamp"], name="Lampe Baladeuse (orage)")
    late = place(ps_world, [("SHIRT-S", 1)])
    sync_job_enqueue(endpoint=ps_world["endpoint"], flow="orders.poll", record_key=sync.SCHEDULED_KEY, label="poll")
    order = SalesOrder.objects.get(external_id=str(placed["id"]))
    shipment_create(order=order, warehouse=ps_world["lyon"], lines=[(order.lines.get(), 2)], carrier="Colissimo", tracking_numbers=["6ASTORM"])
    drain(ps_world["endpoint"], until_seconds=2)
    assert SyncJob.objects.filter(status="pending", error_class="transient").exists(), "the storm should make jobs wait"
    drain(ps_world["endpoint"], until_seconds=90)
    assert time.monotonic() - started >= 6
    assert not SyncJob.objects.exclude(status__in=["done", "resolved"]).exists(), list(
        SyncJob.objects.exclude(status="done").values("flow", "status", "last_error"))
    shop = ps_world["shop"]
    references = sorted(p["reference"] for p in shop.list("products"))
    assert references == sorted(["LAMP-1", "SHIRT"] + [g.sku for g in garlands])  # each product once
    assert shop.list("products", **{"filter[reference]": "[LAMP-1]"})[0]["name"][0]["value"] == "Lampe Baladeuse (orage)"
    assert [c["tracking_number"] for c in shop.list("order_carriers", **{"filter[id_order]": f"[{placed['id']}]"})] == ["6ASTORM"]
    assert len(shop.list("order_histories", **{"filter[id_order]": f"[{placed['id']}]", "filter[id_order_state]": "[4]"})) == 1
    assert SalesOrder.objects.filter(external_id=str(late["id"])).count() == 1
    wanted = available_to_sell(channel=ps_world["endpoint"].channel, skus=["LAMP-1", "SHIRT-S"] + [g.sku for g in garlands])
    assert {sku: shop_quantity(ps_world, sku) for sku in wanted} == wanted


def test_hub_endpoint_test_makes_an_authenticated_request_and_names_what_the_key_lacks(ps_world, capsys):
    call_command("hub_endpoint", "test", "ps-fr")
    assert "connected to Boutique Hub Démo, PrestaShop 8.1.7" in capsys.readouterr().out
    assert ps_world["sandbox"].journal[-1].path == "/api/"
    limited = "LIMITED0KEY0WITHOUT0ORDERS00000"
    ps_world["sandbox"].add_key(limited + "1", {"products": ["GET", "POST", "PATCH"], "orders": ["GET"]})
    endpoint = ps_world["endpoint"]
    endpoint.credentials = {"webservice_key": limited + "1"}
    endpoint.save()
    with pytest.raises(CommandError, match=r"lacks permissions the hub needs: .*order_histories \(post\)"):
        call_command("hub_endpoint", "test", "ps-fr")
    endpoint.credentials = {"webservice_key": "NOT0A0KEY0OF0THIS0SHOP0000000000"}
    endpoint.save()
    with pytest.raises(CommandError, match=r"refused the webservice key.*\[20\] Authentification key is not active"):
        call_command("hub_endpoint", "test", "ps-fr")


def test_a_key_without_a_resource_is_a_permanent_error_naming_it(ps_world):
    ps_world["sandbox"].add_key("READ0ONLY0KEY0FOR0THE0SHOP000000", {name: ["GET"] for name in ("products", "combinations", "stock_availables")})
    endpoint = ps_world["endpoint"]
    endpoint.credentials = {"webservice_key": "READ0ONLY0KEY0FOR0THE0SHOP000000"}
    endpoint.save()
    publish(ps_world)
    job = SyncJob.objects.get(flow="products.out", record_key=str(ps_world["lamp"].pk))
    assert job.error_class == "permanent"
    assert "[25] Method POST is not allowed for the resource products with this authentication key" in job.last_error


def test_prestashop_sends_no_webhooks_so_a_post_to_its_endpoint_is_refused_and_nothing_is_stored(ps_world, live_server):
    answer = requests.post(f"{live_server.url}/webhooks/ps-fr/", data=b"<order/>", timeout=5)
    assert answer.status_code == 404 and "polled" in answer.json()["error"]
    assert not InboxMessage.objects.exists()


@pytest.mark.parametrize("shape", ["array", "object"])
def test_an_empty_json_list_reads_as_no_items_in_both_shapes_the_shop_may_answer(ps_world, shape):
    ps_world["sandbox"].set_traps(json_empty_list=shape)
    client = PrestaShopClient(endpoint=ps_world["endpoint"])
    raw = requests.get(f"{ps_world['sandbox'].url}/api/stock_availables", params={"output_format": "JSON", "filter[id_product]": "[999]",
                                                                                  "display": "full"}, auth=(KEY, ""), timeout=5).json()
    assert raw == ([] if shape == "array" else {"stock_availables": []})
    assert client.list_json("stock_availables", params={"filter[id_product]": "[999]"}) == []
    assert Binding.objects.count() == 0
