"""ShipBob under faults: duplicate and out-of-order webhooks, a 3PL that times out after
accepting an order, a cancellation after picking, forged or replayed webhooks, rate limits."""

import json
import time

import pytest
import requests
from django.core import mail

from connectors.binder import Binder
from connectors.fulfilment.state import RELEASE
from connectors.models import InboxMessage, SyncJob
from connectors.shipbob.client import ShipBobClient
from connectors.shipbob.webhooks import sign
from orders.models import SalesOrder
from tests.connectors.shipbob_world import SHIPBOB_SECRET, inbox_settle, place, process_inbox, run_flows


def test_each_webhook_delivered_twice_records_one_shipment(shipbob_world):
    shipbob_world["sandbox"].set_faults(webhook_duplicate_rate=1.0)
    order = place(shipbob_world)
    run_flows(shipbob_world["endpoint"], "orders.out")
    shipbob_world["sandbox"].warehouse.advance(force=True)
    inbox_settle("order.shipped", 2)
    statuses = sorted(InboxMessage.objects.filter(topic="order.shipped").values_list("status", flat=True))
    assert statuses == ["duplicate", "processed"]
    order.refresh_from_db()
    assert order.shipments.count() == 1


def test_webhooks_out_of_order_delivered_before_shipped_and_parcels_reversed_record_each_parcel_once(shipbob_world):
    order = place(shipbob_world, lines=[{"sku": "LAMP-1", "name": "Lampe", "quantity": 2, "unit_price": "25.00"}])
    run_flows(shipbob_world["endpoint"], "orders.out")
    sandbox, account = shipbob_world["sandbox"], shipbob_world["account"]
    sandbox.webhooks.hold()
    account.control(f"orders/{account.orders()[0]['id']}/plan", {"parcels": 2})
    shipped = account.control("warehouse/advance", {"force": True})["shipped"]
    account.control(f"shipments/{shipped[0]['shipment_id']}/deliver")
    sandbox.webhooks.release(order="reverse")  # delivered first, then the second parcel, then the first
    inbox_settle("order.shipped", 2)
    inbox_settle("order.shipment.delivered", 1)
    order.refresh_from_db()
    assert order.status == "shipped" and order.shipments.count() == 2
    assert sorted(t for s in order.shipments.all() for t in s.tracking_numbers) == sorted(s["tracking_number"] for s in shipped)
    assert InboxMessage.objects.filter(topic="order.shipped", error__contains="already recorded").count() == 1


def test_a_3pl_that_times_out_after_accepting_an_order_never_gets_a_second_one(shipbob_world, monkeypatch):
    monkeypatch.setattr(ShipBobClient, "timeout", (2, 1))
    shipbob_world["sandbox"].set_faults(slow_after={"ms": 1500, "requests": 1, "match": "POST /2026-01/order$"})
    order = place(shipbob_world)
    run_flows(shipbob_world["endpoint"], "orders.out")
    job = SyncJob.objects.get(flow="orders.out")
    assert job.status == "pending" and job.attempts == 1 and "timed out" in job.last_error
    assert len(shipbob_world["account"].orders()) == 1  # ShipBob has it although the hub heard nothing
    SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=job.created_at)
    run_flows(shipbob_world["endpoint"], "orders.out")
    job.refresh_from_db()
    assert job.status == "done", job.last_error
    [at_3pl] = shipbob_world["account"].orders()
    assert Binder(shipbob_world["endpoint"]).all(RELEASE).get().external_id == str(at_3pl["id"])
    assert at_3pl["reference_id"] == f"{order.number}-3PL-NORD"


def test_a_cancellation_after_picking_is_refused_leaves_the_order_alone_shows_a_clear_error_and_alerts(shipbob_world, settings):
    from orders.services import order_cancel

    settings.HUB_ALERT_EMAILS = ["ops@example.com"]
    order = place(shipbob_world)
    run_flows(shipbob_world["endpoint"], "orders.out")
    account = shipbob_world["account"]
    account.control(f"orders/{account.orders()[0]['id']}/pick")
    order_cancel(order=order, reason="customer called")
    run_flows(shipbob_world["endpoint"], "orders.out")
    job = SyncJob.objects.filter(flow="orders.out").latest("id")
    assert job.status == "failed" and job.error_class == "permanent"
    assert f"ShipBob refused to cancel {order.number}-3PL-NORD" in job.last_error and "picked" in job.last_error
    assert [m.subject for m in mail.outbox if order.number in m.subject] and mail.outbox[-1].to == ["ops@example.com"]
    assert SalesOrder.objects.get(pk=order.pk).status == "cancelled"
    assert Binder(shipbob_world["endpoint"]).all(RELEASE).get().data["state"] == "open"
    shipbob_world["sandbox"].warehouse.advance(force=True)  # the parcel leaves anyway
    inbox_settle("order.shipped")
    message = InboxMessage.objects.get(topic="order.shipped")
    assert message.status == "failed" and "cancelled in the hub" in message.error and "return" in message.error
    assert SalesOrder.objects.get(pk=order.pk).shipments.count() == 0


def _post(hub_url, body: bytes, headers):
    return requests.post(f"{hub_url}/webhooks/shipbob-eu/", data=body, headers={"Content-Type": "application/json", **headers}, timeout=5)


def test_forged_and_replayed_webhooks_are_refused_and_change_nothing(shipbob_world, hub_url):
    body = json.dumps({"id": 1, "order_id": 2, "status": "Completed", "tracking": {"tracking_number": "X"}}).encode()
    now = int(time.time())
    good = {"webhook-id": "msg_1", "webhook-timestamp": str(now), "x-webhook-topic": "order.shipped",
            "webhook-signature": sign(secret=SHIPBOB_SECRET, message_id="msg_1", timestamp=now, body=body)}
    forged = {**good, "webhook-signature": sign(secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", message_id="msg_1", timestamp=now, body=body)}
    stale = {**good, "webhook-id": "msg_2", "webhook-timestamp": str(now - 600),
             "webhook-signature": sign(secret=SHIPBOB_SECRET, message_id="msg_2", timestamp=now - 600, body=body)}
    tampered_id = {**good, "webhook-id": "msg_3"}
    for headers in (forged, stale, tampered_id, {k: v for k, v in good.items() if k != "webhook-signature"}):
        assert _post(hub_url, body, headers).status_code == 401
    assert set(InboxMessage.objects.values_list("status", flat=True)) == {"rejected"}
    several = {**good, "webhook-signature": "v1,bm90LXRoaXMtb25l " + good["webhook-signature"]}
    assert _post(hub_url, body, several).status_code == 200  # one of several signatures (key rotation) is enough
    assert _post(hub_url, body, good).json()["status"] == "duplicate"  # same webhook-id


def test_bursts_beyond_150_a_minute_wait_for_the_window_instead_of_failing(shipbob_world):
    from connectors.http import Recorder

    sandbox = shipbob_world["sandbox"]
    window = sandbox.limits[next(iter(sandbox.tokens))]
    window.seconds = 1.5  # the window frees in 1.5 s instead of 60 s
    for _ in range(150):
        window.take()  # another process of the same app spent the window
    client = ShipBobClient(endpoint=shipbob_world["endpoint"], recorder=Recorder())
    started = time.monotonic()
    client.api("GET", "channel")
    assert sandbox.stats["429 sent"] >= 1 and time.monotonic() - started >= 1.0
    assert [e.status for e in client.recorder.exchanges][-1] == 200
