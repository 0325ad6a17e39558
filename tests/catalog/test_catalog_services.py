from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog import services
from catalog.models import Category, PriceEntry, Product
from hub.models import ChangeEvent
from tests.catalog.factories import PriceListFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_category_paths_follow_renames_and_moves_for_the_whole_subtree():
    lighting = services.category_create(name="Lighting")
    outdoor = services.category_create(name="Outdoor", parent=lighting)
    garlands = services.category_create(name="Garlands", parent=outdoor)
    assert garlands.path == "Lighting > Outdoor > Garlands"
    garden = services.category_create(name="Garden")
    services.category_move(category=outdoor, parent=garden, name="Outdoor lighting")
    assert sorted(Category.objects.values_list("path", flat=True)) == [
        "Garden", "Garden > Outdoor lighting", "Garden > Outdoor lighting > Garlands", "Lighting"]


def test_a_category_cannot_move_under_its_own_descendant():
    top = services.category_create(name="Home")
    child = services.category_create(name="Kitchen", parent=top)
    with pytest.raises(ValidationError, match="descendants"):
        services.category_move(category=top, parent=child)
    assert Category.objects.get(pk=top.pk).path == "Home"


def test_category_get_or_create_path_builds_missing_levels_once():
    leaf = services.category_get_or_create_path(path="Lighting > Indoor > Lamps")
    again = services.category_get_or_create_path(path="Lighting>Indoor>Lamps")
    assert leaf == again and leaf.path == "Lighting > Indoor > Lamps"
    assert Category.objects.count() == 3


def test_product_create_validates_gtin_customs_code_and_temperatures_and_records_a_change():
    with pytest.raises(ValidationError) as error:
        services.product_create(sku="X1", name="Lamp", gtin="3760000000003", customs_code="94.05",
                                storage_temp_min_c=10, storage_temp_max_c=5)
    assert {"gtin", "customs_code", "storage_temp_max_c"} <= set(error.value.message_dict)
    assert not Product.objects.exists()
    product = services.product_create(sku="X1", name="Lamp", gtin="3760000000000", customs_code="94054099",
                                      country_of_origin="FR", attributes={"ip_rating": "IP44"})
    event = ChangeEvent.objects.get(topic="catalog.product")
    assert (event.object_id, event.action) == (str(product.pk), "created")


def test_variants_use_the_parents_option_axes_and_are_one_level_deep():
    parent = services.product_create(sku="GAR", name="Garland", option_axes=["length"])
    services.product_create(sku="GAR-10", name="Garland 10 m", parent=parent, option_values={"length": "10 m"})
    with pytest.raises(ValidationError, match="axes"):
        services.product_create(sku="GAR-RED", name="Garland red", parent=parent, option_values={"colour": "red"})
    variant = Product.objects.get(sku="GAR-10")
    with pytest.raises(ValidationError, match="one level"):
        services.product_create(sku="GAR-10-X", name="x", parent=variant)


def test_archiving_a_parent_archives_its_variants_and_keeps_the_rows():
    parent = ProductFactory(sku="P")
    ProductFactory(sku="P-1", parent=parent)
    PriceEntry.objects.create(price_list=PriceListFactory(), product=parent, unit_price=1)
    services.product_archive(product=parent)
    assert set(Product.objects.values_list("sku", "status")) == {("P", "archived"), ("P-1", "archived")}
    with pytest.raises(ValidationError, match="product_archive"):
        services.product_update(product=ProductFactory(), status="archived")


def test_price_entry_set_updates_the_same_break_and_records_price_changes():
    price_list, product = PriceListFactory(code="PRO"), ProductFactory(sku="LAMP")
    services.price_entry_set(price_list=price_list, product=product, unit_price="10", min_quantity=5)
    services.price_entry_set(price_list=price_list, product=product, unit_price="9.5", min_quantity=5)
    assert list(PriceEntry.objects.values_list("min_quantity", "unit_price")) == [(5, Decimal("9.5"))]
    assert [e.action for e in ChangeEvent.objects.filter(topic="catalog.price")] == ["created", "updated"]
    with pytest.raises(ValidationError):
        services.price_entry_set(price_list=price_list, product=product, unit_price="-1")
    assert PriceEntry.objects.get().unit_price == Decimal("9.5")


def test_derived_lists_are_one_level_deep_and_in_the_base_currency():
    public = PriceListFactory(code="PUBLIC")
    derived = services.price_list_create(code="PUB-12", name="x", base_price_list=public, base_adjustment_percent=Decimal("-12"))
    with pytest.raises(ValidationError, match="one level"):
        services.price_list_create(code="PUB-20", name="x", base_price_list=derived)
    with pytest.raises(ValidationError, match="EUR"):
        services.price_list_create(code="PUB-GBP", name="x", currency="GBP", base_price_list=public)


def test_product_history_records_who_changed_what():
    product = services.product_create(sku="H1", name="Before")
    services.product_update(product=product, name="After")
    assert [h.name for h in product.history.order_by("history_id")] == ["Before", "After"]
