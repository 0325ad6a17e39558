from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError as ModelValidationError
from rest_framework.exceptions import ValidationError

from hub.models import ChangeEvent, TimelineEvent
from inventory import services as stock
from inventory.models import Reservation, StockLevel
from orders import services
from orders.models import ChannelOrderSettings, Customer, Invoice, OrderStatus, PaymentTerms, SalesOrder
from orders.services import OrderError
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import CustomerFactory, order_payload
from tests.orders.threads import run_concurrently


@pytest.fixture
def shop(db):
    channel = SalesChannelFactory(code="web")
    warehouse = WarehouseFactory(code="LYON")
    product = ProductFactory(sku="LAMP-1", name="Lampe")
    stock.stock_receive(product=product, warehouse=warehouse, quantity=10)
    return channel, warehouse, product


def timeline(order):
    return list(TimelineEvent.objects.filter(object_id=str(order.pk)).order_by("id").values_list("event", flat=True))


@pytest.mark.django_db
class TestImport:
    def test_a_paid_order_is_received_confirmed_and_allocated(self, shop):
        channel, _, product = shop
        order, created = services.order_import(channel=channel, data=order_payload())
        assert created and order.status == OrderStatus.ALLOCATED
        assert order.number.startswith("SO-") and order.total == Decimal("54.90")
        assert StockLevel.objects.get(product=product).reserved == 2
        assert timeline(order) == ["received", "confirmed", "allocated", "payment"]

    def test_the_same_payload_twice_is_one_order_and_changes_nothing(self, shop):
        channel, _, _ = shop
        first, _ = services.order_import(channel=channel, data=order_payload())
        again, created = services.order_import(channel=channel, data=order_payload())
        assert (again.pk, created) == (first.pk, False)
        assert SalesOrder.objects.count() == 1 and timeline(again) == ["received", "confirmed", "allocated", "payment"]

    def test_a_changed_resend_updates_what_may_still_change(self, shop):
        channel, _, _ = shop
        order, _ = services.order_import(channel=channel, data=order_payload(payment_status="pending"))
        assert order.status == OrderStatus.RECEIVED
        order, created = services.order_import(channel=channel, data=order_payload(payment_status="paid", notes="gift wrap"))
        assert not created and order.status == OrderStatus.ALLOCATED and order.notes == "gift wrap"
        assert "updated" in timeline(order)

    def test_totals_that_do_not_add_up_hold_the_order_with_the_reason(self, shop):
        channel, _, _ = shop
        order, _ = services.order_import(channel=channel, data=order_payload(total="60.00"))
        assert order.status == OrderStatus.ON_HOLD
        assert "totals do not add up" in order.hold_reason and "54.90" in order.hold_reason
        assert not Reservation.objects.exists()

    def test_taxes_are_added_when_prices_exclude_tax(self, shop):
        channel, _, _ = shop
        payload = order_payload(prices_include_tax=False, total="64.90")  # 50 + 4.90 + 10.00 tax
        payload["lines"][0]["tax_amount"] = "10.00"
        order, _ = services.order_import(channel=channel, data=payload)
        assert order.status == OrderStatus.ALLOCATED and order.tax_total == Decimal("10.00")

    def test_an_unknown_sku_holds_the_order_and_keeps_it(self, shop):
        channel, _, _ = shop
        lines = [{"sku": "NOPE", "quantity": 1, "unit_price": "10.00"}]
        order, _ = services.order_import(channel=channel, data=order_payload(lines=lines))
        assert order.status == OrderStatus.ON_HOLD and "unknown SKU: NOPE" in order.hold_reason
        assert order.lines.get().sku == "NOPE"

    def test_a_malformed_payload_is_refused_with_field_messages_and_writes_nothing(self, shop):
        channel, _, _ = shop
        payload = order_payload()
        payload["lines"][0]["quantity"] = 0
        del payload["currency"]
        with pytest.raises(ValidationError) as error:
            services.order_import(channel=channel, data=payload)
        assert "currency" in error.value.detail and "lines" in error.value.detail
        assert not SalesOrder.objects.exists() and not Customer.objects.exists()

    def test_insufficient_stock_holds_the_order_and_reserves_nothing(self, shop):
        channel, _, _ = shop
        lines = [{"sku": "LAMP-1", "quantity": 11, "unit_price": "1.00"}]
        order, _ = services.order_import(channel=channel, data=order_payload(lines=lines))
        assert order.status == OrderStatus.ON_HOLD and "insufficient stock: LAMP-1 short by 1" in order.hold_reason
        assert StockLevel.objects.get().reserved == 0

    def test_b2b_credit_limit_exceeded_holds_the_order(self, shop):
        channel, _, _ = shop
        CustomerFactory(code="ACME", channels=[channel], credit_limit=Decimal("50.00"), payment_terms=PaymentTerms.NET_30)
        order, _ = services.order_import(channel=channel, data=order_payload(customer={"code": "ACME"}, payment_status="pending"))
        assert order.status == OrderStatus.ON_HOLD and "credit limit exceeded" in order.hold_reason

    def test_b2b_on_terms_within_limit_is_confirmed_unpaid(self, shop):
        channel, _, _ = shop
        CustomerFactory(code="ACME", channels=[channel], credit_limit=Decimal("500.00"), payment_terms=PaymentTerms.NET_30)
        order, _ = services.order_import(channel=channel, data=order_payload(customer={"code": "ACME"}, payment_status="pending"))
        assert order.status == OrderStatus.ALLOCATED


