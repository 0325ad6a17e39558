"""The 3PL sandboxes speak their vendors' protocols (no hub involved): what the connectors rely on."""

import base64
import json
import time
from datetime import datetime, timezone

import pytest
import requests

from connectors.fulfilment.simulation import Refused, SimulatedWarehouse
from connectors.shipbob.sandbox import ShipBobSandbox
from connectors.shipbob.webhooks import signature_valid
from connectors.shipstation.sandbox import ShipStationSandbox
from connectors.testing.harness import Clock
from connectors.testing.receiver import WebhookReceiver

SECRET = "whsec_" + base64.b64encode(b"sandbox-protocol-test-key-12345").decode()


@pytest.fixture
def receiver():
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def shipbob(receiver):
    sandbox = ShipBobSandbox(token="t", channel_id=7, locations={1001: "Nord"}, webhook_url=f"{receiver.url}/hook",
                             webhook_secret=SECRET, rate_window=1.0).start()
    yield sandbox
    sandbox.stop()


def sb(sandbox, method, path, *, channel="7", token="t", **kwargs):
    headers = {"Authorization": f"Bearer {token}", **({"shipbob_channel_id": channel} if channel else {})}
    return requests.request(method, f"{sandbox.url}/2026-01/{path}", headers=headers, timeout=5, **kwargs)


def test_shipbob_refuses_wrong_tokens_missing_or_foreign_channels_and_unknown_versions(shipbob):
    assert sb(shipbob, "GET", "channel", token="nope").status_code == 401
    assert sb(shipbob, "POST", "product", channel="", json={}).status_code == 400
    assert sb(shipbob, "POST", "product", channel="8", json={}).status_code == 403
    assert requests.get(f"{shipbob.url}/1999-01/channel", headers={"Authorization": "Bearer t"}, timeout=5).status_code == 404
    assert sb(shipbob, "GET", "channel").json()["items"][0]["id"] == 7


def test_shipbob_counts_150_requests_in_a_sliding_window_and_says_when_to_retry():
    clock = Clock(start=datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc))
    with ShipBobSandbox(token="t", channel_id=7, clock=clock) as shipbob:
        answers = [sb(shipbob, "GET", "channel") for _ in range(151)]
        assert answers[0].headers["x-remaining-calls"] == "149" and answers[149].headers["x-remaining-calls"] == "0"
        assert answers[150].status_code == 429 and answers[150].headers["x-retry-after"] == "60"
        assert answers[150].json() == {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 60 seconds."}
        clock.advance(59)
        assert sb(shipbob, "GET", "channel").status_code == 429
        clock.advance(1)
        assert sb(shipbob, "GET", "channel").status_code == 200


def test_shipbob_orders_are_unique_per_reference_and_page_with_the_next_page_header(shipbob):
    shipbob.warehouse.receive("1001", "A", 5)
    recipient = {"name": "A", "address": {"address1": "1 rue", "city": "Lyon", "country": "FR", "zip_code": "69001"}}
    for n in range(3):
        body = {"reference_id": f"R{n}", "shipping_method": "Standard", "recipient": recipient, "location_id": 1001,
                "products": [{"reference_id": "A", "name": "A", "quantity": 1}]}
        assert sb(shipbob, "POST", "order", json=body).status_code == 201
    assert sb(shipbob, "POST", "order", json=body).status_code == 422
    first = sb(shipbob, "GET", "order", params={"Limit": 2, "SortOrder": "Oldest"})
    assert (first.headers["page-number"], first.headers["total-pages"], first.headers["total-count"]) == ("1", "2", "3")
    second = requests.get(shipbob.url + first.headers["next-page"], headers={"Authorization": "Bearer t"}, timeout=5)
    assert [o["reference_id"] for o in first.json() + second.json()] == ["R0", "R1", "R2"] and "next-page" not in second.headers


def test_shipbob_signs_webhooks_as_standard_webhooks_and_keeps_the_id_on_a_retry(shipbob, receiver):
    receiver.answer(500)
    shipbob.webhooks.policy = type(shipbob.webhooks.policy)(retry_delays=(0.2,), timeout=5)
    shipbob._send("order.shipped", {"id": 1})
    first, retry = receiver.wait_for(2)
    for delivery in (first, retry):
        assert signature_valid(secret=SECRET, message_id=delivery.header("webhook-id"), timestamp=delivery.header("webhook-timestamp"),
                               signatures=delivery.header("webhook-signature"), body=delivery.body)
        assert delivery.header("x-webhook-topic") == "order.shipped" and delivery.header("webhook-signature").startswith("v1,")
    assert first.header("webhook-id") == retry.header("webhook-id")
    assert not signature_valid(secret=SECRET, message_id=first.header("webhook-id"), timestamp=first.header("webhook-timestamp"),
                               signatures=first.header("webhook-signature"), body=first.body + b" ")
    assert not signature_valid(secret=SECRET, message_id=first.header("webhook-id"), timestamp=first.header("webhook-timestamp"),
                               signatures=first.header("webhook-signature"), body=first.body, now=time.time() + 301)


def test_the_simulated_warehouse_refuses_to_cancel_a_picked_order_and_ships_what_it_has():
    warehouse = SimulatedWarehouse(now=lambda: datetime.now(timezone.utc))
    warehouse.receive("1", "A", 1)
    events = []
    warehouse.on_event = lambda kind, **details: events.append(kind)
    order = warehouse.place(reference="R", location="1", lines={"A": 3}, address={}, service="Standard")
    assert warehouse.committed("1", "A") == 3
    warehouse.advance(force=True)
    assert order.shipped == {"A": 1} and order.status == "open" and events == ["shipped", "short"]
    order.status = "picked"
    with pytest.raises(Refused):
        warehouse.cancel(order)
    assert warehouse.levels()[("1", "A")] == {"on_hand": 0, "committed": 2, "in_transit": 0, "fulfillable": 0, "lots": [("", 0, None)]}


@pytest.fixture
def shipstation(receiver):
    sandbox = ShipStationSandbox(api_key="k", api_secret="s", webhook_url=f"{receiver.url}/hook?secret=x", rate_window=1.0,
                                 clock=Clock(start=datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc))).start()
    yield sandbox
    sandbox.stop()


