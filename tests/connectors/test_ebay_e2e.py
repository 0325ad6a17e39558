"""eBay (Sell APIs) end to end over real HTTP: the hub and the eBay sandbox."""

from decimal import Decimal

import requests

from catalog.services import price_entry_set, product_create
from connectors.ebay.notifications import challenge_response
from connectors.models import InboxMessage, SyncJob
from connectors.services import inbox_process
from connectors.sync import sync_job_enqueue
from inventory import services as stock
from orders.models import SalesOrder
from orders.services import shipment_create
from returns.models import Rma
from tests.connectors.amazon_world import poll, publish, run_flows
from tests.connectors.ebay_world import VERIFICATION_TOKEN


def test_offers_get_price_and_quantity_in_batches_of_25_with_the_content_language(ebay_world):
    skus = [f"BULK-{n:02d}" for n in range(30)]
    ebay_world["seller"].post("listings", {"skus": skus})
    for sku in skus:
        product = product_create(sku=sku, name=sku, status="active")
        price_entry_set(price_list=ebay_world["public"], product=product, unit_price=Decimal("4.00"))
        stock.stock_receive(product=product, warehouse=ebay_world["lyon"], quantity=2)
        ebay_world["products"][sku] = product
    publish(ebay_world)
    state = ebay_world["seller"].get("listings")
    assert {sku: state["inventory"][sku]["quantity"] for sku in skus + ["LAMP-1"]} == {**dict.fromkeys(skus, 2), "LAMP-1": 10}
    prices = {offer["sku"]: offer["pricingSummary"]["price"] for offer in state["offers"].values()}
    assert prices["LAMP-1"] == {"value": "25.00", "currency": "EUR"} and prices["BULK-00"]["value"] == "4.00"
    assert set(state["languages"]) == {"fr-FR"}
    stock_calls = state["bulk_calls"] - 32  # one price call per product, then quantities
    assert stock_calls == 2  # 32 SKUs: 25 + 7


def test_an_order_is_reserved_shipped_and_fulfilled_with_tracking_and_a_refund_comes_back(ebay_world):
    publish(ebay_world)
    seller = ebay_world["seller"]
    placed = seller.post("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1, "price": "25.00", "promotion": "2.50"},
                                              {"sku": "MUG-1", "quantity": 2, "price": "9.50"}], "shipping": "5.90"})
    poll(ebay_world["endpoint"])
    order = SalesOrder.objects.get(external_id=placed["id"])
    assert order.channel.code == "ebay-fr" and order.status == "allocated" and order.total == Decimal(placed["total"])
    shipment_create(order=order, warehouse=ebay_world["lyon"], lines=[(line, line.quantity) for line in order.lines.all()],
                    carrier="Colissimo", tracking_numbers=["6A900"])
    run_flows(ebay_world["endpoint"], "fulfilments.out")
    remote = seller.get(f"orders/{placed['id']}")
    assert remote["orderFulfillmentStatus"] == "FULFILLED"
    (fulfilment,) = remote["fulfillments"]
    assert (fulfilment["shippingCarrierCode"], fulfilment["shipmentTrackingNumber"]) == ("Colissimo", "6A900")
    seller.post(f"orders/{placed['id']}/refund", {"sku": "MUG-1", "amount": "19.00"})
    poll(ebay_world["endpoint"])
    poll(ebay_world["endpoint"])
    rma = Rma.objects.get(order=order)
    assert [(line.order_line.sku, line.quantity) for line in rma.lines.all()] == [("MUG-1", 2)]


def test_unpaid_orders_wait_and_cancelled_ones_are_cancelled(ebay_world):
    seller = ebay_world["seller"]
    unpaid = seller.post("orders", {"payment": "PENDING", "lines": [{"sku": "LAMP-1", "quantity": 1, "price": "25.00"}]})
    paid = seller.post("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1, "price": "25.00"}]})
    poll(ebay_world["endpoint"])
    assert not SalesOrder.objects.filter(external_id=unpaid["id"]).exists()
    seller.post(f"orders/{paid['id']}/cancel")
    poll(ebay_world["endpoint"])
    assert SalesOrder.objects.get(external_id=paid["id"]).status == "cancelled"


def test_an_expired_user_token_is_refreshed_mid_run(ebay_world):
    publish(ebay_world)
    issued = ebay_world["sandbox"].stats["user tokens issued"]
    ebay_world["seller"].post("tokens/expire")
    stock.stock_adjust(product=ebay_world["products"]["LAMP-1"], warehouse=ebay_world["lyon"], quantity_delta=-3, reason="damaged")
    run_flows(ebay_world["endpoint"], "stock.out")
    assert ebay_world["seller"].quantity("LAMP-1") == 7
    assert ebay_world["sandbox"].stats["user tokens issued"] == issued + 1


def test_the_endpoint_challenge_is_answered_with_the_sha256_response(ebay_world):
    url = f"{ebay_world['hub_url']}/webhooks/ebay-fr/"
    answer = ebay_world["seller"].post("challenge", {"url": url, "challenge_code": "a8628072-3d33-45ee-9004-bee86830a22d"})
    assert answer["status"] == 200
    assert answer["answer"] == {"challengeResponse": challenge_response(
        challenge_code="a8628072-3d33-45ee-9004-bee86830a22d", verification_token=VERIFICATION_TOKEN, endpoint_url=url)}
    assert not InboxMessage.objects.exists()


def test_a_signed_notification_is_accepted_and_a_forged_one_refused_and_stored_as_rejected(ebay_world):
    url = f"{ebay_world['hub_url']}/webhooks/ebay-fr/"
    seller = ebay_world["seller"]
    assert seller.post("notifications", {"url": url})["status"] == 200
    assert seller.post("notifications", {"url": url})["status"] == 200
    assert ebay_world["sandbox"].stats["public keys served"] == 1  # fetched once by key id, then cached
    assert seller.post("notifications", {"url": url, "forged": True})["status"] == 401
    unsigned = requests.post(url, json={"metadata": {"topic": "MARKETPLACE_ACCOUNT_DELETION"}}, timeout=10)
    assert unsigned.status_code == 401
    assert InboxMessage.objects.filter(status="rejected", rejection="signature").count() == 2
    for message in InboxMessage.objects.filter(status="received"):
        inbox_process(message_id=message.pk)
    assert InboxMessage.objects.filter(status="processed").count() == 2


def test_an_ebay_endpoint_is_added_from_the_command_line(ebay, transactional_db, capsys):
    from django.core.management import call_command

    from tests.connectors.ebay_world import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN

    call_command("hub_endpoint", "add", "ebay", "ebay-test", "--base-url", ebay.url, "--channel", "ebay-de",
                 "--credential", f"refresh_token={REFRESH_TOKEN}", "--credential", f"client_id={CLIENT_ID}",
                 "--credential", f"client_secret={CLIENT_SECRET}", "--setting", "marketplaces=EBAY_DE=ebay-de,EBAY_GB=ebay-uk")
    call_command("hub_endpoint", "test", "ebay-test")
    assert "connected to eBay" in capsys.readouterr().out
    from hub.models import SalesChannel

    assert SalesChannel.objects.get(code="ebay-uk").currency == "GBP"
