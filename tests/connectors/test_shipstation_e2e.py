"""ShipStation (API v1) end to end over real HTTP, and what makes its webhooks safe to act on."""

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connectors.binder import Binder
from connectors.fulfilment.state import ITEM, RELEASE
from connectors.models import InboxMessage, SyncJob
from connectors.shipstation.client import ShipStationClient
from connectors.shipstation.pacific import pacific_to_utc, utc_to_pacific
from connectors.sync import sync_job_enqueue
from orders.models import SalesOrder
from tests.connectors.shipbob_world import inbox_settle, place, run_flows
from tests.connectors.shipstation_world import OUEST, SS_HOOK_SECRET


def settle(topic="SHIP_NOTIFY", count=1):
    inbox_settle(topic, count, endpoint_code="shipstation-eu")


def test_an_order_goes_out_by_its_key_and_its_labels_come_back_through_the_pointer_webhook(shipstation_world):
    order = place(shipstation_world, lines=[{"sku": "LAMP-1", "name": "Lampe", "quantity": 2, "unit_price": "25.00"},
                                            {"sku": "SHIRT-S", "name": "Chemise S", "quantity": 1, "unit_price": "25.00"}],
                  shipping_lines=[{"title": "Express", "code": "express", "price": "4.90"}])
    run_flows(shipstation_world["endpoint"], "orders.out")
    account = shipstation_world["account"]
    [at_3pl] = account.orders()
    assert at_3pl["orderKey"] == f"{order.number}-3PL-OUEST" and at_3pl["orderNumber"] == order.number
    assert at_3pl["orderStatus"] == "awaiting_shipment" and at_3pl["advancedOptions"]["warehouseId"] == int(OUEST)
    assert (at_3pl["carrierCode"], at_3pl["serviceCode"], at_3pl["requestedShippingService"]) == ("chronopost", "chrono_13", "Express")
    assert at_3pl["shipTo"]["street1"] == "3 rue des Lilas" and at_3pl["shipTo"]["postalCode"] == "69003"
    assert [(i["sku"], i["quantity"]) for i in at_3pl["items"]] == [("LAMP-1", 2), ("SHIRT-S", 1)]

    account.control(f"orders/{at_3pl['orderId']}/plan", {"parcels": 2})
    shipped = account.control("warehouse/advance", {"force": True})["shipped"]
    settle()
    order.refresh_from_db()
    assert order.status == "shipped" and order.shipments.count() == 2
    numbers = sorted(t for s in order.shipments.all() for t in s.tracking_numbers)
    assert numbers == sorted(s["trackingNumber"] for s in shipped)
    shipment = order.shipments.first()
    assert shipment.carrier in ("colissimo", "chronopost", "dhl_parcel") and shipment.tracking_numbers[0] in shipment.tracking_urls[0]
    message = InboxMessage.objects.get(topic="SHIP_NOTIFY")
    assert message.status == "processed" and "recorded" in message.error


def test_products_are_created_by_shipstation_from_orders_and_then_kept_up_to_date(shipstation_world):
    lamp = shipstation_world["lamp"]
    sync_job_enqueue(endpoint=shipstation_world["endpoint"], flow="items.out", record_key=str(lamp.pk), label=lamp.sku)
    run_flows(shipstation_world["endpoint"], "items.out")
    assert "creates it with its first order" in SyncJob.objects.get(flow="items.out").outcome
    assert not Binder(shipstation_world["endpoint"]).is_bound(ITEM, local_id=lamp.pk)
    place(shipstation_world)
    run_flows(shipstation_world["endpoint"], "orders.out")
    sync_job_enqueue(endpoint=shipstation_world["endpoint"], flow="items.out", record_key=str(lamp.pk), label=lamp.sku)
    run_flows(shipstation_world["endpoint"], "items.out")
    [product] = shipstation_world["account"].get("products", sku="LAMP-1")["products"]
    assert (product["weightOz"], product["length"], product["customsTariffNo"], product["customsCountryCode"]) == (29.98, 30.0, "940540", "FR")
    assert Binder(shipstation_world["endpoint"]).external_id(ITEM, lamp.pk) == str(product["productId"])


