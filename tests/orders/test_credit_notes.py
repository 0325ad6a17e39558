"""A refund of an order shipped and invoiced in parts is credited on the invoices that billed the
goods, never more on one invoice than it has left, and the parts add up to the refund."""

from decimal import Decimal

import pytest

from inventory import services as stock
from orders import services
from orders.models import CreditNote, Invoice
from orders.services import OrderError
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_payload

pytestmark = pytest.mark.django_db

LAMPS = [{"sku": "LAMP-1", "name": "Lampe", "quantity": 2, "unit_price": "25.00", "tax_rate": "0.2000", "tax_amount": "8.33"}]


@pytest.fixture
def shipped_in_two_parts():
    """Two lamps (25.00 each, tax included) and 4.90 shipping, shipped one at a time: invoices of
    29.90 (first lamp and shipping) and 25.00."""
    channel, warehouse = SalesChannelFactory(), WarehouseFactory(code="LYON")
    stock.stock_receive(product=ProductFactory(sku="LAMP-1", name="Lampe"), warehouse=warehouse, quantity=5)
    order, _ = services.order_import(channel=channel, data=order_payload("P-1", lines=LAMPS))
    line = order.lines.get()
    services.shipment_create(order=order, warehouse=warehouse, lines=[(line, 1)])
    services.shipment_create(order=order, warehouse=warehouse, lines=[(line, 1)])
    return order, line


def _credited(invoice):
    return sum(invoice.credit_notes.values_list("total", flat=True), Decimal(0))


def test_both_lamps_of_an_order_invoiced_in_two_parts_are_credited_on_each_invoice(shipped_in_two_parts):
    order, line = shipped_in_two_parts
    first, second = Invoice.objects.filter(order=order).order_by("number")
    assert (first.total, second.total) == (Decimal("29.90"), Decimal("25.00"))
    notes = services.credit_notes_issue(order=order, reason="return", lines=[
        {"description": "Return: LAMP-1", "quantity": 1, "unit_price": "50.00", "tax_rate": "0.2000", "order_line": line.pk}])
    assert sorted((note.invoice.number, note.total) for note in notes) == sorted([(first.number, Decimal("25.00")), (second.number, Decimal("25.00"))])
    assert sum(note.tax_total for note in notes) == Decimal("8.34")  # 4.17 on each part
    assert _credited(second) == second.total


def test_a_refund_of_everything_leaves_no_invoice_credited_beyond_its_total(shipped_in_two_parts):
    order, line = shipped_in_two_parts
    notes = services.credit_notes_issue(order=order, reason="refund", lines=[
        {"description": "Refund: LAMP-1", "quantity": 1, "unit_price": "50.00", "tax_rate": "0.2000", "order_line": line.pk},
        {"description": "Refund: shipping", "quantity": 1, "unit_price": "4.90", "tax_rate": "0", "kind": "shipping"}])
    assert sum(note.total for note in notes) == Decimal("54.90")
    for invoice in Invoice.objects.filter(order=order):
        assert _credited(invoice) == invoice.total


def test_more_than_the_invoices_have_left_is_refused_and_nothing_is_credited(shipped_in_two_parts):
    order, line = shipped_in_two_parts
    with pytest.raises(OrderError, match="would exceed what its invoices have left"):
        services.credit_notes_issue(order=order, reason="refund", lines=[
            {"description": "Refund", "quantity": 1, "unit_price": "60.00", "tax_rate": "0.2000", "order_line": line.pk}])
    assert not CreditNote.objects.exists()


def test_a_restocking_fee_reduces_the_largest_part(shipped_in_two_parts):
    order, line = shipped_in_two_parts
    notes = services.credit_notes_issue(order=order, reason="return", lines=[
        {"description": "Return: LAMP-1", "quantity": 1, "unit_price": "50.00", "tax_rate": "0.2000", "order_line": line.pk},
        {"description": "Restocking fee 10 %", "quantity": 1, "unit_price": "-5.00", "tax_rate": "0", "kind": "fee"}])
    assert sorted(note.total for note in notes) == [Decimal("20.00"), Decimal("25.00")]


def test_an_order_without_tax_in_its_prices_is_credited_on_each_invoice_with_its_own_tax(db):
    channel, warehouse = SalesChannelFactory(), WarehouseFactory(code="LYON")
    stock.stock_receive(product=ProductFactory(sku="BOLT", name="Bolt"), warehouse=warehouse, quantity=10)
    order, _ = services.order_import(channel=channel, data=order_payload(
        "B2B-1", prices_include_tax=False, shipping="0", total="40.00",
        lines=[{"sku": "BOLT", "name": "Bolt", "quantity": 3, "unit_price": "11.11", "tax_rate": "0.2000", "tax_amount": "6.67"}]))
    line = order.lines.get()
    services.shipment_create(order=order, warehouse=warehouse, lines=[(line, 1)])
    services.shipment_create(order=order, warehouse=warehouse, lines=[(line, 2)])
    first, second = Invoice.objects.filter(order=order).order_by("number")
    assert (first.total, second.total) == (Decimal("13.33"), Decimal("26.66"))
    notes = services.credit_notes_issue(order=order, reason="return", lines=[  # two of the three bolts
        {"description": "Return: BOLT", "quantity": 1, "unit_price": "22.22", "tax_rate": "0.2000", "order_line": line.pk}])
    assert sorted((note.invoice.number, note.subtotal, note.tax_total) for note in notes) == [
        (first.number, Decimal("11.11"), Decimal("2.22")), (second.number, Decimal("11.11"), Decimal("2.22"))]
