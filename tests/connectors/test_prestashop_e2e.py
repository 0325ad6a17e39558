"""PrestaShop end to end over real HTTP: the hub's flows against the PrestaShop sandbox's Webservice."""

import time
from decimal import Decimal

from catalog.services import price_entry_delete, price_entry_set, price_list_create
from connectors.models import Binding, SyncJob
from connectors.prestashop import client
from hub.models import TimelineEvent
from inventory import services as stock
from orders.models import SalesOrder
from orders.services import order_cancel, shipment_create
from returns.models import Rma
from connectors.sync import sync_job_enqueue
from tests.connectors.prestashop_world import place, poll, publish, run_flows, shop_quantity


def test_a_simple_product_and_one_with_combinations_go_out_with_prices_and_stock(ps_world):
    publish(ps_world)
    shop = ps_world["shop"]
    assert not SyncJob.objects.exclude(status="done").exists(), list(SyncJob.objects.values("flow", "status", "last_error"))
    lamp = shop.list("products", **{"filter[reference]": "[LAMP-1]"})[0]
    assert (lamp["price"], lamp["name"][0]["value"], lamp["product_type"]) == ("20.833333", "Lampe Baladeuse", "standard")
    shirt = shop.list("products", **{"filter[reference]": "[SHIRT]"})[0]
    combinations = {c["reference"]: c for c in shop.list("combinations", **{"filter[id_product]": f"[{shirt['id']}]"})}
    assert shirt["price"] == "32.500000" and set(combinations) == {"SHIRT-S", "SHIRT-M"}
    assert {ref: Decimal(c["price"]) for ref, c in combinations.items()} == {"SHIRT-S": Decimal(0), "SHIRT-M": Decimal("2.5")}
    assert {ref: shop_quantity(ps_world, ref) for ref in ("LAMP-1", "SHIRT-S", "SHIRT-M")} == {"LAMP-1": 10, "SHIRT-S": 10, "SHIRT-M": 10}
    price_entry_set(price_list=ps_world["public"], product=ps_world["sizes"][1], unit_price=Decimal("45.00"))
    stock.stock_adjust(product=ps_world["lamp"], warehouse=ps_world["lyon"], quantity_delta=-3, reason="damaged")
    run_flows(ps_world["endpoint"], "products.out", "stock.out")
    shirt_m = shop.list("combinations", **{"filter[reference]": "[SHIRT-M]"})[0]
    assert Decimal(shirt_m["price"]) == Decimal("5")
    assert shop_quantity(ps_world, "LAMP-1") == 7
    assert len(shop.list("products")) == 2


def test_an_order_is_polled_in_reserved_shipped_and_its_tracking_number_goes_out_on_the_order_carrier(ps_world):
    publish(ps_world)
    placed = place(ps_world, [("LAMP-1", 2), ("SHIRT-M", 1)], cart_rule={"name": "BIENVENUE", "amount": "10.00"})
    poll(ps_world)
    order = SalesOrder.objects.get(external_id=str(placed["id"]))
    assert order.status == "allocated" and order.payment_status == "paid"
    assert order.total == Decimal(placed["total_paid_tax_incl"]) == Decimal("88.00")  # 2 × 25 + 42 + 5 × 1.2 − 10
    assert sorted((line.sku, line.quantity) for line in order.lines.all()) == [("LAMP-1", 2), ("SHIRT-M", 1)]
    assert order.discount_codes == [{"code": "BIENVENUE", "amount": "10.00"}] and order.discount_total == Decimal("8.33")
    assert [(s.title, s.price) for s in order.shipping_lines.all()] == [("Colissimo", Decimal("5.00"))]
    assert order.shipping_address["country"] == "FR" and order.customer.email
    shipment_create(order=order, warehouse=ps_world["lyon"], lines=[(line, line.quantity) for line in order.lines.all()],
                    carrier="Colissimo", tracking_numbers=["6A111"])
    run_flows(ps_world["endpoint"], "fulfilments.out")
    shop = ps_world["shop"]
    assert shop.one("orders", placed["id"])["current_state"] == "4"
    assert [c["tracking_number"] for c in shop.list("order_carriers", **{"filter[id_order]": f"[{placed['id']}]"})] == ["6A111"]
    run_flows(ps_world["endpoint"], "fulfilments.out")
    assert SyncJob.objects.get(flow="fulfilments.out").status == "done"
    assert len(shop.list("order_histories", **{"filter[id_order]": f"[{placed['id']}]", "filter[id_order_state]": "[4]"})) == 1
    poll(ps_world)  # the shop's "Shipped" comes back: nothing changes
    assert SalesOrder.objects.get(pk=order.pk).status in ("shipped", "completed")


