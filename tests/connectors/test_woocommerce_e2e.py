"""WooCommerce end to end over real HTTP: the hub (served on a local port) and the WooCommerce
sandbox shop talk to each other as they would in production."""

import json
from decimal import Decimal

import requests

from catalog.services import price_entry_set
from connectors.models import Binding, InboxMessage, SyncJob
from connectors.woocommerce.webhooks import signature
from inventory import services as stock
from orders.models import SalesOrder
from orders.services import order_cancel, shipment_create
from returns.models import Rma
from tests.connectors.woocommerce_world import WEBHOOK_SECRET, deliveries, deliveries_processed, publish, run_flows, shop_stock


def _place(world, lines, **extra):
    return world["shop"].control("orders", {"lines": lines, "customer": "new", **extra})


def test_simple_and_variable_products_go_out_with_prices_and_stock(woo_world):
    publish(woo_world)
    shop = woo_world["shop"]
    lamp, shirt = shop.get("products", sku="LAMP-1")[0], shop.get("products", sku="SHIRT")[0]
    assert (lamp["type"], lamp["regular_price"], lamp["stock_quantity"]) == ("simple", "25.00", 10)
    variations = {v["sku"]: v for v in shop.get(f"products/{shirt['id']}/variations")}
    assert shirt["type"] == "variable" and set(variations) == {"SHIRT-S", "SHIRT-M"}
    assert {sku: (v["regular_price"], v["stock_quantity"]) for sku, v in variations.items()} == {"SHIRT-S": ("39.00", 10), "SHIRT-M": ("39.00", 10)}
    price_entry_set(price_list=woo_world["endpoint"].channel.catalog.public_price_list, product=woo_world["sizes"][0], unit_price="35.00")
    stock.stock_adjust(product=woo_world["lamp"], warehouse=woo_world["lyon"], quantity_delta=-3, reason="damaged")
    run_flows(woo_world["endpoint"], "products.out", "stock.out")
    assert shop.get("products", sku="SHIRT-S")[0]["regular_price"] == "35.00"
    assert shop_stock(woo_world, "LAMP-1") == 7
    assert len(shop.get("products")) == 2


def test_an_order_is_reserved_shipped_and_completed_in_the_shop_with_tracking(woo_world, woo_options):
    publish(woo_world)
    placed = _place(woo_world, [{"sku": "LAMP-1", "quantity": 2}, {"sku": "SHIRT-M", "quantity": 1}], coupon="bienvenue10")
    deliveries_processed("order.created", placed["id"])
    order = SalesOrder.objects.get(external_id=str(placed["id"]))
    assert order.status == "allocated" and order.total == Decimal(placed["total"])
    assert sorted((line.sku, line.quantity) for line in order.lines.all()) == [("LAMP-1", 2), ("SHIRT-M", 1)]
    shipment_create(order=order, warehouse=woo_world["lyon"], lines=[(line, line.quantity) for line in order.lines.all()],
                    carrier="Colissimo", tracking_numbers=["6A111"], tracking_urls=["https://track.example/6A111"])
    run_flows(woo_world["endpoint"], "fulfilments.out")
    shop_order = woo_world["shop"].get(f"orders/{placed['id']}")
    assert shop_order["status"] == "completed"
    notes = woo_world["shop"].get(f"orders/{placed['id']}/notes")
    assert any("6A111" in note["note"] and note["customer_note"] for note in notes)
    run_flows(woo_world["endpoint"], "fulfilments.out")
    assert SyncJob.objects.get(flow="fulfilments.out").status == "done"
    assert sum("6A111" in note["note"] for note in woo_world["shop"].get(f"orders/{placed['id']}/notes")) == 1


