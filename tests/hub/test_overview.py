"""The overview on the admin index: what it counts, and that each figure's link lists exactly
the rows it counted."""

from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.utils import timezone

from connectors.models import Endpoint, SyncJob
from hub.imports.models import ImportJob
from hub.overview import week_start
from inventory import services as stock
from inventory.models import StockLevel
from orders import services
from orders.models import Invoice, OrderStatus, PaymentTerms, SalesOrder
from tests.catalog.factories import ChannelCatalogFactory, PriceEntryFactory, ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import CustomerFactory, order_payload


class OverviewLinks(HTMLParser):
    """Every link of the overview: element id → (href, text)."""

    def __init__(self):
        super().__init__()
        self.links, self._open = {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("id", "").startswith("overview-"):
            self._open = attrs["id"]
            self.links[self._open] = (attrs["href"], "")

    def handle_data(self, data):
        if self._open:
            href, text = self.links[self._open]
            self.links[self._open] = (href, text + data)

    def handle_endtag(self, tag):
        if tag == "a":
            self._open = None


def overview_links(client) -> dict[str, tuple[str, str]]:
    response = client.get("/admin/")
    assert response.status_code == 200
    parser = OverviewLinks()
    parser.feed(response.content.decode())
    return {id_: (href, " ".join(text.split())) for id_, (href, text) in parser.links.items()}


def figure(links, element_id) -> int:
    return int(links[element_id][1].replace(",", ""))


def amount(links, element_id) -> Decimal:
    value, currency = links[element_id][1].rsplit(" ", 1)
    return Decimal(value.replace(",", "").replace("\xa0", ""))


def listed(client, href):
    """The rows the admin list behind a link shows (all of them, not one page)."""
    response = client.get(href)
    assert response.status_code == 200, f"{href} answered {response.status_code} (an unknown filter redirects with ?e=1)"
    changelist = response.context["cl"]
    return changelist.queryset, changelist.result_count


def age(order, **delta):
    SalesOrder.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(**delta))


@pytest.fixture
def shop(db):
    channel = SalesChannelFactory(code="web")
    warehouse = WarehouseFactory(code="LYON")
    lamp = ProductFactory(sku="LAMP-1", name="Lampe")
    stock.stock_receive(product=lamp, warehouse=warehouse, quantity=100)
    return channel, warehouse, lamp


def place(channel, external_id, **payload):
    order, _ = services.order_import(channel=channel, data=order_payload(external_id, **payload))
    return order


@pytest.mark.django_db
def test_orders_and_revenue_count_todays_and_this_weeks_orders_and_link_to_exactly_them(admin_client, shop):
    channel, _, _ = shop
    usd = SalesChannelFactory(code="us", currency="USD")
    today = [place(channel, "t1"), place(channel, "t2")]
    place(usd, "t3", currency="USD")  # 54.90 USD, today
    cancelled = place(channel, "t4")
    services.order_cancel(order=cancelled, reason="customer changed their mind")
    old = place(channel, "old")
    age(old, days=20)
    local_today = timezone.localdate()
    earlier_this_week = (local_today - week_start(local_today)).days
    yesterday = place(channel, "y1")
    age(yesterday, days=1)

    links = overview_links(admin_client)

    assert figure(links, "overview-orders-today") == 3
    assert figure(links, "overview-orders-week") == 3 + (1 if earlier_this_week >= 1 else 0)
    assert amount(links, "overview-revenue-today-eur") == Decimal("109.80")
    assert amount(links, "overview-revenue-today-usd") == Decimal("54.90")
    rows, count = listed(admin_client, links["overview-orders-today"][0])
    assert count == 3 and cancelled.pk not in {o.pk for o in rows} and old.pk not in {o.pk for o in rows}
    rows, count = listed(admin_client, links["overview-revenue-today-eur"][0])
    assert {o.pk for o in rows} == {o.pk for o in today}
    assert sum(o.total for o in rows) == amount(links, "overview-revenue-today-eur")
    for element_id in ["overview-orders-week", "overview-revenue-week-eur", "overview-revenue-week-usd"]:
        rows, count = listed(admin_client, links[element_id][0])
        if element_id == "overview-orders-week":
            assert count == figure(links, element_id)
        else:
            assert sum(o.total for o in rows) == amount(links, element_id)


