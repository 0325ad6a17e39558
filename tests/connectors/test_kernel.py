"""The connector kernel: settings, sealed secrets, schedules, the binder, discovery."""

import re
import subprocess
from datetime import datetime, timedelta, timezone as dt_timezone
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from catalog.services import price_entry_set, price_list_create
from connectors import sync
from connectors.binder import ORDER, PRODUCT, Binder
from connectors.commerce.inbound import order_apply
from connectors.models import Endpoint, EndpointSchedule, SyncJob
from connectors.options import settings_clean
from connectors.registry import CONNECTORS
from django.core.management import call_command
from django.core.management.base import CommandError
from orders.models import SalesOrder
from tests.catalog.factories import ChannelCatalogFactory, ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop(db):
    channel = SalesChannelFactory(code="web")
    return Endpoint.objects.create(kind="shopify", code="shop", name="Shop", base_url="https://shop.example.com", channel=channel,
                                   credentials={"access_token": "shpat_secret_value"}, webhook_secret="whsec_value")


def test_credentials_are_stored_sealed_and_read_back_through_the_endpoint(shop):
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_sealed, webhook_secret_sealed FROM connectors_endpoint WHERE id = %s", [shop.pk])
        stored = " ".join(cursor.fetchone())
    assert "shpat_secret_value" not in stored and "whsec_value" not in stored
    fresh = Endpoint.objects.get(pk=shop.pk)
    assert fresh.credentials == {"access_token": "shpat_secret_value"} and fresh.webhook_secret == "whsec_value"


def test_a_new_credentials_key_first_in_the_list_reseals_and_the_old_key_can_then_go(shop, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.HUB_CREDENTIALS_KEYS = [old_key]
    shop.credentials, shop.webhook_secret = {"access_token": "rotated"}, "whsec_value"
    shop.save()
    settings.HUB_CREDENTIALS_KEYS = [new_key, old_key]
    call_command("hub_endpoint", "reseal")
    settings.HUB_CREDENTIALS_KEYS = [new_key]
    fresh = Endpoint.objects.get(pk=shop.pk)
    assert fresh.credentials == {"access_token": "rotated"} and fresh.webhook_secret == "whsec_value"
    settings.HUB_CREDENTIALS_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="cannot be opened"):
        call_command("hub_endpoint", "reseal")


def test_settings_are_validated_by_the_connectors_form_naming_what_is_wrong(db):
    WarehouseFactory(code="LYON")
    connector = CONNECTORS["shopify"]
    assert settings_clean(connector=connector, values={"warehouse_map": "LYON=1001"}) == {"price_list": None, "warehouse_map": {"LYON": "1001"}}
    with pytest.raises(ValidationError) as unknown_warehouse:
        settings_clean(connector=connector, values={"warehouse_map": "PARIS=1"})
    assert "PARIS" in str(unknown_warehouse.value)
    with pytest.raises(ValidationError) as unknown_setting:
        settings_clean(connector=connector, values={"colour": "blue"})
    assert "colour" in str(unknown_setting.value) and "warehouse_map" in str(unknown_setting.value)
    with pytest.raises(ValidationError) as unknown_list:
        settings_clean(connector=connector, values={"price_list": "NOPE"})
    assert "price_list" in unknown_list.value.message_dict


def test_each_scheduled_flow_gets_its_own_schedule_row_and_follows_its_interval(shop):
    now = timezone.now()
    sync.sync_schedule_due(now=now)
    rows = dict(EndpointSchedule.objects.filter(endpoint=shop).values_list("flow", "every_minutes"))
    assert rows == {"orders.poll": 10, "stock.reconcile": 360}
    EndpointSchedule.objects.filter(endpoint=shop, flow="orders.poll").update(every_minutes=2)
    assert sync.sync_schedule_due(now=now + timedelta(minutes=1)) == 0
    assert sync.sync_schedule_due(now=now + timedelta(minutes=3)) == 1  # only the poll is due again
    EndpointSchedule.objects.filter(endpoint=shop, flow="orders.poll").update(every_minutes=0)
    assert sync.sync_schedule_due(now=now + timedelta(minutes=30)) == 0


def test_a_price_change_on_a_base_list_queues_the_product_for_an_endpoint_publishing_a_derived_list(shop):
    base = price_list_create(code="BASE", name="Base")
    derived = price_list_create(code="PRO", name="Trade", base_price_list=base, base_adjustment_percent=Decimal("-10"))
    ChannelCatalogFactory(channel=shop.channel, public_price_list=base)
    shop.settings = {"price_list": derived.code}
    shop.save()
    lamp = ProductFactory(sku="LAMP")
    SyncJob.objects.all().delete()
    price_entry_set(price_list=base, product=lamp, unit_price="20.00")
    assert list(SyncJob.objects.filter(endpoint=shop, flow="products.out").values_list("record_key", flat=True)) == [str(lamp.pk)]


