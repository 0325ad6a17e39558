from decimal import Decimal

import pytest

from hub.models import ChangeEvent, TimelineEvent
from inventory import services as stock
from inventory.models import StockLevel, StockMovement
from orders import services as orders
from orders.models import CreditNote, Invoice, SalesOrder
from returns import services
from returns.models import ChannelReturnPolicy, RmaLine, RmaStatus
from returns.services import ReturnError
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_payload

S = RmaStatus


@pytest.fixture
def shipped(db):
    """A paid order of 2 lamps at 25.00 + 4.90 shipping (prices include 20 % VAT), shipped in full."""
    channel = SalesChannelFactory(code="web")
    warehouse = WarehouseFactory(code="LYON", priority=10)
    WarehouseFactory(code="QUARANTINE", is_sellable=False)
    product = ProductFactory(sku="LAMP-1", name="Lampe")
    ProductFactory(sku="LAMP-2", name="Lampe bleue")
    stock.stock_receive(product=product, warehouse=warehouse, quantity=10)
    order, _ = orders.order_import(channel=channel, data=order_payload())  # the channel's payment is recorded with it
    orders.shipment_create(order=order, warehouse=warehouse, lines=[(order.lines.get(), 2)])
    order.refresh_from_db()
    return order, warehouse, product


def policy(order, **fields):
    ChannelReturnPolicy.objects.update_or_create(channel=order.channel, defaults=fields)


def request(order, quantity=1, **extra):
    return services.rma_request(order=order, lines=[{"order_line": order.lines.get(), "quantity": quantity, "reason": "size_fit", **extra}])


@pytest.mark.django_db
class TestLifecycle:
    def test_full_return_after_inspection_restocks_refunds_and_closes(self, shipped):
        order, warehouse, product = shipped
        rma = request(order)
        assert rma.number.startswith("RMA-") and rma.status == S.REQUESTED
        services.rma_authorise(rma=rma)
        services.rma_mark_in_transit(rma=rma, carrier="Colissimo", tracking_number="8R123")
        line = rma.lines.get()
        services.rma_receive(rma=rma, quantities={line.pk: 1})
        services.rma_inspect(rma=rma, results={line.pk: {"condition": "sellable", "disposition": "restock"}})
        rma.refresh_from_db()
        assert rma.status == S.REFUNDED and rma.refunded_total == Decimal("25.00")
        assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 9
        assert StockMovement.objects.filter(kind="return_restock", reference=rma.number).get().quantity == 1
        note = CreditNote.objects.get()
        assert note.total == Decimal("25.00") and note.invoice == Invoice.objects.get()
        order.refresh_from_db()
        assert order.payment_status == "partially_refunded"
        assert ChangeEvent.objects.filter(topic="returns.refund", object_id=str(rma.pk)).exists()
        services.rma_close(rma=rma)
        rma.refresh_from_db()
        assert rma.status == S.CLOSED

    def test_cannot_return_more_than_shipped_minus_already_returned(self, shipped):
        order, _, _ = shipped
        request(order, quantity=2)
        with pytest.raises(ReturnError, match="0 returnable"):
            request(order, quantity=1)

    def test_a_rejected_return_frees_its_quantity(self, shipped):
        order, _, _ = shipped
        first = request(order, quantity=2)
        services.rma_reject(rma=first, reason="outside the return window")
        assert request(order, quantity=2).status == S.REQUESTED

    def test_only_shipped_orders_can_be_returned(self, db):
        channel = SalesChannelFactory(code="web")
        ProductFactory(sku="LAMP-1")
        order, _ = orders.order_import(channel=channel, data=order_payload())
        with pytest.raises(ReturnError, match="only shipped goods"):
            request(order)

    def test_cancel_only_before_receipt(self, shipped):
        order, _, _ = shipped
        rma = request(order)
        services.rma_authorise(rma=rma)
        services.rma_receive(rma=rma, quantities={rma.lines.get().pk: 1})
        with pytest.raises(ReturnError, match="before it is received"):
            services.rma_cancel(rma=rma, reason="changed mind")
        other = services.rma_request(order=order, lines=[{"order_line": order.lines.get(), "quantity": 1}])
        services.rma_cancel(rma=other, reason="changed mind")
        other.refresh_from_db()
        assert other.status == S.CANCELLED

    def test_transitions_out_of_order_are_refused(self, shipped):
        order, _, _ = shipped
        rma = request(order)
        with pytest.raises(ReturnError, match="only authorised returns go in transit"):
            services.rma_mark_in_transit(rma=rma)
        with pytest.raises(ReturnError, match="only received returns are inspected"):
            services.rma_inspect(rma=rma, results={})

    def test_partial_receipts_add_up_and_refuse_too_many(self, shipped):
        order, _, _ = shipped
        rma = request(order, quantity=2)
        services.rma_authorise(rma=rma)
        line = rma.lines.get()
        services.rma_receive(rma=rma, quantities={line.pk: 1})
        services.rma_receive(rma=rma, quantities={line.pk: 1})
        line.refresh_from_db()
        assert line.received_quantity == 2
        with pytest.raises(ReturnError, match="only 0 still expected"):
            services.rma_receive(rma=rma, quantities={line.pk: 1})

    def test_damaged_units_go_to_quarantine_and_scrap_is_written_off(self, shipped):
        order, _, product = shipped
        rma = request(order, quantity=2)
        services.rma_authorise(rma=rma)
        line = rma.lines.get()
        services.rma_receive(rma=rma, quantities={line.pk: 2})
        services.rma_inspect(rma=rma, results={line.pk: {"condition": "damaged", "disposition": "scrap"}})
        movements = sorted(StockMovement.objects.filter(reference=rma.number).values_list("kind", "quantity"))
        assert movements == [("quarantine", 2), ("write_off", -2)]
        with pytest.raises(ReturnError, match="0 returnable"):
            request(order, quantity=1)

    def test_restocking_damaged_goods_is_refused(self, shipped):
        order, _, _ = shipped
        rma = request(order)
        services.rma_authorise(rma=rma)
        line = rma.lines.get()
        services.rma_receive(rma=rma, quantities={line.pk: 1})
        with pytest.raises(ReturnError, match="only sellable units are restocked"):
            services.rma_inspect(rma=rma, results={line.pk: {"condition": "defective", "disposition": "restock"}})


