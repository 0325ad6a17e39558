"""What the hub writes on an order (why it is held, its timeline) is stored in English and read in
the back office's language."""

import html
from decimal import Decimal

import pytest
from django.utils import translation

from hub.models import TimelineEvent
from hub.money import Money
from hub.services import timeline_record
from hub.texts import Text
from inventory import services as stock
from orders import services
from orders.models import OrderStatus, SalesOrder
from orders.selectors import orders_on_hold
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_language_afterwards():
    """A request in French leaves French active in this thread; the next tests start from the default."""
    yield
    translation.deactivate()
FRENCH, ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}, {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def channel():
    channel = SalesChannelFactory(code="web")
    stock.stock_receive(product=ProductFactory(sku="LAMP-1"), warehouse=WarehouseFactory(code="LYON"), quantity=10)
    return channel


def held_for_unknown_sku(channel):
    order, _ = services.order_import(channel=channel, data=order_payload(lines=[{"sku": "NOPE", "quantity": 1, "unit_price": "10.00"}]))
    assert order.status == OrderStatus.ON_HOLD
    return order


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def test_an_order_held_for_an_unknown_sku_reads_in_french_on_its_page_and_in_the_list(admin_client, channel):
    order = held_for_unknown_sku(channel)
    change = page(admin_client.get(f"/admin/orders/salesorder/{order.pk}/change/", **FRENCH))
    assert "SKU inconnu : NOPE" in change and "unknown SKU" not in change
    listing = page(admin_client.get("/admin/orders/salesorder/", **FRENCH))
    assert "SKU inconnu : NOPE" in listing and "unknown SKU" not in listing


def test_the_same_order_reads_in_english_for_an_english_reader(admin_client, channel):
    order = held_for_unknown_sku(channel)
    assert "unknown SKU: NOPE" in page(admin_client.get(f"/admin/orders/salesorder/{order.pk}/change/", **ENGLISH))
    assert "unknown SKU: NOPE" in page(admin_client.get("/admin/orders/salesorder/", **ENGLISH))


def test_the_english_reason_stays_stored_so_the_hold_filters_still_find_the_order(admin_client, channel):
    order = held_for_unknown_sku(channel)
    assert order.hold_reason == "unknown SKU: NOPE"
    assert list(orders_on_hold(SalesOrder.objects.all(), kind="unknown_sku")) == [order]
    assert not orders_on_hold(SalesOrder.objects.all(), kind="stock").exists()
    listing = page(admin_client.get("/admin/orders/salesorder/?hold=unknown_sku", **FRENCH))
    assert order.number in listing


def test_every_kind_of_hold_is_found_by_its_filter_and_reads_in_french(channel):
    totals, _ = services.order_import(channel=channel, data=order_payload(external_id="T-1", total="60.00"))
    short, _ = services.order_import(channel=channel, data=order_payload(
        external_id="T-2", lines=[{"sku": "LAMP-1", "quantity": 11, "unit_price": "1.00"}], total="15.90"))
    orders = SalesOrder.objects.all()
    assert list(orders_on_hold(orders, kind="totals")) == [totals]
    assert list(orders_on_hold(orders, kind="stock")) == [short]
    with translation.override("fr"):
        assert totals.hold_reason_shown.startswith("les totaux ne concordent pas : lignes 50,00\u00a0€")
        assert "mais la commande indique 60,00\u00a0€" in totals.hold_reason_shown
        assert short.hold_reason_shown == "stock insuffisant : LAMP-1 : il manque 1"
    with translation.override("en"):
        assert short.hold_reason_shown == short.hold_reason == "insufficient stock: LAMP-1 short by 1"


def test_the_message_after_a_release_that_holds_again_is_in_french(admin_client, channel):
    order, _ = services.order_import(channel=channel, data=order_payload(lines=[{"sku": "LAMP-1", "quantity": 11, "unit_price": "1.00"}],
                                                                        total="15.90"))
    response = admin_client.post(f"/admin/orders/salesorder/{order.pk}/change/", {"_workflow": "release"}, follow=True, **FRENCH)
    assert f"{order.number} est en attente : stock insuffisant : LAMP-1 : il manque 1" in page(response)
    stored = dict(TimelineEvent.objects.filter(content_type__model="salesorder", object_id=str(order.pk))
                  .order_by("id").values_list("event", "message"))
    assert stored["confirmed"] == "payment: Paid" and stored["held"] == "insufficient stock: LAMP-1 short by 1"  # English, whoever acted


def test_the_timeline_reads_in_french_with_translated_status_names(admin_client, channel):
    order, _ = services.order_import(channel=channel, data=order_payload())
    services.order_hold(order=order, reason="client au téléphone")
    change = page(admin_client.get(f"/admin/orders/salesorder/{order.pk}/change/", **FRENCH))
    assert "reçue de web sous la référence" in change and "stock réservé" in change and "paiement : Payé" in change
    assert "client au téléphone" in change and "received from" not in change and "stock reserved" not in change
    english = page(admin_client.get(f"/admin/orders/salesorder/{order.pk}/change/", **ENGLISH))
    assert "received from web as" in english and "stock reserved" in english


def test_a_status_change_names_the_statuses_in_the_readers_language(channel):
    order, _ = services.order_import(channel=channel, data=order_payload())
    services.shipment_create(order=order, warehouse=order.lines.get().product.stock_levels.get().warehouse, lines=[(order.lines.get(), 2)])
    services.order_complete(order=order)
    event = TimelineEvent.objects.get(object_id=str(order.pk), event="completed")
    assert event.message == "Shipped → Completed"
    with translation.override("fr"):
        assert event.message_shown == "Expédié → Terminé"


def test_timeline_entries_written_before_messages_were_translatable_still_show(admin_client, channel):
    order = held_for_unknown_sku(channel)
    timeline_record(subject=order, event="updated", message="an old English note")
    SalesOrder.objects.filter(pk=order.pk).update(hold_reason="legacy reason", hold_text=[])
    change = page(admin_client.get(f"/admin/orders/salesorder/{order.pk}/change/", **FRENCH))
    assert "an old English note" in change and "legacy reason" in change


def test_a_hold_put_by_a_person_in_the_admin_reads_in_the_readers_language(admin_client, channel):
    order, _ = services.order_import(channel=channel, data=order_payload())
    admin_client.post(f"/admin/orders/salesorder/{order.pk}/change/", {"_workflow": "hold"}, **ENGLISH)
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD and order.hold_reason == "held by admin from the admin"
    with translation.override("fr"):
        assert order.hold_reason_shown == "mise en attente par admin depuis l'administration"


def test_amounts_in_a_reason_read_as_a_french_reader_writes_them():
    reason = Text("price of %(sku)s is %(price)s, hub price %(hub_price)s (tolerance %(tolerance)s%%)", sku="LAMP-1",
                  price=Money(Decimal("12.3456"), "EUR"), hub_price=Money(Decimal("10"), "EUR"), tolerance="5")
    assert str(reason) == "price of LAMP-1 is 12.3456 EUR, hub price 10.00 EUR (tolerance 5%)"
    with translation.override("fr"):
        assert reason.shown() == "le prix de LAMP-1 est 12,3456\u00a0€, prix du hub 10,00\u00a0€ (tolérance 5 %)"


def test_the_lines_the_hub_adds_to_an_invoice_read_in_the_readers_language(admin_client, channel):
    order, _ = services.order_import(channel=channel, data=order_payload(order_discount="5.00"))
    invoice = services.invoice_issue(order=order)
    assert set(invoice.lines.values_list("description", flat=True)) == {"Lampe", "Shipping: Colissimo", "Order discount"}
    for url in (f"/admin/orders/invoice/{invoice.pk}/change/", f"/admin/orders/invoice/{invoice.pk}/print/"):
        french = page(admin_client.get(url, **FRENCH))
        assert "Livraison : Colissimo" in french and "Remise sur la commande" in french and "Order discount" not in french
    assert "Shipping: Colissimo" in page(admin_client.get(f"/admin/orders/invoice/{invoice.pk}/print/", **ENGLISH))


def test_crediting_an_invoice_in_full_keeps_its_lines_readable_in_the_readers_language(channel):
    order, _ = services.order_import(channel=channel, data=order_payload())
    invoice = services.invoice_issue(order=order)
    note = services.invoice_credit_in_full(invoice=invoice, reason="commande annulée après facturation")
    shipping = note.lines.get(kind="shipping")
    assert shipping.description == "Shipping: Colissimo" and note.reason_shown == "commande annulée après facturation"
    with translation.override("fr"):
        assert shipping.description_shown == "Livraison : Colissimo"
