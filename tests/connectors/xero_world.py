"""A hub selling lamps and books, and a Xero sandbox organisation its books go to over real HTTP."""

from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from connectors import sync
from connectors.models import Endpoint
from connectors.xero.sandbox import API, XeroSandbox
from inventory import services as stock
from orders import services
from orders.models import Invoice
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_payload

CLIENT_ID, CLIENT_SECRET, FIRST_REFRESH, TENANT = "xero-client", "xero-secret", "refresh-0", "tenant-7f3c"
ACCOUNTING_FLOWS = ("contacts.out", "invoices.out", "credit_notes.out", "payments.out")


@pytest.fixture
def xero_options():
    return {}


@pytest.fixture
def xero(xero_options):
    sandbox = XeroSandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=FIRST_REFRESH, tenant_id=TENANT,
                          **xero_options).start()
    yield sandbox
    sandbox.stop()


def xero_endpoint(sandbox, *, code="books", **settings) -> Endpoint:
    return Endpoint.objects.create(
        kind="xero", code=code, name="Xero", base_url=f"{sandbox.url}{API}",
        credentials={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": FIRST_REFRESH, "tenant_id": TENANT},
        settings={"token_url": f"{sandbox.url}/connect/token", **settings})


@pytest.fixture
def books_world(db, xero):
    channel = SalesChannelFactory(code="shopify-fr")
    warehouse = WarehouseFactory(code="LYON")
    for sku in ("LAMP-1", "BOOK-1"):
        stock.stock_receive(product=ProductFactory(sku=sku, name=sku.title()), warehouse=warehouse, quantity=500)
    return {"channel": channel, "warehouse": warehouse, "endpoint": xero_endpoint(xero), "xero": xero}


def shipped(world, payload) -> tuple:
    order, _ = services.order_import(channel=world["channel"], data=payload)
    services.shipment_create(order=order, warehouse=world["warehouse"], lines=[(line, line.quantity) for line in order.lines.all()])
    order.refresh_from_db()
    return order, Invoice.objects.get(order=order)


def paid_order(world, external_id="1001", **extra):
    return shipped(world, order_payload(external_id, **extra))


def run_flows(endpoint, *flows):
    for flow in flows or ACCOUNTING_FLOWS:
        sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=30)


def due_now(endpoint):
    """Jobs waiting for a backoff are due now (the test does not wait)."""
    endpoint.jobs.filter(status="pending").update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def books(sandbox) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/books", timeout=5).json()


def money(value) -> Decimal:
    return Decimal(str(value))