@pytest.mark.django_db
def test_orders_per_day_chart_has_fourteen_days_and_each_column_links_to_that_days_orders(admin_client, shop):
    channel, _, _ = shop
    place(channel, "a")
    for n, days in enumerate([2, 2, 13, 14]):
        age(place(channel, f"b{n}"), days=days)

    page = admin_client.get("/admin/").content.decode()
    links = overview_links(admin_client)

    assert 'id="overview-chart-orders-per-day"' in page and "<svg" in page
    day_links = sorted(element_id for element_id in links if element_id.startswith("overview-orders-day-"))
    assert len(day_links) == 14
    assert day_links[-1] == f"overview-orders-day-{timezone.localdate().isoformat()}"
    counted = {element_id: listed(admin_client, links[element_id][0])[1] for element_id in day_links}
    two_days_ago = f"overview-orders-day-{(timezone.localdate() - timedelta(days=2)).isoformat()}"
    assert counted[two_days_ago] == 2
    assert sum(counted.values()) == 4  # the order 14 days old is outside the chart
    assert "overview-chart-revenue-per-day-eur" in page


@pytest.mark.django_db
def test_holds_are_counted_by_readable_reason_and_each_reason_links_to_its_orders(admin_client, shop):
    channel, _, lamp = shop
    unknown = place(channel, "h1", lines=[{"sku": "NOPE", "quantity": 1, "unit_price": "10.00"}])
    totals = place(channel, "h2", total="60.00")
    short = place(channel, "h3", lines=[{"sku": "LAMP-1", "quantity": 101, "unit_price": "1.00"}])
    CustomerFactory(code="ACME", channels=[channel], credit_limit=Decimal("50.00"), payment_terms=PaymentTerms.NET_30)
    credit = place(channel, "h4", customer={"code": "ACME"}, payment_status="pending")
    ChannelCatalogFactory(channel=channel, public_price_list=PriceEntryFactory(product=lamp, unit_price=Decimal("10.00")).price_list)
    CustomerFactory(code="PRO", channels=[channel], payment_terms=PaymentTerms.NET_30)
    price = place(channel, "h5", customer={"code": "PRO"})
    manual = place(channel, "h6")
    services.order_hold(order=manual, reason="customer asked us to wait")
    place(channel, "fine")
    assert SalesOrder.objects.filter(status=OrderStatus.ON_HOLD).count() == 6, SalesOrder.objects.values_list("hold_reason", flat=True)

    page = admin_client.get("/admin/").content.decode()
    links = overview_links(admin_client)

    expected = {"unknown_sku": unknown, "totals": totals, "stock": short, "credit_limit": credit, "price": price, "other": manual}
    for kind, order in expected.items():
        assert figure(links, f"overview-holds-{kind}") == 1, kind
        rows, count = listed(admin_client, links[f"overview-holds-{kind}"][0])
        assert [o.pk for o in rows] == [order.pk], kind
    assert figure(links, "overview-holds") == 6
    assert listed(admin_client, links["overview-holds"][0])[1] == 6
    for label in ["Unknown or inactive SKU", "Totals do not add up", "Not enough stock", "Credit limit exceeded", "Price differs from the hub&#x27;s"]:
        assert label in page
    assert "unknown_sku" not in page.replace("overview-holds-unknown_sku", "").replace("hold=unknown_sku", "")


