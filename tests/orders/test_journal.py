"""Invoices, credit notes, payments and refunds become balanced entries on the PCG accounts."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory import services as stock
from orders import services
from orders.journal import BANK, SALES, JournalError, books_load, entries_numbered, journal_entries
from orders.models import AccountAssignment, Invoice, Payment
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import CustomerFactory, order_payload

TAXED_SHIPPING = [{"title": "Colissimo", "price": "4.90", "tax_amount": "0.82"}]


@pytest.fixture
def shop(db):
    channel = SalesChannelFactory(code="shopify-fr")
    warehouse = WarehouseFactory(code="LYON")
    for sku in ("LAMP-1", "BOOK-1"):
        stock.stock_receive(product=ProductFactory(sku=sku, name=sku.title()), warehouse=warehouse, quantity=50)
    return channel, warehouse


def shipped(channel, warehouse, payload):
    order, _ = services.order_import(channel=channel, data=payload)
    services.shipment_create(order=order, warehouse=warehouse, lines=[(line, line.quantity) for line in order.lines.all()])
    return order, Invoice.objects.get(order=order)


def today_entries():
    today = timezone.localdate()
    return journal_entries(date_from=today, date_to=today)


def rows(entry):
    """(account, auxiliary, debit, credit) of each line, as text for readable assertions."""
    return [(l.account, l.auxiliary, str(l.debit), str(l.credit)) for l in entry.lines]


def by_source(entries, prefix):
    return [e for e in entries if e.source.startswith(prefix)]


@pytest.mark.django_db
class TestSalesEntries:
    def test_invoice_debits_the_customer_and_credits_revenue_shipping_and_vat_per_rate(self, shop):
        channel, warehouse = shop
        order, invoice = shipped(channel, warehouse, order_payload(shipping_lines=TAXED_SHIPPING))
        [entry] = by_source(today_entries(), "invoice:")
        assert (entry.journal, entry.piece_ref, entry.date, entry.currency) == (SALES, invoice.number, invoice.issued_on, "EUR")
        assert rows(entry) == [
            ("411000", order.customer.code, "54.90", "0"),
            ("707100", "", "0", "41.67"),   # 50.00 of lamps less their 8.33 VAT
            ("708500", "", "0", "4.08"),    # 4.90 shipping less its 0.82 VAT
            ("445711", "", "0", "9.15"),    # VAT collected at 20 %: 8.33 + 0.82
        ]
        assert entry.debit == entry.credit == Decimal("54.90")

    def test_prices_without_tax_and_several_rates(self, shop):
        channel, warehouse = shop
        CustomerFactory(code="LIB", channels=[channel], payment_terms="net30")
        lines = [{"sku": "LAMP-1", "quantity": 10, "unit_price": "12.50", "tax_rate": "0.2000", "tax_amount": "25.00"},
                 {"sku": "BOOK-1", "quantity": 4, "unit_price": "10.00", "tax_rate": "0.0550", "tax_amount": "2.20"}]
        _, invoice = shipped(channel, warehouse, order_payload("B2B-1", customer={"code": "LIB"}, lines=lines, shipping="0",
                                                               prices_include_tax=False, total="192.20", payment_status="pending"))
        [entry] = by_source(today_entries(), "invoice:")
        assert invoice.total == Decimal("192.20")
        assert rows(entry) == [("411000", "LIB", "192.20", "0"), ("707100", "", "0", "125.00"), ("707300", "", "0", "40.00"),
                               ("445711", "", "0", "25.00"), ("445713", "", "0", "2.20")]

    def test_an_order_discount_is_debited_to_discounts_granted(self, shop):
        channel, warehouse = shop
        shipped(channel, warehouse, order_payload(order_discount="5.00"))
        [entry] = by_source(today_entries(), "invoice:")
        assert rows(entry)[:2] == [("411000", entry.lines[0].auxiliary, "49.90", "0"), ("707100", "", "0", "41.67")]
        assert ("709700", "", "5.00", "0") in rows(entry)
        assert entry.debit == entry.credit == Decimal("54.90")

    def test_a_rate_without_its_own_accounts_uses_the_general_ones(self, shop):
        channel, warehouse = shop
        lines = [{"sku": "LAMP-1", "quantity": 1, "unit_price": "10.70", "tax_rate": "0.0700", "tax_amount": "0.70"}]
        shipped(channel, warehouse, order_payload(lines=lines, shipping="0"))
        [entry] = by_source(today_entries(), "invoice:")
        assert rows(entry)[1:] == [("707000", "", "0", "10.00"), ("445710", "", "0", "0.70")]

    def test_credit_note_reverses_revenue_and_vat_of_what_it_credits(self, shop):
        channel, warehouse = shop
        order, invoice = shipped(channel, warehouse, order_payload())
        note = services.credit_note_issue(invoice=invoice, reason="return", lines=[
            {"description": "Lampe", "unit_price": "25.00", "tax_rate": "0.2"},
            {"description": "Restocking fee", "unit_price": "-2.00", "kind": "fee"}])
        [entry] = by_source(today_entries(), "credit_note:")
        assert (entry.journal, entry.piece_ref) == (SALES, note.number)
        assert rows(entry) == [("411000", order.customer.code, "0", "23.00"), ("707100", "", "20.83", "0"),
                               ("708800", "", "0", "2.00"), ("445711", "", "4.17", "0")]


@pytest.mark.django_db
class TestBankEntries:
    def test_a_channel_payment_goes_to_the_payment_provider_clearing_account(self, shop):
        channel, warehouse = shop
        order, _ = services.order_import(channel=channel, data=order_payload())
        [entry] = by_source(today_entries(), "payment:")
        assert (entry.journal, entry.piece_ref) == (BANK, "1001")
        assert rows(entry) == [("467100", "", "54.90", "0"), ("411000", order.customer.code, "0", "54.90")]

    def test_payment_methods_and_channels_have_their_own_accounts(self, shop):
        channel, _ = shop
        order, _ = services.order_import(channel=channel, data=order_payload("C-1", payment_status="authorised"))
        services.payment_record(order=order, amount="10.00", method="transfer", reference="VIR-1")
        services.payment_record(order=order, amount="20.00", method="card", reference="CB-1")
        services.payment_record(order=order, amount="24.90", method="cheque", reference="CHQ-1")
        accounts = {e.piece_ref: e.lines[0].account for e in by_source(today_entries(), "payment:")}
        assert accounts == {"VIR-1": "512000", "CB-1": "511500", "CHQ-1": "511200"}

    def test_a_refund_goes_back_the_way_the_order_was_paid(self, shop):
        channel, _ = shop
        order, _ = services.order_import(channel=channel, data=order_payload("C-2", payment_status="authorised"))
        services.payment_record(order=order, amount="54.90", method="card", reference="CB-2")
        services.payment_record(order=order, amount="25.00", method="refund", reference="RMA-1", kind=Payment.Kind.REFUND)
        [refund] = [e for e in by_source(today_entries(), "payment:") if e.piece_ref == "RMA-1"]
        assert rows(refund) == [("511500", "", "0", "25.00"), ("411000", order.customer.code, "25.00", "0")]


@pytest.mark.django_db
class TestJournal:
    def test_entries_are_deterministic_chronological_and_numbered_per_journal_without_gaps(self, shop):
        channel, warehouse = shop
        for n in range(3):
            shipped(channel, warehouse, order_payload(f"D-{n}"))
        first, again = today_entries(), today_entries()
        assert first == again
        numbered = entries_numbered(first)
        assert [(e.journal, n) for n, e in numbered] == [(SALES, 1), (SALES, 2), (SALES, 3), (BANK, 1), (BANK, 2), (BANK, 3)]

    def test_a_period_holds_only_its_documents(self, shop):
        channel, warehouse = shop
        order, _ = services.order_import(channel=channel, data=order_payload("E-1", payment_status="authorised"))
        services.payment_record(order=order, amount="54.90", method="card", received_on=date(2020, 3, 1))
        assert [e.date for e in journal_entries(date_from=date(2020, 1, 1), date_to=date(2020, 12, 31))] == [date(2020, 3, 1)]
        assert journal_entries(date_from=date(2021, 1, 1), date_to=date(2021, 12, 31)) == []

    def test_a_role_without_an_account_is_a_clear_error(self, shop):
        channel, _ = shop
        services.order_import(channel=channel, data=order_payload())
        AccountAssignment.objects.filter(role="payment").delete()
        with pytest.raises(JournalError, match="Money received"):
            today_entries()

    def test_the_default_plan_is_the_french_pcg(self, db):
        books = books_load()
        assert books.account("receivable") == ("411000", "Clients")
        assert books.account("shipping") == ("708500", "Ports et frais accessoires facturés")
        assert books.account("vat", rate=Decimal("0.2000")) == ("445711", "TVA collectée 20 %")
        assert (books.journal_code(SALES), books.journal_code(BANK)) == ("VE", "BQ")