@pytest.mark.django_db
class TestRefundPolicies:
    def test_refund_on_carrier_scan(self, shipped):
        order, _, _ = shipped
        policy(order, refund_trigger="carrier_scan")
        rma = request(order)
        services.rma_authorise(rma=rma)
        services.rma_mark_in_transit(rma=rma, carrier="Colissimo", tracking_number="8R1")
        rma.refresh_from_db()
        assert rma.status == S.IN_TRANSIT and rma.refunded_total == Decimal("25.00")

    def test_refund_on_receipt_follows_partial_receipts(self, shipped):
        order, _, _ = shipped
        policy(order, refund_trigger="received")
        rma = request(order, quantity=2)
        services.rma_authorise(rma=rma)
        line = rma.lines.get()
        services.rma_receive(rma=rma, quantities={line.pk: 1})
        rma.refresh_from_db()
        assert rma.refunded_total == Decimal("25.00")
        services.rma_receive(rma=rma, quantities={line.pk: 1})
        rma.refresh_from_db()
        assert rma.refunded_total == Decimal("50.00") and CreditNote.objects.count() == 2

    def test_missing_units_are_not_refunded_after_inspection(self, shipped):
        order, _, _ = shipped
        rma = request(order)
        services.rma_authorise(rma=rma)
        line = rma.lines.get()
        services.rma_receive(rma=rma, quantities={line.pk: 1})
        services.rma_inspect(rma=rma, results={line.pk: {"condition": "missing"}})
        rma.refresh_from_db()
        assert rma.refunded_total == Decimal("0") and not CreditNote.objects.exists()

    def test_shipping_refund_and_restocking_fee(self, shipped):
        order, _, _ = shipped
        policy(order, refund_trigger="received", refund_shipping=True, restocking_fee_percent=Decimal("10"))
        rma = request(order, quantity=2)
        services.rma_authorise(rma=rma)
        services.rma_receive(rma=rma, quantities={rma.lines.get().pk: 2})
        rma.refresh_from_db()
        # 50.00 goods − 5.00 fee (10 %) + 4.90 shipping
        assert rma.refunded_total == Decimal("49.90")

    def test_refunds_never_exceed_what_was_paid(self, shipped):
        order, _, _ = shipped
        orders.payment_record(order=order, amount="40.00", method="card", kind="refund", reference="goodwill")
        policy(order, refund_trigger="received")
        rma = request(order, quantity=2)
        services.rma_authorise(rma=rma)
        services.rma_receive(rma=rma, quantities={rma.lines.get().pk: 2})
        rma.refresh_from_db()
        assert rma.refunded_total == Decimal("14.90")  # 54.90 paid − 40.00 already refunded
        order.refresh_from_db()
        assert order.payment_status == "refunded"

    def test_order_discount_share_reduces_the_refund(self, db):
        channel = SalesChannelFactory(code="web")
        warehouse = WarehouseFactory(code="LYON")
        product = ProductFactory(sku="LAMP-1")
        stock.stock_receive(product=product, warehouse=warehouse, quantity=5)
        order, _ = orders.order_import(channel=channel, data=order_payload(order_discount="10.00", shipping="0"))  # 50 − 10 = 40
        orders.payment_record(order=order, amount="40.00", method="card")
        orders.shipment_create(order=order, warehouse=warehouse, lines=[(order.lines.get(), 2)])
        order.refresh_from_db()
        policy(order, refund_trigger="received")
        rma = request(order, quantity=1)
        services.rma_authorise(rma=rma)
        services.rma_receive(rma=rma, quantities={rma.lines.get().pk: 1})
        rma.refresh_from_db()
        assert rma.refunded_total == Decimal("20.00")


