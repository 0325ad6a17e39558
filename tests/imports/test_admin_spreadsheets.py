"""The Import and Export buttons of the admin lists (django-import-export's pages) read, check and
write files with the hub engine: the same messages as the command line, nothing written by a dry
run or a file with an error, formula cells kept as text, and large files imported on a worker."""

import csv
import html
import io
import re
from decimal import Decimal

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from catalog.models import Product
from hub.imports.changelist import resource_class
from hub.imports.engine import run_import
from hub.imports.models import ImportJob
from hub.imports.services import import_job_run, resource_get
from inventory.models import StockLevel
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.imports.test_import_limits import SHEET, replace_member, sheet_with, small_workbook
from tests.inventory.factories import WarehouseFactory

pytestmark = pytest.mark.django_db

CSV_FORMAT, XLSX_FORMAT = "0", "1"
BAD_GTIN = b"sku,name,category,gtin\nA1,Lampe,Lighting,\nA2,Guirlande,Lighting,4006381333931\nA3,Bougie,Lighting,123\n"
FIXED = BAD_GTIN.replace(b",123\n", b",5901234123457\n")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def lighting():
    return CategoryFactory(name="Lighting", path="Lighting")


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def upload(client, content: bytes, *, name="products.csv", model="catalog/product", file_format=CSV_FORMAT, **options):
    return client.post(f"/admin/{model}/import/", {"import_file": SimpleUploadedFile(name, content), "format": file_format,
                                                   "resource": "0", **options})


def confirm(client, response, model="catalog/product"):
    form = response.context["confirm_form"]
    return client.post(f"/admin/{model}/process_import/", {name: form.initial[name] for name in form.fields})


def engine_messages(tmp_path, resource, content: bytes, name="file.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return [error.message for error in run_import(resource_get(resource), path, dry_run=True).errors]


def test_the_product_list_has_the_import_and_export_buttons_and_the_export_selected_action(admin_client):
    response = admin_client.get("/admin/catalog/product/")
    page = response.content.decode()
    assert 'id="import-button" href="/admin/catalog/product/import/"' in page
    assert 'id="export-button" href="/admin/catalog/product/export/?' in page
    assert "export_admin_action" in dict(response.context["action_form"].fields["action"].choices)


def test_every_importable_resource_has_its_list_and_every_exportable_one_an_export(admin_client):
    for url, imports in [("catalog/category", True), ("catalog/product", True), ("catalog/pricelist", True), ("catalog/priceentry", True),
                         ("inventory/warehouse", True), ("inventory/stocklevel", True), ("orders/customer", True),
                         ("orders/salesorder", False), ("orders/invoice", False), ("returns/rma", False)]:
        page = admin_client.get(f"/admin/{url}/").content.decode()
        assert ('id="import-button"' in page) is imports, url
        assert 'id="export-button"' in page, url


def test_the_stock_list_keeps_its_own_buttons_next_to_import_and_export(admin_client):
    page = admin_client.get("/admin/inventory/stocklevel/").content.decode()
    assert 'id="import-button"' in page and reverse("admin:inventory_stock_adjust") in page


def test_a_dry_run_shows_the_bad_row_with_the_engines_message_and_writes_nothing(admin_client, lighting, tmp_path):
    response = upload(admin_client, BAD_GTIN)
    assert response.status_code == 200
    page = page_text(response)
    expected = engine_messages(tmp_path, "products", BAD_GTIN)
    assert expected == ["not a valid GTIN (8, 12, 13 or 14 digits with a correct check digit)"]
    assert re.search(r'<tr class="import-error" data-line="4"><td>4</td><td>gtin</td><td><code>123</code></td><td>'
                     + re.escape(expected[0]), page)
    assert "1 error — nothing was written" in page
    assert 'id="import-confirm"' not in page and response.context.get("confirm_form") is None
    assert not Product.objects.exists()
    dry = ImportJob.objects.get()
    assert (dry.dry_run, dry.status, dry.user.username) == (True, "failed", "admin")


def test_after_fixing_the_row_the_preview_shows_new_rows_and_confirming_imports_them(admin_client, lighting):
    response = upload(admin_client, FIXED)
    page = page_text(response)
    assert "3 rows: 3 new, 0 changed, 0 unchanged, 0 deleted." in page
    assert page.count('<tr class="new">') == 3 and 'id="import-confirm"' in page
    assert not Product.objects.exists()

    done = confirm(admin_client, response)
    assert done.status_code == 302 and done["Location"] == "/admin/catalog/product/"
    assert sorted(Product.objects.values_list("sku", "gtin")) == [("A1", ""), ("A2", "4006381333931"), ("A3", "5901234123457")]
    listing = page_text(admin_client.get(done["Location"]))
    assert "Import finished: 3 new, 0 updated, 0 deleted and 0 unchanged products." in listing
    real = ImportJob.objects.get(dry_run=False)
    assert (real.status, real.new, real.background, real.user.username) == ("succeeded", 3, False, "admin")


def test_the_preview_tells_new_changed_and_unchanged_rows_apart(admin_client, lighting, tmp_path):
    first_two = tmp_path / "first.csv"
    first_two.write_bytes(b"\n".join(FIXED.splitlines()[:3]))
    assert run_import(resource_get("products"), first_two).new == 2
    Product.objects.filter(sku="A2").update(name="Old name")
    page = page_text(upload(admin_client, FIXED))
    assert "3 rows: 1 new, 1 changed, 1 unchanged" in page
    rows = re.findall(r'<tr class="(new|update|skip)">\s*<td class="import-type">[^<]*</td>\s*<td>(\w+)</td>', page)
    assert rows == [("skip", "A1"), ("update", "A2"), ("new", "A3")]


def test_a_formula_cell_is_imported_as_text_and_exported_quoted(admin_client):
    formula = '=HYPERLINK("http://attacker.example","Click")'
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["sku", "name"], ["F1", "'" + formula]])  # as the hub exports it
    content = buffer.getvalue().encode()
    confirm(admin_client, upload(admin_client, content))
    product = Product.objects.get(sku="F1")
    assert product.name == formula

    selected = admin_client.post("/admin/catalog/product/export/", {"format": CSV_FORMAT, "export_items": [product.pk]})
    rows = list(csv.DictReader(io.StringIO(b"".join(selected.streaming_content).decode("utf-8-sig"))))
    assert rows[0]["name"] == "'" + formula
    workbook = load_workbook(io.BytesIO(admin_client.post("/admin/catalog/product/export/", {
        "format": XLSX_FORMAT, "export_items": [product.pk]}).content))
    cell = workbook.active["B2"]
    assert (cell.value, cell.data_type) == (formula, "s")


