"""Reasons the hub writes on stock movements read in the back office's language; what a person
typed stays as typed."""

import html

import pytest
from django.utils import translation

from inventory import services
from tests.catalog.factories import ProductFactory
from tests.inventory.factories import WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_language_afterwards():
    """A request in French leaves French active in this thread; the next tests start from the default."""
    yield
    translation.deactivate()


def test_a_stock_count_variance_reads_in_french_in_the_ledger(admin_client):
    product, warehouse = ProductFactory(sku="LAMP-1"), WarehouseFactory(code="LYON")
    services.stock_receive(product=product, warehouse=warehouse, quantity=10)
    movement = services.stock_count(product=product, warehouse=warehouse, counted=8)
    services.stock_adjust(product=product, warehouse=warehouse, quantity_delta=-1, reason="cassé au déballage")
    assert movement.reason == "counted 8, ledger said 10"
    french = html.unescape(admin_client.get("/admin/inventory/stockmovement/", HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert "compté 8, le registre indiquait 10" in french and "cassé au déballage" in french and "ledger said" not in french
    detail = html.unescape(admin_client.get(f"/admin/inventory/stockmovement/{movement.pk}/change/", HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert "compté 8, le registre indiquait 10" in detail
    english = html.unescape(admin_client.get("/admin/inventory/stockmovement/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "counted 8, ledger said 10" in english
