"""Loop Returns over real HTTP: the Loop sandbox signs and posts its webhooks to a live hub; the hub
turns a Loop return into an authorised RMA on the channel's order, puts the label's carrier and
tracking on it, refunds (credit note) after an inspection that passes and tells Loop, and stops
for a person when the goods fail inspection or Loop's totals do not add up."""

import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
import requests

from connectors import sync
from connectors.loop.sandbox import LoopSandbox
from connectors.loop.webhooks import signature_valid, signed_form
from connectors.models import Endpoint, InboxMessage
from connectors.services import inbox_process

from inventory import services as stock
from orders import services as orders
from hub.models import ChangeEvent, TimelineEvent
from inventory.models import StockLevel
from orders.models import CreditNote, Payment, SalesOrder
from returns import services as returns
from returns.models import Rma, RmaStatus
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_payload

API_KEY, SECRET = "loop-api-key", "loop-webhook-secret"
S = RmaStatus


# --- the signature rule, without a network ------------------------------------------------------

def test_the_signature_is_over_the_body_with_slashes_escaped_and_newlines_removed():
    body = b'{\n  "customer": "https://shop.example/a/b",\n  "note": "already \\/ escaped, and \\\\/ a backslash"\n}'
    signed = b'{  "customer": "https:\\/\\/shop.example\\/a\\/b",  "note": "already \\/ escaped, and \\\\\\/ a backslash"}'
    assert signed_form(body) == signed
    good = base64.b64encode(hmac.new(SECRET.encode(), signed, hashlib.sha256).digest()).decode()
    assert signature_valid(secret=SECRET, body=body, header_value=good)
    raw = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert not signature_valid(secret=SECRET, body=body, header_value=raw)  # the bytes as sent are not what Loop hashes
    assert not signature_valid(secret=SECRET, body=body.replace(b"b\"", b"c\""), header_value=good)
    assert not signature_valid(secret="", body=body, header_value=good)


def test_a_body_already_in_the_signed_form_is_hashed_as_it_is():
    body = b'{"url":"https:\\/\\/shop.example\\/r\\/1"}'
    assert signed_form(body) == body


# --- a hub and a Loop account wired together -----------------------------------------------------

@pytest.fixture
def loop(hub_url):
    sandbox = LoopSandbox(api_key=API_KEY, webhook_url=f"{hub_url}/webhooks/loop/", webhook_secret=SECRET).start()
    yield sandbox
    sandbox.stop()


