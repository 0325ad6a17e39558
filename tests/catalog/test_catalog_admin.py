from decimal import Decimal

import pytest

from catalog.models import PriceEntry, Product
from hub.models import ChangeEvent
from tests.catalog.factories import PriceEntryFactory, PriceListFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("admin", "a@example.com", "pw"))
    return client


def test_product_admin_searches_by_sku_name_and_gtin_and_filters(staff):
    ProductFactory(sku="LAMP-1", name="Desk lamp", gtin="3760000000000")
    ProductFactory(sku="CHAIR", name="Chair")
    for query in ("LAMP-1", "Desk", "3760000000000"):
        page = staff.get(f"/admin/catalog/product/?q={query}").content.decode()
        assert "LAMP-1" in page and "CHAIR" not in page
    assert staff.get("/admin/catalog/product/?status__exact=active&brand=Lumi%C3%A8re").status_code == 200


def test_product_admin_pages_and_history_open(staff):
    product = ProductFactory(sku="LAMP-1")
    ProductFactory(sku="LAMP-1-RED", parent=product)
    assert staff.get(f"/admin/catalog/product/{product.pk}/change/").status_code == 200
    assert staff.get(f"/admin/catalog/product/{product.pk}/history/").status_code == 200
    assert staff.get("/admin/catalog/product/add/").status_code == 200


def test_archive_action_archives_through_the_service(staff):
    product = ProductFactory(sku="OLD")
    staff.post("/admin/catalog/product/", {"action": "archive", "_selected_action": [product.pk]})
    assert Product.objects.get(pk=product.pk).status == "archived"
    assert ChangeEvent.objects.filter(topic="catalog.product").exists()


def test_price_entry_admin_edits_go_through_the_service(staff):
    entry = PriceEntryFactory(price_list=PriceListFactory(code="PRO"))
    response = staff.post(f"/admin/catalog/priceentry/{entry.pk}/change/", {
        "price_list": entry.price_list_id, "product": entry.product_id, "min_quantity": 10, "unit_price": "7.50",
        "valid_from": "", "valid_to": ""})
    assert response.status_code == 302
    assert list(PriceEntry.objects.values_list("min_quantity", "unit_price")) == [(10, Decimal("7.50"))]
    assert ChangeEvent.objects.filter(topic="catalog.price").count() == 2  # old break removed, new one set
    assert staff.get(f"/admin/catalog/pricelist/{entry.price_list_id}/change/").status_code == 200


def test_product_page_shows_each_channels_public_price_resolved_today(staff):
    from tests.catalog.factories import ChannelCatalogFactory

    entry = PriceEntryFactory(price_list=PriceListFactory(code="PUBLIC"), unit_price=Decimal("12.5"))
    ChannelCatalogFactory(public_price_list=entry.price_list)
    page = staff.get(f"/admin/catalog/product/{entry.product_id}/change/").content.decode()
    assert ">€12.50</b>" in page


def test_category_admin_keeps_paths_through_the_service(staff):
    from catalog.models import Category

    staff.post("/admin/catalog/category/add/", {"name": "Lighting", "position": 0})
    lighting = Category.objects.get(name="Lighting")
    staff.post("/admin/catalog/category/add/", {"name": "Outdoor", "parent": lighting.pk, "position": 0})
    staff.post("/admin/catalog/category/add/", {"name": "Garden", "position": 0})
    garden = Category.objects.get(name="Garden")
    outdoor = Category.objects.get(name="Outdoor")
    response = staff.post(f"/admin/catalog/category/{lighting.pk}/change/", {"name": "Lights", "parent": garden.pk, "position": 2})
    assert response.status_code == 302
    assert Category.objects.get(pk=outdoor.pk).path == "Garden > Lights > Outdoor"
    assert Category.objects.get(pk=lighting.pk).position == 2