@pytest.mark.django_db
def test_customers_are_deduplicated_by_channel_id_and_by_email(shop):
    channel, _, _ = shop
    existing = CustomerFactory(code="CAMILLE", email="camille@example.com", type="b2c", channels=[channel])
    first, _ = services.order_import(channel=channel, data=order_payload("1"))
    second, _ = services.order_import(channel=channel, data=order_payload("2", customer={"external_id": "cust-77"}))
    third, _ = services.order_import(channel=channel, data=order_payload("3", customer={"email": "CAMILLE@example.com"}))
    assert first.customer == second.customer == third.customer == existing
    assert Customer.objects.count() == 1


@pytest.mark.django_db
class TestLifecycle:
    def test_hold_then_release_reallocates(self, shop):
        channel, _, product = shop
        order, _ = services.order_import(channel=channel, data=order_payload())
        services.order_hold(order=order, reason="address check")
        order.refresh_from_db()
        assert order.status == OrderStatus.ON_HOLD and StockLevel.objects.get(product=product).reserved == 0
        order = services.order_release(order=order)
        assert order.status == OrderStatus.ALLOCATED and StockLevel.objects.get(product=product).reserved == 2

    def test_cancel_releases_reservations_and_feeds_connectors(self, shop):
        channel, _, product = shop
        order, _ = services.order_import(channel=channel, data=order_payload())
        services.order_cancel(order=order, reason="customer asked")
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED and StockLevel.objects.get(product=product).reserved == 0
        assert ChangeEvent.objects.filter(topic="orders.order", object_id=str(order.pk), data__status="cancelled").exists()

    def test_cancel_is_refused_once_shipped(self, shop):
        channel, warehouse, _ = shop
        order, _ = services.order_import(channel=channel, data=order_payload())
        services.shipment_create(order=order, warehouse=warehouse, lines=[(order.lines.get(), 1)])
        with pytest.raises(OrderError, match="returned through an RMA"):
            services.order_cancel(order=order, reason="too late")

    def test_confirm_refuses_an_allocated_order(self, shop):
        channel, _, _ = shop
        order, _ = services.order_import(channel=channel, data=order_payload())
        with pytest.raises(OrderError, match="only received or held"):
            services.order_confirm(order=order)

    def test_partial_then_full_shipment_with_invoices_and_completion(self, shop):
        channel, warehouse, product = shop
        order, _ = services.order_import(channel=channel, data=order_payload())
        line = order.lines.get()
        first = services.shipment_create(order=order, warehouse=warehouse, lines=[(line, 1)], carrier="Colissimo", tracking_numbers=["6A123"])
        order.refresh_from_db()
        assert order.status == OrderStatus.PARTIALLY_SHIPPED
        services.shipment_create(order=order, warehouse=warehouse, lines=[(line, 1)])
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED
        level = StockLevel.objects.get(product=product)
        assert (level.on_hand, level.reserved) == (8, 0)
        invoices = list(Invoice.objects.order_by("number"))
        year = date.today().year
        assert [i.number for i in invoices] == [f"INV-{year}-000001", f"INV-{year}-000002"]
        assert invoices[0].shipment == first and invoices[0].total == Decimal("29.90")  # 25.00 + shipping 4.90
        assert invoices[1].total == Decimal("25.00")
        assert ChangeEvent.objects.filter(topic="orders.shipment").count() == 2
        services.order_complete(order=order)
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED

    def test_shipping_more_than_is_open_is_refused(self, shop):
        channel, warehouse, _ = shop
        order, _ = services.order_import(channel=channel, data=order_payload())
        with pytest.raises(OrderError, match="only 2 still open"):
            services.shipment_create(order=order, warehouse=warehouse, lines=[(order.lines.get(), 3)])