@pytest.mark.django_db
def test_overdue_invoices_are_those_past_due_and_not_fully_paid(admin_client, shop):
    channel, warehouse, lamp = shop
    CustomerFactory(code="ACME", channels=[channel], payment_terms=PaymentTerms.NET_30)

    def invoiced(external_id, payment_status):
        order = place(channel, external_id, customer={"code": "ACME"}, payment_status=payment_status)
        line = order.lines.get()
        services.shipment_create(order=order, warehouse=warehouse, lines=[(line, line.quantity)])
        return Invoice.objects.get(order=order)

    unpaid_past_due, paid_past_due, unpaid_not_due = invoiced("i1", "pending"), invoiced("i2", "paid"), invoiced("i3", "pending")
    past = timezone.localdate() - timedelta(days=3)
    Invoice.objects.filter(pk__in=[unpaid_past_due.pk, paid_past_due.pk]).update(due_on=past)

    links = overview_links(admin_client)

    assert figure(links, "overview-invoices-overdue") == 1
    assert amount(links, "overview-invoices-overdue-eur") == unpaid_past_due.total
    rows, count = listed(admin_client, links["overview-invoices-overdue"][0])
    assert [i.pk for i in rows] == [unpaid_past_due.pk]
    assert listed(admin_client, links["overview-invoices-overdue-eur"][0])[1] == 1
    assert unpaid_not_due.pk  # not yet due: not counted


@pytest.mark.django_db
def test_of_an_order_invoiced_in_two_parts_and_paid_for_one_only_the_later_invoice_is_overdue(admin_client, shop):
    channel, warehouse, lamp = shop
    CustomerFactory(code="ACME", channels=[channel], payment_terms=PaymentTerms.NET_30)
    order = place(channel, "split", customer={"code": "ACME"}, payment_status="pending")
    line = order.lines.get()
    services.shipment_create(order=order, warehouse=warehouse, lines=[(line, 1)])
    services.shipment_create(order=order, warehouse=warehouse, lines=[(line, line.quantity - 1)])
    first, second = Invoice.objects.filter(order=order).order_by("number")
    credited = place(channel, "credited", customer={"code": "ACME"}, payment_status="pending")
    services.shipment_create(order=credited, warehouse=warehouse, lines=[(credited.lines.get(), credited.lines.get().quantity)])
    credited_invoice = Invoice.objects.get(order=credited)
    services.invoice_credit_in_full(invoice=credited_invoice, reason="damaged in transit")
    services.payment_record(order=order, amount=first.total, method="transfer", reference="VIR-1")
    Invoice.objects.update(due_on=timezone.localdate() - timedelta(days=3))

    links = overview_links(admin_client)

    assert figure(links, "overview-invoices-overdue") == 1
    assert amount(links, "overview-invoices-overdue-eur") == second.total
    assert [i.pk for i in listed(admin_client, links["overview-invoices-overdue"][0])[0]] == [second.pk]


@pytest.mark.django_db
def test_low_and_out_of_stock_levels_are_counted_and_linked(admin_client, shop):
    _, warehouse, lamp = shop
    other = WarehouseFactory(code="PARIS")
    for sku, on_hand in [("LOW-1", 3), ("LOW-2", 5), ("EDGE", 6), ("OUT", 0)]:
        product = ProductFactory(sku=sku)
        stock.stock_receive(product=product, warehouse=warehouse, quantity=on_hand or 1)
        if not on_hand:
            stock.stock_adjust(product=product, warehouse=warehouse, quantity_delta=-1, reason="broken")
    stock.stock_receive(product=lamp, warehouse=other, quantity=2)

    links = overview_links(admin_client)

    assert figure(links, "overview-stock-low") == 3  # LOW-1, LOW-2, LAMP-1 in PARIS
    assert figure(links, "overview-stock-out") == 1
    rows, _ = listed(admin_client, links["overview-stock-low"][0])
    assert sorted((level.product.sku, level.warehouse.code) for level in rows) == [("LAMP-1", "PARIS"), ("LOW-1", "LYON"), ("LOW-2", "LYON")]
    rows, _ = listed(admin_client, links["overview-stock-out"][0])
    assert [level.product.sku for level in rows] == ["OUT"]
    assert StockLevel.objects.count() == 6


def make_endpoint(code):
    return Endpoint.objects.create(code=code, name=f"Shop {code}", kind="shopify", base_url=f"https://{code}.example.com")


