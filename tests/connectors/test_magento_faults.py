"""Magento's traps over real HTTP: the last page answered again past the end, error messages as
templates, admin tokens that expire or are revoked, integration tokens the store may refuse, and a
server-error storm."""

import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.services import product_update
from connectors import sync
from connectors.magento import client as magento_client
from connectors.magento.client import render_message
from connectors.models import Endpoint, SyncJob
from orders.models import SalesOrder
from orders.services import shipment_create
from tests.connectors.magento_world import ADMIN, Shop, poll, publish, run_flows


def _place(world, count, **extra):
    return [world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], **extra}) for _ in range(count)]


def test_the_sandbox_answers_a_page_past_the_end_with_the_last_page_again_unless_told_otherwise(magento_world):
    publish(magento_world)
    placed = _place(magento_world, 3)
    shop = magento_world["shop"]
    past = shop.get("orders", **{"searchCriteria[pageSize]": 2, "searchCriteria[currentPage]": 9})
    assert past["total_count"] == 3 and [o["entity_id"] for o in past["items"]] == [placed[2]["entity_id"]]
    shop.control("settings", {"repeat_last_page": False})
    assert shop.get("orders", **{"searchCriteria[pageSize]": 2, "searchCriteria[currentPage]": 9})["items"] == []


@pytest.mark.parametrize("magento_options", [{"repeat_last_page": True}, {"repeat_last_page": False}])
def test_the_orders_poll_stops_on_total_count_and_takes_each_order_once(magento_world, magento_options, monkeypatch):
    monkeypatch.setattr(magento_client, "PAGE_SIZE", 2)
    publish(magento_world)
    placed = _place(magento_world, 5)
    poll(magento_world)
    assert sorted(SalesOrder.objects.values_list("external_id", flat=True)) == sorted(str(o["entity_id"]) for o in placed)
    order_pages = [r for r in magento_world["sandbox"].journal if r.method == "GET" and r.path.endswith("/V1/orders")]
    assert len(order_pages) == 3 and magento_world["sandbox"].stats["pages past the end"] == 0
    assert SyncJob.objects.get(flow="orders.poll").outcome.startswith("5 orders checked, 5 new")


def test_the_hub_pages_a_listing_whose_last_page_comes_back_without_looping_or_doubling(magento_world, monkeypatch):
    """Even when asked past the end (the total grew and shrank meanwhile), an item is yielded once and the listing ends."""
    monkeypatch.setattr(magento_client, "PAGE_SIZE", 2)
    publish(magento_world)
    _place(magento_world, 3)
    from connectors.flows import FlowContext
    from connectors.registry import connector_for

    endpoint = magento_world["endpoint"]
    client = FlowContext(endpoint=endpoint, connector=connector_for(endpoint)).client
    original = client.api

    def total_lies(method, resource, **kwargs):  # a total_count that says "more" forever
        answer = original(method, resource, **kwargs)
        return {**answer, "total_count": 1000} if resource == "orders" else answer

    monkeypatch.setattr(client, "api", total_lies)
    assert len(list(client.search("orders"))) == 3
    assert magento_world["sandbox"].stats["pages past the end"] == 1  # asked once past the end, then stopped


def test_magento_message_templates_are_rendered_with_their_parameters():
    assert render_message("Invalid product data: %1", ["Invalid attribute set entity type"]) == "Invalid product data: Invalid attribute set entity type"
    assert render_message("The consumer isn't authorized to access %resources.", {"resources": "Magento_Sales::actions_view"}) == \
        "The consumer isn't authorized to access Magento_Sales::actions_view."
    assert render_message("Invalid attribute %fieldName = %fieldValue.", ["SKU", "X-1"]) == "Invalid attribute SKU = X-1."
    assert render_message("%1 of %2", ["a"]) == "a of %2"


def test_an_error_body_with_placeholders_is_shown_rendered_in_the_console(magento_world, admin_client):
    from django.urls import reverse

    endpoint = magento_world["endpoint"]
    endpoint.settings = {**endpoint.settings, "attribute_map": {"Taille": "taille_fr"}}
    endpoint.save()
    publish(magento_world)
    job = SyncJob.objects.get(flow="products.out", record_label="SHIRT")
    assert job.status == "failed" and job.error_class == "permanent"
    assert 'The attribute with a "taille_fr" attributeCode doesn\'t exist. Verify the attribute and try again.' in job.last_error
    assert "%1" not in job.last_error
    page = admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk])).content.decode()
    assert "taille_fr" in page and "attributeCode doesn&#x27;t exist" in page
    console = admin_client.get(reverse("admin:connectors_console")).content.decode()
    assert "Boutique Magento" in console and '<td class="open-errors">' in console


