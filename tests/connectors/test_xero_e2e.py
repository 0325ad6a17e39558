"""The hub's books reach a Xero organisation (the sandbox) over real HTTP, each document once."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from connectors.binder import INVOICE, Binder
from connectors.models import Endpoint, SyncJob
from connectors.sync import sync_job_retry
from orders import services
from orders.models import ChannelOrderSettings, Payment
from returns.services import refund_record_external
from tests.connectors.xero_world import books, due_now, money, paid_order, run_flows, shipped, xero_endpoint
from tests.orders.factories import order_payload

pytestmark = pytest.mark.django_db


def test_an_orders_invoice_payment_and_partial_refund_arrive_once_each_with_equal_totals(books_world):
    order, invoice = paid_order(books_world)
    run_flows(books_world["endpoint"])
    refund_record_external(order=order, amount=Decimal("25.00"), reference="refund-1", source_label="shopify-fr",
                           lines=[{"order_line": order.lines.get(), "quantity": 1, "amount": Decimal("25.00")}])
    run_flows(books_world["endpoint"])
    run_flows(books_world["endpoint"])
    seen = books(books_world["xero"])
    [xero_invoice] = seen["invoices"]
    [xero_note] = seen["credit_notes"]
    assert (xero_invoice["InvoiceNumber"], money(xero_invoice["Total"]), money(xero_invoice["TotalTax"])) == (invoice.number, invoice.total, invoice.tax_total)
    note = order.credit_notes.get()
    assert (xero_note["CreditNoteNumber"], money(xero_note["Total"])) == (note.number, note.total)
    assert money(xero_invoice["AmountDue"]) == 0 and money(xero_invoice["AmountPaid"]) == Decimal("54.90")
    assert money(xero_note["RemainingCredit"]) == 0
    kinds = sorted((p["PaymentType"], money(p["Amount"])) for p in seen["payments"])
    assert kinds == [("ACCRECPAYMENT", Decimal("54.90")), ("ARCREDITPAYMENT", Decimal("25.00"))]
    assert [c["ContactNumber"] for c in seen["contacts"]] == [order.customer.code]
    assert not SyncJob.objects.filter(status="failed").exists()


def test_a_credit_note_issued_before_payment_is_allocated_to_its_invoice_then_the_rest_is_paid(books_world):
    ChannelOrderSettings.objects.update_or_create(channel=books_world["channel"], defaults={"confirm_unpaid": True})
    order, invoice = shipped(books_world, order_payload("B2B-1", payment_status="pending",
                                                        prices_include_tax=False, shipping="0", total="120.00",
                                                        lines=[{"sku": "LAMP-1", "name": "Lampe", "quantity": 4, "unit_price": "25.00",
                                                                "tax_rate": "0.2000", "tax_amount": "20.00"}]))
    assert invoice.total == Decimal("120.00")
    note = services.credit_note_issue(invoice=invoice, reason="one lamp broken",
                                      lines=[{"description": "Lampe", "quantity": 1, "unit_price": "25.00", "tax_rate": "0.2000"}])
    run_flows(books_world["endpoint"])
    services.payment_record(order=order, amount=Decimal("90.00"), method="transfer", reference="VIR-123")
    run_flows(books_world["endpoint"])
    run_flows(books_world["endpoint"])
    seen = books(books_world["xero"])
    [xero_invoice], [xero_note] = seen["invoices"], seen["credit_notes"]
    assert [money(a["Amount"]) for a in xero_note["Allocations"]] == [note.total] == [Decimal("30.00")]
    assert money(xero_invoice["AmountCredited"]) == Decimal("30.00") and money(xero_invoice["AmountDue"]) == 0
    [payment] = seen["payments"]
    assert (money(payment["Amount"]), payment["Account"]["Code"]) == (Decimal("90.00"), "512000")


def test_a_create_whose_answer_was_lost_is_found_by_its_number_not_made_twice(books_world):
    _, invoice = paid_order(books_world)
    books_world["xero"].set_faults(drop_after={"requests": 1, "match": "PUT /api.xro/2.0/Invoices"})
    run_flows(books_world["endpoint"], "invoices.out")
    job = SyncJob.objects.get(flow="invoices.out")
    assert job.status == "pending" and job.error_class == "transient"
    due_now(books_world["endpoint"])
    run_flows(books_world["endpoint"], "invoices.out")
    assert [i["InvoiceNumber"] for i in books(books_world["xero"])["invoices"]] == [invoice.number]
    assert Binder(books_world["endpoint"]).is_bound(INVOICE, local_id=invoice.pk)


def test_documents_issued_before_the_start_date_are_never_sent(books_world):
    old_order, old_invoice = paid_order(books_world, "OLD-1")
    endpoint = books_world["endpoint"]
    endpoint.settings = {**endpoint.settings, "start_date": (timezone.localdate() + timedelta(days=1)).isoformat()}
    endpoint.save()
    SyncJob.objects.all().delete()
    paid_order(books_world, "NEW-1")
    run_flows(endpoint)
    call_command("hub_endpoint", "sync", endpoint.code)
    assert books(books_world["xero"])["invoices"] == []


def test_daily_mode_sends_nothing_as_documents_are_issued_and_hub_endpoint_sync_sends_what_is_due(books_world, capsys):
    endpoint = books_world["endpoint"]
    endpoint.settings = {**endpoint.settings, "mode": "daily"}
    endpoint.save()
    _, invoice = paid_order(books_world)
    assert not SyncJob.objects.filter(endpoint=endpoint).exists()
    call_command("hub_endpoint", "sync", endpoint.code)
    call_command("hub_endpoint", "sync", endpoint.code)  # payments wait for their invoice's flow at most one round
    seen = books(books_world["xero"])
    assert [i["InvoiceNumber"] for i in seen["invoices"]] == [invoice.number]
    assert [money(p["Amount"]) for p in seen["payments"]] == [invoice.total]
    assert "queued" in capsys.readouterr().out


def test_an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_kept(books_world):
    endpoint = books_world["endpoint"]
    paid_order(books_world, "1")
    run_flows(endpoint, "invoices.out")
    first = Endpoint.objects.get(pk=endpoint.pk).credentials
    assert first["refresh_token"] != "refresh-0" and first["access_token"]
    books_world["xero"].clock.advance(31 * 60)  # past the 30-minute access token
    paid_order(books_world, "2")
    run_flows(endpoint, "invoices.out")
    second = Endpoint.objects.get(pk=endpoint.pk).credentials
    assert second["refresh_token"] not in (first["refresh_token"], "refresh-0")
    assert len(books(books_world["xero"])["invoices"]) == 2
    assert books(books_world["xero"])["refresh_tokens_spent"] == 2


def test_a_429_storm_is_waited_out_and_nothing_is_sent_twice(books_world):
    paid_order(books_world)
    books_world["xero"].set_faults(throttle={"requests": 3, "retry_after": 1, "match": "api.xro"})
    run_flows(books_world["endpoint"], "invoices.out", "payments.out")
    seen = books(books_world["xero"])
    assert len(seen["invoices"]) == 1 and len(seen["payments"]) == 1
    assert books_world["xero"].stats["429 sent"] == 3
    assert SyncJob.objects.filter(status="done").count() == 2


def test_a_spent_daily_limit_waits_for_the_next_day_and_says_so_without_calling_again(books_world):
    endpoint = books_world["endpoint"]
    paid_order(books_world, "1")
    paid_order(books_world, "2")
    requests.post(f"{books_world['xero'].url}/_sandbox/limits", json={"day_remaining": 0}, timeout=5)
    run_flows(endpoint, "invoices.out")
    jobs = list(SyncJob.objects.filter(flow="invoices.out"))
    assert {job.status for job in jobs} == {"pending"}
    assert all("daily limit" in job.last_error and "jobs wait until then" in job.last_error for job in jobs)
    assert all(job.next_attempt_at > timezone.now() + timedelta(hours=20) for job in jobs)
    limited = [r for r in books_world["xero"].journal if r.status == 429]
    assert len(limited) == 1  # one call learnt it; the other job did not call at all
    run_flows(endpoint, "invoices.out")
    assert len([r for r in books_world["xero"].journal if r.status == 429]) == 1


def test_a_validation_error_shows_xeros_message_and_is_fixed_by_edit_and_retry(books_world):
    endpoint = books_world["endpoint"]
    endpoint.settings = {**endpoint.settings, "accounts": {"707100": "7071"}}
    endpoint.save()
    _, invoice = paid_order(books_world)
    run_flows(endpoint, "invoices.out")
    job = SyncJob.objects.get(flow="invoices.out")
    assert job.status == "failed" and job.error_class == "permanent"
    assert "Account code '7071' is not a valid code for this document." in job.last_error
    payload = json.loads(json.dumps(job.payload).replace('"7071"', '"707100"'))
    sync_job_retry(job=job, payload=payload)
    run_flows(endpoint, "invoices.out")
    job.refresh_from_db()
    assert job.status == "done"
    [sent] = books(books_world["xero"])["invoices"]
    assert sent["InvoiceNumber"] == invoice.number and {line["AccountCode"] for line in sent["LineItems"]} == {"707100", "708500"}


def test_totals_xero_would_compute_differently_are_a_permanent_error_naming_both(books_world):
    endpoint = books_world["endpoint"]
    endpoint.settings = {**endpoint.settings, "tax_codes": {"20": "TAX001"}}  # Xero's TAX001 is 10 %
    endpoint.save()
    paid_order(books_world)
    run_flows(endpoint, "invoices.out")
    job = SyncJob.objects.get(flow="invoices.out")
    assert job.status == "failed"
    assert "Xero would total 54.90 EUR with 4.55 EUR of tax, the hub's total is 54.90 EUR with 8.33 EUR of tax" in job.last_error
    assert books(books_world["xero"])["invoices"] == []


def test_hub_endpoint_adds_xero_without_a_sales_channel_with_settings(db, xero, capsys):
    call_command("hub_endpoint", "add", "xero", "books-cli", "--base-url", f"{xero.url}/api.xro/2.0",
                 "--credential", "client_id=xero-client", "--credential", "client_secret=xero-secret",
                 "--credential", "refresh_token=refresh-0", "--credential", "tenant_id=tenant-7f3c",
                 "--setting", f"token_url={xero.url}/connect/token", "--setting", "mode=daily", "--setting", "tax_codes=20=OUTPUT2")
    endpoint = Endpoint.objects.get(code="books-cli")
    assert endpoint.channel is None and endpoint.config["mode"] == "daily" and endpoint.config["tax_codes"] == {"20": "OUTPUT2"}
    call_command("hub_endpoint", "test", "books-cli")
    assert "connected to Maison & Jardin Lumière SAS (sandbox)" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="mode"):
        call_command("hub_endpoint", "add", "xero", "books-cli", "--base-url", f"{xero.url}/api.xro/2.0", "--setting", "mode=hourly")


def test_payments_received_before_any_invoice_wait_for_it(books_world):
    order, _ = services.order_import(channel=books_world["channel"], data=order_payload("EARLY-1"))
    assert order.payments.filter(kind=Payment.Kind.PAYMENT).exists()
    run_flows(books_world["endpoint"])
    assert books(books_world["xero"])["payments"] == []
    services.shipment_create(order=order, warehouse=books_world["warehouse"], lines=[(line, line.quantity) for line in order.lines.all()])
    run_flows(books_world["endpoint"])
    assert [money(p["Amount"]) for p in books(books_world["xero"])["payments"]] == [Decimal("54.90")]


@pytest.mark.postgres_only
def test_two_workers_refreshing_the_token_at_once_do_not_lock_the_endpoint_out(transactional_db, xero):
    import threading

    from django.db import connections

    from connectors.http import Recorder
    from connectors.xero.client import XeroClient

    endpoint = xero_endpoint(xero)
    tokens, errors = [], []
    barrier = threading.Barrier(4)

    def worker():
        try:
            client = XeroClient(endpoint=Endpoint.objects.get(pk=endpoint.pk), recorder=Recorder())
            barrier.wait()
            tokens.append(client.access_token())
            client.api("GET", "Organisation")
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(tokens)) == 1
    assert books(xero)["refresh_tokens_spent"] == 1 and xero.stats["refresh token refused"] == 0
    stored = Endpoint.objects.get(pk=endpoint.pk).credentials
    assert stored["refresh_token"] in xero.refresh_tokens  # the rotated token, still valid for the next refresh


def test_the_refresh_token_is_never_sent_to_a_token_url_on_another_host(books_world):
    from connectors.xero.sandbox import XeroSandbox

    elsewhere = XeroSandbox(client_id="xero-client", client_secret="xero-secret", refresh_token="refresh-0", tenant_id="x").start()
    try:
        endpoint = books_world["endpoint"]
        endpoint.settings = {**endpoint.settings, "token_url": f"{elsewhere.url}/connect/token"}
        endpoint.save()
        paid_order(books_world)
        run_flows(endpoint, "invoices.out")
        job = SyncJob.objects.get(flow="invoices.out")
        assert job.status == "failed" and "token URL" in job.last_error and "nothing was sent" in job.last_error
        assert elsewhere.stats["POST /connect/token"] == 0
    finally:
        elsewhere.stop()