def test_the_binder_finds_binds_and_creates_once(shop):
    binder = Binder(shop)
    calls = []
    answer, created = binder.create_once(PRODUCT, 7, find=lambda: ("shop-1", {"id": "shop-1"}), create=lambda: calls.append("create"))
    assert (answer, created, calls) == ({"id": "shop-1"}, False, []) and binder.external_id(PRODUCT, 7) == "shop-1"
    answer, created = binder.create_once(PRODUCT, 7, find=lambda: calls.append("find"), create=lambda: calls.append("create"))
    assert (answer, created, calls) == (None, False, [])
    answer, created = binder.create_once(PRODUCT, 8, find=lambda: None, create=lambda: ("shop-2", {"id": "shop-2"}))
    assert created and binder.local_id(PRODUCT, "shop-2") == "8"


def _shop_order(*, updated_at: str, note: str) -> dict:
    return {"id": 4501, "name": "#1001", "email": "ana@example.com", "currency": "EUR", "financial_status": "paid",
            "taxes_included": True, "total_price": "24.00", "total_tax": "4.00", "created_at": "2026-11-30T10:00:00+01:00",
            "updated_at": updated_at, "note": note, "customer": {"id": 77, "first_name": "Ana", "last_name": "Lopez"},
            "line_items": [{"sku": "LAMP", "title": "Lamp", "quantity": 1, "price": "24.00",
                            "tax_lines": [{"price": "4.00", "rate": "0.2"}], "discount_allocations": []}]}


def test_an_order_update_older_than_the_one_applied_changes_nothing(shop):
    ProductFactory(sku="LAMP")
    newer = _shop_order(updated_at="2026-11-30T12:00:00+01:00", note="second")
    older = _shop_order(updated_at="2026-11-30T11:00:00+01:00", note="first")
    assert order_apply(endpoint=shop, order=newer) is True
    assert order_apply(endpoint=shop, order=older) is False
    order = SalesOrder.objects.get(pk=Binder(shop).local_id(ORDER, newer["id"]))
    assert order.notes == "second"


def test_no_code_outside_a_vendor_package_names_a_vendor():
    kinds = sorted(CONNECTORS)
    assert "shopify" in kinds
    for kind in kinds:
        listed = subprocess.run(["git", "grep", "-il", kind, "--", "connectors", f":!connectors/{kind}", ":!*/migrations/*"],
                                cwd=ROOT, capture_output=True, text=True).stdout.split()
        assert listed == [], f"{kind} is named outside connectors/{kind}/: {listed}"


@pytest.mark.postgres_only
def test_two_workers_refreshing_a_rotating_token_at_once_spend_it_once(transactional_db):
    import threading
    import time

    from django.db import connections

    from connectors.services import endpoint_credentials_refresh

    endpoint = Endpoint.objects.create(kind="shopify", code="books", name="Books", base_url="https://books.example.com",
                                       credentials={"refresh_token": "r1", "access_token": "a0", "expires_at": 0})
    spent = []

    def refresh(current):
        if current["expires_at"] > time.time():
            return None  # another worker refreshed while we waited for the lock
        spent.append(current["refresh_token"])
        time.sleep(0.2)
        number = len(spent) + 1
        return {"refresh_token": f"r{number}", "access_token": f"a{number}", "expires_at": time.time() + 1800}

    results = []

    def worker():
        try:
            results.append(endpoint_credentials_refresh(endpoint_id=endpoint.pk, refresh=refresh)["access_token"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert spent == ["r1"] and results == ["a2"] * 4
    assert Endpoint.objects.get(pk=endpoint.pk).credentials["refresh_token"] == "r2"


def test_a_job_whose_backoff_ended_is_dispatched_at_the_next_wake_not_the_next_tick(shop, monkeypatch):
    from connectors import waker

    dispatched = []
    monkeypatch.setattr(sync, "sync_dispatch", lambda: dispatched.append(1) or 1)
    start = timezone.now()
    assert waker.sync_wake(now=start) == 0  # first call only sets the clock
    job = SyncJob.objects.create(endpoint=shop, flow="products.out", record_key="1", next_attempt_at=start + timedelta(seconds=3))
    assert waker.sync_wake(now=start + timedelta(seconds=2)) == 0 and not dispatched  # not due yet
    assert waker.sync_wake(now=start + timedelta(seconds=2.5)) == 0  # same period: another process had it
    assert waker.sync_wake(now=start + timedelta(seconds=4)) == 1  # its backoff ended in this period
    assert waker.sync_wake(now=start + timedelta(seconds=6)) == 0  # already dispatched: not again
    assert len(dispatched) == 1 and SyncJob.objects.filter(pk=job.pk, status="pending").exists()
