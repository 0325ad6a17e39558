import csv
from decimal import Decimal
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import Workbook, load_workbook

from catalog.models import Category, PriceEntry, Product
from hub.imports.engine import ImportOptions, RESOURCES, run_import, stream_csv
from hub.imports.models import ImportJob
from hub.imports.progress import progress_read, progress_write
from hub.imports.services import import_job_create, import_job_run, resource_get
from hub.models import ChangeEvent
from inventory.models import StockLevel, StockMovement
from tests.catalog.factories import CategoryFactory, PriceEntryFactory, PriceListFactory, ProductFactory
from tests.inventory.factories import WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def write(tmp_path):
    def _write(name, content, encoding="utf-8"):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode(encoding))
        return path
    return _write


def products():
    return resource_get("products")


def test_utf8_with_bom_and_semicolons_is_read(write):
    CategoryFactory(name="Lighting", path="Lighting")
    path = write("p.csv", "\ufeffsku;name;category;status\nA1;Lampe été;Lighting;active\n")
    result = run_import(products(), path)
    assert result.ok and result.new == 1
    product = Product.objects.get(sku="A1")
    assert (product.name, product.category.path, product.status) == ("Lampe été", "Lighting", "active")


def test_windows_1252_is_detected(write):
    path = write("p.csv", "sku,name\nA1,Bougie parfumée à l'ambre\n", encoding="cp1252")
    assert run_import(products(), path).ok
    assert Product.objects.get(sku="A1").name == "Bougie parfumée à l'ambre"


def test_decimal_comma_and_french_dates_when_asked(write):
    price_list, product = PriceListFactory(code="PUBLIC"), ProductFactory(sku="A1")
    path = write("prices.csv", "price_list;sku;min_quantity;unit_price;valid_from;valid_to\nPUBLIC;A1;10;1 234,50;01/12/2026;31/12/2026\n")
    result = run_import(resource_get("prices"), path, options=ImportOptions(decimal_comma=True))
    assert result.ok, result.errors
    entry = PriceEntry.objects.get(price_list=price_list, product=product)
    assert (entry.unit_price, entry.min_quantity, entry.valid_from, entry.valid_to) == (Decimal("1234.50"), 10, date(2026, 12, 1), date(2026, 12, 31))


def test_decimal_comma_without_the_option_is_a_clear_error(write):
    PriceListFactory(code="PUBLIC"), ProductFactory(sku="A1")
    path = write("prices.csv", "price_list;sku;unit_price\nPUBLIC;A1;12,50\n")
    result = run_import(resource_get("prices"), path)
    assert [str(e) for e in result.errors] == [
        "line 2, column 'unit_price', value '12,50': unit_price uses a decimal comma; import with the decimal-comma option, or write 12.50"
    ]


def test_xlsx_is_read(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["sku", "name", "weight_g", "status"])
    sheet.append(["X1", "Plaid", 850, "active"])
    path = tmp_path / "p.xlsx"
    workbook.save(path)
    assert run_import(products(), path).ok
    assert Product.objects.get(sku="X1").weight_g == 850


def test_a_file_with_errors_writes_nothing_and_reports_line_column_value_message(write):
    CategoryFactory(name="Lighting", path="Lighting")
    path = write("p.csv", "sku,name,category,gtin,weight_g\nA1,Good,Lighting,,10\nA2,Bad,Nowhere,4006381333932,heavy\nA3,,Lighting,,\nA1,Dup,,,\n")
    result = run_import(products(), path)
    assert not result.ok
    assert [str(e) for e in result.errors] == [
        "line 3, column 'weight_g', value 'heavy': weight_g is not a whole number",
        "line 4, column 'name': name is required",
        "line 5, column 'sku', value 'A1': duplicate of line 2",
    ]
    assert not Product.objects.exists()


