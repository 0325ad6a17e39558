"""A payment captured by a sales channel is a payment of the order, recorded once, and it settles
the invoices issued after it."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from inventory import services as stock
from orders import services
from orders.models import ChannelOrderSettings, Invoice, Payment
from orders.resources import InvoiceExportResource
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_payload


@pytest.fixture
def shop(db):
    channel = SalesChannelFactory(code="shopify-fr")
    warehouse = WarehouseFactory(code="LYON")
    product = ProductFactory(sku="LAMP-1", name="Lampe")
    stock.stock_receive(product=product, warehouse=warehouse, quantity=20)
    return channel, warehouse


def ship_everything(order, warehouse):
    return services.shipment_create(order=order, warehouse=warehouse, lines=[(line, line.quantity) for line in order.lines.all()])


def shopify_paid_order(external_id="820982911946154508", **extra):
    """What the Shopify mapping sends for an order whose financial_status is `paid`."""
    return order_payload(external_id, payment_status="paid", **extra)


def export_row(invoice):
    resource = InvoiceExportResource()
    return dict(zip(resource.export_header(), resource.export_values(invoice)))


@pytest.mark.django_db
class TestChannelPaymentIsRecorded:
    def test_a_paid_channel_order_is_a_payment_of_the_order_with_the_channels_reference(self, shop):
        channel, _ = shop
        order, _ = services.order_import(channel=channel, data=shopify_paid_order())
        payment = order.payments.get()
        assert (payment.kind, payment.amount, payment.currency) == (Payment.Kind.PAYMENT, Decimal("54.90"), "EUR")
        assert payment.method == "shopify-fr" and payment.reference == "820982911946154508"

    def test_the_payload_may_name_the_payment_method_and_transaction(self, shop):
        channel, _ = shop
        order, _ = services.order_import(channel=channel, data=shopify_paid_order(payment_method="shopify_payments",
                                                                                  payment_reference="txn-389404469"))
        payment = order.payments.get()
        assert (payment.method, payment.reference) == ("shopify_payments", "txn-389404469")

    def test_invoice_issued_at_shipment_after_the_payment_shows_balance_zero(self, shop, admin_client):
        channel, warehouse = shop
        order, _ = services.order_import(channel=channel, data=shopify_paid_order())
        ship_everything(order, warehouse)
        invoice = Invoice.objects.get(order=order)
        assert invoice.total == Decimal("54.90")
        assert services.invoice_balance(invoice=invoice) == 0
        row = export_row(invoice)
        assert (row["paid"], row["balance"]) == (Decimal("54.90"), Decimal("0.00"))
        url = reverse("admin:orders_invoice_changelist")
        assert invoice.number not in admin_client.get(url, {"balance": "open"}).content.decode()
        assert invoice.number not in admin_client.get(url, {"balance": "overdue"}).content.decode()
        assert invoice.number in admin_client.get(url).content.decode()

    def test_an_unpaid_invoice_stays_in_the_not_fully_paid_filter(self, shop, admin_client):
        channel, warehouse = shop
        ChannelOrderSettings.objects.create(channel=channel, confirm_unpaid=True)
        order, _ = services.order_import(channel=channel, data=order_payload("A-2", payment_status="pending"))
        ship_everything(order, warehouse)
        invoice = Invoice.objects.get(order=order)
        assert services.invoice_balance(invoice=invoice) == Decimal("54.90")
        assert invoice.number in admin_client.get(reverse("admin:orders_invoice_changelist"), {"balance": "open"}).content.decode()

    def test_unpaid_then_updated_to_paid_records_one_payment(self, shop):
        channel, _ = shop
        order, _ = services.order_import(channel=channel, data=order_payload("A-3", payment_status="pending"))
        assert not order.payments.exists()
        order, _ = services.order_import(channel=channel, data=order_payload("A-3", payment_status="paid"))
        assert list(order.payments.values_list("amount", flat=True)) == [Decimal("54.90")]
        services.order_import(channel=channel, data=order_payload("A-3", payment_status="paid", notes="changed again"))
        assert order.payments.count() == 1

    def test_a_duplicate_delivery_is_still_one_payment(self, shop):
        channel, _ = shop
        for _ in range(3):
            order, _ = services.order_import(channel=channel, data=shopify_paid_order())
        assert order.payments.count() == 1 and order.payment_status == "paid"

    def test_partial_capture_leaves_total_minus_captured_due(self, shop):
        channel, warehouse = shop
        order, _ = services.order_import(channel=channel, data=order_payload("A-4", payment_status="authorised", amount_paid="20.00"))
        assert list(order.payments.values_list("amount", flat=True)) == [Decimal("20.00")]
        ship_everything(order, warehouse)
        invoice = Invoice.objects.get(order=order)
        assert services.invoice_balance(invoice=invoice) == Decimal("34.90")
        assert export_row(invoice)["balance"] == Decimal("34.90")

    def test_a_later_capture_records_only_the_difference(self, shop):
        channel, _ = shop
        services.order_import(channel=channel, data=order_payload("A-5", payment_status="authorised", amount_paid="20.00"))
        order, _ = services.order_import(channel=channel, data=order_payload("A-5", payment_status="paid"))
        assert sorted(order.payments.values_list("amount", flat=True)) == [Decimal("20.00"), Decimal("34.90")]
        assert order.payment_status == "paid"

    def test_a_payment_staff_already_recorded_is_not_recorded_again(self, shop):
        channel, _ = shop
        order, _ = services.order_import(channel=channel, data=order_payload("A-6", payment_status="authorised"))
        services.payment_record(order=order, amount="54.90", method="transfer", reference="VIR-1")
        services.order_import(channel=channel, data=order_payload("A-6", payment_status="paid"))
        assert order.payments.count() == 1

    def test_amount_paid_above_the_total_is_refused_and_nothing_is_written(self, shop):
        channel, _ = shop
        with pytest.raises(ValidationError) as error:
            services.order_import(channel=channel, data=order_payload("A-7", amount_paid="60.00"))
        assert "amount_paid" in error.value.detail
        assert not Payment.objects.exists()

    def test_payments_settle_invoices_oldest_first_across_partial_shipments(self, shop):
        channel, warehouse = shop
        order, _ = services.order_import(channel=channel, data=shopify_paid_order(lines=[
            {"sku": "LAMP-1", "name": "Lampe", "quantity": 2, "unit_price": "25.00", "tax_rate": "0.2000", "tax_amount": "8.33"}]))
        line = order.lines.get()
        services.shipment_create(order=order, warehouse=warehouse, lines=[(line, 1)])
        services.shipment_create(order=order, warehouse=warehouse, lines=[(line, 1)])
        first, second = Invoice.objects.filter(order=order).order_by("number")
        assert (first.total, second.total) == (Decimal("29.90"), Decimal("25.00"))
        assert services.invoice_balance(invoice=first) == 0 and services.invoice_balance(invoice=second) == 0

    def test_a_credit_note_and_its_refund_leave_the_invoice_settled(self, shop):
        channel, warehouse = shop
        order, _ = services.order_import(channel=channel, data=shopify_paid_order())
        ship_everything(order, warehouse)
        invoice = Invoice.objects.get(order=order)
        services.credit_note_issue(invoice=invoice, lines=[{"description": "Lampe", "unit_price": "25.00", "tax_rate": "0.2"}], reason="return")
        services.payment_record(order=order, amount="25.00", method="refund", kind=Payment.Kind.REFUND)
        assert services.invoice_balance(invoice=invoice) == 0
        assert export_row(invoice)["balance"] == Decimal("0.00")



@pytest.mark.django_db
class TestInvoiceOnPaymentChannels:
    @pytest.fixture
    def on_payment(self, shop):
        channel, warehouse = shop
        ChannelOrderSettings.objects.create(channel=channel, invoice_trigger="payment")
        return channel

    def test_a_paid_import_is_invoiced_and_settled(self, on_payment):
        order, _ = services.order_import(channel=on_payment, data=shopify_paid_order())
        invoice = Invoice.objects.get(order=order)
        assert services.invoice_balance(invoice=invoice) == 0

    def test_a_held_paid_order_is_invoiced_once_released_and_can_still_be_corrected(self, on_payment):
        ProductFactory(sku="LAMP-2", name="Lampe bleue")
        wrong = [{"sku": "LAMP-X", "name": "?", "quantity": 2, "unit_price": "25.00", "tax_rate": "0.2000", "tax_amount": "8.33"}]
        order, _ = services.order_import(channel=on_payment, data=shopify_paid_order(lines=wrong))
        assert order.status == "on_hold" and order.payments.count() == 1 and not order.invoices.exists()
        order, _ = services.order_import(channel=on_payment, data=shopify_paid_order())
        assert order.status == "allocated" and order.payments.count() == 1
        invoice = Invoice.objects.get(order=order)
        assert [line.sku for line in invoice.lines.all() if line.sku] == ["LAMP-1"]
        assert services.invoice_balance(invoice=invoice) == 0


@pytest.mark.django_db
def test_the_data_migration_records_the_missing_payments_of_paid_orders_once(shop):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("orders.migrations.0008_record_channel_payments")
    channel, warehouse = shop
    paid, _ = services.order_import(channel=channel, data=shopify_paid_order("OLD-1"))
    pending, _ = services.order_import(channel=channel, data=order_payload("OLD-2", payment_status="authorised"))
    Payment.objects.all().delete()  # as a database from before payments were recorded on import
    ship_everything(paid, warehouse)
    invoice = Invoice.objects.get(order=paid)
    assert services.invoice_balance(invoice=invoice) == Decimal("54.90")
    migration.record_missing_payments(apps, None)
    migration.record_missing_payments(apps, None)
    payment = paid.payments.get()
    assert (payment.amount, payment.method, payment.reference) == (Decimal("54.90"), "shopify-fr", "OLD-1")
    assert payment.received_on == timezone.localdate(paid.placed_at)
    assert services.invoice_balance(invoice=invoice) == 0
    assert not pending.payments.exists()
