"""The hub's books reach a QuickBooks Online company (the sandbox) over real HTTP, each document once."""

import json
from decimal import Decimal

import pytest
import requests

from connectors.binder import CUSTOMER, Binder
from connectors.models import Endpoint, SyncJob
from connectors.quickbooks.sandbox import QuickBooksSandbox
from connectors.sync import sync_job_retry
from orders import services
from orders.models import ChannelOrderSettings
from returns.services import refund_record_external
from tests.connectors.xero_world import due_now, money, paid_order, run_flows, shipped
from tests.orders.factories import order_payload

pytestmark = pytest.mark.django_db
REALM = "9130357992223456"


@pytest.fixture
def qbo():
    sandbox = QuickBooksSandbox(client_id="qb-client", client_secret="qb-secret", refresh_token="qb-refresh-0", realm_id=REALM).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def qbo_world(books_world, qbo):
    endpoint = Endpoint.objects.create(
        kind="quickbooks", code="qbo", name="QuickBooks", base_url=qbo.url,
        credentials={"client_id": "qb-client", "client_secret": "qb-secret", "refresh_token": "qb-refresh-0", "realm_id": REALM},
        settings={"token_url": f"{qbo.url}/oauth2/v1/tokens/bearer"})
    books_world["endpoint"].delete()  # only the QuickBooks company keeps these books
    return {**books_world, "endpoint": endpoint, "qbo": qbo}


def books(sandbox) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/books", timeout=5).json()


def test_invoice_payment_credit_memo_applied_and_refund_arrive_once_with_equal_totals(qbo_world):
    order, invoice = paid_order(qbo_world, lines=[
        {"sku": "LAMP-1", "name": "Lampe", "quantity": 1, "unit_price": "10.00", "tax_rate": "0.2000", "tax_amount": "1.67"},
        {"sku": "BOOK-1", "name": "Livre", "quantity": 1, "unit_price": "10.00", "tax_rate": "0.2000", "tax_amount": "1.67"}])
    run_flows(qbo_world["endpoint"])
    refund_record_external(order=order, amount=Decimal("10.00"), reference="refund-1", source_label="shopify-fr",
                           lines=[{"order_line": order.lines.get(sku="LAMP-1"), "quantity": 1, "amount": Decimal("10.00")}])
    run_flows(qbo_world["endpoint"])
    run_flows(qbo_world["endpoint"])
    seen = books(qbo_world["qbo"])
    [qb_invoice], [qb_memo] = seen["Invoice"], seen["CreditMemo"]
    # two lines of 10.00 at 20 % included: QuickBooks alone would say 3.33 of tax on 16.66; the hub's per-line 3.34 is kept
    assert (qb_invoice["DocNumber"], money(qb_invoice["TotalAmt"]), money(qb_invoice["TxnTaxDetail"]["TotalTax"])) == (
        invoice.number, invoice.total, invoice.tax_total) == (invoice.number, Decimal("24.90"), Decimal("3.34"))
    note = order.credit_notes.get()
    assert (qb_memo["DocNumber"], money(qb_memo["TotalAmt"])) == (note.number, note.total)
    [payment] = seen["Payment"]
    assert money(payment["TotalAmt"]) == invoice.total and money(qb_invoice["Balance"]) == 0
    [refund] = seen["JournalEntry"]
    assert {line["JournalEntryLineDetail"]["PostingType"]: money(line["Amount"]) for line in refund["Line"]} == {"Debit": Decimal("10.00"),
                                                                                                                  "Credit": Decimal("10.00")}
    assert len(seen["Customer"]) == 1 and not SyncJob.objects.filter(status="failed").exists()


def test_a_credit_memo_before_payment_is_applied_to_its_invoice(qbo_world):
    ChannelOrderSettings.objects.update_or_create(channel=qbo_world["channel"], defaults={"confirm_unpaid": True})
    order, invoice = shipped(qbo_world, order_payload("T-1", payment_status="pending"))
    services.credit_note_issue(invoice=invoice, reason="lamp broken",
                               lines=[{"description": "Lampe", "quantity": 1, "unit_price": "25.00", "tax_rate": "0.2000"}])
    run_flows(qbo_world["endpoint"])
    services.payment_record(order=order, amount=Decimal("29.90"), method="card")
    run_flows(qbo_world["endpoint"])
    seen = books(qbo_world["qbo"])
    allocation = [p for p in seen["Payment"] if money(p["TotalAmt"]) == 0]
    assert len(allocation) == 1 and money(seen["CreditMemo"][0]["Balance"]) == 0
    assert money(seen["Invoice"][0]["Balance"]) == 0


