import json
from datetime import date
from decimal import Decimal

import pytest

from catalog.models import Product
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
    api(order_payload(payment_status="pending"))
    order = SalesOrder.objects.get()
    services.invoice_issue(order=order, issued_on=date(2020, 1, 1))
    page = admin_client.get("/admin/orders/invoice/?balance=overdue").content.decode()
    assert order.invoices.get().number in page


def test_demo_has_orders_in_every_state_with_timelines():
    from django.core.management import call_command

    from hub.models import TimelineEvent

    call_command("seed_demo")
    statuses = set(SalesOrder.objects.values_list("status", flat=True))
    assert {"received", "allocated", "partially_shipped", "shipped", "completed", "on_hold", "cancelled"} <= statuses
    held = SalesOrder.objects.filter(status="on_hold").first()
    assert held.hold_reason and TimelineEvent.objects.filter(object_id=str(held.pk), event="held").exists()


def test_orders_and_invoices_export(tmp_path, api):
    from django.core.management import call_command

    api(order_payload())
    order = SalesOrder.objects.get()
    services.invoice_issue(order=order)
    call_command("hub_export", "orders", str(tmp_path / "orders.csv"))
    call_command("hub_export", "invoices", str(tmp_path / "invoices.csv"))
    rows = (tmp_path / "orders.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "number,channel,external_id,customer,status,payment_status,currency,subtotal,shipping,discount,tax,total,lines"
    assert rows[1].startswith(f"{order.number},web,1001,") and rows[1].endswith(",50.00,4.90,0.00,8.33,54.90,LAMP-1×2")
    invoice_row = (tmp_path / "invoices.csv").read_text(encoding="utf-8-sig").splitlines()[1]
    assert invoice_row.startswith(order.invoices.get().number) and invoice_row.endswith(",54.90,0.00,54.90,0.00")


def test_staff_order_is_priced_by_the_hub_for_the_customer(admin_client):
    from catalog.models import ChannelCatalog
    from tests.catalog.factories import PriceEntryFactory, PriceListFactory
    from tests.orders.factories import CustomerFactory

    channel = SalesChannelFactory(code="phone")
    product = ProductFactory(sku="GUI-10M")
    stock.stock_receive(product=product, warehouse=WarehouseFactory(code="LYON"), quantity=50)
    public, b2b = PriceListFactory(code="PUBLIC"), PriceListFactory(code="B2B")
    ChannelCatalog.objects.create(channel=channel, public_price_list=public)
    PriceEntryFactory(price_list=public, product=product, unit_price="39.90")
    PriceEntryFactory(price_list=b2b, product=product, min_quantity=10, unit_price="27.50")
    customer = CustomerFactory(code="HOTEL", channels=[channel], payment_terms="net30", credit_limit="10000")
    customer.price_lists.add(b2b)
    response = admin_client.post("/admin/orders/salesorder/staff-order/", {
        "channel": channel.pk, "customer": customer.pk, **staff_lines((product, 12)), "tax_rate": "0.20", "shipping": "0", "payment_status": "pending",
        "notes": "",
    }, follow=True)
    order = SalesOrder.objects.get(channel=channel)
    assert f"{order.number} created: Allocated" in response.content.decode()
    line = order.lines.get()
    assert (line.unit_price, order.total) == (Decimal("27.5000"), Decimal("396.00"))


def staff_lines(*rows) -> dict:
    """The staff order form's lines as a browser posts them: (product, quantity) rows, then empty rows."""
    data = {"lines-TOTAL_FORMS": str(len(rows) + 2), "lines-INITIAL_FORMS": "0"}
    for n, (product, quantity) in enumerate(rows):
        data[f"lines-{n}-product"], data[f"lines-{n}-quantity"] = product.pk, quantity
    return data


def test_staff_order_form_explains_a_bad_line_and_a_product_without_price(admin_client):
    channel = SalesChannelFactory(code="phone")
    from tests.orders.factories import CustomerFactory

    hotel, lamp = CustomerFactory(code="HOTEL", channels=[channel]), ProductFactory(sku="GUI-10M")
    header = {"channel": channel.pk, "customer": hotel.pk, "tax_rate": "0.20", "shipping": "0", "payment_status": "pending"}
    bad_quantity = {**header, **staff_lines((lamp, 0))}
    response = admin_client.post("/admin/orders/salesorder/staff-order/", bad_quantity, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Assurez-vous que cette valeur est supérieure ou égale à 1." in response.content.decode()
    no_line = {**header, **staff_lines()}
    assert "Ajoutez au moins une ligne." in admin_client.post("/admin/orders/salesorder/staff-order/", no_line,
                                                                           HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    unpriced = admin_client.post("/admin/orders/salesorder/staff-order/", {**header, **staff_lines((lamp, 2))}, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Pas de prix pour GUI-10M pour ce client" in unpriced.content.decode()
    assert not SalesOrder.objects.exists()


def test_staff_order_form_reads_french_and_finds_products_as_you_type(admin_client):
    ProductFactory(sku="GUI-10M", name="Guirlande LED 10 m")
    ProductFactory(sku="LAMP-1", name="Lampe de chevet")
    form = admin_client.get("/admin/orders/salesorder/staff-order/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    for label in ("Canal de vente", "Taux de TVA", "5,5 %", "En attente (à terme)", "Produit", "Quantité"):
        assert label in form, label
    assert 'data-field-name="product"' in form and "0.055" in form
    found = admin_client.get("/admin/autocomplete/", {"app_label": "orders", "model_name": "orderline", "field_name": "product", "term": "guirl"})
    assert [row["id"] for row in found.json()["results"]] == [str(Product.objects.get(sku="GUI-10M").pk)]


