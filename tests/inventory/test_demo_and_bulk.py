import pytest
from django.core.management import call_command

from inventory import services
from inventory.models import StockLevel, StockMovement
from inventory.selectors import available_to_sell, ledger_drift
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

pytestmark = pytest.mark.django_db


def test_bulk_receipts_add_to_existing_levels_and_keep_the_ledger_exact():
    product, warehouse = ProductFactory(), WarehouseFactory()
    services.stock_receive(product=product, warehouse=warehouse, quantity=3)
    services.stock_receive_many(rows=[{"product": product, "warehouse": warehouse, "quantity": 4},
                                      {"product": ProductFactory(), "warehouse": warehouse, "quantity": 2}])
    assert StockLevel.objects.get(product=product).on_hand == 7
    assert StockMovement.objects.count() == 3
    assert not ledger_drift().exists()


def test_demo_data_stocks_every_sellable_product_and_channels_can_sell():
    call_command("seed_demo")
    assert StockLevel.objects.filter(on_hand__gt=0).exists()
    assert not ledger_drift().exists()
    from hub.models import SalesChannel

    web = SalesChannel.objects.get(code="web-fr")
    atp = available_to_sell(channel=web)
    assert sum(atp.values()) > 0
    assert web.stock_policy.safety_buffer == 2
