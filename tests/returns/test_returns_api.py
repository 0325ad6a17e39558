"""POST /api/v1/returns/ and GET /api/v1/returns/{number}/: a storefront starts a return for one of
its customers' orders and follows it; the same rules as every return (returnable quantities, the
channel's window and refund policy), one channel never sees another's returns."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from hub.services import api_token_create
from inventory import services as stock
from orders import services as orders
from orders.models import CreditNote, IdempotencyKey, Shipment
from returns import services
from returns.models import ChannelReturnPolicy, Rma, RmaStatus
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_payload
from tests.orders.threads import run_concurrently

URL = "/api/v1/returns/"


def ship(channel, warehouse, external_id="1001"):
    order, _ = orders.order_import(channel=channel, data=order_payload(external_id))
    orders.shipment_create(order=order, warehouse=warehouse, lines=[(order.lines.get(), 2)])
    order.refresh_from_db()
    return order


@pytest.fixture
def shop(db):
    """The web channel's paid order of 2 lamps at 25.00 (tax included) + 4.90 shipping, shipped."""
    channel = SalesChannelFactory(code="web")
    warehouse = WarehouseFactory(code="LYON", priority=10)
    WarehouseFactory(code="QUARANTINE", is_sellable=False)
    product = ProductFactory(sku="LAMP-1", name="Lampe")
    ProductFactory(sku="LAMP-2", name="Lampe bleue")
    stock.stock_receive(product=product, warehouse=warehouse, quantity=10)
    order = ship(channel, warehouse)
    _, key = api_token_create(channel=channel)
    return {"channel": channel, "order": order, "key": key, "warehouse": warehouse}


