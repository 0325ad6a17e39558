import json

import pytest

from hub.services import api_token_create
from inventory import services as stock
from orders import services
from orders.models import OrderStatus, SalesOrder
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    channel = SalesChannelFactory(code="web")
    _, key = api_token_create(channel=channel)
    stock.stock_receive(product=ProductFactory(sku="LAMP-1"), warehouse=WarehouseFactory(code="LYON"), quantity=10)

    def post(body, **headers):
        return client.post("/api/v1/orders/", data=json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Token {key}", **headers)
    return post


def test_post_order_creates_it_then_a_resend_updates_it(api):
    response = api(order_payload())
    assert response.status_code == 201
    assert response.json()["status"] == "allocated" and response.json()["number"].startswith("SO-")
    again = api(order_payload())
    assert again.status_code == 200 and again.json()["created"] is False
    assert SalesOrder.objects.count() == 1


def test_idempotency_key_replays_the_answer_and_refuses_another_body(api):
    first = api(order_payload(), HTTP_IDEMPOTENCY_KEY="k-1")
    replay = api(order_payload(), HTTP_IDEMPOTENCY_KEY="k-1")
    assert (replay.status_code, replay.json()) == (first.status_code, first.json())
    other = api(order_payload("1002"), HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422 and "different body" in other.json()["detail"]
    assert SalesOrder.objects.count() == 1


def test_malformed_order_gets_field_messages_and_creates_nothing(api):
    payload = order_payload()
    payload["lines"][0]["unit_price"] = "abc"
    response = api(payload)
    assert response.status_code == 400
    assert "unit_price" in response.json()["lines"][0]
    assert not SalesOrder.objects.exists()


def test_no_token_is_401(client):
    assert client.post("/api/v1/orders/", data="{}", content_type="application/json").status_code == 401


def test_admin_actions_run_services_and_show_refusals(admin_client, api):
    api(order_payload())
    order = SalesOrder.objects.get()
    response = admin_client.post("/admin/orders/salesorder/", {"action": "ship_reserved", "_selected_action": [order.pk]}, follow=True)
    assert f"{order.number}-1 created." in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    response = admin_client.post("/admin/orders/salesorder/", {"action": "cancel", "_selected_action": [order.pk]}, follow=True)
    assert "returned through an RMA" in response.content.decode()
    page = admin_client.get(f"/admin/orders/salesorder/{order.pk}/change/").content.decode()
    assert "Timeline" in page and "allocated" in page and "shipped" in page
    invoice = order.invoices.get()
    printed = admin_client.get(f"/admin/orders/invoice/{invoice.pk}/print/").content.decode()
    assert invoice.number in printed and "Balance due" in printed


def test_overdue_filter_lists_unpaid_invoices_past_due(admin_client, api):
    api(order_payload())
    order = SalesOrder.objects.get()
    services.invoice_issue(order=order, issued_on=__import__("datetime").date(2020, 1, 1))
    page = admin_client.get("/admin/orders/invoice/?balance=overdue").content.decode()
    assert order.invoices.get().number in page
