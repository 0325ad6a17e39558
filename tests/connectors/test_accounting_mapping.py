"""Pure parts of the accounting connectors: how money applies to documents, Xero's dates and rounding."""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from connectors.accounting.system import idempotency_key, percent_key
from connectors.quickbooks import mapping as qbo
from connectors.xero import mapping as xero
from orders.selectors import Application, applications_plan

D = Decimal


def test_a_payment_before_its_invoice_is_applied_when_the_invoice_comes_and_a_later_refund_pays_out_the_credit_note():
    plan = applications_plan([("payment", 1, D("54.90"), None), ("invoice", 10, D("54.90"), None),
                              ("credit_note", 20, D("25.00"), 10), ("refund", 2, D("25.00"), None)])
    assert plan == [Application("payment", 1, 10, D("54.90")), Application("refund", 2, 20, D("25.00"))]


def test_a_credit_note_on_an_unpaid_invoice_is_allocated_and_the_payment_covers_the_rest():
    plan = applications_plan([("invoice", 10, D("120.00"), None), ("credit_note", 20, D("30.00"), 10), ("payment", 1, D("90.00"), None)])
    assert plan == [Application("allocation", 20, 10, D("30.00")), Application("payment", 1, 10, D("90.00"))]


def test_one_payment_spreads_over_two_shipments_invoices_oldest_first():
    plan = applications_plan([("payment", 1, D("100.00"), None), ("invoice", 10, D("60.00"), None), ("invoice", 11, D("40.00"), None)])
    assert plan == [Application("payment", 1, 10, D("60.00")), Application("payment", 1, 11, D("40.00"))]


def test_money_refunded_before_anything_was_invoiced_sends_nothing():
    assert applications_plan([("payment", 1, D("50.00"), None), ("refund", 2, D("50.00"), None)]) == []


def test_a_refund_recorded_before_its_credit_note_waits_for_it():
    plan = applications_plan([("invoice", 10, D("54.90"), None), ("payment", 1, D("54.90"), None), ("refund", 2, D("25.00"), None),
                              ("credit_note", 20, D("25.00"), 10)])
    assert plan[-1] == Application("refund", 2, 20, D("25.00"))


def test_xero_dates_are_read_with_their_zone():
    assert xero.xero_date("/Date(1552262400000+0000)/") == date(2019, 3, 11)
    assert xero.xero_datetime("/Date(1551747281053+1300)/").utcoffset().total_seconds() == 13 * 3600
    assert xero.as_xero_date(date(2019, 3, 11)) == "/Date(1552262400000+0000)/"
    with pytest.raises(ValueError):
        xero.xero_date("2019-03-11")
    assert xero.xero_datetime("/Date(0)/") == datetime(1970, 1, 1, tzinfo=timezone.utc)


def test_xero_rounds_tax_per_line_as_its_guide_shows():
    # "Rounding in Xero": three lines at 15 % → tax 11.44 (per line), not 11.45 (on the subtotal)
    body = {"LineAmountTypes": "Exclusive", "LineItems": [{"LineAmount": amount, "TaxType": "GST"} for amount in (25.06, 25.61, 25.63)]}
    assert xero.totals(body, {"GST": D("0.15")}) == (D("76.30"), D("11.44"), D("87.74"))
    assert xero.line_tax(D("14.4333"), D("0.15"), inclusive=False) == D("2.16")
    assert xero.line_tax(D("4.90"), D("0.2"), inclusive=True) == D("0.82")


def test_quickbooks_taxes_each_rate_on_the_sum_of_its_lines_unless_the_tax_is_stated():
    lines = [{"DetailType": "SalesItemLineDetail", "Amount": 8.33, "SalesItemLineDetail": {"TaxCodeRef": {"value": "11"}}}] * 2
    assert qbo.totals({"Line": lines}, {"11": D("0.2")}) == (D("19.99"), D("3.33"))
    stated = {"Line": lines, "TxnTaxDetail": {"TaxLine": [{"Amount": 3.34}]}}
    assert qbo.totals(stated, {"11": D("0.2")}) == (D("20.00"), D("3.34"))
    assert qbo.quoted("O'Neil") == "'O\\'Neil'"


def test_idempotency_keys_follow_what_is_sent_and_fit_every_system():
    first = idempotency_key("invoice", 12, {"a": 1})
    assert first == idempotency_key("invoice", 12, {"a": 1}) != idempotency_key("invoice", 12, {"a": 2})
    assert len(idempotency_key("credit_note", 10 ** 12, {"a": 1})) <= 50
    assert percent_key("5,5 %") == D("0.055") and percent_key("20") == D("0.2")
