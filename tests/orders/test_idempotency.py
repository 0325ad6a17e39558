"""`Idempotency-Key` on POST /api/v1/orders/: one key, one request that creates; the same body again
gets the original answer, another body gets 422, whether the requests are sequential or concurrent."""

import json

import pytest
from django.test import Client

from hub.services import api_token_create
from orders.models import IdempotencyKey, SalesOrder
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.orders.factories import order_payload
from tests.orders.threads import run_concurrently


@pytest.fixture
def key():
    ProductFactory(sku="LAMP-1")
    _, key = api_token_create(channel=SalesChannelFactory(code="web"))
    return key


def post(key, body, idempotency_key="k-1", client=None):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key is not None else {}
    return (client or Client()).post("/api/v1/orders/", data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}",
                                     **headers)


@pytest.mark.django_db
class TestSequential:
    def test_the_same_body_again_gets_the_original_answer_even_when_written_differently(self, key):
        body = order_payload("1001")
        first = post(key, body)
        assert first.status_code == 201 and first.json()["created"] is True
        reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
        replay = post(key, reordered)
        assert (replay.status_code, replay.json()) == (201, first.json())
        assert replay["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
        assert SalesOrder.objects.count() == 1

    def test_another_body_with_the_key_is_422_with_a_clear_message_and_changes_nothing(self, key):
        post(key, order_payload("1001"))
        for other in (order_payload("1002"), order_payload("1001", notes="changed")):
            answer = post(key, other)
            assert answer.status_code == 422
            assert answer.json()["detail"] == ("This Idempotency-Key was already used with a different body; "
                                               "send a new key for a new request.")
        assert SalesOrder.objects.count() == 1 and SalesOrder.objects.get().notes == ""

    def test_keys_are_per_channel(self, key):
        _, other_key = api_token_create(channel=SalesChannelFactory(code="b2b"))
        assert post(key, order_payload("1001")).status_code == 201
        assert post(other_key, order_payload("2001")).status_code == 201
        assert SalesOrder.objects.count() == 2

    def test_a_refused_request_leaves_the_key_free(self, key):
        malformed = order_payload("1001", total="abc")
        assert post(key, malformed).status_code == 400
        assert post(key, order_payload("1001", customer={"code": "GHOST"})).status_code == 422
        assert not IdempotencyKey.objects.exists()
        assert post(key, order_payload("1001")).status_code == 201

    @pytest.mark.parametrize("bad", ["k" * 101, "caf\u00e9", "a\tb"])
    def test_a_key_that_cannot_be_stored_as_given_is_400(self, key, bad):
        """A longer key was cut to 100 characters, so two keys sharing a prefix were one key."""
        answer = Client().post("/api/v1/orders/", data=json.dumps(order_payload("1001")), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Token {key}", HTTP_IDEMPOTENCY_KEY=bad.encode().decode("latin-1"))
        assert answer.status_code == 400
        assert answer.json() == {"Idempotency-Key": ["Use 1 to 100 printable ASCII characters."]}
        assert not SalesOrder.objects.exists()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_requests_with_one_key_and_different_bodies_create_once_and_refuse_the_rest(key):
    answers, errors = run_concurrently(16, lambda n: post(key, order_payload(f"RACE-{n}"), idempotency_key="race"))
    assert errors == []
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [422] * 15
    created = next(a for a in answers if a.status_code == 201).json()
    assert list(SalesOrder.objects.values_list("number", "external_id")) == [(created["number"], created["external_id"])]
    assert IdempotencyKey.objects.get().response == created


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_requests_with_one_key_and_the_same_body_get_one_answer(key):
    answers, errors = run_concurrently(16, lambda n: post(key, order_payload("RACE-1"), idempotency_key="race"))
    assert errors == []
    assert all((a.status_code, a.json()) == (201, answers[0].json()) for a in answers)
    assert sum(1 for a in answers if a.get("Idempotent-Replayed") == "true") == 15
    assert SalesOrder.objects.count() == 1