def test_a_hold_and_its_release_keep_one_shipstation_order_and_a_cancellation_locks_it(shipstation_world):
    from orders.services import order_cancel, order_hold, order_release

    order = place(shipstation_world)
    run_flows(shipstation_world["endpoint"], "orders.out")
    account = shipstation_world["account"]
    order_hold(order=order, reason="address to check")
    run_flows(shipstation_world["endpoint"], "orders.out")
    assert [o["orderStatus"] for o in account.orders()] == ["on_hold"]
    order_release(order=SalesOrder.objects.get(pk=order.pk))
    run_flows(shipstation_world["endpoint"], "orders.out")
    assert [(o["orderKey"], o["orderStatus"]) for o in account.orders()] == [(f"{order.number}-3PL-OUEST", "awaiting_shipment")]
    order_cancel(order=SalesOrder.objects.get(pk=order.pk), reason="out of patience")
    run_flows(shipstation_world["endpoint"], "orders.out")
    assert [o["orderStatus"] for o in account.orders()] == ["cancelled"]
    assert Binder(shipstation_world["endpoint"]).all(RELEASE).get().data["state"] == "cancelled"


def test_a_cancellation_once_the_label_is_under_way_is_refused_clearly(shipstation_world):
    from orders.services import order_cancel

    order = place(shipstation_world)
    run_flows(shipstation_world["endpoint"], "orders.out")
    account = shipstation_world["account"]
    account.control(f"orders/{account.orders()[0]['orderId']}/pick")
    order_cancel(order=order, reason="customer called")
    run_flows(shipstation_world["endpoint"], "orders.out")
    job = SyncJob.objects.filter(flow="orders.out").latest("id")
    assert job.status == "failed" and f"ShipStation refused to cancel {order.number}-3PL-OUEST" in job.last_error
    assert account.orders()[0]["orderStatus"] == "awaiting_shipment"


def test_an_address_change_replaces_the_order_under_the_same_key(shipstation_world):
    from orders.services import order_shipping_address_update

    order = place(shipstation_world)
    run_flows(shipstation_world["endpoint"], "orders.out")
    order_shipping_address_update(order=order, address={"name": "Léa Robert", "line1": "8 rue Mercière", "postcode": "69002",
                                                        "city": "Lyon", "country": "FR"})
    run_flows(shipstation_world["endpoint"], "orders.out")
    [at_3pl] = shipstation_world["account"].orders()
    assert (at_3pl["shipTo"]["name"], at_3pl["shipTo"]["street1"]) == ("Léa Robert", "8 rue Mercière")


def test_a_shipstation_that_times_out_after_creating_the_order_gets_the_same_order_again(shipstation_world, monkeypatch):
    monkeypatch.setattr(ShipStationClient, "timeout", (2, 1))
    shipstation_world["sandbox"].set_faults(slow_after={"ms": 1500, "requests": 1, "match": "createorder"})
    place(shipstation_world)
    run_flows(shipstation_world["endpoint"], "orders.out")
    job = SyncJob.objects.get(flow="orders.out")
    assert job.status == "pending" and "timed out" in job.last_error
    SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=job.created_at)
    run_flows(shipstation_world["endpoint"], "orders.out")
    assert SyncJob.objects.get(pk=job.pk).status == "done"
    assert len(shipstation_world["account"].orders()) == 1


class Trap(BaseHTTPRequestHandler):
    """A server that must never be asked anything."""

    hits: list = []

    def do_GET(self):
        Trap.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"shipments": [], "pages": 1}')

    def log_message(self, *args):
        pass