def exported(response, file_format):
    if file_format == CSV_FORMAT:
        content = b"".join(response.streaming_content)
        return content, [row["sku"] for row in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))]
    sheet = load_workbook(io.BytesIO(response.content)).active
    return response.content, [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]


@pytest.mark.parametrize("file_format,name", [(CSV_FORMAT, "selected.csv"), (XLSX_FORMAT, "selected.xlsx")])
def test_export_selected_gives_the_selected_rows_which_import_back_unchanged(admin_client, lighting, file_format, name):
    chosen = [ProductFactory(sku=f"S{n}", name=f"Lampe {n}", category=lighting, brand="Lumina", weight_g=120 + n).pk for n in range(3)]
    ProductFactory(sku="NOT-SELECTED")
    form_page = admin_client.post("/admin/catalog/product/", {"action": "export_admin_action", "_selected_action": chosen[:2]})
    assert form_page.status_code == 200 and "Export 2 selected items." in form_page.content.decode()
    response = admin_client.post("/admin/catalog/product/export/", {"format": file_format, "export_items": chosen[:2]})
    assert response.status_code == 200 and f".{name.split('.')[1]}" in response["Content-Disposition"]
    content, skus = exported(response, file_format)
    assert skus == ["S0", "S1"]

    preview = upload(admin_client, content, name=name, file_format=file_format)
    assert "2 rows: 0 new, 0 changed, 2 unchanged, 0 deleted." in page_text(preview)
    before = list(Product.objects.order_by("pk").values())
    confirm(admin_client, preview)
    assert list(Product.objects.order_by("pk").values()) == before


def test_the_export_button_exports_the_list_as_filtered(admin_client):
    ProductFactory(sku="ON", status="active")
    ProductFactory(sku="OFF", status="archived")
    response = admin_client.post("/admin/catalog/product/export/?status__exact=active", {"format": CSV_FORMAT})
    assert exported(response, CSV_FORMAT)[1] == ["ON"]


def test_a_large_file_is_imported_in_the_background_after_the_confirm_step(admin_client, settings, django_capture_on_commit_callbacks):
    settings.HUB_IMPORT_BACKGROUND_ROWS = 2
    content = b"sku,name\n" + b"".join(b"B%d,Big %d\n" % (n, n) for n in range(3))
    preview = upload(admin_client, content)
    assert "3 rows: 3 new" in page_text(preview) and "imported in the background" in page_text(preview)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = confirm(admin_client, preview)
    job = ImportJob.objects.get(dry_run=False)
    assert (job.background, job.status, len(callbacks)) == (True, "pending", 1)
    assert response.status_code == 302 and response["Location"] == reverse("admin:hub_importjob_result", args=[job.pk])
    progress_page = page_text(admin_client.get(response["Location"]))
    assert 'id="import-job-link"' in progress_page and "runs in the background" in progress_page
    assert "Waiting for a worker" in progress_page and not Product.objects.exists()
    assert import_job_run(job_id=job.pk).new == 3 and Product.objects.count() == 3


