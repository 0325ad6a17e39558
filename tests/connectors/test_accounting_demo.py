"""Done when: the demo's books in the Xero sandbox equal the hub's, per currency and tax rate, and
no document is there twice."""

from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command

from connectors import sync
from connectors.models import Endpoint, SyncJob
from connectors.registry import connector_for
from connectors.xero.demo import DEMO_CREDENTIALS, DEMO_ENDPOINT
from connectors.xero.sandbox import API, XeroSandbox
from orders import journal
from orders.models import CreditNote, Invoice
from tests.connectors.xero_world import books, money

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_books():
    sandbox = XeroSandbox(client_id=DEMO_CREDENTIALS["client_id"], client_secret=DEMO_CREDENTIALS["client_secret"],
                          refresh_token=DEMO_CREDENTIALS["refresh_token"], tenant_id=DEMO_CREDENTIALS["tenant_id"]).start()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    endpoint = Endpoint.objects.get(code=DEMO_ENDPOINT)
    endpoint.base_url = f"{sandbox.url}{API}"
    endpoint.settings = {**endpoint.settings, "token_url": f"{sandbox.url}/connect/token"}
    endpoint.save()
    yield endpoint, sandbox
    sandbox.stop()


def hub_sums() -> dict:
    """(currency, rate) → [lines total, tax]: invoices minus credit notes."""
    sums = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for model, sign in ((Invoice, 1), (CreditNote, -1)):
        for document in model.objects.select_related("order").prefetch_related("lines"):
            lines = list(document.lines.all())
            for line in lines:
                rate = journal.line_rate(line, lines, prices_include_tax=document.order.prices_include_tax).normalize()
                net = line.line_total - line.tax_amount if document.order.prices_include_tax else line.line_total
                sums[(document.currency, rate)][0] += sign * net
                sums[(document.currency, rate)][1] += sign * line.tax_amount
    return {key: value for key, value in sums.items() if any(value)}


def xero_sums(sandbox) -> dict:
    rates = {rate["TaxType"]: (Decimal(str(rate["EffectiveRate"])) / 100).normalize() for rate in sandbox.tax_rates}
    seen = books(sandbox)
    sums = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for documents, sign in ((seen["invoices"], 1), (seen["credit_notes"], -1)):
        for document in documents:
            for line in document["LineItems"]:
                amount, tax = money(line["LineAmount"]), money(line["TaxAmount"])
                net = amount - tax if document["LineAmountTypes"] == "Inclusive" else amount
                sums[(document["CurrencyCode"], rates[line["TaxType"]])][0] += sign * net
                sums[(document["CurrencyCode"], rates[line["TaxType"]])][1] += sign * tax
    return {key: value for key, value in sums.items() if any(value)}


def test_the_demo_books_in_xero_equal_the_hubs_per_currency_and_tax_rate_with_no_document_twice(demo_books):
    endpoint, sandbox = demo_books
    connector_for(endpoint).sync_due(endpoint=endpoint)
    for _ in range(3):
        for flow in ("invoices.out", "credit_notes.out", "payments.out"):
            sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=120)
    assert not SyncJob.objects.filter(endpoint=endpoint, status="failed").exists()
    assert Invoice.objects.exists()
    assert xero_sums(sandbox) == hub_sums()
    seen = books(sandbox)
    for documents, field in ((seen["invoices"], "InvoiceNumber"), (seen["credit_notes"], "CreditNoteNumber"),
                             (seen["payments"], "Reference"), (seen["contacts"], "ContactNumber")):
        assert [n for n, count in Counter(d[field] for d in documents).items() if count > 1] == []
    assert len(seen["invoices"]) == Invoice.objects.count() and len(seen["credit_notes"]) == CreditNote.objects.count()
    assert sum(money(i["Total"]) for i in seen["invoices"]) == sum(i.total for i in Invoice.objects.all())
    connector_for(endpoint).sync_due(endpoint=endpoint)  # again: everything is there, nothing is sent twice
    for flow in ("invoices.out", "credit_notes.out", "payments.out"):
        sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=60)
    assert len(books(sandbox)["invoices"]) == Invoice.objects.count()