def test_reference_and_rule_errors_are_reported(write):
    path = write("p.csv", "sku,name,category,gtin,parent_sku\nA2,Bad,Nowhere,4006381333932,\nV1,Variant,,,NOPE\n")
    result = run_import(products(), path)
    assert [str(e) for e in result.errors] == [
        "line 2, column 'category', value 'Nowhere': no such category (import categories first, or fix the path)",
        "line 2, column 'gtin', value '4006381333932': not a valid GTIN (8, 12, 13 or 14 digits with a correct check digit)",
        "line 3, column 'parent_sku', value 'NOPE': no such parent product (in the file or the catalogue)",
    ]


def test_missing_and_unknown_columns_are_reported_on_the_header_line(write):
    result = run_import(products(), write("p.csv", "sku,title\nA1,x\n"))
    assert [str(e) for e in result.errors] == [
        "line 1, column 'name': missing required column(s): name; found: sku, title",
        "line 1, column 'title': unknown column(s): title; expected: " + ", ".join(products().column_names),
    ]
    result = run_import(products(), write("p.csv", "name\nx\n"))
    assert "missing required column(s): sku" in str(result.errors[0])


def test_variants_point_to_a_parent_from_the_same_file(write):
    path = write("p.csv", "sku,name,parent_sku,options\nTEE-M,Tee M,TEE,size=M;colour=Red\nTEE,Tee,,\n")
    assert run_import(products(), path).ok
    variant = Product.objects.get(sku="TEE-M")
    assert variant.parent.sku == "TEE" and variant.option_values == {"size": "M", "colour": "Red"}


def test_dry_run_counts_new_updated_unchanged_and_deleted_and_writes_nothing(write):
    price_list = PriceListFactory(code="PUBLIC")
    a, b, c = ProductFactory(sku="A"), ProductFactory(sku="B"), ProductFactory(sku="C")
    PriceEntryFactory(price_list=price_list, product=a, unit_price=Decimal("10"))
    PriceEntryFactory(price_list=price_list, product=b, unit_price=Decimal("20"))
    PriceEntryFactory(price_list=price_list, product=c, unit_price=Decimal("30"))
    ProductFactory(sku="D")
    path = write("prices.csv", "price_list,sku,unit_price\nPUBLIC,A,10\nPUBLIC,B,21\nPUBLIC,D,5\n")
    result = run_import(resource_get("prices"), path, dry_run=True, options=ImportOptions(replace=True))
    assert (result.new, result.updated, result.unchanged, result.deleted) == (1, 1, 1, 1)
    assert PriceEntry.objects.count() == 3 and PriceEntry.objects.get(product=b).unit_price == Decimal("20")
    result = run_import(resource_get("prices"), path, options=ImportOptions(replace=True))
    assert sorted(PriceEntry.objects.values_list("product__sku", "unit_price")) == [("A", Decimal("10")), ("B", Decimal("21")), ("D", Decimal("5"))]


def test_reimporting_with_changes_updates_only_changed_rows_and_feeds_connectors_in_bulk(write):
    rows = "".join(f"S{n},Product {n},active\n" for n in range(50))
    run_import(products(), write("p.csv", "sku,name,status\n" + rows))
    ChangeEvent.objects.all().delete()
    changed = rows.replace("Product 7,", "Product seven,").replace("Product 9,", "Product nine,")
    result = run_import(products(), write("p.csv", "sku,name,status\n" + changed))
    assert (result.new, result.updated, result.unchanged) == (0, 2, 48)
    assert Product.objects.get(sku="S7").name == "Product seven"
    assert ChangeEvent.objects.filter(topic="catalog.product").count() == 2


def test_stock_import_is_a_count_that_records_variances_not_overwrites(write):
    product, warehouse = ProductFactory(sku="A"), WarehouseFactory(code="LYON")
    path = write("s.csv", "sku,warehouse,quantity\nA,LYON,12\n")
    assert run_import(resource_get("stock"), path).ok
    path = write("s.csv", "sku,warehouse,quantity\nA,LYON,9\n")
    assert run_import(resource_get("stock"), path).updated == 1
    assert StockLevel.objects.get(product=product).on_hand == 9
    assert list(StockMovement.objects.order_by("id").values_list("kind", "quantity")) == [("count", 12), ("count", -3)]