def failed_job(endpoint, record):
    return SyncJob.objects.create(endpoint=endpoint, flow="products", record_key=record, status=SyncJob.Status.FAILED,
                                  next_attempt_at=timezone.now(), last_error="422 bad data")


@pytest.mark.django_db
def test_open_sync_errors_per_endpoint_link_to_that_endpoints_failed_jobs_and_the_console_is_one_click_away(admin_client):
    north, south = make_endpoint("north"), make_endpoint("south")
    failed_job(north, "1"), failed_job(north, "2"), failed_job(south, "3")
    SyncJob.objects.create(endpoint=south, flow="products", record_key="4", status=SyncJob.Status.PENDING, next_attempt_at=timezone.now())

    links = overview_links(admin_client)

    assert figure(links, "overview-sync-errors") == 3
    assert (figure(links, "overview-sync-errors-north"), figure(links, "overview-sync-errors-south")) == (2, 1)
    assert {job.record_key for job in listed(admin_client, links["overview-sync-errors-north"][0])[0]} == {"1", "2"}
    assert {job.record_key for job in listed(admin_client, links["overview-sync-errors-south"][0])[0]} == {"3"}
    assert listed(admin_client, links["overview-sync-errors"][0])[1] == 3
    console = admin_client.get(links["overview-console-link"][0])
    assert console.status_code == 200 and "Operator console" in console.content.decode()


@pytest.mark.django_db
def test_imports_running_and_queued_are_counted_and_linked(admin_client, admin_user):
    for status in ["running", "running", "pending", "succeeded"]:
        ImportJob.objects.create(resource="products", original_name="p.csv", status=status, user=admin_user)

    links = overview_links(admin_client)

    assert (figure(links, "overview-imports-running"), figure(links, "overview-imports-queued")) == (2, 1)
    assert listed(admin_client, links["overview-imports-running"][0])[1] == 2
    assert listed(admin_client, links["overview-imports-queued"][0])[1] == 1


@pytest.mark.django_db
def test_staff_see_only_the_figures_their_permissions_let_them_open(client, shop):
    clerk = User.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_stocklevel"))
    client.force_login(clerk)

    links = overview_links(client)

    assert "overview-stock-low" in links and "overview-stock-out" in links
    assert not {element_id for element_id in links if element_id.startswith(("overview-orders", "overview-revenue", "overview-holds",
                                                                               "overview-invoices", "overview-sync", "overview-console", "overview-imports"))}


def index_queries(client, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as captured:
        assert client.get("/admin/").status_code == 200
    return len(captured.captured_queries)


@pytest.mark.django_db
def test_the_index_costs_the_same_few_queries_whatever_the_amount_of_data(admin_client, shop, django_assert_max_num_queries):
    channel, _, _ = shop
    place(channel, "first")
    make_endpoint("one")
    small = index_queries(admin_client, django_assert_max_num_queries, 30)

    for n in range(30):
        order = place(channel, f"more-{n}", total="1.00" if n % 3 == 0 else None)
        age(order, days=n % 16)
    place(SalesChannelFactory(code="us", currency="USD"), "usd", currency="USD")
    for n in range(5):
        failed_job(make_endpoint(f"ep{n}"), str(n))
    for n in range(8):
        stock.stock_receive(product=ProductFactory(sku=f"S{n}"), warehouse=shop[1], quantity=n + 1)
    large = index_queries(admin_client, django_assert_max_num_queries, 30)

    assert large == small


@pytest.mark.django_db
def test_the_index_renders_the_overview_on_the_demo_data(admin_client):
    call_command("seed_demo")
    links = overview_links(admin_client)
    for element_id in ["overview-orders-today", "overview-orders-week", "overview-holds", "overview-invoices-overdue",
                       "overview-stock-low", "overview-stock-out", "overview-sync-errors", "overview-imports-running",
                       "overview-console-link", "overview-revenue-today-eur"]:
        assert element_id in links, element_id
    for element_id, (href, _) in links.items():
        assert admin_client.get(href).status_code == 200, (element_id, href)