def test_the_confirm_step_imports_only_a_successful_dry_run_of_the_same_user(admin_client, django_user_model, lighting):
    preview = upload(admin_client, FIXED)
    dry = ImportJob.objects.get()
    ImportJob.objects.filter(pk=dry.pk).update(user=django_user_model.objects.create_user("someone"))
    assert confirm(admin_client, preview).status_code == 404
    assert not Product.objects.exists()


def test_a_file_the_engine_cannot_read_gets_the_engines_message(admin_client, tmp_path):
    content = "sku,name\nA1,日本語の商品\n".encode("shift_jis")
    page = page_text(upload(admin_client, content))
    expected = engine_messages(tmp_path, "products", content)
    assert len(expected) == 1 and "shift_jis" in expected[0] and expected[0] in page
    assert not Product.objects.exists()


def test_an_xlsx_bomb_is_refused_by_the_admin_as_by_the_engine(admin_client, tmp_path):
    path = small_workbook(tmp_path / "bomb.xlsx", [["sku", "name"], ["A1", "x"]])
    replace_member(path, SHEET, sheet_with("a" * (1 << 20), 8))
    page = page_text(upload(admin_client, path.read_bytes(), name="bomb.xlsx", file_format=XLSX_FORMAT))
    expected = engine_messages(tmp_path, "products", path.read_bytes(), name="again.xlsx")
    assert "more than 100 to 1 is refused as a possible zip bomb" in expected[0] and expected[0] in page
    assert not Product.objects.exists()


def test_options_reach_the_engine_decimal_comma_and_replace(admin_client):
    from catalog.models import PriceEntry
    from tests.catalog.factories import PriceEntryFactory, PriceListFactory

    price_list = PriceListFactory(code="PUBLIC")
    ProductFactory(sku="A1")
    PriceEntryFactory(price_list=price_list, product=ProductFactory(sku="GONE"), unit_price="3.00")
    content = "price_list;sku;unit_price\nPUBLIC;A1;12,50\n".encode()
    preview = upload(admin_client, content, name="prices.csv", model="catalog/priceentry", decimal_comma="on", replace="on")
    assert "1 rows: 1 new, 0 changed, 0 unchanged, 1 deleted." in page_text(preview)
    confirm(admin_client, preview, model="catalog/priceentry")
    assert list(PriceEntry.objects.values_list("product__sku", "unit_price")) == [("A1", Decimal("12.50"))]


def test_a_stock_count_is_imported_from_the_stock_list(admin_client):
    product, warehouse = ProductFactory(sku="LAMP-1"), WarehouseFactory(code="LYON")
    preview = upload(admin_client, b"sku,warehouse,quantity\nLAMP-1,LYON,7\n", name="stock.csv", model="inventory/stocklevel")
    assert "1 rows: 1 new" in page_text(preview)
    confirm(admin_client, preview, model="inventory/stocklevel")
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 7


def test_the_resource_imports_a_tablib_dataset_through_the_engine():
    dataset = tablib.Dataset(["A1", "Lampe", "lots"], headers=["sku", "name", "weight_g"])
    result = resource_class("products")().import_data(dataset, dry_run=False)
    assert result.has_validation_errors() and result.errors[0]["message"] == "weight_g is not a whole number"
    assert not Product.objects.exists()
    dataset = tablib.Dataset(["A1", "Lampe", "12"], headers=["sku", "name", "weight_g"])
    result = resource_class("products")().import_data(dataset, dry_run=False)
    assert result.totals["new"] == 1 and Product.objects.get().weight_g == 12


def test_the_resource_exports_a_tablib_dataset_of_the_hubs_cells():
    ProductFactory(sku="F1", name="=1+1")
    ProductFactory(sku="F2", name="Lampe")
    dataset = resource_class("products")().export(Product.objects.filter(sku="F1"))
    assert dataset.headers[:2] == ["sku", "name"] and [row[:2] for row in dataset] == [("F1", "'=1+1")]


def test_the_imports_page_leads_to_the_import_button_of_each_list(admin_client):
    page = admin_client.get(reverse("admin:hub_importjob_new")).content.decode()
    assert 'id="list-imports"' in page
    for model in ["catalog/category", "catalog/product", "catalog/pricelist", "catalog/priceentry", "inventory/warehouse",
                  "inventory/stocklevel", "orders/customer"]:
        assert f'href="/admin/{model}/import/"' in page


@pytest.mark.django_db
def test_a_columns_format_rule_is_explained_in_the_uploaders_language(tmp_path):
    from django.utils import translation

    content = b"sku,name,country_of_origin\nLAMP 1,Lampe,fr\n"
    with translation.override("fr"):
        french = engine_messages(tmp_path, "products", content)
    english = engine_messages(tmp_path, "products", content)
    assert sorted(french) == ["country_of_origin doit être un code pays ISO à 2 lettres (FR, DE…)", "sku ne doit pas contenir d'espace"]
    assert sorted(english) == ["country_of_origin must be a 2-letter ISO country code (FR, DE…)", "sku must not contain spaces"]
