"""The price API's per-process cache: any change to what a price depends on is visible on the very
next call, however it was written (services, ORM bulk updates, raw SQL), because database
triggers record what changed, and each call reads the changes committed since the last one.

These tests commit (transactional database): the cache keeps only data read outside a
transaction that has written, as another process's write would be seen in production."""

import os
import subprocess
import sys
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog import services
from catalog.models import ChannelCatalog, PriceEntry, PriceList, Product
from catalog.pricing.cache import CUSTOMERS, SKUS, price_cache
from hub.services import api_token_create, api_token_revoke
from orders import pricing
from orders.models import Customer
from tests.catalog.factories import ChannelCatalogFactory, PriceEntryFactory, PriceListFactory, ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.pricing.factories import CustomerFactory, CustomerGroupFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop():
    channel = SalesChannelFactory(code="b2b-portal")
    public = PriceListFactory(code="PUBLIC")
    ChannelCatalogFactory(channel=channel, public_price_list=public)
    group_list = PriceListFactory(code="PRO")
    group = CustomerGroupFactory(code="pros")
    group.price_lists.add(group_list)
    customer = CustomerFactory(code="ACME", group=group, channels=[channel])
    lamp, garland = ProductFactory(sku="LAMP"), ProductFactory(sku="GARLAND")
    PriceEntryFactory(price_list=public, product=lamp, unit_price=Decimal("20.00"))
    PriceEntryFactory(price_list=public, product=garland, unit_price=Decimal("35.00"))
    PriceEntryFactory(price_list=group_list, product=lamp, unit_price=Decimal("16.00"))
    token, key = api_token_create(channel=channel)
    return {"channel": channel, "customer": customer, "group": group, "public": public, "group_list": group_list,
            "lamp": lamp, "garland": garland, "token": token, "key": key}


def lamp(client, shop, customer="ACME", sku="LAMP"):
    response = client.get(f"/api/v1/prices/?customer={customer}&sku={sku}", HTTP_AUTHORIZATION=f"Token {shop['key']}")
    if response.status_code != 200:
        return response.status_code
    line = response.json()["lines"][0]
    return line.get("unit_price", line.get("error")), line.get("price_list"), line.get("reference_price")