def test_a_retried_create_with_the_same_requestid_is_not_written_twice(qbo_world):
    paid_order(qbo_world)
    qbo_world["qbo"].set_faults(drop_after={"requests": 1, "match": "POST /v3/company/.*/invoice"})
    run_flows(qbo_world["endpoint"], "invoices.out")
    due_now(qbo_world["endpoint"])
    run_flows(qbo_world["endpoint"], "invoices.out")
    assert len(books(qbo_world["qbo"])["Invoice"]) == 1


def test_a_fault_inside_a_200_answer_is_an_error_shown_with_intuits_message_and_fixed_by_edit_and_retry(qbo_world):
    requests.post(f"{qbo_world['qbo'].url}/_sandbox/faults_in_200", json={"codes": ["6000"]}, timeout=5)
    endpoint = qbo_world["endpoint"]
    endpoint.settings = {**endpoint.settings, "tax_codes": {"20": "99"}}  # a tax code the company does not have
    endpoint.save()
    paid_order(qbo_world)
    run_flows(endpoint, "invoices.out")
    job = SyncJob.objects.get(flow="invoices.out")
    assert job.status == "failed" and job.error_class == "permanent"
    assert "Make sure all your transactions have a GST/HST rate before you save" in job.last_error and "(code 6000)" in job.last_error
    assert [a.response_status for a in job.attempt_log.all()] == [200]
    payload = json.loads(json.dumps(job.payload).replace('{"value": "99"}', '{"value": "11"}'))
    sync_job_retry(job=job, payload=payload)
    run_flows(endpoint, "invoices.out")
    job.refresh_from_db()
    assert job.status == "done" and len(books(qbo_world["qbo"])["Invoice"]) == 1


def test_a_stale_sync_token_is_read_again_and_the_update_retried_once_then_fails_clearly(qbo_world):
    from orders.services import customer_upsert_from_channel

    order, _ = paid_order(qbo_world)
    run_flows(qbo_world["endpoint"], "invoices.out")
    customer_id = Binder(qbo_world["endpoint"]).external_id(CUSTOMER, order.customer_id)
    requests.post(f"{qbo_world['qbo'].url}/_sandbox/customers/{customer_id}/touch", timeout=5)  # someone edits it in QuickBooks
    customer_upsert_from_channel(channel=qbo_world["channel"], external_id="cust-77", email="camille.m@example.com", name="Camille Martin")
    run_flows(qbo_world["endpoint"], "contacts.out")
    job = SyncJob.objects.get(flow="contacts.out")
    assert job.status == "done", job.last_error
    assert qbo_world["qbo"].entities["Customer"][customer_id]["PrimaryEmailAddr"]["Address"] == "camille.m@example.com"
    assert qbo_world["qbo"].stats["stale updates"] == 1
    original = qbo_world["qbo"]._update

    def always_stale(name, body):  # another person keeps saving it
        qbo_world["qbo"].entities[name][str(body["Id"])]["SyncToken"] += "9"
        return original(name, body)

    qbo_world["qbo"]._update = always_stale
    customer_upsert_from_channel(channel=qbo_world["channel"], external_id="cust-77", email="camille@example.com", name="Camille Martin")
    run_flows(qbo_world["endpoint"], "contacts.out")
    job = SyncJob.objects.filter(flow="contacts.out").order_by("-id").first()
    assert job.status == "failed" and "Stale Object Error" in job.last_error and "twice" in job.last_error


def test_hub_endpoint_sync_sends_what_is_due_to_quickbooks(qbo_world):
    from django.core.management import call_command

    paid_order(qbo_world)
    SyncJob.objects.all().delete()
    call_command("hub_endpoint", "sync", "qbo")
    call_command("hub_endpoint", "sync", "qbo")
    assert len(books(qbo_world["qbo"])["Invoice"]) == 1 and len(books(qbo_world["qbo"])["Payment"]) == 1


def test_hub_endpoint_adds_quickbooks_without_a_sales_channel_and_tests_the_connection(db, qbo, capsys):
    from django.core.management import call_command

    call_command("hub_endpoint", "add", "quickbooks", "qbo-cli", "--base-url", qbo.url, "--credential", "client_id=qb-client",
                 "--credential", "client_secret=qb-secret", "--credential", "refresh_token=qb-refresh-0", "--credential", f"realm_id={REALM}",
                 "--setting", f"token_url={qbo.url}/oauth2/v1/tokens/bearer")
    endpoint = Endpoint.objects.get(code="qbo-cli")
    assert endpoint.channel is None and endpoint.config["mode"] == "event"
    call_command("hub_endpoint", "test", "qbo-cli")
    assert f"connected to Maison & Jardin Lumière SAS (sandbox) (QuickBooks Online, company {REALM})" in capsys.readouterr().out
    assert Endpoint.objects.get(code="qbo-cli").credentials["refresh_token"] != "qb-refresh-0"  # rotated and kept