def test_an_admin_token_is_fetched_again_before_it_expires_and_after_the_shop_revoked_it(magento_world):
    endpoint = magento_world["endpoint"]
    sandbox = magento_world["sandbox"]
    publish(magento_world)
    issued = sandbox.stats["admin tokens issued"]
    stored = Endpoint.objects.get(pk=endpoint.pk).credentials
    assert stored["admin_token"] and stored["admin_token_expires_at"] > time.time() + 3 * 3600
    endpoint = Endpoint.objects.get(pk=endpoint.pk)
    endpoint.credentials = {**stored, "admin_token_expires_at": time.time() + 60}  # about to expire
    endpoint.save()
    call_command("hub_endpoint", "test", endpoint.code)
    assert sandbox.stats["admin tokens issued"] == issued + 1 and sandbox.stats.get("401 sent", 0) == 0
    assert not [r for r in sandbox.journal if r.status == 401]
    sandbox.expire_tokens()  # removed by the shop's cron or revoked by an admin
    product_update(product=magento_world["lamp"], name="Lampe Baladeuse II")
    run_flows(endpoint, "products.out")
    assert SyncJob.objects.filter(flow="products.out", status="done", record_label="LAMP-1").count() == 2
    assert sandbox.stats["admin tokens issued"] == issued + 2 and len([r for r in sandbox.journal if r.status == 401]) == 1
    assert Shop(sandbox.url).get("products/LAMP-1")["name"] == "Lampe Baladeuse II"


def test_a_wrong_admin_password_is_a_clear_error_from_hub_endpoint_test(magento_world):
    endpoint = magento_world["endpoint"]
    endpoint.credentials = {"admin_username": ADMIN, "admin_password": "wrong"}
    endpoint.save()
    with pytest.raises(CommandError, match="sign-in was incorrect"):
        call_command("hub_endpoint", "test", endpoint.code)


@pytest.mark.parametrize("magento_options", [{"integration_token": "int-token-1"}])
def test_an_integration_token_works_only_where_the_store_accepts_it_as_a_bearer_token(magento_world, magento_options):
    endpoint = magento_world["endpoint"]
    endpoint.credentials = {"access_token": "int-token-1"}
    endpoint.save()
    issued = magento_world["sandbox"].stats["admin tokens issued"]
    with pytest.raises(CommandError, match="integration tokens as bearer tokens"):
        call_command("hub_endpoint", "test", endpoint.code)
    magento_world["shop"].control("settings", {"integration_as_bearer": True})
    call_command("hub_endpoint", "test", endpoint.code)
    assert magento_world["sandbox"].stats["admin tokens issued"] == issued  # the integration token, as is


@pytest.mark.slow
def test_a_server_error_storm_delays_everything_and_loses_or_doubles_nothing(magento_world, monkeypatch):
    monkeypatch.setattr(sync, "BACKOFF_BASE_SECONDS", 1)
    publish(magento_world)
    placed = _place(magento_world, 2)
    poll(magento_world)
    magento_world["sandbox"].set_faults(fail_5xx={"seconds": 8})
    started = time.monotonic()
    more = _place(magento_world, 2)
    product_update(product=magento_world["lamp"], name="Lampe (tempête)")
    order = SalesOrder.objects.get(external_id=str(placed[0]["entity_id"]))
    shipment_create(order=order, warehouse=magento_world["lyon"], lines=[(order.lines.get(), 1)], carrier="UPS", tracking_numbers=["1ZSTORM"])
    endpoint = magento_world["endpoint"]
    flows = ("products.out", "stock.out", "fulfilments.out", "orders.poll")
    sync.sync_job_enqueue(endpoint=endpoint, flow="orders.poll", record_key=sync.SCHEDULED_KEY)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        sync.sync_sweep()
        for flow in flows:
            sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=5)
        if not SyncJob.objects.filter(endpoint=endpoint, status__in=["pending", "running"]).exists():
            break
        time.sleep(0.5)
    assert time.monotonic() - started >= 8 and magento_world["sandbox"].stats["5xx sent"] > 0
    assert not SyncJob.objects.exclude(status__in=["done", "resolved"]).exists(), list(SyncJob.objects.exclude(status="done").values("flow", "last_error"))
    assert sorted(SalesOrder.objects.values_list("external_id", flat=True)) == sorted(str(o["entity_id"]) for o in placed + more)
    shipments = magento_world["shop"].search("shipments", order_id=placed[0]["entity_id"])
    assert [t["track_number"] for s in shipments for t in s["tracks"]] == ["1ZSTORM"]
    assert magento_world["shop"].get("products/LAMP-1")["name"] == "Lampe (tempête)"
    assert magento_world["sandbox"].stats["products created"] == 4
