"""Webhook intake under hostile input: whatever arrives is answered with a clear status (never a
500) and stored as a rejected delivery, byte for byte when signed, as a bounded excerpt when not;
rejections are counted per source; ids are deduplicated whole."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from django.utils.datastructures import CaseInsensitiveMapping

from connectors.inbound import InboundRequest
from connectors.models import Endpoint, InboxMessage, InboxRejection
from connectors.services import inbox_process, inbox_receive, inbox_signature_check
from connectors.shopify.webhooks import signature
from tests.hub.factories import SalesChannelFactory

SECRET = "shpss_intake_secret"
ORDER = json.dumps({"id": 1001, "name": "#1001", "note": "Lampe à poser — «fragile»"}, ensure_ascii=False).encode()


@pytest.fixture
def endpoint(db):
    return Endpoint.objects.create(kind="shopify", code="shop-fr", name="Boutique", base_url="https://example.myshopify.com",
                                   channel=SalesChannelFactory(code="shopify-fr"), webhook_secret=SECRET)


def post(body: bytes, *, signed=True, webhook_id="wh-1", topic="orders/create", remote_addr="127.0.0.1", code="shop-fr", **headers):
    sent = {"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhook_id, **headers}
    if signed:
        sent.setdefault("X-Shopify-Hmac-Sha256", signature(SECRET, body))
    return Client().post(f"/webhooks/{code}/", data=body, content_type="application/json", headers=sent, REMOTE_ADDR=remote_addr)


@pytest.mark.parametrize("body, message", [
    (b'{"id": 1, "name": "a\x00b"}', "not JSON"),
    (b'{"id": 1, "name": "a\\u0000b"}', "NUL character"),
    (b'{"id": 1, "name": "caf\xe9"}', "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"id": 1' + b', "a": {"b": 1}' * 2 + b"}" + b"\x00", "not JSON"),
])
def test_a_signed_body_the_hub_cannot_read_is_answered_400_and_kept_as_rejected_byte_for_byte(endpoint, body, message):
    response = post(body)
    assert response.status_code == 400 and message in response.json()["error"]
    stored = InboxMessage.objects.get()
    assert (stored.status, stored.rejection, stored.signature_ok) == ("rejected", "malformed", True)
    assert bytes(stored.body) == body and message in stored.error


def test_nul_in_a_header_is_refused_and_stored_escaped(endpoint):
    response = post(ORDER, webhook_id="wh\x00-1", topic="orders/\x00create")
    assert response.status_code == 400 and "NUL character" in response.json()["error"]
    stored = InboxMessage.objects.get()
    assert stored.status == "rejected" and "\x00" not in stored.delivery_id and "\x00" not in json.dumps(stored.headers)


@pytest.mark.parametrize("header", ["sig-é-ü-€", "\x00", "A" * 5000])
def test_a_malformed_signature_header_is_a_rejected_delivery_not_an_error(endpoint, header):
    response = post(ORDER, **{"X-Shopify-Hmac-Sha256": header})
    assert response.status_code == 401
    assert InboxMessage.objects.get().status == "rejected"


def test_an_unknown_or_impossible_endpoint_code_is_404(endpoint):
    assert post(ORDER, code="nope").status_code == 404
    assert Client().post("/webhooks/shop%00fr/", data=ORDER, content_type="application/json").status_code == 404


def test_an_accepted_delivery_is_kept_byte_for_byte_and_its_signature_can_be_checked_again(endpoint, admin_client):
    assert post(ORDER).status_code == 200
    message = InboxMessage.objects.get()
    assert bytes(message.body) == ORDER and message.body_size == len(ORDER)
    assert inbox_signature_check(message=message) is True
    page = admin_client.get(reverse("admin:connectors_inboxmessage_change", args=[message.pk])).content.decode()
    assert "Lampe à poser — «fragile»" in page and "matches the stored body" in page
    InboxMessage.objects.filter(pk=message.pk).update(body=ORDER.replace(b"1001", b"1002"))
    message.refresh_from_db()
    assert inbox_signature_check(message=message) is False


def test_delivery_ids_are_deduplicated_whole_however_long(endpoint):
    prefix = "wh-" + "x" * 300
    assert post(ORDER, webhook_id=prefix + "-1").status_code == 200
    assert post(ORDER, webhook_id=prefix + "-2").status_code == 200
    assert post(ORDER, webhook_id=prefix + "-2").status_code == 200
    assert list(InboxMessage.objects.order_by("id").values_list("status", flat=True)) == ["received", "received", "duplicate"]
    assert InboxMessage.objects.filter(delivery_id=prefix + "-2").count() == 2


def test_unsigned_and_oversized_deliveries_keep_an_excerpt_and_are_counted_per_source(endpoint, settings, admin_client):
    settings.HUB_WEBHOOK_MAX_BYTES = 20_000
    big = b'{"padding": "' + b"x" * 10_000 + b'"}'
    assert post(big, signed=False, remote_addr="10.0.0.7").status_code == 401
    assert post(big, signed=False, remote_addr="10.0.0.7", webhook_id="wh-2").status_code == 401
    assert post(ORDER, signed=False, remote_addr="10.0.0.8").status_code == 401
    huge = b'{"padding": "' + b"x" * 50_000 + b'"}'
    response = post(huge, remote_addr="10.0.0.8")
    assert response.status_code == 413 and "20000 bytes" in response.json()["error"]
    stored = list(InboxMessage.objects.order_by("id"))
    assert [m.rejection for m in stored] == ["signature", "signature", "signature", "too_large"]
    assert all(len(bytes(m.body)) <= 2048 for m in stored)
    assert [m.body_size for m in stored] == [len(big), len(big), len(ORDER), len(huge)]
    counts = {(r.remote_addr, r.reason): r.count for r in InboxRejection.objects.all()}
    assert counts == {("10.0.0.7", "signature"): 2, ("10.0.0.8", "signature"): 1, ("10.0.0.8", "too_large"): 1}
    listing = admin_client.get(reverse("admin:connectors_inboxrejection_changelist")).content.decode()
    assert "10.0.0.7" in listing and "10.0.0.8" in listing
    console = admin_client.get(reverse("admin:connectors_console")).content.decode()
    assert "4 rejected webhook deliveries from 2 sources" in console


def test_a_stored_body_nested_too_deeply_fails_processing_with_a_message(endpoint):
    headers = CaseInsensitiveMapping({"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "wh-1",
                                      "X-Shopify-Hmac-Sha256": signature(SECRET, ORDER)})
    message = inbox_receive(endpoint=endpoint, request=InboundRequest(method="POST", path="/webhooks/shop-fr/", query={}, headers=headers,
                                                                      body=ORDER))
    InboxMessage.objects.filter(pk=message.pk).update(body=b"[" * 100_000 + b"]" * 100_000)
    processed = inbox_process(message_id=message.pk)
    assert processed.status == "failed" and "nested too deeply" in processed.error


def test_a_flood_from_one_source_is_counted_but_only_the_first_deliveries_of_each_hour_are_kept(endpoint, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from connectors import services

    monkeypatch.setattr(services, "REJECTED_KEPT_PER_HOUR", 2)
    for n in range(5):
        assert post(ORDER, signed=False, remote_addr="10.0.0.9", webhook_id=f"wh-{n}").status_code == 401
    assert post(ORDER, signed=False, remote_addr="10.0.0.10").status_code == 401
    assert InboxMessage.objects.filter(remote_addr="10.0.0.9").count() == 2
    assert InboxMessage.objects.filter(remote_addr="10.0.0.10").count() == 1
    assert InboxRejection.objects.get(remote_addr="10.0.0.9").count == 5
    InboxRejection.objects.filter(remote_addr="10.0.0.9").update(window_start=timezone.now() - timedelta(hours=1, seconds=1))
    assert post(ORDER, signed=False, remote_addr="10.0.0.9").status_code == 401
    assert InboxMessage.objects.filter(remote_addr="10.0.0.9").count() == 3


def test_a_get_is_answered_only_when_the_connector_acknowledges_it(endpoint):
    from connectors.inbound import Acknowledgement
    from connectors.registry import CONNECTORS

    connector = CONNECTORS["shopify"]
    original = connector.acknowledge
    connector.acknowledge = lambda *, endpoint, request: (
        Acknowledgement(status=200, body={"echo": request.arg("challenge")}) if request.method == "GET" and request.arg("challenge") else None)
    try:
        assert Client().get("/webhooks/shop-fr/?challenge=abc").json() == {"echo": "abc"}
        refused = Client().get("/webhooks/shop-fr/")
    finally:
        connector.acknowledge = original
    assert refused.status_code == 405 and "GET" in refused.json()["error"]
    assert not InboxMessage.objects.exists()
