"""A price spreadsheet with a bad row: refused with the row's error, fixed, imported."""

from decimal import Decimal

from playwright.sync_api import expect

from catalog.models import PriceEntry
from catalog.services import price_list_create, product_create
from hub.imports.models import ImportJob

HEADER = "price_list;sku;min_quantity;unit_price\n"
GOOD_ROWS = "B2B-HT;GUI-LED-10M;1;29,90\nB2B-HT;GUI-LED-10M;10;27,50\n"


def price_file(last_row: str) -> dict:
    return {"name": "tarifs-pro.csv", "mimeType": "text/csv", "buffer": (HEADER + GOOD_ROWS + last_row).encode("utf-8")}


def upload(page, file):
    page.goto("/admin/hub/importjob/new/")
    page.locator("select[name=resource]").select_option("prices")
    page.locator("input[name=file]").set_input_files(file)
    page.locator("input[name=decimal_comma]").check()
    page.locator("[type=submit][name=import]").click()
    page.wait_for_load_state()


def test_a_price_file_with_a_bad_row_is_refused_with_its_error_then_imported_once_fixed(staff_page, tour):
    page = staff_page
    price_list_create(code="B2B-HT", name="Tarif professionnels HT", prices_include_tax=False)
    for sku, name in (("GUI-LED-10M", "Guirlande LED 10 m"), ("GUI-LED-20M", "Guirlande LED 20 m")):
        product_create(sku=sku, name=name, status="active")

    upload(page, price_file("B2B-HT;GUI-LED-20M;1;49,9O\n"))  # a letter O typed for a zero
    errors = page.locator("table", has=page.locator("code", has_text="49,9O"))
    row = errors.locator("tbody tr", has_text="49,9O")
    expect(row).to_contain_text("4")  # the file's line: header, two good rows, then this one
    expect(row).to_contain_text("unit_price")
    tour(page, "import-error", full_page=True)
    assert not PriceEntry.objects.exists()

    upload(page, price_file("B2B-HT;GUI-LED-20M;1;49,90\n"))
    expect(page.locator("#content")).to_contain_text("3")
    tour(page, "import-done")
    job = ImportJob.objects.latest("pk")
    assert (job.status, job.new, job.error_count) == ("succeeded", 3, 0)
    assert PriceEntry.objects.get(product__sku="GUI-LED-20M").unit_price == Decimal("49.90")
