import pytest

from inventory import services
from inventory.models import StockLevel, StockMovement
from tests.catalog.factories import ProductFactory
from tests.inventory.factories import WarehouseFactory

pytestmark = pytest.mark.django_db


def test_adjust_form_records_a_movement_with_the_user_and_reason(admin_client, admin_user):
    product, warehouse = ProductFactory(sku="LAMP-1"), WarehouseFactory()
    response = admin_client.post("/admin/inventory/stocklevel/adjust/", {
        "sku": "LAMP-1", "warehouse": warehouse.pk, "quantity_delta": 5, "kind": "adjustment", "reason": "found in aisle 4", "lot": "",
    }, follow=True)
    assert "Recorded Adjustment +5 LAMP-1" in response.content.decode()
    movement = StockMovement.objects.get()
    assert (movement.user, movement.reason, movement.source) == (admin_user, "found in aisle 4", "admin")
    assert StockLevel.objects.get(product=product).on_hand == 5


def test_adjust_form_shows_the_rule_that_refused_the_change(admin_client):
    ProductFactory(sku="LAMP-1")
    warehouse = WarehouseFactory()
    response = admin_client.post("/admin/inventory/stocklevel/adjust/", {
        "sku": "LAMP-1", "warehouse": warehouse.pk, "quantity_delta": -2, "kind": "adjustment", "reason": "breakage", "lot": "",
    })
    assert "does not allow negative stock" in response.content.decode()
    assert not StockMovement.objects.exists()
    response = admin_client.post("/admin/inventory/stocklevel/adjust/", {
        "sku": "NOPE", "warehouse": warehouse.pk, "quantity_delta": 1, "kind": "adjustment", "reason": "x", "lot": "",
    })
    assert "No product with SKU" in response.content.decode()


def test_transfer_form_moves_stock(admin_client):
    product = ProductFactory(sku="LAMP-1")
    lyon, paris = WarehouseFactory(code="LYON"), WarehouseFactory(code="PARIS")
    services.stock_receive(product=product, warehouse=lyon, quantity=10)
    response = admin_client.post("/admin/inventory/stocklevel/transfer/", {
        "sku": "LAMP-1", "from_warehouse": lyon.pk, "to_warehouse": paris.pk, "quantity": 4, "reference": "TR-9",
    }, follow=True)
    assert "Transferred 4 × LAMP-1 from LYON to PARIS" in response.content.decode()
    assert StockLevel.objects.get(product=product, warehouse=paris).on_hand == 4


def test_low_stock_filter_lists_only_low_levels(admin_client):
    low, plenty = ProductFactory(sku="LOW"), ProductFactory(sku="PLENTY")
    warehouse = WarehouseFactory()
    services.stock_receive(product=low, warehouse=warehouse, quantity=3)
    services.stock_receive(product=plenty, warehouse=warehouse, quantity=300)
    page = admin_client.get("/admin/inventory/stocklevel/?availability=low").content.decode()
    assert "LOW" in page and "PLENTY" not in page