def test_cancellations_go_both_ways(ps_world):
    publish(ps_world)
    first, second = place(ps_world, [("LAMP-1", 1)]), place(ps_world, [("LAMP-1", 1)])
    poll(ps_world)
    order_cancel(order=SalesOrder.objects.get(external_id=str(first["id"])), reason="customer called")
    run_flows(ps_world["endpoint"], "cancellations.out")
    assert ps_world["shop"].one("orders", first["id"])["current_state"] == "6"
    ps_world["shop"].control(f"orders/{second['id']}/state", {"state": 6})
    poll(ps_world)
    assert SalesOrder.objects.get(external_id=str(second["id"])).status == "cancelled"
    run_flows(ps_world["endpoint"], "cancellations.out")
    assert len(ps_world["shop"].list("order_histories", **{"filter[id_order]": f"[{first['id']}]", "filter[id_order_state]": "[6]"})) == 1


def test_a_credit_slip_is_recorded_once_as_a_refund_of_the_hub_order(ps_world):
    publish(ps_world)
    placed = place(ps_world, [("LAMP-1", 2)])
    poll(ps_world)
    order = SalesOrder.objects.get(external_id=str(placed["id"]))
    shipment_create(order=order, warehouse=ps_world["lyon"], lines=[(order.lines.get(), 2)], carrier="Colissimo", tracking_numbers=["6A9"])
    slip = ps_world["shop"].control(f"orders/{placed['id']}/slips", {"lines": [{"reference": "LAMP-1", "quantity": 1}]})
    poll(ps_world)
    rma = Rma.objects.get(order=order)
    assert rma.refunded_total == Decimal(slip["amount"]) == Decimal("25.00")
    poll(ps_world)  # the overlap window reads the slip again: not refunded twice
    assert Rma.objects.get(order=order).refunded_total == Decimal("25.00")
    assert Binding.objects.filter(endpoint=ps_world["endpoint"], model="refund", external_id=str(slip["id"])).count() == 1


def _updates(order) -> int:
    return TimelineEvent.objects.filter(object_id=str(order.pk), event="updated").count()


def test_an_order_changed_twice_in_the_overlap_window_is_applied_once_and_a_stale_read_never_regresses_it(ps_world):
    publish(ps_world)
    placed = place(ps_world, [("LAMP-1", 1)], paid=False)
    poll(ps_world)
    order = SalesOrder.objects.get(external_id=str(placed["id"]))
    assert (order.status, order.payment_status) == ("received", "pending")
    shop = ps_world["shop"]
    shop.control(f"orders/{placed['id']}/state", {"state": 2})  # payment accepted…
    shop.control(f"orders/{placed['id']}/state", {"state": 3})  # …then processing, before the next poll
    updates = _updates(order)
    poll(ps_world)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("allocated", "paid") and _updates(order) == updates + 1
    poll(ps_world)  # the overlap window reads the order again: nothing applied twice
    assert _updates(order) == updates + 1
    ps_world["sandbox"].set_traps(stale_orders=True)  # a lagging replica serves the version before the last
    assert shop.one("orders", placed["id"])["current_state"] == "2"
    poll(ps_world)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("allocated", "paid") and _updates(order) == updates + 1
    assert SalesOrder.objects.filter(external_id=str(placed["id"])).count() == 1


def test_an_update_committed_after_a_newer_one_was_polled_is_caught_by_the_overlap_window(ps_world):
    publish(ps_world)
    first = place(ps_world, [("LAMP-1", 1)])
    poll(ps_world)
    late = place(ps_world, [("SHIRT-S", 1)], commit_after=2.5)  # stamped now, visible to lists 2.5 s later
    time.sleep(1.1)
    ps_world["shop"].control(f"orders/{first['id']}/state", {"state": 3})  # a newer change, visible at once
    poll(ps_world)
    assert not SalesOrder.objects.filter(external_id=str(late["id"])).exists()
    time.sleep(1.6)
    poll(ps_world)
    assert SalesOrder.objects.get(external_id=str(late["id"])).status == "allocated"


