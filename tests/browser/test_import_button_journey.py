"""A price spreadsheet with a bad row, through the Import button of the price list (django-import-export's
pages run by the hub engine): refused with the row's error, fixed, checked again and imported."""

import importlib.util
from decimal import Decimal

import pytest

from playwright.sync_api import expect

from catalog.models import PriceEntry
from catalog.services import price_list_create, product_create
from hub.imports.models import ImportJob

pytestmark = pytest.mark.skipif(importlib.util.find_spec("hub.imports.changelist") is None,
                                reason="waits for the Import and Export buttons on the admin lists (not in this tree yet)")

HEADER = "price_list;sku;min_quantity;unit_price\n"
GOOD_ROWS = "B2B-HT;GUI-LED-10M;1;29,90\nB2B-HT;GUI-LED-10M;10;27,50\n"


def price_file(last_row: str) -> dict:
    return {"name": "tarifs-pro.csv", "mimeType": "text/csv", "buffer": (HEADER + GOOD_ROWS + last_row).encode("utf-8")}


def check_file(page, file):
    """The price list's Import button, the file, its format, then "Check the file"."""
    page.goto("/admin/catalog/priceentry/")
    page.locator("#import-button").click()
    form = page.locator("#spreadsheet-import-form")
    form.locator("input[name=import_file]").set_input_files(file)
    formats = form.locator("select[name=format] option")
    csv_option = next(value for value, text in zip(formats.evaluate_all("os => os.map(o => o.value)"), formats.all_inner_texts())
                      if text.strip().lower() == "csv")
    form.locator("select[name=format]").select_option(csv_option)
    form.locator("input[name=decimal_comma]").check()
    form.locator("#import-submit").click()


def test_a_price_file_with_a_bad_row_is_refused_by_the_lists_import_button_then_imported_once_fixed(staff_page):
    page = staff_page
    price_list_create(code="B2B-HT", name="Tarif professionnels HT", prices_include_tax=False)
    for sku, name in (("GUI-LED-10M", "Guirlande LED 10 m"), ("GUI-LED-20M", "Guirlande LED 20 m")):
        product_create(sku=sku, name=name, status="active")

    check_file(page, price_file("B2B-HT;GUI-LED-20M;1;49,9O\n"))  # a letter O typed for a zero
    expect(page.locator("#import-error-count")).to_contain_text("1")
    error = page.locator("#import-errors tr.import-error")
    expect(error).to_have_count(1)
    expect(error).to_have_attribute("data-line", "4")  # the header, two good rows, then this one
    expect(error).to_contain_text("unit_price")
    expect(error).to_contain_text("49,9O")
    assert not PriceEntry.objects.exists()

    check_file(page, price_file("B2B-HT;GUI-LED-20M;1;49,90\n"))
    expect(page.locator("#import-summary")).to_contain_text("3")
    expect(page.locator("#import-preview tr.new")).to_have_count(3)
    page.locator("#import-confirm").click()
    expect(page.locator("ul.messagelist")).to_be_visible()
    expect(page.locator("#result_list")).to_contain_text("GUI-LED-20M")
    job = ImportJob.objects.filter(dry_run=False).get()
    assert (job.status, job.new, job.error_count) == ("succeeded", 3, 0)
    assert PriceEntry.objects.get(product__sku="GUI-LED-20M").unit_price == Decimal("49.90")
