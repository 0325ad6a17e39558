"""`hub_export fec` and the admin's FEC page write a file the published format rules accept."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inventory import services as stock
from orders import services
from orders.models import CompanySettings, CreditNote, Invoice, Payment
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_payload
from tests.orders.fec_checker import check_fec

SIREN = "842519373"


def year_bounds():
    year = timezone.localdate().year
    return date(year, 1, 1), date(year, 12, 31)


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))


@pytest.fixture
def shop(db):
    CompanySettings.objects.create(name="Maison Test", siren=SIREN)
    channel = SalesChannelFactory(code="shopify-fr")
    warehouse = WarehouseFactory(code="LYON")
    stock.stock_receive(product=ProductFactory(sku="LAMP-1", name="Lampe"), warehouse=warehouse, quantity=50)
    return channel, warehouse


def ship(order, warehouse):
    services.shipment_create(order=order, warehouse=warehouse, lines=[(line, line.quantity) for line in order.lines.all()])


def export(folder, *args):
    call_command("hub_export", "fec", str(folder), *args, stdout=open("/dev/null", "w"))
    [path] = folder.iterdir()
    return path


def records(path):
    lines = path.read_bytes().decode("iso-8859-15").split("\r\n")
    return [line.split("\t") for line in lines[1:] if line]


@pytest.mark.django_db
class TestDemoFec:
    def test_the_demo_datas_fec_passes_the_format_checker(self, demo, tmp_path):
        start, end = year_bounds()
        path = export(tmp_path, "--from", str(start), "--to", str(end))
        assert path.name == f"{SIREN}FEC{end:%Y%m%d}.txt"
        assert check_fec(path, date_from=start, date_to=end, siren=SIREN) == []
        rows = records(path)
        journals = {row[0] for row in rows}
        assert journals == {"VE", "BQ"}
        assert sum(Decimal(r[11].replace(",", ".")) for r in rows) == sum(Decimal(r[12].replace(",", ".")) for r in rows) > 0

    def test_the_fec_accounts_for_every_document_once(self, demo, tmp_path):
        start, end = year_bounds()
        rows = records(export(tmp_path, "--from", str(start), "--to", str(end)))
        pieces = {row[8] for row in rows if row[0] == "VE"}
        assert pieces == set(Invoice.objects.values_list("number", flat=True)) | set(
            CreditNote.objects.values_list("number", flat=True))
        bank_entries = {row[2] for row in rows if row[0] == "BQ"}
        assert len(bank_entries) == Payment.objects.count()
        receivable = sum(Decimal(r[11].replace(",", ".")) - Decimal(r[12].replace(",", ".")) for r in rows if r[4] == "411000")
        invoiced = sum(Invoice.objects.values_list("total", flat=True), Decimal(0))
        credited = sum(CreditNote.objects.values_list("total", flat=True), Decimal(0))
        paid = sum(Payment.objects.filter(kind="payment").values_list("amount", flat=True), Decimal(0))
        refunded = sum(Payment.objects.filter(kind="refund").values_list("amount", flat=True), Decimal(0))
        assert receivable == invoiced - credited - paid + refunded

    def test_demo_invoices_of_paid_orders_show_balance_zero(self, demo):
        paid = Invoice.objects.filter(order__payment_status__in=["paid", "partially_refunded", "refunded"])
        assert paid.exists()
        assert {services.invoice_balance(invoice=i) for i in paid} == {Decimal(0)}
        assert all(services.invoice_balance(invoice=i) >= 0 for i in Invoice.objects.all())


@pytest.mark.django_db
class TestFecFile:
    def test_entries_are_numbered_per_journal_in_date_order_across_the_period(self, shop, tmp_path):
        channel, warehouse = shop
        for n, day in enumerate([date(2025, 3, 2), date(2025, 1, 15), date(2025, 2, 1)]):
            order, _ = services.order_import(channel=channel, data=order_payload(f"F-{n}", payment_status="authorised"))
            services.payment_record(order=order, amount=order.total, method="card", received_on=day)
            services.invoice_issue(order=order, issued_on=day)
        path = export(tmp_path, "--from", "2025-01-01", "--to", "2025-12-31")
        assert path.name == f"{SIREN}FEC20251231.txt"
        assert check_fec(path, date_from=date(2025, 1, 1), date_to=date(2025, 12, 31)) == []
        firsts = {}
        for row in records(path):
            firsts.setdefault(row[2], (row[0], row[3]))
        assert list(firsts.items()) == [
            ("VE000001", ("VE", "20250115")), ("BQ000001", ("BQ", "20250115")), ("VE000002", ("VE", "20250201")),
            ("BQ000002", ("BQ", "20250201")), ("VE000003", ("VE", "20250302")), ("BQ000003", ("BQ", "20250302"))]

    def test_a_line_reads_as_the_law_lays_it_out(self, shop, tmp_path):
        channel, warehouse = shop
        order, _ = services.order_import(channel=channel, data=order_payload(
            "G-1", customer={"external_id": "c-9", "email": "zoe@example.com", "name": "Zoé Łukasiewicz\tSARL"}))
        ship(order, warehouse)
        invoice = Invoice.objects.get()
        start, end = year_bounds()
        rows = records(export(tmp_path, "--from", str(start), "--to", str(end)))
        day = f"{invoice.issued_on:%Y%m%d}"
        assert rows[0] == ["VE", "Journal des ventes", "VE000001", day, "411000", "Clients", order.customer.code, "Zoé Lukasiewicz SARL",
                           invoice.number, day, f"Facture {invoice.number} Zoé Lukasiewicz SARL", "54,90", "0,00", "", "", day, "", ""]

    def test_an_empty_period_is_a_header_only_file(self, shop, tmp_path):
        path = export(tmp_path, "--from", "2019-01-01", "--to", "2019-12-31")
        assert path.read_bytes().decode("iso-8859-15").split("\r\n")[0].split("\t")[0] == "JournalCode"
        assert records(path) == []
        assert check_fec(path, date_from=date(2019, 1, 1), date_to=date(2019, 12, 31)) == []

    def test_the_period_defaults_to_the_current_calendar_year(self, shop, tmp_path):
        path = export(tmp_path)
        assert path.name == f"{SIREN}FEC{timezone.localdate().year}1231.txt"

    def test_the_folder_is_created_when_missing(self, shop, tmp_path):
        path = export(tmp_path / "fec" / "2025", "--to", "2025-12-31")
        assert path.parent == tmp_path / "fec" / "2025"


@pytest.mark.django_db
class TestFecRefusals:
    def test_without_a_siren_the_command_says_where_to_set_it(self, db, tmp_path):
        with pytest.raises(CommandError, match="SIREN"):
            call_command("hub_export", "fec", str(tmp_path))
        assert list(tmp_path.iterdir()) == []

    def test_a_period_that_ends_before_it_starts(self, shop, tmp_path):
        with pytest.raises(CommandError, match="starts"):
            call_command("hub_export", "fec", str(tmp_path), "--from", "2025-12-31", "--to", "2025-01-01")

    def test_a_date_that_is_not_a_date(self, shop, tmp_path):
        with pytest.raises(CommandError, match="YYYY-MM-DD"):
            call_command("hub_export", "fec", str(tmp_path), "--to", "31/12/2025")

    def test_a_file_instead_of_a_folder(self, shop, tmp_path):
        (tmp_path / "taken.txt").write_text("x")
        with pytest.raises(CommandError, match="is a file"):
            call_command("hub_export", "fec", str(tmp_path / "taken.txt"))

    def test_a_period_for_a_resource_without_one(self, shop, tmp_path):
        with pytest.raises(CommandError, match="no period"):
            call_command("hub_export", "orders", str(tmp_path / "orders.csv"), "--from", "2025-01-01")

    def test_documents_in_another_currency_are_named(self, shop, tmp_path):
        channel, _ = shop
        services.order_import(channel=channel, data={**order_payload("GBP-1"), "currency": "GBP"})
        with pytest.raises(CommandError, match="not in EUR"):
            call_command("hub_export", "fec", str(tmp_path))


@pytest.mark.django_db
class TestAdminFec:
    def test_the_admin_downloads_the_same_file(self, shop, admin_client, tmp_path):
        channel, warehouse = shop
        order, _ = services.order_import(channel=channel, data=order_payload())
        ship(order, warehouse)
        start, end = year_bounds()
        page = admin_client.get("/admin/orders/companysettings/")
        assert "/admin/orders/companysettings/fec/" in page.content.decode()
        assert "Download the FEC" in admin_client.get("/admin/orders/companysettings/fec/").content.decode()
        response = admin_client.get("/admin/orders/companysettings/fec/", {"export": "1", "date_from": str(start), "date_to": str(end)})
        assert response["Content-Disposition"] == f'attachment; filename="{SIREN}FEC{end:%Y%m%d}.txt"'
        assert response.content == export(tmp_path, "--from", str(start), "--to", str(end)).read_bytes()

    def test_the_admin_shows_why_it_cannot_export(self, db, admin_client):
        page = admin_client.get("/admin/orders/companysettings/fec/", {"export": "1"}).content.decode()
        assert "SIREN" in page and "admin › Company settings" in page


class TestTheCheckerRejects:
    """The checker is worth something only if it fails on files that break the rules."""

    GOOD = ["JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\t"
            "EcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise",
            "VE\tVentes\tVE000001\t20250115\t411000\tClients\tC1\tZoé\tINV-1\t20250115\tFacture\t12,00\t0,00\t\t\t20250115\t\t",
            "VE\tVentes\tVE000001\t20250115\t707100\tVentes\t\t\tINV-1\t20250115\tFacture\t0,00\t10,00\t\t\t20250115\t\t",
            "VE\tVentes\tVE000001\t20250115\t445711\tTVA\t\t\tINV-1\t20250115\tFacture\t0,00\t2,00\t\t\t20250115\t\t",
            "BQ\tBanque\tBQ000001\t20250116\t512000\tBanque\t\t\tVIR-1\t20250116\tReglement\t12,00\t0,00\t\t\t20250116\t\t",
            "BQ\tBanque\tBQ000001\t20250116\t411000\tClients\tC1\tZoé\tVIR-1\t20250116\tReglement\t0,00\t12,00\t\t\t20250116\t\t"]

    def check(self, tmp_path, lines, name=f"{SIREN}FEC20251231.txt", encoding="iso-8859-15"):
        path = tmp_path / name
        path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
        return check_fec(path, date_from=date(2025, 1, 1), date_to=date(2025, 12, 31), siren=SIREN)

    def test_a_good_file_passes(self, tmp_path):
        assert self.check(tmp_path, self.GOOD) == []

    @pytest.mark.parametrize("change, message", [
        (lambda l: l[:2] + [l[2].replace("0,00\t10,00", "0,00\t10,01")] + l[3:], "debit 12.00 ≠ credit 12.01"),
        (lambda l: l[:4] + [x.replace("BQ000001", "BQ000002") for x in l[4:]], "expected number 1 of journal BQ"),
        (lambda l: [l[0]] + [x.replace("12,00", "12.00") for x in l[1:]], "decimal comma"),
        (lambda l: [l[0].replace("JournalLib\tEcritureNum", "EcritureNum\tJournalLib")] + l[1:], "18 columns"),
        (lambda l: l[:4] + [x.replace("20250116", "20260116") for x in l[4:]], "outside the period"),
        (lambda l: l[:4] + [x.replace("20250116", "2025-01-16") for x in l[4:]], "not a YYYYMMDD date"),
        (lambda l: l[:1] + [x.replace("\tFacture\t", "\t\t") for x in l[1:]], "EcritureLib is empty"),
        (lambda l: [l[0]] + l[4:] + l[1:4], "not chronological"),
        (lambda l: [l[0], l[1], l[4], l[2], l[3], l[5]], "not together"),
        (lambda l: l[:-1] + [l[-1] + "\textra"], "19 fields"),
    ])
    def test_a_file_breaking_a_rule(self, tmp_path, change, message):
        errors = self.check(tmp_path, change(list(self.GOOD)))
        assert any(message in e for e in errors), errors

    def test_a_wrong_name_or_encoding(self, tmp_path):
        assert any("is not <SIREN>FEC" in e for e in self.check(tmp_path, self.GOOD, name="fec.txt"))
        assert any("closing date" in e for e in self.check(tmp_path, self.GOOD, name=f"{SIREN}FEC20250630.txt"))
        path = tmp_path / f"{SIREN}FEC20251231.txt"
        path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(self.GOOD).encode("utf-8"))
        assert any("byte order mark" in e for e in check_fec(path, date_from=date(2025, 1, 1), date_to=date(2025, 12, 31)))