@pytest.mark.django_db
def test_exchange_creates_a_linked_replacement_order(shipped):
    order, warehouse, _ = shipped
    blue = ProductFactory._meta.model.objects.get(sku="LAMP-2")
    stock.stock_receive(product=blue, warehouse=warehouse, quantity=3)
    rma = request(order, replacement_sku="LAMP-2")
    services.rma_authorise(rma=rma)
    rma.refresh_from_db()
    replacement = rma.replacement_order
    assert replacement is not None and replacement.status == "allocated" and replacement.total == Decimal("0")
    assert replacement.lines.get().sku == "LAMP-2" and rma.number in replacement.notes
    assert SalesOrder.objects.filter(external_id=f"{rma.number}-EXCHANGE").count() == 1
    assert RmaLine.objects.get(rma=rma).replacement_product == blue


@pytest.mark.django_db
def test_admin_receipt_and_inspection_forms_drive_the_return(admin_client, shipped):
    order, warehouse, product = shipped
    rma = request(order, quantity=2)
    admin_client.post("/admin/returns/rma/", {"action": "authorise", "_selected_action": [rma.pk]})
    line = rma.lines.get()
    page = admin_client.post(f"/admin/returns/rma/{rma.pk}/receive/", {f"line_{line.pk}": 5})
    assert "Ensure this value is less than or equal to 2" in page.content.decode()
    admin_client.post(f"/admin/returns/rma/{rma.pk}/receive/", {f"line_{line.pk}": 2})
    response = admin_client.post(f"/admin/returns/rma/{rma.pk}/inspect/", {
        f"condition_{line.pk}": "sellable", f"disposition_{line.pk}": "restock", f"warehouse_{line.pk}": warehouse.pk}, follow=True)
    assert "inspection recorded" in response.content.decode()
    rma.refresh_from_db()
    assert rma.status == S.REFUNDED and rma.refunded_total == Decimal("50.00")
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 10
    page = admin_client.get(f"/admin/returns/rma/{rma.pk}/change/").content.decode()
    assert "Timeline" in page and "refunded" in page


