"""Shopify webhooks over real HTTP into the hub: stored raw, verified, deduplicated, processed."""

import json
from decimal import Decimal

import pytest
import requests

from connectors.models import Endpoint, InboxMessage
from connectors.services import inbox_process
from connectors.shopify.webhooks import signature
from hub.models import ChangeEvent, TimelineEvent
from inventory import services as stock
from inventory.models import StockLevel
from orders.models import SalesOrder
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

SECRET = "shpss_test_secret"

SHOPIFY_ORDER = {
    "id": 820982911946154508, "name": "#1001", "email": "jon@example.com", "currency": "EUR", "financial_status": "paid",
    "taxes_included": True, "total_price": "54.90", "total_tax": "9.15", "created_at": "2026-11-22T10:15:00+01:00",
    "customer": {"id": 115310627314723954, "email": "jon@example.com", "first_name": "Jon", "last_name": "Snow"},
    "shipping_address": {"first_name": "Jon", "last_name": "Snow", "address1": "3 rue des Lilas", "zip": "69003", "city": "Lyon", "country_code": "FR"},
    "line_items": [{"id": 1, "variant_id": 2, "sku": "LAMP-1", "title": "Lampe", "quantity": 2, "price": "25.00",
                    "tax_lines": [{"title": "TVA", "price": "8.33", "rate": 0.2}], "discount_allocations": []}],
    "shipping_lines": [{"title": "Colissimo", "code": "COL", "price": "4.90", "tax_lines": [{"title": "TVA", "price": "0.82", "rate": 0.2}]}],
    "discount_codes": [], "cancelled_at": None,
}


@pytest.fixture
def hub_server(hub_url):
    return hub_url


@pytest.fixture
def endpoint(transactional_db):
    channel = SalesChannelFactory(code="shopify-fr")
    stock.stock_receive(product=ProductFactory(sku="LAMP-1"), warehouse=WarehouseFactory(code="LYON"), quantity=10)
    return Endpoint.objects.create(kind="shopify", code="shop-fr", name="Boutique Shopify", base_url="https://example.myshopify.com",
                                   channel=channel, webhook_secret=SECRET)


def deliver(base, body: bytes, *, topic="orders/create", webhook_id="b54557e4-0001", secret=SECRET):
    return requests.post(f"{base}/webhooks/shop-fr/", data=body, timeout=10, headers={
        "Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Hmac-Sha256": signature(secret, body), "X-Shopify-Shop-Domain": "example.myshopify.com",
        "X-Shopify-API-Version": "2025-01"})


def process_all():
    for message in InboxMessage.objects.filter(status="received").order_by("id"):
        inbox_process(message_id=message.pk)


def test_a_signed_order_webhook_is_stored_then_processed_into_an_allocated_order(hub_server, endpoint):
    body = json.dumps(SHOPIFY_ORDER).encode()
    response = deliver(hub_server, body)
    assert response.status_code == 200
    message = InboxMessage.objects.get()
    assert message.signature_ok and bytes(message.body) == body and message.headers["X-Shopify-Topic"] == "orders/create"
    process_all()
    order = SalesOrder.objects.get(external_id=str(SHOPIFY_ORDER["id"]))
    assert order.status == "allocated" and order.total == Decimal("54.90") and order.payment_status == "paid"
    assert StockLevel.objects.get().reserved == 2
    assert ChangeEvent.objects.filter(topic="orders.order", origin="shop-fr").exists()
    assert InboxMessage.objects.get().status == "processed"


def test_the_same_webhook_delivered_five_times_makes_one_order(hub_server, endpoint):
    body = json.dumps(SHOPIFY_ORDER).encode()
    for _ in range(5):
        assert deliver(hub_server, body).status_code == 200
    process_all()
    process_all()
    assert SalesOrder.objects.count() == 1
    assert list(InboxMessage.objects.order_by("id").values_list("status", flat=True)) == ["processed"] + ["duplicate"] * 4


def test_a_bad_signature_gets_401_is_stored_as_rejected_and_creates_nothing(hub_server, endpoint):
    body = json.dumps(SHOPIFY_ORDER).encode()
    response = deliver(hub_server, body, secret="not-the-secret")
    assert response.status_code == 401
    process_all()
    message = InboxMessage.objects.get()
    assert (message.status, message.signature_ok) == ("rejected", False)
    assert not SalesOrder.objects.exists()


def test_cancelled_webhook_cancels_and_releases_stock(hub_server, endpoint):
    deliver(hub_server, json.dumps(SHOPIFY_ORDER).encode())
    cancelled = {**SHOPIFY_ORDER, "cancelled_at": "2026-11-22T11:00:00+01:00", "cancel_reason": "customer"}
    deliver(hub_server, json.dumps(cancelled).encode(), topic="orders/cancelled", webhook_id="b54557e4-0002")
    process_all()
    order = SalesOrder.objects.get()
    assert order.status == "cancelled"
    assert TimelineEvent.objects.filter(object_id=str(order.pk), event="cancelled", message__contains="cancelled in Shopify (customer)",
                                        actor_label="shopify:shop-fr").exists()
    assert StockLevel.objects.get().reserved == 0


def test_a_failed_message_can_be_replayed_after_the_cause_is_fixed(hub_server, endpoint):
    broken = {**SHOPIFY_ORDER, "line_items": [{**SHOPIFY_ORDER["line_items"][0], "quantity": 0}]}
    deliver(hub_server, json.dumps(broken).encode())
    process_all()
    message = InboxMessage.objects.get()
    assert message.status == "failed" and "quantity" in message.error
    InboxMessage.objects.filter(pk=message.pk).update(body=json.dumps(SHOPIFY_ORDER).encode())
    assert inbox_process(message_id=message.pk, replay=True).status == "processed"
    assert SalesOrder.objects.count() == 1