def test_price_list_admin_creates_the_list_through_the_service(staff):
    response = staff.post("/admin/catalog/pricelist/add/", {
        "code": "PRO", "name": "Pro", "currency": "EUR", "priority": 0, "is_active": "on", "base_adjustment_percent": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ChangeEvent.objects.filter(topic="catalog.price").count() == 1  # list created


def test_a_price_lists_page_links_to_its_price_breaks_with_their_count_instead_of_a_form_of_each(staff):
    price_list = PriceListFactory(code="PRO")
    for number in range(30):
        PriceEntryFactory(price_list=price_list, product=ProductFactory(sku=f"SKU-{number:02}"))
    page = staff.get(f"/admin/catalog/pricelist/{price_list.pk}/change/").content.decode()
    assert "entries-TOTAL_FORMS" not in page and "SKU-07" not in page
    assert f'href="/admin/catalog/priceentry/?price_list__id__exact={price_list.pk}"' in page and "Edit its 30 price breaks" in page


def test_price_breaks_are_listed_by_page_filtered_by_list_searched_and_edited_in_place_through_the_service(staff):
    pro, public = PriceListFactory(code="PRO"), PriceListFactory(code="PUBLIC")
    entries = [PriceEntryFactory(price_list=pro, product=ProductFactory(sku=f"SKU-{number:03}"), unit_price=Decimal("10")) for number in range(120)]
    PriceEntryFactory(price_list=public, product=entries[0].product)
    listing = staff.get(f"/admin/catalog/priceentry/?price_list__id__exact={pro.pk}")
    assert listing.context["cl"].result_count == 120 and len(listing.context["cl"].result_list) == 100
    assert staff.get("/admin/catalog/priceentry/?q=SKU-000").context["cl"].result_count == 2
    first = listing.context["cl"].result_list[0]
    form = {"form-TOTAL_FORMS": 1, "form-INITIAL_FORMS": 1, "form-MIN_NUM_FORMS": 0, "form-MAX_NUM_FORMS": 1000,
            "form-0-id": first.pk, "form-0-unit_price": "12.40", "form-0-valid_to": "", "_save": "Save"}
    response = staff.post(f"/admin/catalog/priceentry/?price_list__id__exact={pro.pk}", form)
    assert response.status_code == 302
    assert PriceEntry.objects.get(pk=first.pk).unit_price == Decimal("12.40")
    assert ChangeEvent.objects.filter(topic="catalog.price").count() >= 1


def test_a_price_break_ending_before_it_starts_is_a_form_error_in_the_list_not_a_500(staff):
    from datetime import date

    entry = PriceEntryFactory(price_list=PriceListFactory(code="PRO"), unit_price=Decimal("10"), valid_from=date(2026, 6, 1))
    form = {"form-TOTAL_FORMS": 1, "form-INITIAL_FORMS": 1, "form-MIN_NUM_FORMS": 0, "form-MAX_NUM_FORMS": 1000,
            "form-0-id": entry.pk, "form-0-unit_price": "12.00", "form-0-valid_to": "2026-05-01", "_save": "Save"}
    response = staff.post("/admin/catalog/priceentry/", form)
    assert response.status_code == 200 and "must not be before its start" in response.content.decode()
    assert PriceEntry.objects.get(pk=entry.pk).unit_price == Decimal("10")


def test_product_add_in_the_admin_creates_a_draft_with_variants_images_and_translations(staff):
    def management(prefix):
        return {f"{prefix}-TOTAL_FORMS": 1, f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000}

    data = {
        "sku": "GAR", "name": "Guirlande", "brand": "Lumina", "gtin": "", "description": "", "option_axes": '["length"]',
        "option_values": "{}", "attributes": "{}", "country_of_origin": "FR", "customs_code": "94054099",
        **management("translations"), "translations-0-language": "en", "translations-0-name": "Garland",
        **management("images"), "images-0-position": 0, "images-0-url": "https://img.example.com/g.jpg", "images-0-alt_text": "G",
        **management("variants"), "variants-0-sku": "GAR-10", "variants-0-name": "Guirlande 10 m",
        "variants-0-option_values": '{"length": "10 m"}', "variants-0-gtin": "",
    }
    response = staff.post("/admin/catalog/product/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    parent = Product.objects.get(sku="GAR")
    assert (parent.status, parent.customs_code) == ("draft", "94054099")
    assert parent.variants.get().option_values == {"length": "10 m"}
    assert parent.images.get().url == "https://img.example.com/g.jpg"
    assert parent.translations.get().name == "Garland"
    assert ChangeEvent.objects.filter(topic="catalog.product", action="created").count() == 2


def test_options_and_attributes_are_typed_as_plain_lines_and_shown_back_without_json(staff):
    def management(prefix):
        return {f"{prefix}-TOTAL_FORMS": 1, f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000}

    data = {
        "sku": "SPOT", "name": "Spot", "brand": "", "gtin": "", "description": "", "option_axes": "size, colour",
        "option_values": "", "attributes": "power_w: 5\nip_rating: IP44", "country_of_origin": "", "customs_code": "",
        **management("translations"), **management("images"), "translations-TOTAL_FORMS": 0, "images-TOTAL_FORMS": 0,
        **management("variants"), "variants-0-sku": "SPOT-M-RED", "variants-0-name": "Spot M rouge",
        "variants-0-option_values": "size: M\ncolour: Red", "variants-0-gtin": "",
    }
    response = staff.post("/admin/catalog/product/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    parent = Product.objects.get(sku="SPOT")
    assert (parent.option_axes, parent.attributes) == (["size", "colour"], {"power_w": 5, "ip_rating": "IP44"})
    assert parent.variants.get().option_values == {"size": "M", "colour": "Red"}

    page = staff.get(f"/admin/catalog/product/{parent.pk}/change/").content.decode()
    assert 'value="size, colour"' in page and "power_w: 5\nip_rating: IP44" in page and "size: M\ncolour: Red" in page
    assert "{&quot;power_w" not in page and "[&quot;size" not in page and "{&quot;size" not in page

    refused = staff.post(f"/admin/catalog/product/{parent.pk}/change/", {**data, "attributes": "power_w 5", "variants-TOTAL_FORMS": 0})
    assert refused.status_code == 200 and "Line 1: write" in refused.content.decode()
