"""Shopify end to end over real HTTP: the hub (served on a local port) and the Shopify sandbox
shop talk to each other exactly as they would in production."""

import time

from catalog.services import price_entry_set, product_create, product_update
from connectors import sync
from connectors.commerce.flows import StockReconcile
from connectors.models import Binding, InboxMessage, SyncJob
from inventory import services as stock
from orders.models import SalesOrder
from orders.services import order_cancel, shipment_create
from tests.connectors.shopify_world import publish, run_flows, shop_available, wait_for_inbox


def test_a_product_goes_out_with_its_price_and_its_stock_at_the_mapped_location(world):
    publish(world)
    products = world["shop"].get("products.json")["products"]
    assert [(p["title"], p["variants"][0]["sku"], p["variants"][0]["price"]) for p in products] == [("Lampe Baladeuse", "LAMP-1", "25.00")]
    assert Binding.objects.get(endpoint=world["endpoint"], model="product").external_id == str(products[0]["id"])
    assert shop_available(world) == 10
    product_update(product=world["lamp"], name="Lampe Baladeuse LED")
    run_flows(world["endpoint"], "products.out")
    assert world["shop"].get(f"products/{products[0]['id']}.json")["product"]["title"] == "Lampe Baladeuse LED"
    assert len(world["shop"].get("products.json")["products"]) == 1


def test_an_order_placed_in_the_shop_is_reserved_shipped_and_fulfilled_back_with_tracking(world):
    publish(world)
    placed = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 2}], "email": "jon@example.com",
                                              "financial_status": "paid"})
    order_id = str(placed["order"]["id"])
    wait_for_inbox("orders/create", order_id)
    order = SalesOrder.objects.get(external_id=order_id)
    assert order.status == "allocated" and order.total > 0
    run_flows(world["endpoint"], "stock.out")
    assert shop_available(world) == 8
    shipment_create(order=order, warehouse=world["lyon"], lines=[(order.lines.get(), 2)], carrier="Colissimo",
                    tracking_numbers=["6A123456789"], tracking_urls=["https://track.example/6A123456789"])
    run_flows(world["endpoint"], "fulfilments.out")
    shop_order = world["shop"].get(f"orders/{order_id}.json")["order"]
    assert [(f["tracking_number"], f["tracking_company"]) for f in shop_order["fulfillments"]] == [("6A123456789", "Colissimo")]
    assert SyncJob.objects.get(flow="fulfilments.out").status == "done"


def test_a_cancellation_in_the_hub_cancels_the_shop_order_and_one_in_the_shop_cancels_the_hub_order(world):
    publish(world)
    first = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "a@example.com", "financial_status": "paid"})
    second = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "b@example.com", "financial_status": "paid"})
    first_id, second_id = (str(o["order"]["id"]) for o in (first, second))
    wait_for_inbox("orders/create", first_id)
    wait_for_inbox("orders/create", second_id)
    order_cancel(order=SalesOrder.objects.get(external_id=first_id), reason="customer asked by phone")
    run_flows(world["endpoint"], "cancellations.out")
    assert world["shop"].get(f"orders/{first_id}.json")["order"]["cancelled_at"]

    world["shop"].control(f"orders/{second_id}/cancel", {"reason": "customer"})
    wait_for_inbox("orders/cancelled", second_id)
    assert SalesOrder.objects.get(external_id=second_id).status == "cancelled"
    assert not SyncJob.objects.filter(flow="cancellations.out", record_key=str(SalesOrder.objects.get(external_id=second_id).pk)).exists()


def test_the_same_order_webhook_delivered_five_times_makes_one_order(world):
    publish(world)
    world["sandbox"].set_faults(webhook_duplicate_rate=1.0)
    placed = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "dup@example.com", "financial_status": "paid"})
    order_id = str(placed["order"]["id"])
    wait_for_inbox("orders/create", order_id)
    deadline = time.monotonic() + 10
    while not InboxMessage.objects.filter(topic="orders/create", status="duplicate").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    messages = InboxMessage.objects.filter(topic="orders/create")
    assert messages.count() >= 2 and messages.filter(status="duplicate").exists()
    assert SalesOrder.objects.filter(external_id=order_id).count() == 1


