"""Returns whose goods go back to a 3PL, over real HTTP, from request to refund and credit note.

Loop Returns: the goods of a Loop return go back to the ShipBob warehouse they shipped from; the
label Loop makes puts its tracking on the RMA and on the expected return at ShipBob, whether the
label comes before the expected return is announced or after; the 3PL's receipt then refunds
with a credit note and Loop is told. The return-request API: a storefront's return is expected
at ShipBob and refunded on its receipt with no person in between, or stops for a person when the
goods fail."""

from decimal import Decimal

import pytest
import requests

from connectors import sync
from connectors.loop.sandbox import LoopSandbox
from connectors.models import Endpoint, InboxMessage
from orders.models import CreditNote
from hub.services import api_token_create
from returns.models import ChannelReturnPolicy, Rma
from tests.connectors.shipbob_world import inbox_settle, process_inbox, run_flows, shipbob, shipbob_options, shipbob_world  # noqa: F401
from tests.connectors.test_loop_e2e import API_KEY, SECRET, Account
from tests.connectors.test_shipbob_e2e import send_items, shipped_order


@pytest.fixture
def loop(hub_url):
    sandbox = LoopSandbox(api_key=API_KEY, webhook_url=f"{hub_url}/webhooks/loop/", webhook_secret=SECRET).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def world(shipbob_world, loop):
    send_items(shipbob_world)
    order = shipped_order(shipbob_world)  # 2 lamps at 25.00 shipped by ShipBob Nord (hub warehouse 3PL-NORD)
    ChannelReturnPolicy.objects.create(channel=shipbob_world["channel"], refund_trigger="inspected")
    endpoint = Endpoint.objects.create(kind="loop", code="loop", name="Loop", base_url=loop.url, channel=shipbob_world["channel"],
                                       credentials={"api_key": API_KEY}, webhook_secret=SECRET)
    return {**shipbob_world, "order": order, "loop": Account(loop.url), "loop_sandbox": loop, "loop_endpoint": endpoint}


def loop_return(world):
    created = world["loop"].control("returns", {"order_id": "1001", "lines": [{"sku": "LAMP-1", "price": "25.00", "reason": "Too small"}]})
    process_inbox()
    rma = Rma.objects.get()
    assert rma.status == "authorised" and rma.expected_warehouse == world["nord"]
    return created, rma


def expected_at_shipbob(world, rma):
    [expected] = world["account"].get("return", ReferenceIds=rma.number)
    return expected


def test_a_label_made_after_the_expected_return_was_announced_gives_it_the_tracking_number(world):
    created, rma = loop_return(world)
    run_flows(world["endpoint"], "returns.out")
    assert expected_at_shipbob(world, rma)["tracking_number"] is None  # announced before Loop made the label

    world["loop"].control(f"returns/{created['id']}/label", {"carrier": "Colissimo", "tracking_number": "8R/0001"})
    process_inbox()
    rma.refresh_from_db()
    assert (rma.carrier, rma.tracking_number, rma.status) == ("Colissimo", "8R/0001", "authorised")
    run_flows(world["endpoint"], "returns.out")
    expected = expected_at_shipbob(world, rma)
    assert expected["tracking_number"] == "8R/0001" and expected["status"] == "AwaitingArrival"

    world["loop"].control(f"returns/{created['id']}/label", {"carrier": "Colissimo", "tracking_number": "8R/0001", "status": "in_transit"})
    process_inbox()
    run_flows(world["endpoint"], "returns.out")  # in transit, same tracking: nothing more to tell ShipBob
    assert Rma.objects.get(pk=rma.pk).status == "in_transit"
    assert [r["tracking_number"] for r in world["account"].get("return", ReferenceIds=rma.number)] == ["8R/0001"]

    world["account"].control(f"returns/{expected['id']}/process")  # ShipBob receives and restocks the lamp
    inbox_settle("return.completed")
    rma.refresh_from_db()
    assert rma.status == "refunded" and rma.refunded_total == Decimal("25.00") and CreditNote.objects.get().total == Decimal("25.00")
    sync.sync_run(endpoint_id=world["loop_endpoint"].pk, flow_name="return.outcome", budget_seconds=20)
    assert world["loop_sandbox"].actions == [(int(created["id"]), "process")]
    process_inbox()  # Loop's return.closed and its restock request
    assert Rma.objects.get(pk=rma.pk).status == "closed"
    assert not InboxMessage.objects.filter(status="failed").exists()