@pytest.fixture
def trap():
    Trap.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Trap)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _notify(hub_url, resource_url, secret=SS_HOOK_SECRET):
    return requests.post(f"{hub_url}/webhooks/shipstation-eu/?secret={secret}", timeout=5,
                         json={"resource_url": resource_url, "resource_type": "SHIP_NOTIFY"})


def test_a_webhook_pointing_anywhere_but_the_api_host_is_refused_and_nothing_is_fetched(shipstation_world, hub_url, trap):
    from urllib.parse import urlsplit

    from connectors.services import inbox_process

    api = urlsplit(shipstation_world["sandbox"].url)
    wrong = [f"{trap}/shipments?batchId=1",                                             # another server
             f"http://{api.hostname}:{urlsplit(trap).port}/shipments?batchId=2",         # the same host, another port
             f"http://localhost:{api.port}/shipments?batchId=1",                         # another name for the host
             f"http://{api.netloc}@{urlsplit(trap).netloc}/shipments?batchId=1",        # user-info trick
             f"https://{api.netloc}/shipments?batchId=1",                                # another scheme
             "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "/shipments?batchId=1"]
    for url in wrong:
        assert _notify(hub_url, url).status_code == 200
    for message in InboxMessage.objects.filter(status="received"):
        inbox_process(message_id=message.pk)
    messages = list(InboxMessage.objects.order_by("id"))
    assert len(messages) == len(wrong) and all(m.status == "failed" and "refused" in m.error and "nothing was fetched" in m.error
                                               for m in messages), [m.error for m in messages]
    assert Trap.hits == [] and shipstation_world["sandbox"].journal == type(shipstation_world["sandbox"].journal)()


def test_a_webhook_without_the_secret_of_its_url_is_refused(shipstation_world, hub_url):
    url = f"{shipstation_world['sandbox'].url}/shipments?batchId=1"
    assert _notify(hub_url, url, secret="guess").status_code == 401
    assert requests.post(f"{hub_url}/webhooks/shipstation-eu/", json={"resource_url": url, "resource_type": "SHIP_NOTIFY"},
                         timeout=5).status_code == 401
    assert set(InboxMessage.objects.values_list("status", flat=True)) == {"rejected"}


def test_the_same_pointer_twice_is_one_delivery(shipstation_world, hub_url):
    order = place(shipstation_world)
    run_flows(shipstation_world["endpoint"], "orders.out")
    shipstation_world["sandbox"].set_faults(webhook_duplicate_rate=1.0)
    shipstation_world["account"].control("warehouse/advance", {"force": True})
    settle(count=2)
    assert sorted(InboxMessage.objects.values_list("status", flat=True)) == ["duplicate", "processed"]
    assert SalesOrder.objects.get(pk=order.pk).shipments.count() == 1


def test_pacific_timestamps_convert_exactly_across_both_daylight_saving_changes():
    utc = timezone.utc
    assert pacific_to_utc("2026-07-01T05:00:00.0000000") == datetime(2026, 7, 1, 12, 0, tzinfo=utc)      # PDT, UTC−7
    assert pacific_to_utc("2026-01-15T05:00:00.0000000") == datetime(2026, 1, 15, 13, 0, tzinfo=utc)     # PST, UTC−8
    assert pacific_to_utc("2026-03-08T01:59:59.0000000") == datetime(2026, 3, 8, 9, 59, 59, tzinfo=utc)  # just before spring forward
    assert pacific_to_utc("2026-03-08T03:00:00.0000000") == datetime(2026, 3, 8, 10, 0, tzinfo=utc)      # just after
    assert pacific_to_utc("2026-11-01T00:59:00.0000000") == datetime(2026, 11, 1, 7, 59, tzinfo=utc)
    assert pacific_to_utc("2026-11-01T01:30:00.0000000") == datetime(2026, 11, 1, 8, 30, tzinfo=utc)     # the repeated hour: the first
    assert pacific_to_utc("2026-11-01T02:00:00.0000000") == datetime(2026, 11, 1, 10, 0, tzinfo=utc)     # after fall back
    assert pacific_to_utc("2015-06-29T08:46:27.1234567") == datetime(2015, 6, 29, 15, 46, 27, 123456, tzinfo=utc)
    assert utc_to_pacific(datetime(2026, 7, 1, 12, 0, tzinfo=utc)) == "2026-07-01 05:00:00"
    assert utc_to_pacific(datetime(2026, 12, 1, 12, 0, tzinfo=utc)) == "2026-12-01 04:00:00"
    with pytest.raises(ValueError):
        pacific_to_utc("2026-07-01T05:00:00+02:00")


@pytest.mark.parametrize("shipstation_options", [{"clock": __import__("connectors.testing.harness", fromlist=["Clock"]).Clock(
    start=datetime(2026, 11, 1, 8, 45, tzinfo=timezone.utc))}])
def test_the_poll_finds_labels_printed_in_the_hour_that_repeats_in_november(shipstation_world):
    """08:45 UTC is 01:45 PDT; an hour later, 09:45 UTC, is 01:45 PST. A label printed at the
    second 01:45 reads back as the first: the poll's read-back covers it."""
    from connectors.sync import cursor_set

    order = place(shipstation_world)
    run_flows(shipstation_world["endpoint"], "orders.out")
    sandbox = shipstation_world["sandbox"]
    sandbox.set_faults(webhook_drop_rate=1.0)
    sandbox.clock.advance(3600)
    shipstation_world["account"].control("warehouse/advance", {"force": True})
    cursor_set(endpoint=shipstation_world["endpoint"], name="shipments.poll", value=datetime(2026, 11, 1, 9, 40, tzinfo=timezone.utc).isoformat())
    sync_job_enqueue(endpoint=shipstation_world["endpoint"], flow="shipments.poll", record_key="*")
    run_flows(shipstation_world["endpoint"], "shipments.poll")
    order.refresh_from_db()
    assert order.status == "shipped"
    [request] = [r for r in sandbox.journal if r.path == "/shipments"]
    assert "createDateStart=2026-11-01+00%3A40%3A00" in request.query  # 09:40 UTC − 2 h read-back, in Pacific time


def test_bursts_wait_for_the_next_window_announced_in_the_rate_limit_headers(shipstation_world):
    import time

    from connectors.http import Recorder

    sandbox = shipstation_world["sandbox"]
    window = sandbox.limits["ss-api-key"]
    window.seconds = 2.0
    for _ in range(40):
        window.take()
    client = ShipStationClient(endpoint=shipstation_world["endpoint"], recorder=Recorder())
    started = time.monotonic()
    client.api("GET", "warehouses")
    client.api("GET", "warehouses")
    assert time.monotonic() - started >= 0.9 and [e.status for e in client.recorder.exchanges][-1] == 200


def test_hub_endpoint_adds_and_tests_a_shipstation_endpoint(shipstation, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from inventory.models import Warehouse
    from tests.connectors.shipstation_world import SS_KEY, SS_SECRET
    from tests.inventory.factories import WarehouseFactory

    WarehouseFactory(code="3PL-OUEST", kind=Warehouse.Kind.THIRD_PARTY)
    call_command("hub_endpoint", "add", "shipstation", "ss", "--base-url", shipstation.url, "--credential", f"api_key={SS_KEY}",
                 "--credential", f"api_secret={SS_SECRET}", "--webhook-secret", SS_HOOK_SECRET, "--setting", "warehouse_map=3PL-OUEST=2001")
    call_command("hub_endpoint", "test", "ss")
    assert "connected to ShipStation, warehouses 2001 (Entrepôt Ouest), 2002 (Entrepôt Est)" in capsys.readouterr().out
    call_command("hub_endpoint", "add", "shipstation", "ss", "--base-url", shipstation.url, "--setting", "warehouse_map=3PL-OUEST=2009")
    with pytest.raises(CommandError, match="ShipStation has no warehouse 2009"):
        call_command("hub_endpoint", "test", "ss")
