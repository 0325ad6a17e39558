"""Random sequences of stock operations keep the ledger's invariants."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory import services
from inventory.models import Reservation, StockLevel, StockLot, StockMovement
from inventory.selectors import available_to_sell
from inventory.services import StockError
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

operation = st.one_of(
    st.tuples(st.just("receive"), st.integers(0, 1), st.integers(0, 2), st.integers(1, 20)),
    st.tuples(st.just("adjust"), st.integers(0, 1), st.integers(0, 2), st.integers(-15, 15).filter(bool)),
    st.tuples(st.just("reserve"), st.integers(0, 1), st.integers(0, 3), st.integers(1, 12)),
    st.tuples(st.just("release"), st.integers(0, 1), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("ship"), st.integers(0, 1), st.integers(0, 3), st.integers(1, 12)),
    st.tuples(st.just("transfer"), st.integers(0, 1), st.integers(0, 2), st.integers(1, 10)),
    st.tuples(st.just("count"), st.integers(0, 1), st.integers(0, 2), st.integers(0, 30)),
)


class Rollback(Exception):
    pass


def apply(op, products, warehouses, channel, today):
    kind, p, n, qty = op
    product = products[p]
    lot = {"lot": f"L{n % 2}", "expiry": today + timedelta(days=10 + n)} if product.track_expiry else {}
    warehouse = warehouses[n % len(warehouses)]
    if kind == "receive":
        services.stock_receive(product=product, warehouse=warehouse, quantity=qty, **lot)
    elif kind == "adjust":
        services.stock_adjust(product=product, warehouse=warehouse, quantity_delta=qty, reason="property", lot=lot.get("lot", ""), expiry=lot.get("expiry"))
    elif kind == "reserve":
        services.stock_reserve(channel=channel, product=product, quantity=qty, document=f"SO-{n}", line_ref=str(p))
    elif kind == "release":
        services.stock_release(document=f"SO-{n}")
    elif kind == "ship":
        if Reservation.objects.filter(document=f"SO-{n}", line_ref=str(p)).exists():
            services.stock_ship(document=f"SO-{n}", line_ref=str(p), quantity=qty)
    elif kind == "transfer":
        services.stock_transfer(product=product, from_warehouse=warehouse, to_warehouse=warehouses[(n + 1) % len(warehouses)], quantity=qty)
    elif kind == "count":
        services.stock_count(product=product, warehouse=warehouse, counted=qty, **lot)


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(operation, min_size=1, max_size=30))
def test_ledger_invariants_hold_over_random_operations(operations):
    try:
        with transaction.atomic():
            today = timezone.localdate()
            products = [ProductFactory(), ProductFactory(track_expiry=True)]
            warehouses = [WarehouseFactory(code="A", priority=2), WarehouseFactory(code="B", priority=1),
                          WarehouseFactory(code="C", allow_negative=True)]
            channel = SalesChannelFactory(code="web")
            for op in operations:
                try:
                    with transaction.atomic():
                        apply(op, products, warehouses, channel, today)
                except StockError:
                    pass  # refused operations must leave no trace, which the checks below prove

            for level in StockLevel.objects.all():
                ledger = StockMovement.objects.filter(product=level.product, warehouse=level.warehouse).aggregate(s=Sum("quantity"))["s"] or 0
                assert level.on_hand == ledger
                held = Reservation.objects.filter(product=level.product, warehouse=level.warehouse).aggregate(s=Sum("quantity"))["s"] or 0
                assert level.reserved == held >= 0
                if not level.warehouse.allow_negative:
                    assert level.on_hand >= 0
            for stock_lot in StockLot.objects.all():
                assert stock_lot.on_hand >= 0 and stock_lot.reserved >= 0
                assert stock_lot.reserved == (Reservation.objects.filter(lot=stock_lot).aggregate(s=Sum("quantity"))["s"] or 0)
            tracked = products[1]
            for warehouse in warehouses:
                lots_total = StockLot.objects.filter(product=tracked, warehouse=warehouse).aggregate(s=Sum("on_hand"))["s"] or 0
                level = StockLevel.objects.filter(product=tracked, warehouse=warehouse).first()
                assert lots_total == (level.on_hand if level else 0)
            atp = available_to_sell(channel=channel, skus=[p.sku for p in products])
            assert all(units >= 0 for units in atp.values())
            raise Rollback
    except Rollback:
        pass