def test_a_stock_export_of_lot_tracked_products_lists_each_lot_and_imports_back_unchanged(write):
    from inventory.services import stock_receive

    plain, cheese, warehouse = ProductFactory(sku="LAMP"), ProductFactory(sku="CHEESE", track_expiry=True), WarehouseFactory(code="LYON")
    stock_receive(product=plain, warehouse=warehouse, quantity=4)
    stock_receive(product=cheese, warehouse=warehouse, quantity=5, lot="L2", expiry=date(2027, 3, 1))
    stock_receive(product=cheese, warehouse=warehouse, quantity=7, lot="L1", expiry=date(2027, 1, 15))
    exported = "".join(stream_csv(resource_get("stock"))).lstrip("\ufeff").splitlines()
    assert exported == ["sku,warehouse,quantity,lot,expiry,reserved,available", "CHEESE,LYON,7,L1,2027-01-15,,", "CHEESE,LYON,5,L2,2027-03-01,,",
                        "LAMP,LYON,4,,,0,4"]
    result = run_import(resource_get("stock"), write("s.csv", "\n".join(exported) + "\n"))
    assert result.ok, result.errors
    assert (result.new, result.updated, result.unchanged) == (0, 0, 3)
    counted = "\n".join(exported).replace("CHEESE,LYON,5,L2", "CHEESE,LYON,4,L2")
    assert run_import(resource_get("stock"), write("s.csv", counted + "\n")).updated == 1
    assert StockLevel.objects.get(product=cheese).on_hand == 11


def test_categories_import_creates_missing_ancestors(write):
    assert run_import(resource_get("categories"), write("c.csv", "path\nLighting > Outdoor > Garlands\n")).ok
    assert sorted(Category.objects.values_list("path", flat=True)) == ["Lighting", "Lighting > Outdoor", "Lighting > Outdoor > Garlands"]


def test_customers_import_links_lists_and_channels(write):
    from orders.models import Customer
    from tests.hub.factories import SalesChannelFactory

    PriceListFactory(code="B2B"), SalesChannelFactory(code="web")
    path = write("c.csv", "code;name;email;type;group;price_lists;channels;payment_terms\nC1;Acme;buy@acme.fr;b2b;;B2B;web;net30\n")
    assert run_import(resource_get("customers"), path).ok
    customer = Customer.objects.get(code="C1")
    assert [p.code for p in customer.price_lists.all()] == ["B2B"] and [c.code for c in customer.channels.all()] == ["web"]
    bad = write("c.csv", "code,name,price_lists\nC2,X,NOPE;B2B\n")
    assert [str(e) for e in run_import(resource_get("customers"), bad).errors] == ["line 2, column 'price_lists', value 'NOPE;B2B': unknown: NOPE"]


def test_cli_exits_1_and_prints_each_error(write, capsys):
    path = write("p.csv", "sku,name,weight_g\nA1,x,-3\n")
    with pytest.raises(SystemExit) as exit_info:
        call_command("hub_import", "products", str(path))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "line 2, column 'weight_g', value '-3': weight_g must be at least 0" in err
    assert "1 error(s)" in err and "nothing was written" in err


def test_cli_export_then_import_round_trips(tmp_path, capsys):
    ProductFactory(sku="A1", name="Lampe", weight_g=100)
    for suffix in ("csv", "xlsx"):
        path = tmp_path / f"products.{suffix}"
        call_command("hub_export", "products", str(path))
        result = run_import(products(), path, dry_run=True)
        assert result.ok, result.errors
        assert (result.unchanged, result.updated) == (1, 0)
    assert load_workbook(tmp_path / "products.xlsx").active["A2"].value == "A1"


