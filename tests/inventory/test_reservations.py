import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from inventory import services
from inventory.models import Reservation, StockLevel, StockLot, StockMovement
from inventory.selectors import available_to_sell
from inventory.services import StockError
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory


def stocked(product, **warehouses_quantities):
    result = {}
    for code, (quantity, priority, country) in warehouses_quantities.items():
        warehouse = WarehouseFactory(code=code, priority=priority, country=country)
        if quantity:
            services.stock_receive(product=product, warehouse=warehouse, quantity=quantity)
        result[code] = warehouse
    return result


@pytest.mark.django_db
class TestAllocation:
    def test_reserves_from_the_highest_priority_warehouse_first(self):
        channel, product = SalesChannelFactory(), ProductFactory()
        stocked(product, LYON=(10, 10, "FR"), PARIS=(10, 5, "FR"))
        result = services.stock_reserve(channel=channel, product=product, quantity=3, document="SO-1", line_ref="1")
        assert result.reserved_by_warehouse == {"LYON": 3} and result.complete

    def test_prefers_a_warehouse_in_the_shipping_country(self):
        channel, product = SalesChannelFactory(), ProductFactory()
        stocked(product, LYON=(10, 10, "FR"), BERLIN=(10, 1, "DE"))
        result = services.stock_reserve(channel=channel, product=product, quantity=2, document="SO-1", line_ref="1", country="DE")
        assert result.reserved_by_warehouse == {"BERLIN": 2}

    def test_splits_across_warehouses_when_the_channel_allows_it(self):
        channel, product = SalesChannelFactory(), ProductFactory()
        stocked(product, LYON=(3, 10, "FR"), PARIS=(4, 5, "FR"))
        result = services.stock_reserve(channel=channel, product=product, quantity=6, document="SO-1", line_ref="1")
        assert result.reserved_by_warehouse == {"LYON": 3, "PARIS": 3}

    def test_without_split_one_warehouse_must_hold_the_whole_line(self):
        channel, product = SalesChannelFactory(), ProductFactory()
        stocked(product, LYON=(3, 10, "FR"), PARIS=(6, 5, "FR"))
        services.channel_stock_policy_set(channel=channel, allow_split=False)
        result = services.stock_reserve(channel=channel, product=product, quantity=5, document="SO-1", line_ref="1")
        assert result.reserved_by_warehouse == {"PARIS": 5}
        short = services.stock_reserve(channel=channel, product=product, quantity=4, document="SO-2", line_ref="1")
        assert short.reserved == 0 and short.shortfall == 4

    def test_only_warehouses_feeding_the_channel_are_used(self):
        channel, product = SalesChannelFactory(), ProductFactory()
        warehouses = stocked(product, LYON=(10, 10, "FR"), SHOP=(10, 50, "FR"))
        services.channel_stock_policy_set(channel=channel, warehouses=[warehouses["LYON"]])
        result = services.stock_reserve(channel=channel, product=product, quantity=2, document="SO-1", line_ref="1")
        assert result.reserved_by_warehouse == {"LYON": 2}
        assert available_to_sell(channel=channel, skus=[product.sku]) == {product.sku: 8}

    def test_shortfall_is_reported_and_backorder_accepted_only_when_the_product_allows(self):
        channel = SalesChannelFactory()
        strict, lenient = ProductFactory(), ProductFactory(allow_backorder=True)
        stocked(strict, A=(2, 0, "FR"))
        services.stock_receive(product=lenient, warehouse=WarehouseFactory(code="A"), quantity=2)
        strict_result = services.stock_reserve(channel=channel, product=strict, quantity=5, document="SO-1", line_ref="1")
        lenient_result = services.stock_reserve(channel=channel, product=lenient, quantity=5, document="SO-1", line_ref="2")
        assert (strict_result.reserved, strict_result.shortfall, strict_result.backordered) == (2, 3, 0)
        assert (lenient_result.reserved, lenient_result.shortfall, lenient_result.backordered) == (2, 0, 3)

    def test_reserving_the_same_line_twice_changes_nothing(self):
        channel, product = SalesChannelFactory(), ProductFactory()
        stocked(product, A=(10, 0, "FR"))
        services.stock_reserve(channel=channel, product=product, quantity=4, document="SO-1", line_ref="1")
        again = services.stock_reserve(channel=channel, product=product, quantity=4, document="SO-1", line_ref="1")
        assert again.reserved == 4
        assert StockLevel.objects.get(product=product).reserved == 4

    def test_release_gives_the_units_back(self):
        channel, product = SalesChannelFactory(), ProductFactory()
        stocked(product, A=(10, 0, "FR"))
        services.stock_reserve(channel=channel, product=product, quantity=4, document="SO-1", line_ref="1")
        assert services.stock_release(document="SO-1") == 4
        assert StockLevel.objects.get(product=product).reserved == 0
        assert not Reservation.objects.exists()
        assert available_to_sell(channel=channel, skus=[product.sku])[product.sku] == 10

    def test_shipping_consumes_the_reservation_and_writes_a_sale(self):
        channel, product = SalesChannelFactory(), ProductFactory()
        stocked(product, A=(10, 0, "FR"))
        services.stock_reserve(channel=channel, product=product, quantity=4, document="SO-1", line_ref="1")
        services.stock_ship(document="SO-1", line_ref="1", quantity=3, reference="SHP-1")
        level = StockLevel.objects.get(product=product)
        assert (level.on_hand, level.reserved) == (7, 1)
        assert StockMovement.objects.get(kind="shipment").quantity == -3

    def test_shipping_unreserved_units_beyond_availability_is_refused(self):
        product = ProductFactory()
        warehouse = stocked(product, A=(1, 0, "FR"))["A"]
        with pytest.raises(StockError, match="not reserved and only 1 available"):
            services.stock_ship(document="SO-9", line_ref="1", quantity=2, warehouse=warehouse, product=product)

    def test_fefo_reserves_and_ships_the_first_expiring_lot(self):
        channel, product, warehouse = SalesChannelFactory(), ProductFactory(track_expiry=True), WarehouseFactory()
        today = timezone.localdate()
        services.stock_receive(product=product, warehouse=warehouse, quantity=5, lot="LATE", expiry=today + timedelta(days=90))
        services.stock_receive(product=product, warehouse=warehouse, quantity=3, lot="SOON", expiry=today + timedelta(days=10))
        services.stock_reserve(channel=channel, product=product, quantity=4, document="SO-1", line_ref="1")
        assert dict(Reservation.objects.values_list("lot__lot", "quantity")) == {"SOON": 3, "LATE": 1}
        services.stock_ship(document="SO-1", line_ref="1", quantity=4)
        assert dict(StockLot.objects.values_list("lot", "on_hand")) == {"SOON": 0, "LATE": 4}

    def test_restock_quarantine_and_write_off(self):
        product = ProductFactory()
        shop, quarantine = WarehouseFactory(), WarehouseFactory(is_sellable=False)
        services.stock_restock(product=product, warehouse=shop, quantity=2, reference="RMA-1")
        services.stock_quarantine(product=product, warehouse=quarantine, quantity=1, reason="damaged box", reference="RMA-1")
        with pytest.raises(StockError, match="non-sellable"):
            services.stock_quarantine(product=product, warehouse=shop, quantity=1, reason="x")
        services.stock_write_off(product=product, warehouse=quarantine, quantity=1, reason="scrapped")
        kinds = sorted(StockMovement.objects.values_list("kind", "quantity"))
        assert kinds == [("quarantine", 1), ("return_restock", 2), ("write_off", -1)]
        channel = SalesChannelFactory()
        assert available_to_sell(channel=channel, skus=[product.sku]) == {product.sku: 2}


