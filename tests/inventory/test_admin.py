import pytest

from inventory import services
from inventory.models import StockLevel, StockMovement
from tests.catalog.factories import ProductFactory
from tests.inventory.factories import WarehouseFactory

pytestmark = pytest.mark.django_db


def test_adjust_form_records_a_movement_with_the_user_and_reason(admin_client, admin_user):
    product, warehouse = ProductFactory(sku="LAMP-1"), WarehouseFactory()
    response = admin_client.post("/admin/inventory/stocklevel/adjust/", {
        "product": product.pk, "warehouse": warehouse.pk, "quantity_delta": 5, "kind": "adjustment", "reason": "found in aisle 4", "lot": "",
    }, follow=True)
    assert "Recorded Adjustment +5 LAMP-1" in response.content.decode()
    movement = StockMovement.objects.get()
    assert (movement.user, movement.reason, movement.source) == (admin_user, "found in aisle 4", "admin")
    assert StockLevel.objects.get(product=product).on_hand == 5


def test_adjust_form_shows_the_rule_that_refused_the_change(admin_client):
    product = ProductFactory(sku="LAMP-1")
    warehouse = WarehouseFactory()
    response = admin_client.post("/admin/inventory/stocklevel/adjust/", {
        "product": product.pk, "warehouse": warehouse.pk, "quantity_delta": -2, "kind": "adjustment", "reason": "breakage", "lot": "",
    })
    assert "does not allow negative stock" in response.content.decode()
    assert not StockMovement.objects.exists()
    response = admin_client.post("/admin/inventory/stocklevel/adjust/", {
        "product": product.pk + 1000, "warehouse": warehouse.pk, "quantity_delta": 1, "kind": "adjustment", "reason": "x", "lot": "",
    })
    assert "Select a valid choice" in response.content.decode()


def test_transfer_form_moves_stock(admin_client):
    product = ProductFactory(sku="LAMP-1")
    lyon, paris = WarehouseFactory(code="LYON"), WarehouseFactory(code="PARIS")
    services.stock_receive(product=product, warehouse=lyon, quantity=10)
    response = admin_client.post("/admin/inventory/stocklevel/transfer/", {
        "product": product.pk, "from_warehouse": lyon.pk, "to_warehouse": paris.pk, "quantity": 4, "reference": "TR-9",
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


def test_stock_forms_search_products_variants_and_warehouses_as_you_type_within_what_the_user_may_view(client, django_user_model):
    from django.contrib.auth.models import Permission

    lamp = ProductFactory(sku="LAMP-1", name="Lampe")
    ProductFactory(sku="LAMP-1-RED", name="Lampe rouge", parent=lamp)
    ProductFactory(sku="CHAIR", name="Chaise")
    WarehouseFactory(code="LYON", name="Lyon")
    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(codename__in=["view_stocklevel", "adjust_stocklevel"]))
    client.force_login(clerk)
    form = client.get("/admin/inventory/stocklevel/adjust/").content.decode()
    assert 'data-field-name="product"' in form and 'data-field-name="warehouse"' in form and "admin/js/autocomplete.js" in form

    def search(model, term):
        return client.get("/admin/autocomplete/", {"app_label": "inventory", "model_name": "stockmovement", "field_name": model, "term": term})

    assert search("product", "LAMP").status_code == 403  # may not view products: nothing listed
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_product", "view_warehouse"]))
    found = search("product", "LAMP").json()["results"]
    assert sorted(row["text"] for row in found) == ["LAMP-1 — Lampe", "LAMP-1-RED — Lampe rouge"]
    assert [row["text"] for row in search("warehouse", "lyo").json()["results"]] == ["Lyon (LYON)"]