@pytest.mark.django_db
class TestInvoicing:
    def test_an_issued_invoice_cannot_be_changed_or_deleted(self, shop):
        channel, warehouse, _ = shop
        order, _ = services.order_import(channel=channel, data=order_payload())
        services.shipment_create(order=order, warehouse=warehouse, lines=[(order.lines.get(), 2)])
        invoice = Invoice.objects.get()
        invoice.total = Decimal("1.00")
        with pytest.raises(ModelValidationError, match="cannot be changed"):
            invoice.save()
        with pytest.raises(ModelValidationError, match="cannot be deleted"):
            invoice.delete()

    def test_credit_notes_have_their_own_series_and_cannot_exceed_the_invoice(self, shop):
        channel, warehouse, _ = shop
        order, _ = services.order_import(channel=channel, data=order_payload())
        services.shipment_create(order=order, warehouse=warehouse, lines=[(order.lines.get(), 2)])
        invoice = Invoice.objects.get()
        note = services.credit_note_issue(invoice=invoice, lines=[{"description": "Lampe", "quantity": 1, "unit_price": "25.00", "tax_rate": "0.2"}], reason="return")
        assert note.number == f"CN-{date.today().year}-000001" and note.total == Decimal("25.00") and note.tax_total == Decimal("4.17")
        with pytest.raises(OrderError, match="exceed the invoice"):
            services.credit_note_issue(invoice=invoice, lines=[{"description": "x", "unit_price": "40.00"}], reason="too much")

    def test_payments_and_refunds_move_the_payment_status_and_refunds_are_capped(self, shop):
        channel, _, _ = shop
        order, _ = services.order_import(channel=channel, data=order_payload(payment_status="authorised"))
        services.payment_record(order=order, amount="54.90", method="card", reference="ch_1")
        order.refresh_from_db()
        assert order.payment_status == "paid"
        services.payment_record(order=order, amount="25.00", method="card", kind="refund")
        order.refresh_from_db()
        assert order.payment_status == "partially_refunded"
        with pytest.raises(OrderError, match="exceed what was paid"):
            services.payment_record(order=order, amount="30.00", method="card", kind="refund")
        services.payment_record(order=order, amount="29.90", method="card", kind="refund")
        order.refresh_from_db()
        assert order.payment_status == "refunded"

    def test_invoice_on_payment_when_the_channel_says_so(self, shop):
        channel, _, _ = shop
        ChannelOrderSettings.objects.create(channel=channel, invoice_trigger="payment", confirm_unpaid=True)
        order, _ = services.order_import(channel=channel, data=order_payload(payment_status="pending"))
        assert not Invoice.objects.exists()
        services.payment_record(order=order, amount="54.90", method="transfer")
        invoice = Invoice.objects.get()
        assert invoice.total == Decimal("54.90") and services.invoice_balance(invoice=invoice) == 0

    @pytest.mark.parametrize("terms, issued, due", [
        (PaymentTerms.IMMEDIATE, date(2026, 1, 10), date(2026, 1, 10)),
        (PaymentTerms.NET_30, date(2026, 1, 10), date(2026, 2, 9)),
        (PaymentTerms.NET_30_EOM, date(2026, 1, 10), date(2026, 2, 28)),
        (PaymentTerms.NET_60_EOM, date(2026, 1, 31), date(2026, 4, 30)),
    ])
    def test_due_dates_follow_payment_terms(self, terms, issued, due):
        assert services.due_date(issued_on=issued, terms=terms) == due


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_imports_make_one_order():
    channel = SalesChannelFactory(code="web")
    ProductFactory(sku="LAMP-1")
    _, errors = run_concurrently(8, lambda n: services.order_import(channel=channel, data=order_payload("DUP-1")))
    assert errors == []
    assert SalesOrder.objects.filter(external_id="DUP-1").count() == 1
    assert SalesOrder.objects.get(external_id="DUP-1").payments.count() == 1  # the channel's payment, once


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_orders_for_the_last_five_units_allocate_exactly_five():
    channel = SalesChannelFactory(code="web")
    product = ProductFactory(sku="LAMP-1")
    stock.stock_receive(product=product, warehouse=WarehouseFactory(code="LYON"), quantity=5)
    lines = [{"sku": "LAMP-1", "quantity": 1, "unit_price": "10.00"}]
    _, errors = run_concurrently(16, lambda n: services.order_import(
        channel=channel, data=order_payload(f"RUSH-{n}", lines=lines, shipping="0", customer={"external_id": f"c{n}", "email": f"c{n}@example.com"})))
    assert errors == []
    statuses = sorted(SalesOrder.objects.values_list("status", flat=True))
    assert statuses.count(OrderStatus.ALLOCATED) == 5 and statuses.count(OrderStatus.ON_HOLD) == 11
    assert StockLevel.objects.get(product=product).reserved == 5


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_invoices_issued_concurrently_get_twenty_consecutive_numbers():
    channel = SalesChannelFactory(code="web")
    product = ProductFactory(sku="LAMP-1")
    stock.stock_receive(product=product, warehouse=WarehouseFactory(code="LYON"), quantity=100)
    lines = [{"sku": "LAMP-1", "quantity": 1, "unit_price": "10.00"}]
    orders = [services.order_import(channel=channel, data=order_payload(f"INV-{n}", lines=lines, shipping="0"))[0] for n in range(20)]
    _, errors = run_concurrently(20, lambda n: services.invoice_issue(order=orders[n]))
    assert errors == []
    numbers = sorted(int(number.rsplit("-", 1)[1]) for number in Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 21))