def generation_sum():
    """How many pricing-write transactions (PostgreSQL) or written rows (SQLite) committed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT CAST(SUM(value) AS BIGINT) FROM pricing_slot")
        return cursor.fetchone()[0]


def cached_skus():
    return set(price_cache.maps[SKUS])


def test_the_cache_is_on_and_a_repeated_call_reads_only_what_changed_since(client, shop, django_assert_num_queries):
    assert pricing.price_cache_size() > 0
    assert lamp(client, shop) == ("16.00", "PRO", "20.00")
    assert "LAMP" in cached_skus()
    with django_assert_num_queries(1) as captured:
        assert lamp(client, shop) == ("16.00", "PRO", "20.00")
    assert "pricing_slot" in captured.captured_queries[0]["sql"]  # the token, customer and prices came from the cache


def test_a_price_set_through_the_services_shows_on_the_next_call(client, shop):
    assert lamp(client, shop)[0] == "16.00"
    services.price_entry_set(price_list=shop["group_list"], product=shop["lamp"], unit_price="15.25")
    assert lamp(client, shop)[0] == "15.25"


def test_a_bulk_update_of_prices_shows_on_the_next_call(client, shop):
    assert lamp(client, shop)[0] == "16.00"
    PriceEntry.objects.filter(price_list=shop["group_list"]).update(unit_price=Decimal("12.10"))
    assert lamp(client, shop)[0] == "12.10"
    PriceEntry.objects.filter(price_list=shop["group_list"]).delete()
    assert lamp(client, shop)[:2] == ("20.00", "PUBLIC")


def test_a_raw_sql_price_change_shows_on_the_next_call(client, shop):
    assert lamp(client, shop)[0] == "16.00"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_priceentry SET unit_price = 11.5 WHERE price_list_id = %s", [shop["group_list"].pk])
    assert lamp(client, shop)[0] == "11.50"
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO catalog_priceentry (price_list_id, product_id, min_quantity, unit_price, updated_at)"
                       " VALUES (%s, %s, 1, 30, %s)", [shop["group_list"].pk, shop["garland"].pk, timezone.now()])
    assert lamp(client, shop, sku="GARLAND")[:2] == ("30.00", "PRO")


def test_a_list_validity_or_activity_change_shows_on_the_next_call(client, shop):
    assert lamp(client, shop)[1] == "PRO"
    services.price_list_update(price_list=shop["group_list"], valid_to=timezone.localdate() - timedelta(days=1), valid_from=None)
    assert lamp(client, shop)[1] == "PUBLIC"
    PriceList.objects.filter(pk=shop["group_list"].pk).update(valid_to=None)
    assert lamp(client, shop)[1] == "PRO"
    PriceList.objects.filter(pk=shop["group_list"].pk).update(is_active=False)
    assert lamp(client, shop)[1] == "PUBLIC"


def test_a_derived_lists_adjustment_change_shows_on_the_next_call(client, shop):
    derived = services.price_list_create(code="PUBLIC-10", name="Public − 10 %", base_price_list=shop["public"],
                                         base_adjustment_percent=Decimal("-10"))
    shop["customer"].price_lists.add(derived)
    assert lamp(client, shop, sku="GARLAND")[:2] == ("31.50", "PUBLIC-10")
    PriceList.objects.filter(pk=derived.pk).update(base_adjustment_percent=Decimal("-20"))
    assert lamp(client, shop, sku="GARLAND")[:2] == ("28.00", "PUBLIC-10")


def test_customer_reassignments_show_on_the_next_call(client, shop):
    customer = shop["customer"]
    assert lamp(client, shop)[1] == "PRO"
    own = PriceListFactory(code="ACME-LIST")
    PriceEntryFactory(price_list=own, product=shop["lamp"], unit_price=Decimal("9.00"))
    customer.price_lists.add(own)
    assert lamp(client, shop)[:2] == ("9.00", "ACME-LIST")
    customer.price_lists.remove(own)
    assert lamp(client, shop)[:2] == ("16.00", "PRO")
    contract = PriceListFactory(code="ACME-CONTRACT")
    PriceEntryFactory(price_list=contract, product=shop["lamp"], unit_price=Decimal("17.00"))
    Customer.objects.filter(pk=customer.pk).update(contract_price_list=contract)
    assert lamp(client, shop)[:2] == ("17.00", "ACME-CONTRACT")
    Customer.objects.filter(pk=customer.pk).update(currency="GBP")
    assert lamp(client, shop)[0] == "no_price"


def test_a_group_change_or_a_groups_lists_change_shows_on_the_next_call(client, shop):
    assert lamp(client, shop)[1] == "PRO"
    other_list = PriceListFactory(code="RESELLER")
    PriceEntryFactory(price_list=other_list, product=shop["lamp"], unit_price=Decimal("14.00"))
    resellers = CustomerGroupFactory(code="resellers")
    resellers.price_lists.add(other_list)
    shop["customer"].group = resellers
    shop["customer"].save()
    assert lamp(client, shop)[:2] == ("14.00", "RESELLER")
    resellers.price_lists.clear()
    assert lamp(client, shop)[:2] == ("20.00", "PUBLIC")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE orders_customer SET group_id = NULL WHERE id = %s", [shop["customer"].pk])
    shop["group"].price_lists.add(other_list)
    assert lamp(client, shop)[:2] == ("20.00", "PUBLIC")


def test_a_customer_leaving_the_channel_or_deactivated_gets_404_on_the_next_call(client, shop):
    assert lamp(client, shop)[0] == "16.00"
    shop["customer"].channels.clear()
    assert lamp(client, shop) == 404
    shop["customer"].channels.add(shop["channel"])
    assert lamp(client, shop)[0] == "16.00"
    Customer.objects.filter(pk=shop["customer"].pk).update(is_active=False)
    assert lamp(client, shop) == 404
    assert lamp(client, shop, customer="NEWCO") == 404
    CustomerFactory(code="NEWCO", channels=[shop["channel"]])
    assert lamp(client, shop, customer="NEWCO")[:2] == ("20.00", "PUBLIC")


def test_the_channels_public_list_change_shows_on_the_next_call(client, shop):
    assert lamp(client, shop, sku="GARLAND")[2] == "35.00"
    new_public = PriceListFactory(code="PUBLIC-2027")
    PriceEntryFactory(price_list=new_public, product=shop["garland"], unit_price=Decimal("36.00"))
    ChannelCatalog.objects.filter(channel=shop["channel"]).update(public_price_list=new_public)
    assert lamp(client, shop, sku="GARLAND") == ("36.00", "PUBLIC-2027", "36.00")


def test_archived_reactivated_and_new_products_show_on_the_next_call(client, shop):
    assert lamp(client, shop)[0] == "16.00"
    services.product_archive(product=shop["lamp"])
    assert lamp(client, shop)[0] == "unknown_sku"
    Product.objects.filter(pk=shop["lamp"].pk).update(status=Product.Status.ACTIVE)
    assert lamp(client, shop)[0] == "16.00"
    assert lamp(client, shop, sku="CHAIR")[0] == "unknown_sku"
    chair = ProductFactory(sku="CHAIR")
    PriceEntryFactory(price_list=shop["public"], product=chair, unit_price=Decimal("80.00"))
    assert lamp(client, shop, sku="CHAIR")[:2] == ("80.00", "PUBLIC")
    Product.objects.filter(pk=chair.pk).update(sku="CHAIR-2")
    assert lamp(client, shop, sku="CHAIR")[0] == "unknown_sku"
    assert lamp(client, shop, sku="CHAIR-2")[0] == "80.00"


def test_a_product_saved_without_a_status_or_sku_change_keeps_the_cache(client, shop):
    assert lamp(client, shop)[0] == "16.00"
    generation = generation_sum()
    services.product_update(product=shop["lamp"], name="Desk lamp, brushed steel")
    assert lamp(client, shop)[0] == "16.00"
    assert generation_sum() == generation and "LAMP" in cached_skus()


def test_a_revoked_token_or_deactivated_channel_gets_401_on_the_next_call(client, shop):
    assert lamp(client, shop)[0] == "16.00"
    api_token_revoke(token=shop["token"])
    assert lamp(client, shop) == 401
    _, shop["key"] = api_token_create(channel=shop["channel"])
    assert lamp(client, shop)[0] == "16.00"
    shop["channel"].is_active = False
    shop["channel"].save()
    assert lamp(client, shop) == 401


def test_data_read_inside_a_transaction_that_wrote_is_not_kept(client, shop):
    assert lamp(client, shop)[0] == "16.00"

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        PriceEntry.objects.filter(price_list=shop["group_list"]).update(unit_price=Decimal("1.00"))
        assert lamp(client, shop)[0] == "1.00"  # its own write, seen inside the transaction
        raise Rollback
    assert lamp(client, shop)[0] == "16.00"
    # Another committed write leaves the generation where the rolled-back one had taken it.
    PriceEntry.objects.filter(price_list=shop["group_list"]).update(unit_price=Decimal("2.00"))
    assert lamp(client, shop)[0] == "2.00"


def test_cached_answers_equal_uncached_ones(client, shop, settings):
    derived = services.price_list_create(code="PUBLIC-12", name="Public − 12 %", base_price_list=shop["public"],
                                         base_adjustment_percent=Decimal("-12"))
    shop["group"].price_lists.add(derived)
    PriceEntryFactory(price_list=shop["group_list"], product=shop["lamp"], min_quantity=10, unit_price=Decimal("14.50"))
    body = {"customer": "ACME", "lines": [{"sku": s, "quantity": q} for s in ("LAMP", "GARLAND", "NOPE") for q in (1, 9, 10, 500)]}

    def quote():
        return client.post("/api/v1/prices/quote/", body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Token {shop['key']}").json()

    first, from_cache = quote(), quote()
    settings.HUB_PRICE_CACHE_SKUS = 0
    uncached = quote()
    assert first == from_cache == uncached
    assert [line.get("unit_price") for line in uncached["lines"][4:8]] == ["30.80"] * 4  # GARLAND via PUBLIC-12


def test_the_generation_grows_with_each_committed_write(shop):
    before = generation_sum()
    services.price_entry_set(price_list=shop["public"], product=shop["garland"], unit_price="36")
    after_one = generation_sum()
    shop["customer"].price_lists.add(shop["public"])
    assert before < after_one < generation_sum()


def in_thread(work):
    """Run `work` on its own database connection; returns (thread, errors)."""
    errors = []

    def run():
        try:
            work()
        except Exception as exc:  # pragma: no cover - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def set_lock_timeout(ms):
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{int(ms)}ms'")


@pytest.mark.postgres_only
def test_writers_of_different_prices_never_wait_on_the_pricing_counter(shop):
    """One import holds its transaction open; admin edits of other prices go through at once."""
    holding, release = threading.Event(), threading.Event()

    def long_import():
        with transaction.atomic():
            services.price_entry_set(price_list=shop["public"], product=shop["lamp"], unit_price="21")
            holding.set()
            release.wait(30)

    thread, errors = in_thread(long_import)
    assert holding.wait(10)
    before = generation_sum()
    try:
        for cents in range(40):
            with transaction.atomic():
                set_lock_timeout(1000)
                services.price_entry_set(price_list=shop["public"], product=shop["garland"], unit_price=f"35.{cents:02d}")
    finally:
        release.set()
        thread.join()
    assert errors == []
    assert generation_sum() == before + 41  # 40 edits, then the import committed
    assert PriceEntry.objects.get(price_list=shop["public"], product=shop["garland"]).unit_price == Decimal("35.39")


@pytest.mark.postgres_only
def test_two_writers_crossing_on_the_same_prices_do_not_deadlock(shop):
    """A writes LAMP then GARLAND; B writes GARLAND in between: A waits for B, as without the
    counter, and both commit."""
    a_wrote_lamp, b_wrote_garland = threading.Event(), threading.Event()

    def writer_a():
        with transaction.atomic():
            services.price_entry_set(price_list=shop["public"], product=shop["lamp"], unit_price="22")
            a_wrote_lamp.set()
            b_wrote_garland.wait(10)
            services.price_entry_set(price_list=shop["public"], product=shop["garland"], unit_price="38")

    before = generation_sum()
    for _ in range(10):
        a_wrote_lamp.clear()
        b_wrote_garland.clear()
        thread, errors = in_thread(writer_a)
        assert a_wrote_lamp.wait(10)
        with transaction.atomic():
            set_lock_timeout(5000)
            services.price_entry_set(price_list=shop["public"], product=shop["garland"], unit_price="37")
            b_wrote_garland.set()
            threading.Event().wait(0.05)  # A is now queued behind this transaction's GARLAND row
        thread.join()
        assert errors == []
    assert generation_sum() == before + 20
    prices = dict(PriceEntry.objects.filter(price_list=shop["public"]).values_list("product__sku", "unit_price"))
    assert prices == {"LAMP": Decimal("22.00"), "GARLAND": Decimal("38.00")}


@pytest.mark.postgres_only
def test_a_transaction_bumps_the_generation_once_and_again_after_a_rolled_back_savepoint(shop):
    before = generation_sum()
    with transaction.atomic():
        services.price_entry_set(price_list=shop["public"], product=shop["lamp"], unit_price="23")
        services.price_entry_set(price_list=shop["public"], product=shop["garland"], unit_price="39")
    assert generation_sum() == before + 1
    with transaction.atomic():
        try:
            with transaction.atomic():
                services.price_entry_set(price_list=shop["public"], product=shop["lamp"], unit_price="24")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        services.price_entry_set(price_list=shop["public"], product=shop["garland"], unit_price="40")
    assert generation_sum() == before + 2


@pytest.mark.django_db(transaction=False)
def test_every_change_trigger_exists_or_the_cache_stays_off(settings):
    assert pricing.price_cache_size() > 0
    # A later migration that rebuilds one of these tables on SQLite would drop its triggers:
    # the cache must then switch itself off rather than serve stale prices.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER pricing_change_catalog_priceentry ON catalog_priceentry")
        else:
            cursor.execute("DROP TRIGGER pricing_change_catalog_priceentry_U")
    price_cache.clear()
    try:
        assert pricing.price_cache_size() == 0
    finally:
        price_cache.clear()  # the test's transaction is rolled back: the trigger comes back


def test_a_price_write_evicts_only_the_skus_it_touched(client, shop):
    assert lamp(client, shop)[0] == "16.00" and lamp(client, shop, sku="GARLAND")[0] == "35.00"
    services.price_entry_set(price_list=shop["public"], product=shop["garland"], unit_price="36")
    assert lamp(client, shop)[0] == "16.00"
    assert "LAMP" in cached_skus() and "GARLAND" not in cached_skus()
    assert lamp(client, shop, sku="GARLAND")[0] == "36.00"


def test_a_customer_change_evicts_only_that_customer(client, shop):
    beta = CustomerFactory(code="BETA", channels=[shop["channel"]])
    assert lamp(client, shop)[0] == "16.00" and lamp(client, shop, customer="BETA")[0] == "20.00"
    Customer.objects.filter(pk=beta.pk).update(currency="GBP")
    assert lamp(client, shop)[0] == "16.00"
    assert "ACME" in price_cache.maps[CUSTOMERS] and "BETA" not in price_cache.maps[CUSTOMERS]
    assert lamp(client, shop, customer="BETA")[0] == "no_price"


def database_url():
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def test_every_answer_after_a_price_import_by_another_process_is_the_new_price(client, shop, tmp_path):
    skus = [f"IMP-{i:03d}" for i in range(60)]
    for sku in skus:
        PriceEntryFactory(price_list=shop["public"], product=ProductFactory(sku=sku), unit_price=Decimal("10.00"))

    def prices():
        body = {"customer": "ACME", "lines": [{"sku": sku, "quantity": 1} for sku in skus]}
        answer = client.post("/api/v1/prices/quote/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {shop['key']}")
        return {line["unit_price"] for line in answer.json()["lines"]}

    assert prices() == {"10.00"} and lamp(client, shop)[0] == "16.00"
    assert set(skus) | {"LAMP"} <= cached_skus()
    path = tmp_path / "prices.csv"
    path.write_text("price_list,sku,unit_price\n" + "".join(f"PUBLIC,{sku},12.50\n" for sku in skus))
    env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "1"}
    subprocess.run([sys.executable, "manage.py", "hub_import", "prices", str(path), "--no-progress"], env=env, check=True,
                   cwd=settings.BASE_DIR, capture_output=True)
    assert prices() == {"12.50"}
    assert "LAMP" in cached_skus()  # untouched by the import: still kept
    assert lamp(client, shop)[0] == "16.00"


def test_a_process_that_missed_pruned_changes_drops_everything_and_stays_right(client, shop):
    assert lamp(client, shop)[0] == "16.00" and lamp(client, shop, sku="GARLAND")[0] == "35.00"
    services.price_entry_set(price_list=shop["group_list"], product=shop["lamp"], unit_price="15.00")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM pricing_change")  # pruned before this process read them
    assert lamp(client, shop, sku="GARLAND")[0] == "35.00"
    assert cached_skus() == {"GARLAND"}  # everything was dropped, then GARLAND read again
    assert lamp(client, shop)[0] == "15.00"
