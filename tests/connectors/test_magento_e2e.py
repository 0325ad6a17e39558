"""Magento 2 end to end over real HTTP: the hub (served on a local port) and the Magento sandbox
shop, with orders, cancellations and credit memos coming in by polling."""

from decimal import Decimal

from catalog.services import price_entry_set
from connectors.binder import REFUND, Binder
from connectors.models import SyncJob
from inventory import services as stock
from orders.models import SalesOrder
from orders.services import order_cancel, shipment_create
from returns.models import Rma
from tests.connectors.magento_world import poll, publish, run_flows


def _place(world, lines, **extra):
    return world["shop"].control("orders", {"lines": lines, **extra})


def test_simple_and_configurable_products_go_out_with_prices_and_stock_per_source(magento_world):
    publish(magento_world)
    shop, sandbox = magento_world["shop"], magento_world["sandbox"]
    lamp, shirt = shop.get("products/LAMP-1"), shop.get("products/SHIRT")
    assert (lamp["type_id"], lamp["price"], lamp["visibility"]) == ("simple", 25, 4)
    assert shirt["type_id"] == "configurable"
    children = {child["sku"]: child for child in shop.get("configurable-products/SHIRT/children")}
    assert set(children) == {"SHIRT-S", "SHIRT-M"} and {c["price"] for c in children.values()} == {39}
    size = shop.get("products/attributes/size")
    labels = {option["value"]: option["label"] for option in size["options"]}
    assert {labels[next(a["value"] for a in c["custom_attributes"] if a["attribute_code"] == "size")] for c in children.values()} == {"S", "M"}
    assert [o["attribute_id"] for o in shirt["extension_attributes"]["configurable_product_options"]] == [str(size["attribute_id"])]
    assert shop.stock("LAMP-1") == {"default": 10, "paris-store": 4}
    assert shop.stock("SHIRT-M") == {"default": 10, "paris-store": 0}
    price_entry_set(price_list=magento_world["endpoint"].channel.catalog.public_price_list, product=magento_world["sizes"][0], unit_price="35.00")
    stock.stock_adjust(product=magento_world["lamp"], warehouse=magento_world["lyon"], quantity_delta=-3, reason="damaged")
    run_flows(magento_world["endpoint"], "products.out", "stock.out")
    assert shop.get("products/SHIRT-S")["price"] == 35
    assert shop.stock("LAMP-1") == {"default": 7, "paris-store": 4}
    assert sandbox.stats["products created"] == 4  # updated in place, never created twice


def test_an_order_polled_in_is_reserved_then_shipped_with_its_tracking_in_magento(magento_world):
    publish(magento_world)
    placed = _place(magento_world, [{"sku": "LAMP-1", "quantity": 2}, {"sku": "SHIRT-M", "quantity": 1}], coupon_percent=10)
    poll(magento_world)
    order = SalesOrder.objects.get(external_id=str(placed["entity_id"]))
    assert order.status == "allocated" and order.total == Decimal(str(placed["grand_total"]))
    assert sorted((line.sku, line.quantity) for line in order.lines.all()) == [("LAMP-1", 2), ("SHIRT-M", 1)]
    shipment_create(order=order, warehouse=magento_world["lyon"], lines=[(line, line.quantity) for line in order.lines.all()],
                    carrier="Colissimo", tracking_numbers=["6A111"])
    run_flows(magento_world["endpoint"], "fulfilments.out")
    shipments = magento_world["shop"].search("shipments", order_id=placed["entity_id"])
    assert [(t["track_number"], t["title"], t["carrier_code"]) for s in shipments for t in s["tracks"]] == [("6A111", "Colissimo", "custom")]
    assert magento_world["shop"].get(f"orders/{placed['entity_id']}")["state"] == "complete"
    run_flows(magento_world["endpoint"], "fulfilments.out")
    assert SyncJob.objects.get(flow="fulfilments.out").status == "done"
    assert len(magento_world["shop"].search("shipments", order_id=placed["entity_id"])) == 1
    poll(magento_world)  # the shop's newer state comes back; nothing doubles
    assert SalesOrder.objects.filter(external_id=str(placed["entity_id"])).count() == 1