def test_a_label_made_before_the_expected_return_is_announced_goes_with_it(world):
    created, rma = loop_return(world)
    world["loop"].control(f"returns/{created['id']}/label", {"carrier": "DPD", "tracking_number": "DPD-77", "status": "pre_transit"})
    process_inbox()
    run_flows(world["endpoint"], "returns.out")
    expected = expected_at_shipbob(world, rma)
    assert expected["tracking_number"] == "DPD-77"


def test_a_label_that_comes_after_the_3pl_has_the_parcel_stays_on_the_rma(world):
    created, rma = loop_return(world)
    run_flows(world["endpoint"], "returns.out")
    expected = expected_at_shipbob(world, rma)
    world["sandbox"].warehouse.returns[expected["id"]].status = "arrived"  # the parcel is at ShipBob already
    world["loop"].control(f"returns/{created['id']}/label", {"carrier": "DPD", "tracking_number": "DPD-78"})
    process_inbox()
    run_flows(world["endpoint"], "returns.out")
    assert Rma.objects.get(pk=rma.pk).tracking_number == "DPD-78"
    assert expected_at_shipbob(world, rma)["tracking_number"] is None


# --- the return-request API ----------------------------------------------------------------------

@pytest.fixture
def storefront(shipbob_world, hub_url):
    send_items(shipbob_world)
    order = shipped_order(shipbob_world)
    ChannelReturnPolicy.objects.create(channel=shipbob_world["channel"], refund_trigger="inspected")
    _, key = api_token_create(channel=shipbob_world["channel"])
    http = requests.Session()
    http.headers.update({"Authorization": f"Token {key}"})
    return {**shipbob_world, "order": order, "http": http, "url": f"{hub_url}/api/v1/returns/"}


def api_return(storefront):
    answer = storefront["http"].post(storefront["url"], json={"order_external_id": "1001", "lines": [
        {"sku": "LAMP-1", "quantity": 1, "reason": "size_fit"}]}, headers={"Idempotency-Key": "ret-1001-1"}, timeout=10)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "authorised" and body["refund"]["expected"] == "25.00" and body["refund"]["method"] == "original"
    return body["number"]


def followed(storefront, number):
    answer = storefront["http"].get(f"{storefront['url']}{number}/", timeout=10)
    assert answer.status_code == 200
    return answer.json()


def test_an_api_return_goes_from_request_to_refund_and_credit_note_with_no_person_in_between(storefront):
    number = api_return(storefront)
    run_flows(storefront["endpoint"], "returns.out")
    [expected] = storefront["account"].get("return", ReferenceIds=number)
    storefront["account"].control(f"returns/{expected['id']}/process")  # ShipBob receives and restocks the lamp
    inbox_settle("return.completed")
    body = followed(storefront, number)
    assert body["status"] == "refunded" and body["refund"]["refunded"] == "25.00"
    assert body["lines"][0]["received_quantity"] == 1 and body["lines"][0]["condition"] == "sellable"
    assert body["credit_notes"] == [CreditNote.objects.get().number]


def test_an_api_return_whose_goods_fail_at_the_3pl_stops_for_a_person(storefront):
    number = api_return(storefront)
    run_flows(storefront["endpoint"], "returns.out")
    [expected] = storefront["account"].get("return", ReferenceIds=number)
    storefront["account"].control(f"returns/{expected['id']}/process", {"outcomes": {"LAMP-1": [[1, "dispose", "Broken"]]}})
    inbox_settle("return.completed")
    body = followed(storefront, number)
    assert body["status"] == "inspected" and body["refund"]["refunded"] == "0.00" and body["credit_notes"] == []
