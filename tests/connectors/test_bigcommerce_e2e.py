"""BigCommerce end to end over real HTTP: the hub (served on a local port) and the BigCommerce
sandbox store, with signed order webhooks and the orders poll as their safety net."""

import json
import time
from decimal import Decimal

import requests

from catalog.services import price_entry_set
from connectors.bigcommerce.sandbox import standard_signature
from connectors.models import Binding, InboxMessage, SyncJob
from inventory import services as stock
from orders.models import SalesOrder
from orders.services import order_cancel, shipment_create
from returns.models import Rma
from tests.connectors.bigcommerce_world import CLIENT_SECRET, deliveries, delivered, poll, publish, run_flows


def _place(world, lines, **extra):
    return world["store"].control("orders", {"lines": lines, **extra})


def test_products_with_variants_go_out_with_prices_and_stock_per_location(bc_world):
    publish(bc_world)
    store = bc_world["store"]
    lamp, shirt = store.product("LAMP-1"), store.product("SHIRT")
    assert (lamp["price"], lamp["inventory_tracking"], lamp["weight"]) == (25.0, "product", 1.2)
    variants = {v["sku"]: v for v in shirt["variants"]}
    assert shirt["inventory_tracking"] == "variant" and set(variants) == {"SHIRT-S", "SHIRT-M"}
    assert {v["option_values"][0]["label"] for v in variants.values()} == {"S", "M"} and {v["calculated_price"] for v in variants.values()} == {39.0}
    assert store.levels(lamp["variants"][0]["id"]) == {1: 10, 2: 4}
    assert store.levels(variants["SHIRT-M"]["id"]) == {1: 10, 2: 0}
    price_entry_set(price_list=bc_world["endpoint"].channel.catalog.public_price_list, product=bc_world["sizes"][0], unit_price="35.00")
    stock.stock_adjust(product=bc_world["lamp"], warehouse=bc_world["lyon"], quantity_delta=-3, reason="damaged")
    run_flows(bc_world["endpoint"], "products.out", "stock.out")
    assert {v["sku"]: v["calculated_price"] for v in store.product("SHIRT")["variants"]} == {"SHIRT-S": 35.0, "SHIRT-M": 39.0}
    assert store.levels(lamp["variants"][0]["id"]) == {1: 7, 2: 4}
    assert bc_world["sandbox"].stats["products created"] == 2


def test_an_order_from_a_signed_webhook_is_reserved_then_shipped_with_tracking(bc_world):
    publish(bc_world)
    placed = _place(bc_world, [{"sku": "LAMP-1", "quantity": 2}, {"sku": "SHIRT-M", "quantity": 1}], coupon_percent=10)
    delivered(bc_world, "store/order/created", placed["id"])
    order = SalesOrder.objects.get(external_id=str(placed["id"]))
    assert order.status == "allocated" and order.total == Decimal(placed["total_inc_tax"])
    assert sorted((line.sku, line.quantity) for line in order.lines.all()) == [("LAMP-1", 2), ("SHIRT-M", 1)]
    shipment_create(order=order, warehouse=bc_world["lyon"], lines=[(line, line.quantity) for line in order.lines.all()],
                    carrier="Colissimo", tracking_numbers=["6A111"], tracking_urls=["https://track.example/6A111"])
    run_flows(bc_world["endpoint"], "fulfilments.out")
    shipments = bc_world["store"].get(f"v2/orders/{placed['id']}/shipments")
    assert [(s["tracking_number"], s["tracking_carrier"], s["tracking_link"]) for s in shipments] == [("6A111", "colissimo", "https://track.example/6A111")]
    assert bc_world["store"].get(f"v2/orders/{placed['id']}")["status_id"] == 2
    run_flows(bc_world["endpoint"], "fulfilments.out")
    assert SyncJob.objects.get(flow="fulfilments.out").status == "done"
    assert len(bc_world["store"].get(f"v2/orders/{placed['id']}/shipments")) == 1
    delivered(bc_world, "store/order/statusUpdated", placed["id"])  # the store's own echo of the shipment changes nothing
    assert SalesOrder.objects.get(pk=order.pk).status == "shipped"


def test_cancellations_go_both_ways(bc_world):
    publish(bc_world)
    first, second = (_place(bc_world, [{"sku": "LAMP-1", "quantity": 1}]) for _ in range(2))
    delivered(bc_world, "store/order/created", first["id"])
    delivered(bc_world, "store/order/created", second["id"])
    order_cancel(order=SalesOrder.objects.get(external_id=str(first["id"])), reason="customer called")
    run_flows(bc_world["endpoint"], "cancellations.out")
    assert bc_world["store"].get(f"v2/orders/{first['id']}")["status_id"] == 5
    updates = deliveries("store/order/statusUpdated", second["id"])
    bc_world["store"].control(f"orders/{second['id']}/status", {"status_id": 5})
    delivered(bc_world, "store/order/statusUpdated", second["id"], count=updates + 1)
    assert SalesOrder.objects.get(external_id=str(second["id"])).status == "cancelled"