def test_orders_missed_by_webhooks_are_found_by_polling(world):
    publish(world)
    world["sandbox"].set_faults(drop_webhooks=True)
    placed = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "poll@example.com", "financial_status": "paid"})
    order_id = str(placed["order"]["id"])
    assert not SalesOrder.objects.filter(external_id=order_id).exists()
    sync.sync_job_enqueue(endpoint=world["endpoint"], flow="orders.poll", record_key="*", label="poll")
    run_flows(world["endpoint"], "orders.poll")
    assert SalesOrder.objects.get(external_id=order_id).status == "allocated"
    assert SyncJob.objects.get(flow="orders.poll").outcome.startswith("1 orders checked, 1 new")


def test_the_stock_reconcile_corrects_only_what_differs_in_the_shop(world):
    publish(world)
    lamp2 = product_create(sku="LAMP-2", name="Lampe 2", status="active")
    price_entry_set(price_list=world["endpoint"].channel.catalog.public_price_list, product=lamp2, unit_price="30.00")
    stock.stock_receive(product=lamp2, warehouse=world["lyon"], quantity=4)
    sync.sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(lamp2.pk), label="LAMP-2")
    run_flows(world["endpoint"], "products.out", "stock.out")
    assert shop_available(world, "LAMP-2") == 4
    item = Binding.objects.get(endpoint=world["endpoint"], model="variant", data__sku="LAMP-1").data["inventory_item_id"]
    world["shop"].http.post(f"{world['shop'].url}/admin/api/2025-01/inventory_levels/set.json", timeout=10,
                            json={"location_id": int(world["location"]), "inventory_item_id": int(item), "available": 99}).raise_for_status()
    before = world["sandbox"].stats.get("quantities set", 0)
    sync.sync_job_enqueue(endpoint=world["endpoint"], flow="stock.reconcile", record_key="*", label="reconcile")
    run_flows(world["endpoint"], "stock.reconcile")
    assert shop_available(world, "LAMP-1") == 10 and shop_available(world, "LAMP-2") == 4
    assert world["sandbox"].stats["quantities set"] - before == 1  # only the drifted level was sent
    assert SyncJob.objects.get(flow="stock.reconcile").outcome == "checked 2 variants at 1 locations, corrected 1"


def test_the_stock_reconcile_pages_through_the_catalogue_one_run_per_page_and_starts_over_next_time(world, monkeypatch):
    monkeypatch.setattr(StockReconcile, "page_size", 2)
    public = world["endpoint"].channel.catalog.public_price_list
    for n in range(2, 6):
        product = product_create(sku=f"LAMP-{n}", name=f"Lampe {n}", status="active")
        price_entry_set(price_list=public, product=product, unit_price="30.00")
        stock.stock_receive(product=product, warehouse=world["lyon"], quantity=n)
        sync.sync_job_enqueue(endpoint=world["endpoint"], flow="products.out", record_key=str(product.pk), label=product.sku)
    publish(world)
    for sku in ("LAMP-2", "LAMP-5"):  # drifted in the shop
        item = Binding.objects.get(endpoint=world["endpoint"], model="variant", data__sku=sku).data["inventory_item_id"]
        world["shop"].http.post(f"{world['shop'].url}/admin/api/2025-01/inventory_levels/set.json", timeout=10,
                                json={"location_id": int(world["location"]), "inventory_item_id": int(item), "available": 99}).raise_for_status()
    reads_before = world["sandbox"].stats.get("GET inventory_levels.json", 0)

    sync.sync_job_enqueue(endpoint=world["endpoint"], flow="stock.reconcile", record_key="*", label="reconcile")
    run_flows(world["endpoint"], "stock.reconcile")

    assert world["sandbox"].stats["GET inventory_levels.json"] - reads_before == 3  # each run read only its page
    assert [shop_available(world, f"LAMP-{n}") for n in range(1, 6)] == [10, 2, 3, 4, 5]
    runs = list(SyncJob.objects.filter(flow="stock.reconcile").order_by("pk").values_list("status", "outcome"))
    assert [(status, outcome.split(",")[0], outcome.endswith("next page queued")) for status, outcome in runs] == [
        ("done", "checked 2 variants at 1 locations", True), ("done", "checked 2 variants at 1 locations", True),
        ("done", "checked 1 variants at 1 locations", False)]
    assert sum(int(outcome.split("corrected ")[1].split(";")[0]) for _, outcome in runs) == 2

    sync.sync_job_enqueue(endpoint=world["endpoint"], flow="stock.reconcile", record_key="*", label="reconcile")
    run_flows(world["endpoint"], "stock.reconcile")
    assert SyncJob.objects.filter(flow="stock.reconcile").count() == 6  # the next pass starts again from the first page
    assert SyncJob.objects.filter(flow="stock.reconcile").order_by("-pk").first().outcome == "checked 1 variants at 1 locations, corrected 0"