@pytest.mark.django_db
def test_available_to_sell_subtracts_the_safety_buffer_and_never_goes_below_zero():
    channel, product, other = SalesChannelFactory(), ProductFactory(), ProductFactory()
    warehouse = WarehouseFactory()
    services.stock_receive(product=product, warehouse=warehouse, quantity=10)
    services.stock_receive(product=other, warehouse=warehouse, quantity=2)
    services.channel_stock_policy_set(channel=channel, safety_buffer=3)
    assert available_to_sell(channel=channel, skus=[product.sku, other.sku, "NOPE"]) == {product.sku: 7, other.sku: 0, "NOPE": 0}


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_reservations_for_the_last_five_units_reserve_exactly_five():
    channel, product, warehouse = SalesChannelFactory(), ProductFactory(), WarehouseFactory()
    services.stock_receive(product=product, warehouse=warehouse, quantity=5)
    barrier = threading.Barrier(16)
    results, errors = [], []

    def order(n):
        try:
            barrier.wait()
            results.append(services.stock_reserve(channel=channel, product=product, quantity=1, document=f"SO-{n}", line_ref="1"))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=order, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.reserved for r in results) == 5
    assert sum(r.shortfall for r in results) == 11
    assert StockLevel.objects.get(product=product).reserved == 5


@pytest.mark.django_db
def test_lines_of_one_product_in_one_document_draw_from_what_the_earlier_lines_left():
    channel, product = SalesChannelFactory(), ProductFactory()
    stocked(product, LYON=(5, 1, "FR"))
    results = services.stock_reserve_many(channel=channel, document="SO-1", lines=[(product, 3, "1"), (product, 3, "2")])
    assert [(r.reserved, r.shortfall) for r in results] == [(3, 0), (2, 1)]
    assert StockLevel.objects.get().reserved == 5
    again = services.stock_reserve_many(channel=channel, document="SO-1", lines=[(product, 3, "1"), (product, 3, "2")])
    assert [r.reserved for r in again] == [3, 2] and StockLevel.objects.get().reserved == 5