@pytest.mark.django_db
def test_demo_has_returns_at_every_stage_and_they_export(tmp_path):
    from django.core.management import call_command

    from returns.models import Rma

    call_command("seed_demo")
    statuses = set(Rma.objects.values_list("status", flat=True))
    assert {"requested", "authorised", "rejected", "in_transit", "received", "refunded", "closed", "cancelled"} <= statuses
    call_command("hub_export", "returns", str(tmp_path / "returns.csv"))
    rows = (tmp_path / "returns.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("rma,status,order,customer") and len(rows) == Rma.objects.count() + 1


@pytest.mark.django_db
def test_authorise_reject_and_close_refuse_the_wrong_state(shipped):
    order, _, _ = shipped
    rma = request(order)
    with pytest.raises(ReturnError, match="say why"):
        services.rma_reject(rma=rma, reason="")
    services.rma_authorise(rma=rma)
    with pytest.raises(ReturnError, match="only requested returns are authorised"):
        services.rma_authorise(rma=rma)
    with pytest.raises(ReturnError, match="only requested returns are rejected"):
        services.rma_reject(rma=rma, reason="late")
    with pytest.raises(ReturnError, match="only inspected or refunded returns are closed"):
        services.rma_close(rma=rma)
    with pytest.raises(ReturnError, match="cannot be refunded"):
        services.rma_refund(rma=rma)


@pytest.mark.django_db
def test_each_step_of_a_return_is_announced_on_the_change_feed(shipped):
    order, warehouse, _ = shipped
    rma = services.rma_request(order=order, lines=[{"order_line": order.lines.get(), "quantity": 1}], expected_warehouse=warehouse)
    services.rma_authorise(rma=rma)
    services.rma_cancel(rma=rma, reason="changed mind")
    statuses = list(ChangeEvent.objects.filter(topic="returns.rma", object_id=str(rma.pk)).order_by("id").values_list("data__status", flat=True))
    assert statuses == ["authorised", "cancelled"]


@pytest.mark.django_db
def test_goods_that_fail_inspection_wait_for_a_person_instead_of_being_refunded(shipped):
    order, _, _ = shipped
    rma = request(order, quantity=2)
    services.rma_authorise(rma=rma)
    line = rma.lines.get()
    services.rma_receive(rma=rma, quantities={line.pk: 2})
    services.rma_inspect(rma=rma, results={line.pk: {"condition": "damaged", "disposition": "quarantine"}})
    rma.refresh_from_db()
    assert rma.status == S.INSPECTED and rma.refunded_total == 0 and not CreditNote.objects.exists()
    assert TimelineEvent.objects.filter(object_id=str(rma.pk), event="needs a decision").exists()
    services.rma_close(rma=rma)  # a person decides: here, to refund what the policy gives for received units
    rma.refresh_from_db()
    assert rma.status == S.CLOSED and rma.refunded_total == Decimal("50.00")


@pytest.mark.django_db
def test_exchanged_units_are_replaced_not_refunded(shipped):
    order, warehouse, _ = shipped
    stock.stock_receive(product=ProductFactory._meta.model.objects.get(sku="LAMP-2"), warehouse=warehouse, quantity=3)
    rma = request(order, replacement_sku="LAMP-2")
    services.rma_authorise(rma=rma)
    line = rma.lines.get()
    services.rma_receive(rma=rma, quantities={line.pk: 1})
    services.rma_inspect(rma=rma, results={line.pk: {"condition": "sellable", "disposition": "restock"}})
    rma.refresh_from_db()
    assert rma.status == S.REFUNDED and rma.refunded_total == 0 and not CreditNote.objects.exists()


@pytest.mark.django_db
def test_one_line_asked_twice_in_a_request_counts_both_against_what_is_returnable(shipped):
    order, _, _ = shipped
    line = order.lines.get()
    with pytest.raises(ReturnError, match="2 asked, 0 returnable"):
        services.rma_request(order=order, lines=[{"order_line": line, "quantity": 2}, {"order_line": line, "quantity": 2}])


def test_a_person_chooses_store_credit_in_the_admin_until_the_return_is_refunded(admin_client, shipped):
    order, _, _ = shipped
    rma = request(order)
    page = admin_client.get(f"/admin/returns/rma/{rma.pk}/change/").content.decode()
    assert 'name="refund_method"' in page
    import re

    management = dict(re.findall(r'<input type="hidden" name="([\w-]+)" value="([^"]*)"', page))  # the inlines' forms, as sent
    answer = admin_client.post(f"/admin/returns/rma/{rma.pk}/change/", {**management, "refund_method": "store_credit", "notes": ""})
    assert answer.status_code == 302, re.findall(r"errorlist[^<]*<li>([^<]*)", answer.content.decode())
    rma.refresh_from_db()
    services.rma_authorise(rma=rma)
    line = rma.lines.get()
    services.rma_receive(rma=rma, quantities={line.pk: 1})
    services.rma_inspect(rma=rma, results={line.pk: {"condition": "sellable", "disposition": "restock"}})
    refund = order.payments.get(kind="refund")
    assert (refund.method, refund.amount) == ("store_credit", Decimal("25.00")) and CreditNote.objects.get().total == Decimal("25.00")
    page = admin_client.get(f"/admin/returns/rma/{rma.pk}/change/").content.decode()
    assert 'name="refund_method"' not in page  # settled: it no longer changes


@pytest.mark.django_db
def test_a_return_of_both_lamps_shipped_in_two_parts_is_credited_on_both_invoices_and_refunded_in_full(db):
    channel, warehouse = SalesChannelFactory(code="web"), WarehouseFactory(code="LYON", priority=10)
    stock.stock_receive(product=ProductFactory(sku="LAMP-1", name="Lampe"), warehouse=warehouse, quantity=10)
    order, _ = orders.order_import(channel=channel, data=order_payload())
    line = order.lines.get()
    orders.shipment_create(order=order, warehouse=warehouse, lines=[(line, 1)])
    orders.shipment_create(order=order, warehouse=warehouse, lines=[(line, 1)])
    rma = services.rma_authorise(rma=request(order, quantity=2))
    rma_line = rma.lines.get()
    services.rma_receive(rma=rma, quantities={rma_line.pk: 2})
    services.rma_inspect(rma=rma, results={rma_line.pk: {"condition": "sellable", "disposition": "restock"}})
    rma.refresh_from_db()
    assert rma.status == S.REFUNDED and rma.refunded_total == Decimal("50.00")
    first, second = Invoice.objects.filter(order=order).order_by("number")
    assert sorted(CreditNote.objects.values_list("invoice__number", "total")) == [(first.number, Decimal("25.00")), (second.number, Decimal("25.00"))]
    assert set(rma.credit_notes.values_list("credit_note__invoice__number", flat=True)) == {first.number, second.number}


@pytest.mark.django_db
def test_a_refund_made_in_the_shop_for_an_order_invoiced_in_parts_is_credited_across_its_invoices(db):
    channel, warehouse = SalesChannelFactory(code="web"), WarehouseFactory(code="LYON", priority=10)
    stock.stock_receive(product=ProductFactory(sku="LAMP-1", name="Lampe"), warehouse=warehouse, quantity=10)
    order, _ = orders.order_import(channel=channel, data=order_payload())
    line = order.lines.get()
    orders.shipment_create(order=order, warehouse=warehouse, lines=[(line, 1)])
    orders.shipment_create(order=order, warehouse=warehouse, lines=[(line, 1)])
    services.refund_record_external(order=order, amount="54.90", reference="refund-1", source_label="Shopify",
                                    lines=[{"order_line": line, "quantity": 2, "amount": "50.00"}])
    assert sum(CreditNote.objects.values_list("total", flat=True)) == Decimal("54.90")
    for invoice in Invoice.objects.filter(order=order):
        assert sum(invoice.credit_notes.values_list("total", flat=True)) == invoice.total


def test_goods_are_expected_back_at_the_warehouse_that_shipped_them_not_the_first_one_by_priority(db):
    channel, main = SalesChannelFactory(code="web"), WarehouseFactory(code="LYON", priority=10)
    third_party = WarehouseFactory(code="3PL-NORD", priority=1)
    product = ProductFactory(sku="LAMP-1", name="Lampe")
    stock.stock_receive(product=product, warehouse=third_party, quantity=10)
    order, _ = orders.order_import(channel=channel, data=order_payload())
    orders.shipment_create(order=order, warehouse=third_party, lines=[(order.lines.get(), 2)])
    assert request(order).expected_warehouse == third_party


def test_a_return_of_goods_from_a_warehouse_since_closed_is_expected_at_the_first_sellable_one(shipped):
    order, warehouse, _ = shipped
    backup = WarehouseFactory(code="PARIS", priority=5)
    type(warehouse).objects.filter(pk=warehouse.pk).update(is_active=False)
    assert request(order).expected_warehouse == backup