def ss(sandbox, method, path, auth=("k", "s"), **kwargs):
    return requests.request(method, f"{sandbox.url}/{path}", auth=auth, timeout=5, **kwargs)


def _order(key, status="awaiting_shipment"):
    address = {"name": "A", "street1": "1 rue", "city": "Lyon", "postalCode": "69001", "country": "FR"}
    return {"orderNumber": "SO-1", "orderKey": key, "orderDate": "2026-07-01 05:00:00", "orderStatus": status, "billTo": address,
            "shipTo": address, "items": [{"sku": "A", "name": "A", "quantity": 1, "unitPrice": 1.0}],
            "advancedOptions": {"warehouseId": 2001}}


def test_shipstation_answers_in_pacific_time_with_its_rate_limit_headers(shipstation):
    assert ss(shipstation, "GET", "warehouses", auth=("k", "bad")).status_code == 401
    answer = ss(shipstation, "POST", "orders/createorder", json=_order("K1"))
    assert answer.json()["createDate"] == "2026-07-01T05:00:00.0000000"  # 12:00 UTC is 05:00 PDT
    assert answer.headers["X-Rate-Limit-Limit"] == "40" and answer.headers["X-Rate-Limit-Remaining"] == "39"
    assert ss(shipstation, "POST", "orders/createorder", json={"orderNumber": "x"}).json()["ModelState"]
    for _ in range(38):  # the refused createorder above counted too
        ss(shipstation, "GET", "warehouses")
    refused = ss(shipstation, "GET", "warehouses")
    assert refused.status_code == 429 and refused.json() == {"message": "Too Many Requests"} and refused.headers["X-Rate-Limit-Remaining"] == "0"


def test_shipstation_upserts_by_order_key_and_locks_shipped_orders(shipstation, receiver):
    shipstation.warehouse.receive("2001", "A", 5)
    first = ss(shipstation, "POST", "orders/createorder", json=_order("K1")).json()
    again = ss(shipstation, "POST", "orders/createorder", json=_order("K1", "on_hold")).json()
    assert first["orderId"] == again["orderId"] and again["orderStatus"] == "on_hold"
    ss(shipstation, "POST", "orders/createorder", json=_order("K1"))
    shipped = requests.post(f"{shipstation.url}/_sandbox/warehouse/advance", json={"force": True}, timeout=5).json()["shipped"]
    assert ss(shipstation, "POST", "orders/createorder", json=_order("K1", "cancelled")).status_code == 400
    [pointer] = receiver.wait_for(1)
    body = json.loads(pointer.body)
    assert body["resource_type"] == "SHIP_NOTIFY" and body["resource_url"].startswith(f"{shipstation.url}/shipments?")
    assert pointer.header("webhook-signature") is None and "secret=x" in pointer.query
    listed = ss(shipstation, "GET", body["resource_url"][len(shipstation.url) + 1:].replace("False", "true")).json()
    assert listed["shipments"][0]["trackingNumber"] == shipped[0]["trackingNumber"] and listed["shipments"][0]["shipmentItems"]
    assert ss(shipstation, "GET", "shipments", params={"createDateStart": "2026-07-01 05:00:01"}).json()["total"] == 0
    assert ss(shipstation, "GET", "shipments", params={"createDateStart": "2026-07-01 04:59:59"}).json()["total"] == 1
    hooks = ss(shipstation, "GET", "webhooks").json()["webhooks"]
    assert hooks[0]["HookType"] == "SHIP_NOTIFY" and "WebHookID" in hooks[0]