def post(key, body, idempotency_key=None, client=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return (client or Client()).post(URL, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}", **headers)


def get(key, number):
    return Client().get(f"{URL}{number}/", HTTP_AUTHORIZATION=f"Token {key}")


def a_return(order_external_id="1001", quantity=1, **line):
    return {"order_external_id": order_external_id, "lines": [{"sku": "LAMP-1", "quantity": quantity, "reason": "size_fit", **line}]}


@pytest.mark.django_db
class TestRequest:
    def test_a_return_is_authorised_with_its_number_what_is_returnable_and_the_expected_refund(self, shop):
        answer = post(shop["key"], a_return())
        assert answer.status_code == 201, answer.content
        body = answer.json()
        rma = Rma.objects.get()
        assert body["number"] == rma.number and body["status"] == "authorised" and rma.source == Rma.Source.STOREFRONT
        assert body["order"] == {"number": shop["order"].number, "external_id": "1001"}
        assert body["lines"] == [{"sku": "LAMP-1", "name": "Lampe", "quantity": 1, "reason": "size_fit", "replacement_sku": None,
                                  "received_quantity": 0, "condition": None}]
        assert body["returnable"] == [{"sku": "LAMP-1", "name": "Lampe", "shipped": 2, "returnable": 1}]
        assert body["refund"] == {"expected": "25.00", "refunded": "0.00", "currency": "EUR", "when": "inspected", "method": "original"}
        assert body["returnable_until"] == (shop["order"].shipments.get().shipped_at + timedelta(days=30)).date().isoformat()

    def test_the_order_can_be_named_by_its_hub_number(self, shop):
        answer = post(shop["key"], {"order_number": shop["order"].number, "lines": [{"sku": "LAMP-1", "quantity": 2}]})
        assert answer.status_code == 201 and answer.json()["lines"][0]["reason"] == "other"

    def test_the_expected_refund_follows_the_channels_policy(self, shop):
        ChannelReturnPolicy.objects.create(channel=shop["channel"], refund_trigger="received", refund_shipping=True,
                                           restocking_fee_percent=Decimal("10"))
        refund = post(shop["key"], a_return(quantity=2)).json()["refund"]
        assert refund == {"expected": "49.90", "refunded": "0.00", "currency": "EUR", "when": "received",
                          "method": "original"}  # 50 − 5 fee + 4.90

    def test_more_than_is_returnable_is_422_and_changes_nothing(self, shop):
        assert post(shop["key"], a_return(quantity=2)).status_code == 201
        answer = post(shop["key"], a_return(quantity=1))
        assert answer.status_code == 422
        assert answer.json() == {"detail": "LAMP-1: 1 asked, 0 returnable (shipped 2, others already returned)"}
        assert Rma.objects.count() == 1

    def test_a_return_after_the_channels_window_is_422(self, shop):
        ChannelReturnPolicy.objects.create(channel=shop["channel"], return_window_days=14)
        Shipment.objects.update(shipped_at=timezone.now() - timedelta(days=15))
        answer = post(shop["key"], a_return())
        assert answer.status_code == 422
        assert "return window of 14 days ended on" in answer.json()["detail"]
        assert not Rma.objects.exists()

    def test_a_sku_that_is_not_on_the_order_is_422(self, shop):
        answer = post(shop["key"], {"order_external_id": "1001", "lines": [{"sku": "LAMP-2", "quantity": 1}]})
        assert answer.status_code == 422 and answer.json() == {"detail": "LAMP-2 is not on order 1001"}

    def test_another_channels_order_is_unknown(self, shop):
        other = SalesChannelFactory(code="b2b")
        ship(other, shop["warehouse"], external_id="B-1")
        number = other.orders.get().number
        for body in (a_return("B-1"), {"order_number": number, "lines": [{"sku": "LAMP-1", "quantity": 1}]}, a_return("NOPE")):
            answer = post(shop["key"], body)
            assert answer.status_code == 422 and answer.json()["detail"].startswith("No order "), body
        assert not Rma.objects.exists()

    @pytest.mark.parametrize("body, field", [
        ({"lines": [{"sku": "LAMP-1", "quantity": 1}]}, "non_field_errors"),
        ({"order_number": "SO-1", "order_external_id": "1001", "lines": [{"sku": "LAMP-1", "quantity": 1}]}, "non_field_errors"),
        (a_return(quantity=0), "lines"),
        (a_return(reason="bored"), "lines"),
        ({"order_external_id": "1001", "lines": []}, "lines"),
        ({"order_external_id": "1001\x00", "lines": [{"sku": "LAMP-1", "quantity": 1}]}, "order_external_id"),
    ])
    def test_malformed_requests_are_400_naming_the_field(self, shop, body, field):
        answer = post(shop["key"], body)
        assert answer.status_code == 400 and field in answer.json(), answer.content
        assert not Rma.objects.exists()

    def test_a_staff_session_is_refused(self, shop, admin_client):
        answer = admin_client.post(URL, data=a_return(), content_type="application/json")
        assert answer.status_code == 403
        assert admin_client.get(f"{URL}RMA-000001/").status_code == 403

    def test_an_exchange_creates_the_replacement_order(self, shop):
        stock.stock_receive(product=ProductFactory._meta.model.objects.get(sku="LAMP-2"), warehouse=shop["warehouse"], quantity=3)
        body = post(shop["key"], a_return(replacement_sku="LAMP-2")).json()
        assert body["lines"][0]["replacement_sku"] == "LAMP-2" and body["refund"]["expected"] == "0.00"
        assert body["replacement_order"] == Rma.objects.get().replacement_order.number


@pytest.mark.django_db
class TestFollow:
    def test_the_channel_follows_its_return_to_the_refund_with_no_person_in_between(self, shop):
        number = post(shop["key"], a_return()).json()["number"]
        rma = Rma.objects.get(number=number)
        services.rma_mark_in_transit(rma=rma, carrier="Colissimo", tracking_number="8R1")
        line = rma.lines.get()
        services.rma_receive(rma=rma, quantities={line.pk: 1})
        services.rma_inspect(rma=rma, results={line.pk: {"condition": "sellable", "disposition": "restock"}})
        body = get(shop["key"], number).json()
        assert body["status"] == "refunded" and body["refund"]["refunded"] == "25.00"
        assert (body["carrier"], body["tracking_number"]) == ("Colissimo", "8R1")
        assert body["lines"][0]["received_quantity"] == 1 and body["lines"][0]["condition"] == "sellable"
        assert body["credit_notes"] == [CreditNote.objects.get().number]

    def test_goods_that_fail_inspection_stop_for_a_person(self, shop):
        number = post(shop["key"], a_return()).json()["number"]
        rma = Rma.objects.get(number=number)
        line = rma.lines.get()
        services.rma_receive(rma=rma, quantities={line.pk: 1})
        services.rma_inspect(rma=rma, results={line.pk: {"condition": "damaged", "disposition": "quarantine"}})
        body = get(shop["key"], number).json()
        assert body["status"] == "inspected" and body["refund"]["refunded"] == "0.00" and not CreditNote.objects.exists()

    def test_another_channels_return_is_404_like_an_unknown_number(self, shop):
        number = post(shop["key"], a_return()).json()["number"]
        _, other_key = api_token_create(channel=SalesChannelFactory(code="b2b"))
        theirs, unknown = get(other_key, number), get(other_key, "RMA-999999")
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json() == unknown.json() == {"detail": "No return with this number."}


@pytest.mark.django_db
class TestIdempotency:
    def test_the_same_key_and_body_replays_the_answer(self, shop):
        first = post(shop["key"], a_return(), idempotency_key="r-1")
        replay = post(shop["key"], a_return(), idempotency_key="r-1")
        assert first.status_code == replay.status_code == 201 and replay.json() == first.json()
        assert replay["Idempotent-Replayed"] == "true" and Rma.objects.count() == 1

    def test_the_same_key_with_another_body_is_422(self, shop):
        post(shop["key"], a_return(), idempotency_key="r-1")
        answer = post(shop["key"], a_return(quantity=2), idempotency_key="r-1")
        assert answer.status_code == 422 and "already used with a different body" in answer.json()["detail"]
        assert Rma.objects.count() == 1

    def test_a_refused_request_leaves_the_key_free(self, shop):
        assert post(shop["key"], a_return(quantity=3), idempotency_key="r-1").status_code == 422
        assert not IdempotencyKey.objects.exists()
        assert post(shop["key"], a_return(), idempotency_key="r-1").status_code == 201

    def test_an_order_key_is_not_a_return_key(self, shop):
        """The same key on the orders endpoint never replays a return's answer (nor the reverse)."""
        assert post(shop["key"], a_return(), idempotency_key="k").status_code == 201
        order = Client().post("/api/v1/orders/", data=json.dumps(a_return()), content_type="application/json",
                              HTTP_AUTHORIZATION=f"Token {shop['key']}", HTTP_IDEMPOTENCY_KEY="k")
        assert order.status_code == 422

    @pytest.mark.parametrize("bad", ["k" * 101, "tab\tkey"])
    def test_a_malformed_key_is_400(self, shop, bad):
        answer = post(shop["key"], a_return(), idempotency_key=bad)
        assert answer.status_code == 400 and "Idempotency-Key" in answer.json()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_return(shop):
    answers, errors = run_concurrently(8, lambda n: post(shop["key"], a_return(), idempotency_key="race"))
    assert errors == []
    assert all((a.status_code, a.json()) == (201, answers[0].json()) for a in answers)
    assert Rma.objects.count() == 1 and RmaStatus.AUTHORISED == Rma.objects.get().status


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_return_more_than_was_shipped(shop):
    answers, errors = run_concurrently(8, lambda n: post(shop["key"], a_return(quantity=1)))
    assert errors == []
    assert sorted(a.status_code for a in answers) == [201, 201] + [422] * 6
