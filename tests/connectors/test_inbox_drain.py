"""The inbox is drained in batches: a burst of deliveries becomes orders through a few drain
runs, each delivery applied once, in its own transaction, whatever fails beside it."""

import json

import pytest

from connectors.models import Endpoint, InboxMessage
from connectors.services import inbox_drain
from hub.models import ChangeEvent, TimelineEvent
from inventory import services as stock
from inventory.models import Reservation, StockLevel
from orders.models import SalesOrder
from tests.catalog.factories import ProductFactory
from tests.connectors.test_inbox import SECRET, SHOPIFY_ORDER, deliver
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory


@pytest.fixture
def endpoint(transactional_db):
    channel = SalesChannelFactory(code="shopify-fr")
    warehouse = WarehouseFactory(code="LYON")
    for sku in ("LAMP-1", "LAMP-2", "LAMP-3"):
        stock.stock_receive(product=ProductFactory(sku=sku), warehouse=warehouse, quantity=100)
    return Endpoint.objects.create(kind="shopify", code="shop-fr", name="Boutique Shopify", base_url="https://example.myshopify.com",
                                   channel=channel, webhook_secret=SECRET)


def order(number: int, *, quantity: int = 1, skus=("LAMP-1",)) -> bytes:
    lines = [{**SHOPIFY_ORDER["line_items"][0], "id": number * 10 + i, "sku": sku, "quantity": quantity} for i, sku in enumerate(skus)]
    total = 25 * quantity * len(skus) + 4.90
    return json.dumps({**SHOPIFY_ORDER, "id": 1000 + number, "name": f"#{number}", "line_items": lines, "total_price": f"{total:.2f}",
                       "customer": {**SHOPIFY_ORDER["customer"], "id": 500 + number % 3}}).encode()


def test_a_burst_of_deliveries_becomes_one_allocated_order_each_and_a_bad_one_fails_alone(hub_url, endpoint):
    for number in range(12):
        body = order(number, quantity=0) if number == 5 else order(number, skus=("LAMP-1", "LAMP-2", "LAMP-3")[: 1 + number % 3])
        assert deliver(hub_url, body, webhook_id=f"burst-{number}").status_code == 200
    assert inbox_drain() == 12
    statuses = dict(InboxMessage.objects.values_list("delivery_id", "status"))
    assert statuses.pop("burst-5") == "failed"
    assert set(statuses.values()) == {"processed"}
    assert SalesOrder.objects.count() == 11 and set(SalesOrder.objects.values_list("status", flat=True)) == {"allocated"}
    assert sorted(SalesOrder.objects.values_list("number", flat=True)) == [f"SO-{n:06d}" for n in range(1, 12)]
    assert sum(StockLevel.objects.values_list("reserved", flat=True)) == sum(Reservation.objects.values_list("quantity", flat=True)) == 11 + 7 + 3
    assert not ChangeEvent.objects.filter(object_id__in=[str(o) for o in SalesOrder.objects.filter(external_id="1005")]).exists()


def test_draining_again_applies_nothing_twice(hub_url, endpoint):
    for number in range(4):
        deliver(hub_url, order(number), webhook_id=f"again-{number}")
    assert inbox_drain() == 4
    events, timeline = ChangeEvent.objects.count(), TimelineEvent.objects.count()
    assert inbox_drain() == 0
    assert SalesOrder.objects.count() == 4 and StockLevel.objects.get(product__sku="LAMP-1").reserved == 4
    assert (ChangeEvent.objects.count(), TimelineEvent.objects.count()) == (events, timeline)
    assert set(InboxMessage.objects.values_list("attempts", flat=True)) == {1}


def test_an_order_of_a_returning_customer_is_imported_in_a_bounded_number_of_statements(hub_url, endpoint, django_assert_max_num_queries):
    deliver(hub_url, order(1), webhook_id="first")
    inbox_drain()
    deliver(hub_url, order(4, skus=("LAMP-1", "LAMP-2", "LAMP-3")), webhook_id="returning")  # same customer, three lines
    with django_assert_max_num_queries(40):  # 90+ before the order import was made set-wise
        assert inbox_drain() == 1
    assert SalesOrder.objects.get(external_id="1004").status == "allocated"