def test_cancellations_go_both_ways_and_an_invoiced_order_is_not_cancelled_in_magento(magento_world):
    publish(magento_world)
    first, second = (_place(magento_world, [{"sku": "LAMP-1", "quantity": 1}], paid=False) for _ in range(2))
    paid = _place(magento_world, [{"sku": "LAMP-1", "quantity": 1}])
    poll(magento_world)
    order_cancel(order=SalesOrder.objects.get(external_id=str(first["entity_id"])), reason="customer called")
    run_flows(magento_world["endpoint"], "cancellations.out")
    assert magento_world["shop"].get(f"orders/{first['entity_id']}")["state"] == "canceled"
    magento_world["shop"].control(f"orders/{second['entity_id']}/cancel")
    poll(magento_world)
    assert SalesOrder.objects.get(external_id=str(second["entity_id"])).status == "cancelled"
    order_cancel(order=SalesOrder.objects.get(external_id=str(paid["entity_id"])), reason="out of stock")
    run_flows(magento_world["endpoint"], "cancellations.out")
    job = SyncJob.objects.get(flow="cancellations.out", record_key=str(SalesOrder.objects.get(external_id=str(paid["entity_id"])).pk))
    assert job.status == "failed" and "credit memo" in job.last_error
    assert magento_world["shop"].get(f"orders/{paid['entity_id']}")["state"] == "processing"


def test_a_credit_memo_comes_in_once_as_a_refund_of_the_hub_order(magento_world):
    publish(magento_world)
    placed = _place(magento_world, [{"sku": "LAMP-1", "quantity": 2}])
    poll(magento_world)
    order = SalesOrder.objects.get(external_id=str(placed["entity_id"]))
    shipment_create(order=order, warehouse=magento_world["lyon"], lines=[(order.lines.get(), 2)], carrier="DHL", tracking_numbers=["JD1"])
    run_flows(magento_world["endpoint"], "fulfilments.out")
    memo = magento_world["shop"].control(f"orders/{placed['entity_id']}/refund", {"lines": [{"sku": "LAMP-1", "quantity": 1}]})
    poll(magento_world)
    rma = Rma.objects.get(order=order)
    assert rma.refunded_total == Decimal(str(memo["grand_total"])) == Decimal("30.00")
    assert Binder(magento_world["endpoint"]).local_id(REFUND, memo["entity_id"]) == f"{order.pk}:{memo['entity_id']}"
    poll(magento_world)
    assert Rma.objects.get(order=order).refunded_total == Decimal("30.00")


def test_a_new_size_becomes_a_linked_child_with_its_option_value_price_and_stock(magento_world):
    from catalog.services import product_create

    publish(magento_world)
    large = product_create(sku="SHIRT-L", name="Chemise lin L", status="active", parent=magento_world["shirt"], option_values={"Taille": "L"})
    price_entry_set(price_list=magento_world["endpoint"].channel.catalog.public_price_list, product=large, unit_price="41.00")
    stock.stock_receive(product=large, warehouse=magento_world["lyon"], quantity=6)
    run_flows(magento_world["endpoint"], "products.out", "stock.out")
    shop = magento_world["shop"]
    assert {child["sku"]: child["price"] for child in shop.get("configurable-products/SHIRT/children")} == {"SHIRT-S": 39, "SHIRT-M": 39, "SHIRT-L": 41}
    assert "L" in {option["label"] for option in shop.get("products/attributes/size")["options"]}
    assert shop.stock("SHIRT-L") == {"default": 6, "paris-store": 0}


def test_the_stock_reconcile_puts_back_what_someone_changed_in_magento(magento_world):
    from connectors import sync

    publish(magento_world)
    shop = magento_world["shop"]
    shop.http.post(f"{shop.url}/rest/default/V1/inventory/source-items", timeout=5,
                   json={"sourceItems": [{"sku": "LAMP-1", "source_code": "default", "quantity": 99, "status": 1}]}).raise_for_status()
    sync.sync_job_enqueue(endpoint=magento_world["endpoint"], flow="stock.reconcile", record_key=sync.SCHEDULED_KEY)
    run_flows(magento_world["endpoint"], "stock.reconcile")
    assert shop.stock("LAMP-1") == {"default": 10, "paris-store": 4}
    assert SyncJob.objects.get(flow="stock.reconcile").outcome == "checked 3 variants at 2 locations, corrected 1"
