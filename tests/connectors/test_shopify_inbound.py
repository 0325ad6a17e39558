"""Customers and refunds from the Shopify sandbox into the hub, over real HTTP."""

from decimal import Decimal

from connectors.models import InboxMessage
from connectors.services import inbox_process
from orders.models import Customer, Payment, SalesOrder
from orders.services import invoice_issue, shipment_create
from returns.models import Rma
from returns.services import rma_request
from tests.connectors.shopify_world import publish, wait_for_inbox


def shipped_order(world, quantity=2):
    placed = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": quantity}], "email": "jon@example.com",
                                              "financial_status": "paid"})
    order_json = placed["order"]
    wait_for_inbox("orders/create", order_json["id"])
    order = SalesOrder.objects.get(external_id=str(order_json["id"]))
    shipment = shipment_create(order=order, warehouse=world["lyon"], lines=[(order.lines.get(), quantity)], carrier="Colissimo", tracking_numbers=["6A1"])
    if not order.invoices.exists():
        invoice_issue(order=order, shipment=shipment)
    return order_json, SalesOrder.objects.get(pk=order.pk)


def test_a_shop_customer_arrives_with_identity_and_address_and_an_update_changes_it_without_duplicates(world):
    customer_json = world["shop"].control("customers", {"email": "ana@example.com", "first_name": "Ana", "last_name": "Lopez"})["customer"]
    wait_for_inbox("customers/create", customer_json["id"])
    customer = Customer.objects.get(email="ana@example.com")
    assert customer.name == "Ana Lopez" and customer.channel_identities.get().external_id == str(customer_json["id"])
    publish(world)
    placed = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "ana@example.com", "financial_status": "paid"})
    wait_for_inbox("orders/create", placed["order"]["id"])
    assert Customer.objects.filter(email="ana@example.com").count() == 1
    assert SalesOrder.objects.get(external_id=str(placed["order"]["id"])).customer == customer


def test_the_same_customer_webhook_twice_changes_nothing_the_second_time(world):
    world["sandbox"].set_faults(webhook_duplicate_rate=1.0)
    customer_json = world["shop"].control("customers", {"email": "dup@example.com", "first_name": "Dup"})["customer"]
    wait_for_inbox("customers/create", customer_json["id"])
    import time
    deadline = time.monotonic() + 10
    while InboxMessage.objects.filter(topic="customers/create").count() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    for message in InboxMessage.objects.filter(status="received"):
        inbox_process(message_id=message.pk)
    assert Customer.objects.filter(email="dup@example.com").count() == 1
    assert InboxMessage.objects.filter(topic="customers/create", status="duplicate").exists()


def test_a_refund_in_the_shop_links_to_the_open_return_with_a_credit_note_and_the_shops_amount(world):
    publish(world)
    order_json, order = shipped_order(world)
    rma = rma_request(order=order, lines=[{"order_line": order.lines.get(), "quantity": 1}])
    refund = world["shop"].control(f"orders/{order_json['id']}/refunds", {"lines": [{"line_item_id": order_json["line_items"][0]["id"], "quantity": 1}]})["refund"]
    wait_for_inbox("refunds/create", refund["id"])
    rma.refresh_from_db()
    assert rma.refunded_total == Decimal("25.00") == Decimal(refund["transactions"][0]["amount"])
    assert rma.credit_notes.get().credit_note.total == Decimal("25.00")
    refunds = order.payments.filter(kind=Payment.Kind.REFUND)
    assert [p.amount for p in refunds] == [Decimal("25.00")]
    assert Rma.objects.filter(order=order).count() == 1


def test_a_refund_without_a_return_creates_one_and_a_redelivery_refunds_once(world):
    publish(world)
    order_json, order = shipped_order(world)
    world["sandbox"].set_faults(webhook_duplicate_rate=1.0)
    refund = world["shop"].control(f"orders/{order_json['id']}/refunds", {"lines": [{"line_item_id": order_json["line_items"][0]["id"], "quantity": 2}]})["refund"]
    wait_for_inbox("refunds/create", refund["id"])
    import time
    time.sleep(1)
    for message in InboxMessage.objects.filter(status="received"):
        inbox_process(message_id=message.pk)
    rma = Rma.objects.get(order=order)
    assert rma.status == "authorised" and rma.lines.get().quantity == 2 and rma.refunded_total == Decimal("50.00")
    assert order.payments.filter(kind=Payment.Kind.REFUND).count() == 1


def test_a_refund_for_an_order_not_yet_in_the_hub_fails_clearly_and_replays_once_it_is(world):
    publish(world)
    world["sandbox"].set_faults(drop_webhooks=True)
    placed = world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "late@example.com", "financial_status": "paid"})
    world["sandbox"].set_faults(drop_webhooks=False)
    order_json = placed["order"]
    refund = world["shop"].control(f"orders/{order_json['id']}/refunds", {"lines": [{"line_item_id": order_json["line_items"][0]["id"], "quantity": 1}], "restock": False})["refund"]
    wait_for_inbox("refunds/create", refund["id"])
    message = InboxMessage.objects.get(topic="refunds/create")
    assert message.status == "failed" and "not in the hub yet" in message.error
    from connectors import sync
    from tests.connectors.shopify_world import run_flows

    sync.sync_job_enqueue(endpoint=world["endpoint"], flow="orders.poll", record_key="*")
    run_flows(world["endpoint"], "orders.poll")
    order = SalesOrder.objects.get(external_id=str(order_json["id"]))
    replayed = inbox_process(message_id=message.pk, replay=True)
    assert replayed.status == "processed", replayed.error
    assert order.payments.filter(kind=Payment.Kind.REFUND).get().amount == Decimal("25.00")
    assert not Rma.objects.filter(order=order).exists()  # not shipped: money back, no goods to return