@pytest.mark.django_db
def test_refusals_of_the_remaining_transitions(shop):
    channel, _, _ = shop
    order, _ = services.order_import(channel=channel, data=order_payload())
    with pytest.raises(OrderError, match="is not on hold"):
        services.order_release(order=order)
    with pytest.raises(OrderError, match="only shipped orders are completed"):
        services.order_complete(order=order)
    with pytest.raises(OrderError, match="say why"):
        services.order_hold(order=order, reason=" ")
    services.order_cancel(order=order, reason="test")
    with pytest.raises(OrderError, match="cannot be put on hold"):
        services.order_hold(order=order, reason="late")
    with pytest.raises(OrderError, match="only allocated orders ship"):
        services.shipment_create(order=order, warehouse=shop[1], lines=[(order.lines.get(), 1)])


@pytest.mark.django_db
def test_eu_vat_numbers_are_format_checked():
    customer = Customer(code="ACME", name="Acme", vat_number="FR 403 03")
    with pytest.raises(ModelValidationError) as error:
        customer.full_clean(exclude=["group", "contract_price_list"])
    assert "EU VAT number" in str(error.value)
    Customer(code="ACME2", name="Acme", vat_number="FR40303265045").full_clean(exclude=["group", "contract_price_list"])


@pytest.mark.django_db
def test_the_shipping_address_changes_until_something_ships_and_the_change_is_announced(shop):
    channel, warehouse, _ = shop
    order, _ = services.order_import(channel=channel, data=order_payload())
    new = {"name": "Camille Martin", "line1": "12 quai Saint-Vincent", "postcode": "69001", "city": "Lyon", "country": "fr"}
    services.order_shipping_address_update(order=order, address=new)
    order.refresh_from_db()
    assert order.shipping_address["line1"] == "12 quai Saint-Vincent" and order.shipping_address["country"] == "FR"
    assert ChangeEvent.objects.filter(topic="orders.order", object_id=str(order.pk), data__fields=["shipping_address"]).exists()
    assert "address changed" in timeline(order)
    with pytest.raises(OrderError, match="needs postcode"):
        services.order_shipping_address_update(order=order, address={**new, "postcode": ""})
    with pytest.raises(OrderError, match="unknown address field"):
        services.order_shipping_address_update(order=order, address={**new, "planet": "Mars"})
    services.shipment_create(order=order, warehouse=warehouse, lines=[(order.lines.get(), 1)], carrier="Colissimo")
    with pytest.raises(OrderError, match="only before anything ships"):
        services.order_shipping_address_update(order=order, address=new)


@pytest.mark.django_db
def test_the_payment_rule_for_handing_an_order_to_a_warehouse_is_the_channels(shop):
    from orders.selectors import order_ready_to_fulfil

    channel, _, _ = shop
    paid, _ = services.order_import(channel=channel, data=order_payload("P1"))
    unpaid, _ = services.order_import(channel=channel, data=order_payload("P2", payment_status="pending"))
    assert order_ready_to_fulfil(order=paid) and not order_ready_to_fulfil(order=unpaid)
    ChannelOrderSettings.objects.create(channel=channel, confirm_unpaid=True)
    confirmed, _ = services.order_import(channel=channel, data=order_payload("P3", payment_status="pending"))
    assert confirmed.status == OrderStatus.ALLOCATED and order_ready_to_fulfil(order=confirmed)