def test_streaming_export_yields_rows_lazily():
    ProductFactory.create_batch(3)
    chunks = stream_csv(products())
    header = next(chunks)
    assert header.startswith("\ufeffsku,name")
    assert len(list(chunks)) == 3


def test_every_resource_of_the_product_is_registered():
    resource_get("products")
    assert {"categories", "products", "price-lists", "prices", "warehouses", "stock", "customers"} <= set(RESOURCES)


def test_background_job_records_history_and_progress_and_runs_once(django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("big.csv", b"sku,name\n" + b"".join(b"B%d,Big %d\n" % (n, n) for n in range(300)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = import_job_create(resource="products", uploaded_file=upload, background=True)
    assert job.status == ImportJob.Status.PENDING and len(callbacks) == 1
    progress_write(job.pk, phase="validating", done=150, total=300, started=0)
    state = progress_read(job.pk)
    assert state["percent"] == 50
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.rows, job.new) == ("succeeded", 300, 300)
    assert job.finished_at and job.started_at
    again = import_job_run(job_id=job.pk)
    assert again.new == 300 and Product.objects.count() == 300


def test_admin_validate_then_confirm_flow(admin_client):
    CategoryFactory(name="Lighting", path="Lighting")
    upload = SimpleUploadedFile("p.csv", b"sku,name,category\nA1,Lamp,Lighting\n")
    response = admin_client.post("/admin/hub/importjob/new/", {"resource": "products", "file": upload, "validate": "1"})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.dry_run and job.status == "succeeded"
    page = admin_client.get(f"/admin/hub/importjob/{job.pk}/result/").content.decode()
    assert "1 new" in page and "Confirm: import this file" in page
    assert not Product.objects.exists()
    admin_client.post(f"/admin/hub/importjob/{job.pk}/confirm/")
    assert Product.objects.filter(sku="A1").exists()
    assert ImportJob.objects.filter(dry_run=False, status="succeeded", user__username="admin").count() == 1


def test_admin_shows_errors_and_offers_the_error_report(admin_client):
    upload = SimpleUploadedFile("p.csv", b"sku,name,weight_g\nA1,Lamp,lots\n")
    admin_client.post("/admin/hub/importjob/new/", {"resource": "products", "file": upload, "import": "1"})
    job = ImportJob.objects.get()
    page = admin_client.get(f"/admin/hub/importjob/{job.pk}/result/").content.decode()
    assert "1 error" in page and "weight_g is not a whole number" in page
    report = admin_client.get(f"/admin/hub/importjob/{job.pk}/errors.csv").content.decode("utf-8-sig")
    assert report.splitlines() == ["line,column,value,message", "2,weight_g,lots,weight_g is not a whole number"]


def test_admin_export_streams_csv(admin_client):
    ProductFactory(sku="A1")
    response = admin_client.get("/admin/hub/importjob/export/?resource=products&format=csv")
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[1].startswith("A1,")


def test_an_import_keeps_its_lookups_to_itself_not_on_the_shared_resource(write):
    CategoryFactory(name="Lighting", path="Lighting")
    shared = products()
    assert run_import(shared, write("p.csv", "sku,name,category\nA1,Lamp,Lighting\n")).ok
    assert not hasattr(shared, "_categories")


def test_every_importable_list_of_the_demo_exports_a_file_that_imports_back_with_nothing_to_change(tmp_path):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    for name in ("categories", "products", "price-lists", "prices", "warehouses", "stock", "customers"):
        path = tmp_path / f"{name}.csv"
        call_command("hub_export", name, str(path), stdout=open("/dev/null", "w"))
        exported = len(list(csv.reader(path.open(encoding="utf-8-sig")))) - 1
        result = run_import(resource_get(name), path, dry_run=True)
        assert result.ok, (name, [str(e) for e in result.errors[:3]])
        assert (result.new, result.updated, result.unchanged) == (0, 0, exported) and exported > 0, name