class Account:
    def __init__(self, url):
        self.url = url

    def control(self, path, body=None):
        response = requests.post(f"{self.url}/_sandbox/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def loop_world(loop):
    """A paid order 1001 of 2 lamps at 25.00 (tax included) + 4.90 shipping on the web channel,
    shipped from Lyon; the channel's returns go through Loop."""
    channel = SalesChannelFactory(code="web")
    lyon = WarehouseFactory(code="LYON", priority=10)
    WarehouseFactory(code="QUARANTINE", is_sellable=False)
    lamp = ProductFactory(sku="LAMP-1", name="Lampe", status="active")
    blue = ProductFactory(sku="LAMP-2", name="Lampe bleue", status="active")
    for product in (lamp, blue):
        stock.stock_receive(product=product, warehouse=lyon, quantity=10)
    order, _ = orders.order_import(channel=channel, data=order_payload("1001"))
    orders.shipment_create(order=order, warehouse=lyon, lines=[(order.lines.get(), 2)])
    endpoint = Endpoint.objects.create(kind="loop", code="loop", name="Loop", base_url=loop.url, channel=channel,
                                       credentials={"api_key": API_KEY}, webhook_secret=SECRET)
    return {"endpoint": endpoint, "order": order, "account": Account(loop.url), "sandbox": loop, "lyon": lyon}


def process_inbox():
    for message in InboxMessage.objects.filter(status="received").order_by("id"):
        inbox_process(message_id=message.pk)


def start_return(world, **spec):
    spec = {"order_id": "1001", "lines": [{"sku": "LAMP-1", "price": "25.00", "reason": "Too small"}], **spec}
    loop_return = world["account"].control("returns", spec)
    process_inbox()
    return loop_return


def receive_and_inspect(rma, condition="sellable", disposition="restock"):
    line = rma.lines.get()
    returns.rma_receive(rma=rma, quantities={line.pk: line.quantity})
    returns.rma_inspect(rma=rma, results={line.pk: {"condition": condition, "disposition": disposition}})
    rma.refresh_from_db()
    return rma


def test_a_loop_return_goes_from_request_to_refund_credit_note_and_loop_closed(loop_world):
    loop_return = start_return(loop_world)
    rma = Rma.objects.get()
    assert rma.status == S.AUTHORISED and rma.source == Rma.Source.RETURNS_APP and rma.order == loop_world["order"]
    created = InboxMessage.objects.get(topic="return.created")
    assert b"https://shop.loopreturns.com/" in bytes(created.body) and b"\n" in bytes(created.body)  # signed over its escaped, one-line form
    line = rma.lines.get()
    assert (line.order_line.sku, line.quantity, line.reason) == ("LAMP-1", 1, "size_fit")

    loop_world["account"].control(f"returns/{loop_return['id']}/label", {"carrier": "Colissimo", "tracking_number": "8R0001/A"})
    process_inbox()
    rma.refresh_from_db()
    assert (rma.status, rma.carrier, rma.tracking_number) == (S.AUTHORISED, "Colissimo", "8R0001/A")
    loop_world["account"].control(f"returns/{loop_return['id']}/label", {"carrier": "Colissimo", "tracking_number": "8R0001/A",
                                                                          "status": "in_transit"})
    process_inbox()
    rma.refresh_from_db()
    assert rma.status == S.IN_TRANSIT

    rma = receive_and_inspect(rma)
    assert rma.status == S.REFUNDED and rma.refunded_total == Decimal("25.00")
    note = CreditNote.objects.get()
    assert note.total == Decimal("25.00") and note.order == loop_world["order"]

    sync.sync_run(endpoint_id=loop_world["endpoint"].pk, flow_name="return.outcome", budget_seconds=20)
    assert loop_world["sandbox"].actions == [(int(loop_return["id"]), "process")]
    assert loop_world["sandbox"].returns[int(loop_return["id"])]["state"] == "closed"
    process_inbox()  # Loop's return.closed comes back: the refunded RMA is closed; its restock request changes nothing
    rma.refresh_from_db()
    assert rma.status == S.CLOSED and rma.refunded_total == Decimal("25.00") and CreditNote.objects.count() == 1
    assert InboxMessage.objects.get(topic="restock.requested").status == "ignored"
    assert StockLevel.objects.get(product__sku="LAMP-1", warehouse=loop_world["lyon"]).on_hand == 9  # 10 − 2 shipped + 1 back
    refund = Payment.objects.get(kind=Payment.Kind.REFUND)
    assert (refund.amount, refund.method) == (Decimal("25.00"), "refund")
    assert not InboxMessage.objects.filter(status="failed").exists()


def test_an_exchange_ships_the_replacement_and_closes_the_loop_return_without_a_refund(loop_world):
    loop_return = start_return(loop_world, outcome="exchange", exchanges=[{"sku": "LAMP-2"}])
    rma = Rma.objects.get()
    assert rma.status == S.AUTHORISED and rma.lines.get().replacement_product.sku == "LAMP-2"
    assert rma.replacement_order is not None and rma.replacement_order.lines.get().sku == "LAMP-2"
    rma = receive_and_inspect(rma)
    assert rma.refunded_total == 0 and not CreditNote.objects.exists()
    sync.sync_run(endpoint_id=loop_world["endpoint"].pk, flow_name="return.outcome", budget_seconds=20)
    assert loop_world["sandbox"].actions == [(int(loop_return["id"]), "close")]


def test_store_credit_is_a_refund_by_store_credit_with_its_credit_note_like_any_other(loop_world):
    loop_return = start_return(loop_world, outcome="credit")
    rma = Rma.objects.get()
    assert rma.refund_method == Rma.RefundMethod.STORE_CREDIT and rma.status == S.AUTHORISED
    rma = receive_and_inspect(rma)
    assert rma.status == S.REFUNDED and rma.refunded_total == Decimal("25.00")
    refund = Payment.objects.get(kind=Payment.Kind.REFUND)
    assert (refund.amount, refund.method, refund.reference) == (Decimal("25.00"), "store_credit", rma.number)
    note = CreditNote.objects.get()
    assert note.total == Decimal("25.00") and "store credit" in note.reason
    assert ChangeEvent.objects.filter(topic="returns.refund", object_id=str(rma.pk)).exists()  # accounting follows the feed
    loop_world["order"].refresh_from_db()
    assert loop_world["order"].payment_status == "partially_refunded"
    sync.sync_run(endpoint_id=loop_world["endpoint"].pk, flow_name="return.outcome", budget_seconds=20)
    assert loop_world["sandbox"].actions == [(int(loop_return["id"]), "process")]  # Loop issues the gift card


def test_a_return_mixing_refund_and_store_credit_waits_for_a_person(loop_world):
    start_return(loop_world, lines=[{"sku": "LAMP-1", "price": "25.00", "reason": "Too small", "outcome": "refund"},
                                    {"sku": "LAMP-1", "price": "25.00", "reason": "Too small", "outcome": "credit"}])
    rma = Rma.objects.get()
    assert rma.status == S.REQUESTED
    assert "store credit" in TimelineEvent.objects.get(object_id=str(rma.pk), event="needs a decision").message


def test_goods_that_fail_inspection_are_flagged_in_loop_and_wait_for_a_person(loop_world):
    loop_return = start_return(loop_world)
    rma = receive_and_inspect(Rma.objects.get(), condition="damaged", disposition="quarantine")
    assert rma.status == S.INSPECTED and rma.refunded_total == 0 and not CreditNote.objects.exists()
    sync.sync_run(endpoint_id=loop_world["endpoint"].pk, flow_name="return.outcome", budget_seconds=20)
    assert loop_world["sandbox"].actions == [(int(loop_return["id"]), "flag")]


def test_loop_totals_that_do_not_add_up_hold_the_return_with_both_figures(loop_world):
    start_return(loop_world, return_total="48.81")
    rma = Rma.objects.get()
    assert rma.status == S.REQUESTED and rma.refunded_total == 0
    held = TimelineEvent.objects.get(object_id=str(rma.pk), event="needs a decision")
    assert "48.81" in held.message and "25.00" in held.message


def test_loop_figures_that_contradict_each_other_hold_the_return_with_both_figures(loop_world):
    start_return(loop_world, total="48.81")  # as in Loop's own example: total 48.81, return_total 47.50
    rma = Rma.objects.get()
    assert rma.status == S.REQUESTED
    message = TimelineEvent.objects.get(object_id=str(rma.pk), event="needs a decision").message
    assert "48.81" in message and "25.00" in message


def test_a_return_that_expires_in_loop_is_cancelled_in_the_hub(loop_world):
    loop_return = start_return(loop_world)
    loop_world["account"].control(f"returns/{loop_return['id']}/update", {"state": "expired"})
    process_inbox()
    assert Rma.objects.get().status == S.CANCELLED


def test_a_duplicate_delivery_is_stored_once_and_applied_once(loop_world):
    loop_return = start_return(loop_world)
    loop_world["account"].control(f"returns/{loop_return['id']}/resend")
    process_inbox()
    assert InboxMessage.objects.filter(status="duplicate").count() == 1
    assert Rma.objects.count() == 1


def test_an_older_update_arriving_late_never_overwrites_a_newer_one(loop_world):
    loop_return = start_return(loop_world)
    loop_world["account"].control(f"returns/{loop_return['id']}/update", {"note": "customer called", "hold": True})
    loop_world["account"].control(f"returns/{loop_return['id']}/update", {"state": "cancelled"})
    process_inbox()
    rma = Rma.objects.get()
    assert rma.status == S.CANCELLED
    loop_world["account"].control(f"returns/{loop_return['id']}/release")  # the earlier (open) update, late
    process_inbox()
    rma.refresh_from_db()
    assert rma.status == S.CANCELLED
    late = InboxMessage.objects.order_by("-id").first()
    assert late.status == "processed" and "older than the one applied" in late.error


def test_an_older_label_update_arriving_late_never_overwrites_a_newer_one(loop_world):
    loop_return = start_return(loop_world)
    label = f"returns/{loop_return['id']}/label"
    loop_world["account"].control(label, {"carrier": "Colissimo", "tracking_number": "8R0001"})
    loop_world["account"].control(label, {"carrier": "Colissimo", "tracking_number": "8R0002", "hold": True})
    loop_world["account"].control(label, {"carrier": "DPD", "tracking_number": "DPD-9", "status": "in_transit"})
    process_inbox()
    loop_world["account"].control(f"returns/{loop_return['id']}/release")
    process_inbox()
    rma = Rma.objects.get()
    assert (rma.status, rma.carrier, rma.tracking_number) == (S.IN_TRANSIT, "DPD", "DPD-9")
    assert "older than the one applied" in InboxMessage.objects.order_by("-id").first().error


def test_a_forged_signature_is_refused_and_changes_nothing(loop_world, hub_url):
    body = json.dumps({"topic": "return", "trigger": "return.created", "id": "99", "provider_order_id": "1001",
                       "line_items": [{"sku": "LAMP-1"}]}).encode()
    forged = base64.b64encode(hmac.new(b"guessed", body, hashlib.sha256).digest()).decode()
    answer = requests.post(f"{hub_url}/webhooks/loop/", data=body, headers={"X-Loop-Signature": forged,
                                                                           "Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 401
    process_inbox()
    assert not Rma.objects.exists() and InboxMessage.objects.get().status == "rejected"


def test_the_client_sends_the_key_and_waits_out_a_429_without_retry_after(loop_world):
    from connectors.http import Recorder
    from connectors.registry import connector_for

    endpoint = loop_world["endpoint"]
    loop_world["sandbox"].set_faults(throttle={"requests": 1})
    client = connector_for(endpoint).client(endpoint=endpoint, recorder=Recorder())
    assert client.api("GET", "warehouse/return/list") == []
    assert [e.status for e in client.recorder.exchanges] == [429, 200]


@pytest.mark.parametrize("document, message", [
    ({"id": "5", "provider_order_id": "1001", "line_items": []}, "no line items"),
    ({"id": "5", "provider_order_id": "1001", "line_items": [{"title": "no sku"}]}, "has no SKU"),
    ({"id": "5", "provider_order_id": "1001", "line_items": [{"sku": "LAMP-1", "quantity": "two"}]}, "not a positive whole number"),
    ({"id": "5", "line_items": [{"sku": "LAMP-1"}]}, "names no order"),
    ({"id": "5", "provider_order_id": "1001", "outcome": "teleport", "line_items": [{"sku": "LAMP-1"}]}, "unknown outcome"),
    ({"id": "5", "provider_order_id": "1001", "return_total": "lots", "line_items": [{"sku": "LAMP-1"}]}, "not an amount"),
    ({"id": "5", "provider_order_id": "1001", "line_items": [{"sku": "LAMP-1", "outcome": "teleport"}]}, "unknown outcome"),
    ({"id": "5", "provider_order_id": "1001", "line_items": [{"sku": "LAMP-1", "outcome": "exchange", "exchange_variant": 9}]},
     "not among the return's exchanges"),
])
def test_a_loop_return_the_hub_cannot_read_is_refused_with_the_reason(document, message):
    from connectors.loop.mapping import loop_return

    with pytest.raises(ValueError, match=message):
        loop_return(document)


def test_loops_documented_label_and_return_examples_are_read():
    from connectors.loop.mapping import label, loop_return

    documented_label = {"topic": "label", "trigger": "label.updated", "shop_id": "9876", "id": "12345", "order_id": "1234567890",
                        "provider_order_id": 1029384756, "carrier": "USPS", "tracking_number": "28735625627856237856287",
                        "label_status": "in_transit", "label_updated_at": "2019-04-01T12:00:00+00:00", "shipment_id": "6789998212"}
    read = label(documented_label)
    assert (read["return_id"], read["carrier"], read["tracking_number"], read["status"]) == (
        "12345", "USPS", "28735625627856237856287", "in_transit")
    assert read["updated_at"].isoformat() == "2019-04-01T12:00:00+00:00"
    documented_return = {
        "topic": "return", "trigger": "return.created", "shop_id": 12345, "id": "1673", "state": "open",
        "created_at": "2023-05-01T12:00:00Z", "edited_at": None, "total": "48.81", "order_name": "#47727779",
        "provider_order_id": "58997314", "currency": "USD", "return_product_total": "50.00", "return_discount_total": "5.00",
        "return_tax_total": "2.50", "return_total": "47.50", "gift_card": "25.00", "refund": "20.00",
        "exchanges": [{"exchange_id": 1, "variant_id": 555, "sku": "TEE-M"}],
        "line_items": [{"line_item_id": 123456789, "sku": "TEE-S", "outcome": "exchange", "exchange_variant": 555,
                        "return_reason": "Too small", "parent_return_reason": "Size"},
                       {"line_item_id": 123456790, "sku": "MUG", "outcome": "refund", "return_reason": "Other",
                        "parent_return_reason": "Arrived damaged"}],
    }
    loop = loop_return(documented_return)
    assert loop.return_id == "1673" and loop.order_reference == "58997314" and loop.total == Decimal("47.50")
    assert loop.updated_at.isoformat() == "2023-05-01T12:00:00+00:00"  # not edited yet: created_at
    assert sorted((l["sku"], l["reason"], l["replacement_sku"]) for l in loop.lines) == [
        ("MUG", "damaged", ""), ("TEE-S", "size_fit", "TEE-M")]
    assert loop.outcome == "refund" and "48.81" in str(loop.inconsistency) and "47.50" in str(loop.inconsistency)
