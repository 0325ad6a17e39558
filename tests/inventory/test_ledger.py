from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from hub.models import ChangeEvent
from inventory import services
from inventory.models import StockLevel, StockMovement
from inventory.selectors import available_to_sell, ledger_drift
from inventory.services import StockError
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

pytestmark = pytest.mark.django_db


def level(product, warehouse):
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def test_receipt_adds_on_hand_records_a_movement_and_feeds_connectors():
    product, warehouse = ProductFactory(), WarehouseFactory()
    services.stock_receive(product=product, warehouse=warehouse, quantity=12, reference="PO-1", source="hub")
    assert level(product, warehouse).on_hand == 12
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.quantity, movement.reference) == ("receipt", 12, "PO-1")
    assert ChangeEvent.objects.filter(topic="inventory.stock", object_id=product.sku).exists()


def test_negative_on_hand_is_refused_unless_the_warehouse_allows_it():
    product = ProductFactory()
    strict, lenient = WarehouseFactory(), WarehouseFactory(allow_negative=True)
    with pytest.raises(StockError, match="does not allow negative stock"):
        services.stock_adjust(product=product, warehouse=strict, quantity_delta=-1, reason="breakage")
    assert not StockMovement.objects.exists()
    services.stock_adjust(product=product, warehouse=lenient, quantity_delta=-3, reason="sold at the counter before receipt")
    assert level(product, lenient).on_hand == -3


def test_adjustment_needs_a_reason_and_a_non_zero_change():
    product, warehouse = ProductFactory(), WarehouseFactory()
    with pytest.raises(StockError, match="reason"):
        services.stock_adjust(product=product, warehouse=warehouse, quantity_delta=2, reason=" ")
    with pytest.raises(StockError, match="non-zero"):
        services.stock_adjust(product=product, warehouse=warehouse, quantity_delta=0, reason="x")


def test_transfer_moves_units_between_warehouses_with_a_pair_of_movements():
    product, lyon, paris = ProductFactory(), WarehouseFactory(code="LYON"), WarehouseFactory(code="PARIS")
    services.stock_receive(product=product, warehouse=lyon, quantity=10)
    services.stock_transfer(product=product, from_warehouse=lyon, to_warehouse=paris, quantity=4, reference="TR-1")
    assert (level(product, lyon).on_hand, level(product, paris).on_hand) == (6, 4)
    kinds = sorted(StockMovement.objects.filter(reference="TR-1").values_list("kind", "quantity"))
    assert kinds == [("transfer_in", 4), ("transfer_out", -4)]


def test_transfer_cannot_take_reserved_units():
    channel, product, lyon, paris = SalesChannelFactory(), ProductFactory(), WarehouseFactory(), WarehouseFactory()
    services.stock_receive(product=product, warehouse=lyon, quantity=5)
    services.stock_reserve(channel=channel, product=product, quantity=4, document="SO-1", line_ref="1")
    with pytest.raises(StockError, match="only 1 available"):
        services.stock_transfer(product=product, from_warehouse=lyon, to_warehouse=paris, quantity=2)


def test_stock_count_sets_on_hand_and_records_the_variance():
    product, warehouse = ProductFactory(), WarehouseFactory()
    services.stock_receive(product=product, warehouse=warehouse, quantity=10)
    movement = services.stock_count(product=product, warehouse=warehouse, counted=7, reference="COUNT-2026-11")
    assert movement.kind == "count" and movement.quantity == -3
    assert "counted 7, ledger said 10" in movement.reason
    assert level(product, warehouse).on_hand == 7
    assert services.stock_count(product=product, warehouse=warehouse, counted=7) is None


def test_count_many_is_all_or_nothing():
    good, bad, warehouse = ProductFactory(), ProductFactory(track_expiry=True), WarehouseFactory()
    with pytest.raises(StockError, match="tracked by lot"):
        services.stock_count_many(rows=[
            {"product": good, "warehouse": warehouse, "counted": 5},
            {"product": bad, "warehouse": warehouse, "counted": 5},
        ])
    assert not StockMovement.objects.exists()


def test_movements_are_append_only():
    product, warehouse = ProductFactory(), WarehouseFactory()
    movement = services.stock_receive(product=product, warehouse=warehouse, quantity=1)
    movement.quantity = 100
    with pytest.raises(ValidationError):
        movement.save()
    with pytest.raises(ValidationError):
        movement.delete()


def test_stock_check_reports_drift_and_exits_1(capsys):
    product, warehouse = ProductFactory(), WarehouseFactory()
    services.stock_receive(product=product, warehouse=warehouse, quantity=3)
    call_command("stock_check")
    assert "on-hand equals the ledger" in capsys.readouterr().out
    StockLevel.objects.filter(product=product).update(on_hand=5)  # simulated corruption
    with pytest.raises(SystemExit) as exit_info:
        call_command("stock_check")
    assert exit_info.value.code == 1
    assert f"DRIFT {product.sku} @ {warehouse.code}: on-hand 5, ledger 3" in capsys.readouterr().err
    assert ledger_drift().count() == 1


def test_expiry_tracked_receipts_need_lot_and_expiry():
    product, warehouse = ProductFactory(track_expiry=True), WarehouseFactory()
    with pytest.raises(StockError, match="needs both"):
        services.stock_receive(product=product, warehouse=warehouse, quantity=5, lot="L1")
    with pytest.raises(StockError, match="give the lot"):
        services.stock_receive(product=product, warehouse=warehouse, quantity=5, expiry=timezone.localdate())


def test_expired_lots_are_not_available_to_sell_nor_reservable():
    channel, product, warehouse = SalesChannelFactory(), ProductFactory(track_expiry=True), WarehouseFactory()
    today = timezone.localdate()
    services.stock_receive(product=product, warehouse=warehouse, quantity=4, lot="OLD", expiry=today - timedelta(days=1))
    services.stock_receive(product=product, warehouse=warehouse, quantity=6, lot="NEW", expiry=today + timedelta(days=30))
    assert available_to_sell(channel=channel, skus=[product.sku]) == {product.sku: 6}
    result = services.stock_reserve(channel=channel, product=product, quantity=8, document="SO-1", line_ref="1")
    assert result.reserved == 6 and result.shortfall == 2