def test_tracking_goes_to_the_shipment_tracking_extension_when_the_settings_say_so(woo_world):
    woo_world["shop"].control("settings", {"shipment_tracking": True})
    endpoint = woo_world["endpoint"]
    endpoint.settings = {**endpoint.settings, "shipment_tracking": True}
    endpoint.save()
    publish(woo_world)
    placed = _place(woo_world, [{"sku": "LAMP-1", "quantity": 1}])
    deliveries_processed("order.created", placed["id"])
    order = SalesOrder.objects.get(external_id=str(placed["id"]))
    shipment_create(order=order, warehouse=woo_world["lyon"], lines=[(order.lines.get(), 1)], carrier="DHL", tracking_numbers=["JD0042"])
    run_flows(endpoint, "fulfilments.out")
    trackings = requests.get(f"{woo_world['sandbox'].url}/wp-json/wc-shipment-tracking/v3/orders/{placed['id']}/shipment-trackings",
                             auth=woo_world["shop"].http.auth, timeout=5).json()
    assert [(t["tracking_number"], t["tracking_provider"] or t.get("custom_tracking_provider")) for t in trackings] == [("JD0042", "DHL")]


def test_cancellations_go_both_ways(woo_world):
    publish(woo_world)
    first, second = (_place(woo_world, [{"sku": "LAMP-1", "quantity": 1}]) for _ in range(2))
    deliveries_processed("order.created", first["id"])
    deliveries_processed("order.created", second["id"])
    order_cancel(order=SalesOrder.objects.get(external_id=str(first["id"])), reason="customer called")
    run_flows(woo_world["endpoint"], "cancellations.out")
    assert woo_world["shop"].get(f"orders/{first['id']}")["status"] == "cancelled"
    updates = deliveries("order.updated", second["id"])
    woo_world["shop"].control(f"orders/{second['id']}/cancel", {"reason": "customer"})
    deliveries_processed("order.updated", second["id"], count=updates + 1)
    assert SalesOrder.objects.get(external_id=str(second["id"])).status == "cancelled"


def test_a_partial_refund_in_the_shop_is_recorded_once_on_the_hub_order(woo_world):
    publish(woo_world)
    placed = _place(woo_world, [{"sku": "LAMP-1", "quantity": 2}])
    deliveries_processed("order.created", placed["id"])
    order = SalesOrder.objects.get(external_id=str(placed["id"]))
    shipment_create(order=order, warehouse=woo_world["lyon"], lines=[(order.lines.get(), 2)], carrier="Colissimo", tracking_numbers=["6A9"])
    item = placed["line_items"][0]
    updates = deliveries("order.updated", placed["id"])
    refund = woo_world["shop"].control(f"orders/{placed['id']}/refunds", {"lines": [{"line_item_id": item["id"], "quantity": 1}], "reason": "broken"})
    deliveries_processed("order.updated", placed["id"], count=updates + 1)
    order.refresh_from_db()
    rma = Rma.objects.get(order=order)
    assert rma.refunded_total == Decimal(refund["amount"])
    assert Binding.objects.filter(endpoint=woo_world["endpoint"], model="refund", external_id=str(refund["id"])).count() == 1
    for message in InboxMessage.objects.filter(topic="order.updated"):  # a re-delivery refunds nothing twice
        from connectors.services import inbox_process

        inbox_process(message_id=message.pk, replay=True)
    assert Rma.objects.get(order=order).refunded_total == Decimal(refund["amount"])


def test_a_repeated_or_late_delivery_never_doubles_or_regresses_an_order(woo_world, hub_url):
    publish(woo_world)
    placed = _place(woo_world, [{"sku": "LAMP-1", "quantity": 1}], paid=False, payment_method="bacs")
    deliveries_processed("order.created", placed["id"])
    early = woo_world["shop"].get(f"orders/{placed['id']}")
    updates = deliveries("order.updated", placed["id"])
    woo_world["shop"].control(f"orders/{placed['id']}/status", {"status": "processing"})
    deliveries_processed("order.updated", placed["id"], count=updates + 1)
    assert SalesOrder.objects.get(external_id=str(placed["id"])).payment_status == "paid"
    body = json.dumps(early, separators=(",", ":")).encode()  # the older state arrives late, twice
    for _ in range(2):
        answer = requests.post(f"{hub_url}/webhooks/woo-fr/", data=body, timeout=5, headers={
            "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Resource": "order", "X-WC-Webhook-Event": "updated",
            "X-WC-Webhook-Signature": signature(WEBHOOK_SECRET, body), "X-WC-Webhook-Delivery-ID": "same-second", "Content-Type": "application/json"})
        assert answer.status_code == 200
    deliveries_processed("order.updated", placed["id"], count=updates + 3)
    assert SalesOrder.objects.filter(external_id=str(placed["id"])).count() == 1
    assert SalesOrder.objects.get(external_id=str(placed["id"])).payment_status == "paid"