def test_orders_changing_while_the_poll_pages_through_are_neither_skipped_nor_doubled(ps_world, monkeypatch):
    monkeypatch.setattr(client, "PAGE_SIZE", 2)
    publish(ps_world)
    placed = [place(ps_world, [("LAMP-1", 1)]) for _ in range(5)]
    ps_world["sandbox"].clock.advance(5)
    ps_world["sandbox"].set_traps(touch_between_pages=3)  # the merchant edits an order after each page is served
    poll(ps_world)
    assert sorted(SalesOrder.objects.values_list("external_id", flat=True)) == sorted(str(p["id"]) for p in placed)
    assert SyncJob.objects.get(flow="orders.poll").outcome.startswith("5 orders checked, 5 new")


def test_a_price_list_mapped_to_a_customer_group_goes_out_as_specific_prices_and_the_group_orders_at_them(ps_world):
    pro = price_list_create(code="PRO", name="Professionnels")
    lamp_entry = price_entry_set(price_list=pro, product=ps_world["lamp"], unit_price=Decimal("18.00"))
    shirt_entry = price_entry_set(price_list=pro, product=ps_world["sizes"][0], unit_price=Decimal("30.00"))
    endpoint = ps_world["endpoint"]
    endpoint.settings = {**endpoint.settings, "group_price_lists": "PRO=4"}
    endpoint.save()
    publish(ps_world)
    shop = ps_world["shop"]

    def group_prices():
        return sorted((p["id_product"], p["id_product_attribute"], p["id_group"], p["price"]) for p in shop.list("specific_prices"))

    lamp_id = str(shop.list("products", **{"filter[reference]": "[LAMP-1]"})[0]["id"])
    shirt_s = shop.list("combinations", **{"filter[reference]": "[SHIRT-S]"})[0]
    assert group_prices() == sorted([(lamp_id, "0", "4", "18.000000"), (shirt_s["id_product"], str(shirt_s["id"]), "4", "30.000000")])
    SyncJob.objects.all().delete()
    lamp_entry = price_entry_set(price_list=pro, product=ps_world["lamp"], unit_price=Decimal("17.00"))
    price_entry_delete(entry=shirt_entry)
    assert sorted(SyncJob.objects.filter(flow="products.out").values_list("record_label", flat=True)) == ["LAMP-1", "SHIRT"]
    run_flows(endpoint, "products.out")
    assert group_prices() == [(lamp_id, "0", "4", "17.000000")]
    placed = place(ps_world, [("LAMP-1", 1), ("SHIRT-S", 1)], group=4)
    poll(ps_world)
    lines = {line.sku: line.unit_price for line in SalesOrder.objects.get(external_id=str(placed["id"])).lines.all()}
    assert lines == {"LAMP-1": Decimal("17.0000"), "SHIRT-S": Decimal("32.5000")}  # the group price; the public one without it
    assert lamp_entry.unit_price == Decimal("17.00")


def test_the_stock_reconcile_reads_the_shops_quantities_and_corrects_only_the_drift(ps_world):
    publish(ps_world)
    shop, sandbox = ps_world["shop"], ps_world["sandbox"]
    drifted = shop.list("combinations", **{"filter[reference]": "[SHIRT-M]"})[0]
    row = shop.list("stock_availables", **{"filter[id_product_attribute]": f"[{drifted['id']}]"})[0]
    body = (f'<prestashop><stock_available><id>{row["id"]}</id><quantity>3</quantity></stock_available></prestashop>').encode()
    assert shop.http.patch(f"{shop.url}/api/stock_availables/{row['id']}", data=body, timeout=5).status_code == 200  # the merchant's edit
    patches = sum(1 for r in sandbox.journal if r.method == "PATCH")
    sync_job_enqueue(endpoint=ps_world["endpoint"], flow="stock.reconcile", record_key="*", label="reconcile")
    run_flows(ps_world["endpoint"], "stock.reconcile")
    assert shop_quantity(ps_world, "SHIRT-M") == 10
    assert sum(1 for r in sandbox.journal if r.method == "PATCH") == patches + 1
    assert "corrected 1" in SyncJob.objects.get(flow="stock.reconcile").outcome