def test_a_refund_is_recorded_once_on_the_hub_order(bc_world):
    publish(bc_world)
    placed = _place(bc_world, [{"sku": "LAMP-1", "quantity": 2}])
    delivered(bc_world, "store/order/created", placed["id"])
    order = SalesOrder.objects.get(external_id=str(placed["id"]))
    shipment_create(order=order, warehouse=bc_world["lyon"], lines=[(order.lines.get(), 2)], carrier="DHL", tracking_numbers=["JD1"])
    run_flows(bc_world["endpoint"], "fulfilments.out")
    refund = bc_world["store"].control(f"orders/{placed['id']}/refunds", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "reason": "broken"})
    delivered(bc_world, "store/order/refund/created", placed["id"])
    rma = Rma.objects.get(order=order)
    assert rma.refunded_total == Decimal(str(refund["total_amount"])) == Decimal("30.00")
    assert Binding.objects.filter(endpoint=bc_world["endpoint"], model="refund", external_id=str(refund["id"])).count() == 1
    for message in InboxMessage.objects.filter(topic__startswith="store/order/"):  # every delivery again: nothing refunded twice
        from connectors.services import inbox_process

        inbox_process(message_id=message.pk, replay=True)
    poll(bc_world)
    assert Rma.objects.get(order=order).refunded_total == Decimal("30.00")


def test_a_redelivered_webhook_is_a_duplicate_but_a_later_update_of_the_same_order_is_not(bc_world, hub_url):
    """The payload hash is the same for every update of one order: dedupe on it alone would drop the second update."""
    publish(bc_world)
    bc_world["sandbox"].set_faults(webhook_duplicate_rate=1.0)
    placed = _place(bc_world, [{"sku": "LAMP-1", "quantity": 1}], paid=False)
    delivered(bc_world, "store/order/created", placed["id"], count=2)
    created = InboxMessage.objects.filter(topic="store/order/created")
    assert sorted(created.values_list("status", flat=True)) == ["duplicate", "processed"]
    bc_world["sandbox"].set_faults(webhook_duplicate_rate=0.0)
    for count, status_id in enumerate((12, 11), start=1):  # manual verification, then the payment arrives
        time.sleep(1.1)  # a later event: another created_at
        bc_world["store"].control(f"orders/{placed['id']}/status", {"status_id": status_id})
        delivered(bc_world, "store/order/updated", placed["id"], count=count)
    updated = InboxMessage.objects.filter(topic="store/order/updated")
    assert len({json.loads(bytes(body) if not isinstance(body, str) else body)["hash"] for body in updated.values_list("body", flat=True)}) == 1  # the same hash twice…
    assert list(updated.values_list("status", flat=True)) == ["processed", "processed"]  # …and both applied
    assert SalesOrder.objects.get(external_id=str(placed["id"])).payment_status == "paid"


def test_a_bad_or_stale_signature_is_refused_and_creates_nothing(bc_world, hub_url):
    body = json.dumps({"scope": "store/order/created", "store_id": "1", "data": {"type": "order", "id": 999}, "hash": "x", "created_at": 1}).encode()
    now = int(time.time())
    for secret, stamp in (("wrong-secret", now), (CLIENT_SECRET, now - 3600)):
        answer = requests.post(f"{hub_url}/webhooks/bc-fr/", data=body, timeout=5, headers={
            "Content-Type": "application/json", "webhook-id": "msg_1", "webhook-timestamp": str(stamp),
            "webhook-signature": standard_signature(secret, "msg_1", stamp, body)})
        assert answer.status_code == 401
    assert not SalesOrder.objects.exists() and set(InboxMessage.objects.values_list("status", flat=True)) == {"rejected"}


def test_orders_the_webhooks_missed_are_recovered_by_the_poll(bc_world):
    publish(bc_world)
    bc_world["sandbox"].set_faults(webhook_drop_rate=1.0)
    placed = [_place(bc_world, [{"sku": "LAMP-1", "quantity": 1}]) for _ in range(3)]
    poll(bc_world)
    assert sorted(SalesOrder.objects.values_list("external_id", flat=True)) == sorted(str(o["id"]) for o in placed)
    assert SyncJob.objects.get(flow="orders.poll").outcome.startswith("3 orders checked, 3 new")


def test_a_new_size_becomes_a_variant_of_the_published_product_with_its_price_and_stock(bc_world):
    from catalog.services import product_create

    publish(bc_world)
    large = product_create(sku="SHIRT-L", name="Chemise lin L", status="active", parent=bc_world["shirt"], option_values={"Taille": "L"})
    price_entry_set(price_list=bc_world["endpoint"].channel.catalog.public_price_list, product=large, unit_price="41.00")
    stock.stock_receive(product=large, warehouse=bc_world["lyon"], quantity=6)
    run_flows(bc_world["endpoint"], "products.out", "stock.out")
    variants = {v["sku"]: v for v in bc_world["store"].product("SHIRT")["variants"]}
    assert variants["SHIRT-L"]["calculated_price"] == 41.0 and variants["SHIRT-L"]["option_values"][0]["label"] == "L"
    assert bc_world["store"].levels(variants["SHIRT-L"]["id"]) == {1: 6, 2: 0}


def test_the_stock_reconcile_puts_back_what_someone_changed_in_bigcommerce(bc_world):
    from connectors import sync

    publish(bc_world)
    store = bc_world["store"]
    lamp = store.product("LAMP-1")
    store.http.put(f"{store.url}/stores/s4ndb0x/v3/inventory/adjustments/absolute", timeout=5,
                   json={"items": [{"location_id": 1, "product_id": lamp["id"], "quantity": 99}]}).raise_for_status()
    sync.sync_job_enqueue(endpoint=bc_world["endpoint"], flow="stock.reconcile", record_key=sync.SCHEDULED_KEY)
    run_flows(bc_world["endpoint"], "stock.reconcile")
    assert store.levels(lamp["variants"][0]["id"]) == {1: 10, 2: 4}
    assert SyncJob.objects.get(flow="stock.reconcile").outcome == "checked 3 variants at 2 locations, corrected 1"