def test_orders_a_disabled_webhook_missed_are_recovered_by_the_poll(woo_world):
    publish(woo_world)
    woo_world["sandbox"].set_faults(webhook_drop_rate=1.0)
    placed = _place(woo_world, [{"sku": "LAMP-1", "quantity": 1}])
    assert not SalesOrder.objects.filter(external_id=str(placed["id"])).exists()
    from connectors import sync

    sync.sync_schedule_due()
    run_flows(woo_world["endpoint"], "orders.poll")
    assert SalesOrder.objects.get(external_id=str(placed["id"])).status == "allocated"
    assert SyncJob.objects.get(flow="orders.poll").outcome.startswith("1 orders checked, 1 new")


def test_a_bad_signature_is_refused_and_creates_nothing(woo_world, hub_url):
    body = b'{"id":999,"status":"processing","line_items":[]}'
    answer = requests.post(f"{hub_url}/webhooks/woo-fr/", data=body, timeout=5, headers={
        "X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Signature": signature("wrong-secret", body), "Content-Type": "application/json"})
    assert answer.status_code == 401
    assert not SalesOrder.objects.exists() and InboxMessage.objects.get().status == "rejected"


def test_the_ping_woocommerce_sends_when_a_webhook_is_created_gets_200_and_creates_nothing(woo_world, hub_url):
    created = woo_world["shop"].post("webhooks", {"topic": "order.updated", "delivery_url": f"{hub_url}/webhooks/woo-fr/",
                                                  "secret": WEBHOOK_SECRET})
    assert created["status"] == "active"
    ping = woo_world["sandbox"].webhooks.records(topic="ping")
    assert [record.status for record in ping] == [200]
    assert not SalesOrder.objects.exists() and not InboxMessage.objects.filter(status__in=["received", "processed"]).exists()


def test_an_order_whose_total_does_not_add_up_is_held_with_both_figures(woo_world, hub_url):
    publish(woo_world)
    placed = woo_world["shop"].get(f"orders/{_place(woo_world, [{'sku': 'LAMP-1', 'quantity': 1}])['id']}")
    deliveries_processed("order.created", placed["id"])
    wrong = {**placed, "id": placed["id"] + 1000, "total": str(Decimal(placed["total"]) + 1)}
    body = json.dumps(wrong, separators=(",", ":")).encode()
    answer = requests.post(f"{hub_url}/webhooks/woo-fr/", data=body, timeout=5, headers={
        "X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Signature": signature(WEBHOOK_SECRET, body), "Content-Type": "application/json"})
    assert answer.status_code == 200
    deliveries_processed("order.created", wrong["id"])
    order = SalesOrder.objects.get(external_id=str(wrong["id"]))
    assert order.status == "on_hold" and "totals do not add up" in order.hold_reason and wrong["total"] in order.hold_reason


def test_a_woocommerce_endpoint_is_added_and_tested_from_the_command_line(woo_world, capsys):
    from django.core.management import call_command

    from tests.connectors.woocommerce_world import KEY, SECRET

    call_command("hub_endpoint", "add", "woocommerce", "woo-2", "--base-url", woo_world["sandbox"].url, "--channel", "woo-fr",
                 "--webhook-secret", "s3cret", "--credential", f"consumer_key={KEY}", "--credential", f"consumer_secret={SECRET}",
                 "--setting", "stock_warehouses=LYON", "--setting", "shipment_tracking=true")
    call_command("hub_endpoint", "test", "woo-2")
    assert "connected to" in capsys.readouterr().out
    from connectors.models import Endpoint

    assert Endpoint.objects.get(code="woo-2").config["shipment_tracking"] is True
