"""Hostile or broken files get a clear error, never an exception or a database error: zip bombs,
huge cells, NUL characters, numbers that overflow the database columns; and error messages quote
at most a short excerpt of a value."""

import random
import string
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import Workbook

from catalog.models import PriceEntry, Product
from hub.imports.engine import run_import
from hub.imports.models import ImportJob
from hub.imports.services import resource_get
from inventory.models import StockLevel
from orders.models import Customer
from tests.catalog.factories import PriceListFactory, ProductFactory
from tests.inventory.factories import WarehouseFactory

pytestmark = pytest.mark.django_db

SHEET = "xl/worksheets/sheet1.xml"


def small_workbook(path, rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def replace_member(path, name, chunks):
    """Rewrite the XLSX at `path` with member `name` streamed from `chunks` (bytes)."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for member, data in members.items():
            if member == name:
                with target.open(member, "w") as handle:
                    for chunk in chunks:
                        handle.write(chunk)
            else:
                target.writestr(member, data)


def sheet_with(name: str, repeat: int):
    """A sheet of the header `sku, name` and one row `A1, <name × repeat>`, streamed."""
    yield (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>sku</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
           b'<row r="2"><c r="A2" t="inlineStr"><is><t>A1</t></is></c><c r="B2" t="inlineStr"><is><t>')
    block = name.encode()
    for _ in range(repeat):
        yield block
    yield b"</t></is></c></row></sheetData></worksheet>"


def import_measuring_memory(path, resource="products"):
    tracemalloc.start()
    try:
        result = run_import(resource_get(resource), path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def messages(result):
    return [str(e) for e in result.errors]


# --- XLSX archives ------------------------------------------------------------------------------

def test_a_zip_bomb_xlsx_is_refused_before_it_is_unpacked_and_memory_stays_flat(tmp_path):
    path = small_workbook(tmp_path / "bomb.xlsx", [["sku", "name"], ["A1", "x"]])
    replace_member(path, SHEET, sheet_with("a" * (1 << 20), 100))  # 100 MB in ~100 KB
    assert path.stat().st_size < 1_000_000
    result, peak = import_measuring_memory(path)
    assert len(result.errors) == 1
    message = messages(result)[0]
    assert message.startswith("line 1: xl/worksheets/sheet1.xml in the XLSX file is compressed ") and "more than 100 to 1 is refused" in message
    assert peak < 5_000_000
    assert not Product.objects.exists()


def test_an_xlsx_that_would_unpack_past_the_size_limit_is_refused(tmp_path, settings):
    settings.HUB_IMPORT_XLSX_MAX_MB = 1
    rng = random.Random(1)
    text = "".join(rng.choices(string.ascii_letters, k=1 << 20))  # barely compressible
    path = small_workbook(tmp_path / "big.xlsx", [["sku", "name"], ["A1", "x"]])
    replace_member(path, SHEET, sheet_with(text, 3))
    result, peak = import_measuring_memory(path)
    assert messages(result) == ["line 1: the XLSX file would unpack to 3.0 MB, more than the 1 MB allowed; "
                                "split it, or save it as CSV"]
    assert peak < 2_000_000


def test_an_xlsx_whose_archive_understates_a_size_is_read_no_further_than_declared(tmp_path):
    path = small_workbook(tmp_path / "liar.xlsx", [["sku", "name"], ["A1", "x"]])
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>S%d</t></is></c></row>' % (n, n, n) for n in range(2, 200_002))
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>sku</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
             + rows + b"</sheetData></worksheet>")
    replace_member(path, SHEET, [sheet])
    data = bytearray(path.read_bytes())
    # Make the central directory claim that the sheet unpacks to 2 000 bytes.
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46:entry + 46 + len(SHEET)] != SHEET.encode():
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 24:entry + 28] = (2000).to_bytes(4, "little")
    path.write_bytes(data)
    result, peak = import_measuring_memory(path)
    assert [e.line for e in result.errors] == [1]
    assert messages(result)[0].startswith("line 1: not a readable XLSX file")
    assert peak < 5_000_000
    assert not Product.objects.exists()


def test_an_xlsx_cell_longer_than_the_limit_is_refused_with_its_line_and_column(tmp_path):
    path = small_workbook(tmp_path / "p.xlsx", [["sku", "name"], ["A1", "x"]])
    replace_member(path, SHEET, sheet_with("n", 40_000))  # openpyxl itself would cut the cell to 32 767
    assert messages(run_import(resource_get("products"), path)) == [
        "line 2, column 'name', value '" + "n" * 50 + "…': name is 40000 characters long; a cell holds at most 32767"
    ]


def test_a_csv_cell_longer_than_the_limit_is_refused_with_its_line_and_column(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("sku,name,description\nA1,Lamp,short\nA2,Lamp," + "d" * 40_000 + "\n")
    assert [(e.line, e.column) for e in run_import(resource_get("products"), path).errors] == [(3, "description")]


def test_a_csv_cell_longer_than_the_csv_reader_accepts_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('sku,name,description\nA1,Lamp,short\nA2,Lamp,"' + "d" * 200_000 + '"\n')
    assert messages(run_import(resource_get("products"), path)) == [
        "line 3: a cell is longer than 131072 characters; a cell holds at most 32767"
    ]


# --- Excerpts -------------------------------------------------------------------------------------

def test_error_messages_quote_only_an_excerpt_of_a_value(tmp_path, capsys):
    path = tmp_path / "c.csv"
    long_code = "L" * 5000
    path.write_text(f"code,name,price_lists,channels\nC1,Acme,{'X' * 5000},\nC2,Acme,,\n{long_code},Acme,,\n")
    result = run_import(resource_get("customers"), path)
    for error in result.errors:
        assert len(error.value) <= 51 and len(error.message) <= 200, error
    assert result.errors[0].value == "X" * 50 + "…"
    assert result.errors[0].message == "unknown: " + "X" * 50 + "…"
    with pytest.raises(SystemExit):
        call_command("hub_import", "customers", str(path), "--no-progress")
    assert max(len(line) for line in capsys.readouterr().err.splitlines()) < 300


def test_header_errors_quote_only_excerpts_of_the_column_names(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("sku,name," + ",".join(f"{'c' * 200}{n}" for n in range(100)) + "\nA1,Lamp\n")
    [error] = run_import(resource_get("products"), path).errors
    assert len(error.column) <= 1000 and len(error.message) <= 2000 and "… and 90 more" in error.message


# --- NUL characters and numbers that overflow -------------------------------------------------------

def test_a_nul_character_in_any_cell_is_reported_with_its_line_and_column(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("sku,name,weight_g,description\nA1,La\x00mp,10,ok\nA2,Lamp,1\x002,\x00\n")
    assert messages(run_import(resource_get("products"), path)) == [
        "line 2, column 'name', value 'La\\x00mp': name contains a NUL character (\\x00)",
        "line 3, column 'description', value '\\x00': description contains a NUL character (\\x00)",
        "line 3, column 'weight_g', value '1\\x002': weight_g contains a NUL character (\\x00)",
    ]
    assert not Product.objects.exists()


def test_an_admin_import_with_nul_characters_stores_its_errors(admin_client):
    upload = SimpleUploadedFile("p.csv", b"sku,name\nA\x001,Lamp\n")
    response = admin_client.post("/admin/hub/importjob/new/", {"resource": "products", "file": upload, "import": "1"})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.status, job.error_count, job.errors[0]["value"]) == ("failed", 1, "A\\x001")
    page = admin_client.get(f"/admin/hub/importjob/{job.pk}/result/").content.decode()
    assert "sku contains a NUL character" in page


OVERFLOWS = [
    ("stock", "sku,warehouse,quantity\nA1,LYON,99999999999\n", "quantity must be at most"),
    ("products", "sku,name,weight_g\nA1,Lamp,3000000000\n", "weight_g must be at most 2147483647"),
    ("products", "sku,name,weight_g\nA1,Lamp," + "9" * 5000 + "\n", "weight_g must be at most 2147483647"),
    ("categories", "path,position\nHome,1" + "0" * 30 + "\n", "position must be at most 2147483647"),
    ("price-lists", "code,name,currency,priority\nPL,List,EUR,-99999999999\n", "priority must be at least -2147483648"),
    ("prices", "price_list,sku,unit_price\nPUBLIC,A1,12345678901.5\n", "unit_price is too large (at most 10 digits before the decimal point)"),
    ("prices", "price_list,sku,unit_price\nPUBLIC,A1,1E+999999\n", "unit_price is too large (at most 10 digits before the decimal point)"),
    ("prices", "price_list,sku,min_quantity,unit_price\nPUBLIC,A1,4294967296,1\n", "min_quantity must be at most 2147483647"),
    ("customers", "code,name,credit_limit\nC1,Acme,1e15\n", "credit_limit is too large (at most 12 digits before the decimal point)"),
]


@pytest.mark.parametrize("resource, content, message", OVERFLOWS, ids=[f"{r}-{n}" for n, (r, _, _) in enumerate(OVERFLOWS)])
def test_numbers_that_overflow_a_database_column_are_reported_not_written(tmp_path, resource, content, message):
    ProductFactory(sku="A1"), WarehouseFactory(code="LYON"), PriceListFactory(code="PUBLIC")
    path = tmp_path / "f.csv"
    path.write_text(content)
    result = run_import(resource_get(resource), path)
    assert [(e.line, message in e.message) for e in result.errors] == [(2, True)], messages(result)
    assert not (StockLevel.objects.exists() or PriceEntry.objects.exists() or Customer.objects.exists())


def test_the_largest_values_that_fit_are_written(tmp_path):
    ProductFactory(sku="A1"), WarehouseFactory(code="LYON"), PriceListFactory(code="PUBLIC")
    for resource, content in [
        ("prices", "price_list,sku,min_quantity,unit_price\nPUBLIC,A1,2147483647,9999999999.9999\n"),
        ("customers", "code,name,credit_limit\nC1,Acme,999999999999.99\n"),
        ("products", "sku,name,weight_g\nA1,Lamp,2147483647\n"),
    ]:
        path = tmp_path / "f.csv"
        path.write_text(content)
        assert run_import(resource_get(resource), path).ok, resource
    assert Product.objects.get(sku="A1").weight_g == 2147483647


def test_stock_counts_of_lots_the_ledger_would_refuse_are_line_errors(tmp_path):
    from datetime import date

    from inventory.services import stock_receive

    product, warehouse = ProductFactory(sku="MILK", track_expiry=True), WarehouseFactory(code="LYON")
    stock_receive(product=product, warehouse=warehouse, quantity=5, lot="L1", expiry=date(2027, 1, 31), reference="test")
    path = tmp_path / "s.csv"
    path.write_text("sku,warehouse,quantity,lot,expiry\nMILK,LYON,3,L1,2027-02-28\nMILK,LYON,4,L2,\nMILK,LYON,0,L3,\n")
    assert messages(run_import(resource_get("stock"), path)) == [
        "line 2, column 'expiry', value '2027-02-28': lot L1 of MILK already has expiry 2027-01-31",
        "line 3, column 'expiry': lot L2 of MILK is new: give its expiry date",
    ]
