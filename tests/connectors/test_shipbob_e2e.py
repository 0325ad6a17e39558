"""ShipBob end to end over real HTTP: the hub (served on a local port) and the ShipBob sandbox,
whose simulated warehouse picks, packs and ships, talk to each other as in production."""

from decimal import Decimal

from connectors.binder import Binder
from connectors.fulfilment.state import ITEM, PARCEL, RELEASE
from connectors.models import SyncJob
from connectors.sync import sync_job_enqueue
from inventory.models import StockLevel
from orders.models import SalesOrder
from tests.connectors.shipbob_world import NORD, inbox_settle, place, process_inbox, run_flows


def send_items(world):
    for product in (world["lamp"], *world["sizes"], world["honey"]):
        sync_job_enqueue(endpoint=world["endpoint"], flow="items.out", record_key=str(product.pk), label=product.sku)
    run_flows(world["endpoint"], "items.out")


def test_items_go_out_with_barcode_weight_dimensions_customs_and_lot_tracking_and_their_ids_come_back(shipbob_world):
    from catalog.services import product_update

    send_items(shipbob_world)
    account = shipbob_world["account"]
    lamp = account.get("product", SKU="LAMP-1")["items"][0]["variants"][0]
    assert lamp["barcodes"] == [{"value": "3700000000013", "sticker_url": None}]
    assert lamp["weight"] == 29.98 and lamp["dimension"] == {"length": 11.81, "width": 7.87, "height": 5.91}
    assert lamp["customs"]["hs_tariff_code"] == "940540" and lamp["customs"]["country_code_of_origin"] == "FR"
    honey = account.get("product", SKU="HONEY")["items"][0]["variants"][0]
    assert honey["lot_information"] == {"is_lot": True, "minimum_shelf_life_days": 540}
    binder = Binder(shipbob_world["endpoint"])
    bound = binder.get(ITEM, shipbob_world["lamp"].pk)
    assert bound.external_id == str(lamp["id"]) and bound.data["inventory_id"] == str(lamp["inventory"]["inventory_id"])
    assert binder.all(ITEM).count() == 4 and len(account.get("product")["items"]) == 4
    product_update(product=shipbob_world["lamp"], weight_g=900)
    run_flows(shipbob_world["endpoint"], "items.out")
    assert account.get("product", SKU="LAMP-1")["items"][0]["variants"][0]["weight"] == 31.75
    assert len(account.get("product")["items"]) == 4  # updated, not created again


def test_a_paid_order_is_released_once_with_address_service_and_its_reference_and_ships_back_with_tracking(shipbob_world):
    order = place(shipbob_world, shipping_lines=[{"title": "Colissimo", "price": "4.90"}], shipping="4.90")
    assert order.status == "allocated"
    assert SyncJob.objects.filter(endpoint=shipbob_world["endpoint"], flow="orders.out", record_key=str(order.pk)).exists()
    run_flows(shipbob_world["endpoint"], "orders.out")
    account = shipbob_world["account"]
    released = account.order(f"{order.number}-3PL-NORD")
    assert released["shipping_method"] == "Standard" and released["order_number"] == order.number
    assert released["recipient"]["address"]["city"] == "Lyon" and released["recipient"]["address"]["zip_code"] == "69003"
    assert [(p["reference_id"], p["quantity"]) for p in released["products"]] == [("LAMP-1", 2)]
    assert account.orders()[0]["location_id"] == NORD
    binding = Binder(shipbob_world["endpoint"]).all(RELEASE).get()
    assert binding.external_id == str(released["id"]) and binding.data["state"] == "open"
    place(shipbob_world)  # the same order again from the shop changes nothing
    run_flows(shipbob_world["endpoint"], "orders.out")
    assert len(account.orders()) == 1

    shipbob_world["sandbox"].warehouse.advance(force=True)
    inbox_settle("order.shipped")
    order.refresh_from_db()
    assert order.status == "shipped"
    shipment = order.shipments.get()
    assert shipment.warehouse.code == "3PL-NORD" and shipment.carrier and shipment.tracking_numbers and shipment.tracking_urls
    assert shipment.tracking_numbers[0] in shipment.tracking_urls[0]
    assert StockLevel.objects.get(product=shipbob_world["lamp"], warehouse=shipbob_world["nord"]).on_hand == 8
    assert Binder(shipbob_world["endpoint"]).is_bound(PARCEL, local_id=shipment.pk)
    run_flows(shipbob_world["endpoint"], "orders.out")
    assert Binder(shipbob_world["endpoint"]).all(RELEASE).get().data["state"] == "closed"


def test_an_unpaid_order_waits_and_is_released_once_paid(shipbob_world):
    order = place(shipbob_world, payment_status="pending")
    run_flows(shipbob_world["endpoint"], "orders.out")
    assert order.status == "received" and shipbob_world["account"].orders() == []
    place(shipbob_world, payment_status="paid")
    run_flows(shipbob_world["endpoint"], "orders.out")
    assert [o["reference_id"] for o in shipbob_world["account"].orders()] == [f"{order.number}-3PL-NORD"]


def test_a_partial_shipment_in_two_parcels_then_the_rest_become_three_hub_shipments(shipbob_world):
    lines = [{"sku": "LAMP-1", "name": "Lampe", "quantity": 3, "unit_price": "25.00"},
             {"sku": "SHIRT-M", "name": "Chemise M", "quantity": 1, "unit_price": "25.00"}]
    order = place(shipbob_world, lines=lines)
    run_flows(shipbob_world["endpoint"], "orders.out")
    account = shipbob_world["account"]
    shipbob_order = account.orders()[0]
    account.control(f"orders/{shipbob_order['id']}/plan", {"ship": {"LAMP-1": 2}, "parcels": 2})
    account.control("warehouse/advance", {"force": True})
    inbox_settle("order.shipped", 2)
    order.refresh_from_db()
    assert order.status == "partially_shipped"
    first = list(order.shipments.order_by("id"))
    assert [list(s.lines.values_list("order_line__sku", "quantity")) for s in first] == [[("LAMP-1", 1)], [("LAMP-1", 1)]]
    assert len({s.tracking_numbers[0] for s in first}) == 2
    account.control("warehouse/advance", {"force": True})
    inbox_settle("order.shipped", 3)
    order.refresh_from_db()
    assert order.status == "shipped" and order.shipments.count() == 3
    assert sorted(order.shipments.order_by("id").last().lines.values_list("order_line__sku", "quantity")) == [("LAMP-1", 1), ("SHIRT-M", 1)]


def test_the_poll_records_shipments_whose_webhooks_never_came(shipbob_world):
    order = place(shipbob_world)
    run_flows(shipbob_world["endpoint"], "orders.out")
    shipbob_world["sandbox"].set_faults(webhook_drop_rate=1.0)
    shipbob_world["sandbox"].warehouse.advance(force=True)
    sync_job_enqueue(endpoint=shipbob_world["endpoint"], flow="shipments.poll", record_key="*")
    run_flows(shipbob_world["endpoint"], "shipments.poll")
    order.refresh_from_db()
    assert order.status == "shipped" and order.shipments.get().tracking_numbers
    job = SyncJob.objects.filter(flow="shipments.poll").latest("id")
    assert job.status == "done" and "1 recorded" in job.outcome
    sync_job_enqueue(endpoint=shipbob_world["endpoint"], flow="shipments.poll", record_key="*")
    run_flows(shipbob_world["endpoint"], "shipments.poll")
    assert order.shipments.count() == 1


def test_a_hold_cancels_at_a_3pl_without_holds_and_the_release_sends_the_order_again_under_a_new_reference(shipbob_world):
    from orders.services import order_hold, order_release

    order = place(shipbob_world)
    run_flows(shipbob_world["endpoint"], "orders.out")
    order_hold(order=order, reason="fraud check")
    run_flows(shipbob_world["endpoint"], "orders.out")
    account = shipbob_world["account"]
    assert [o["status"] for o in account.orders()] == ["cancelled"]
    order_release(order=SalesOrder.objects.get(pk=order.pk), note="checked")
    run_flows(shipbob_world["endpoint"], "orders.out")
    assert [(o["reference_id"], o["status"]) for o in account.orders()] == [
        (f"{order.number}-3PL-NORD", "cancelled"), (f"{order.number}-3PL-NORD-2", "open")]
    binding = Binder(shipbob_world["endpoint"]).all(RELEASE).get()
    assert binding.data["reference"] == f"{order.number}-3PL-NORD-2" and binding.data["state"] == "open"


def test_an_address_change_before_picking_goes_to_the_3pl(shipbob_world):
    from orders.services import order_shipping_address_update

    order = place(shipbob_world)
    run_flows(shipbob_world["endpoint"], "orders.out")
    order_shipping_address_update(order=order, address={"name": "Camille Martin", "line1": "12 quai Saint-Vincent",
                                                        "postcode": "69001", "city": "Lyon", "country": "FR"})
    run_flows(shipbob_world["endpoint"], "orders.out")
    assert shipbob_world["account"].orders()[0]["address"]["address"]["address1"] == "12 quai Saint-Vincent"
    assert SyncJob.objects.filter(flow="orders.out").latest("id").outcome.startswith("updated")


def test_a_cancellation_before_picking_cancels_at_the_3pl_and_frees_nothing_twice(shipbob_world):
    from orders.services import order_cancel

    order = place(shipbob_world)
    run_flows(shipbob_world["endpoint"], "orders.out")
    order_cancel(order=order, reason="customer changed their mind")
    run_flows(shipbob_world["endpoint"], "orders.out")
    assert [o["status"] for o in shipbob_world["account"].orders()] == ["cancelled"]
    assert Binder(shipbob_world["endpoint"]).all(RELEASE).get().data["state"] == "cancelled"
    level = shipbob_world["account"].get("inventory-level/locations")["items"]
    lamp = next(i for i in level if i["sku"] == "LAMP-1")["locations"][0]
    assert (lamp["on_hand_quantity"], lamp["committed_quantity"]) == (10, 0)


def stock_movements(world, sku):
    from inventory.models import StockMovement

    return list(StockMovement.objects.filter(product__sku=sku, warehouse=world["nord"], kind="3pl_correction").values_list("quantity", "reason"))


def check_stock(world, *skus):
    for sku in skus or ("*",):
        sync_job_enqueue(endpoint=world["endpoint"], flow="stock.in", record_key=sku)
    run_flows(world["endpoint"], "stock.in")
    return SyncJob.objects.filter(flow="stock.in").latest("id")


def test_a_stock_count_that_differs_becomes_one_correction_with_the_3pls_reason_and_the_ledger_stays_whole(shipbob_world):
    from django.core.management import call_command

    send_items(shipbob_world)
    shipbob_world["account"].control("stock/adjust", {"location_id": NORD, "sku": "LAMP-1", "change": -2, "reason": "Damaged in storage"})
    job = check_stock(shipbob_world)
    assert job.status == "done" and "LAMP-1 -2" in job.outcome
    [(quantity, reason)] = stock_movements(shipbob_world, "LAMP-1")
    assert quantity == -2 and reason.startswith("InventoryAdjusted: Damaged in storage")
    assert StockLevel.objects.get(product=shipbob_world["lamp"], warehouse=shipbob_world["nord"]).on_hand == 8
    check_stock(shipbob_world)
    assert len(stock_movements(shipbob_world, "LAMP-1")) == 1  # never the same difference twice
    call_command("stock_check")  # raises SystemExit(1) on drift


def test_orders_the_3pl_holds_or_shipped_unseen_are_not_counted_as_differences(shipbob_world):
    send_items(shipbob_world)
    order = place(shipbob_world)
    run_flows(shipbob_world["endpoint"], "orders.out")
    check_stock(shipbob_world)  # 10 on hand both sides, 2 committed at the 3PL, 2 awaiting shipment in the hub
    shipbob_world["sandbox"].set_faults(webhook_drop_rate=1.0)
    shipbob_world["sandbox"].warehouse.advance(force=True)  # shipped: 8 on hand there, the hub has not heard yet
    check_stock(shipbob_world)
    assert stock_movements(shipbob_world, "LAMP-1") == []
    order.refresh_from_db()
    assert order.status == "allocated"


def test_a_lot_tracked_difference_is_corrected_on_its_lot(shipbob_world):
    send_items(shipbob_world)
    shipbob_world["account"].control("stock/adjust", {"location_id": NORD, "sku": "HONEY", "change": -1, "lot": "L2601",
                                                      "reason": "Broken jar"})
    check_stock(shipbob_world, "HONEY")
    from inventory.models import StockLot, StockMovement

    movement = StockMovement.objects.get(kind="3pl_correction", product__sku="HONEY")
    assert (movement.quantity, movement.lot) == (-1, "L2601") and "Broken jar" in movement.reason
    assert StockLot.objects.get(product__sku="HONEY", lot="L2601").on_hand == 5


def test_a_shortage_event_checks_the_sku_at_once(shipbob_world):
    send_items(shipbob_world)
    order = place(shipbob_world, lines=[{"sku": "SHIRT-S", "name": "Chemise S", "quantity": 4, "unit_price": "25.00"}])
    run_flows(shipbob_world["endpoint"], "orders.out")
    shipbob_world["account"].control("stock/adjust", {"location_id": NORD, "sku": "SHIRT-S", "change": -3, "reason": "Cycle count"})
    shipbob_world["sandbox"].warehouse.advance(force=True)  # 2 left: ships 2, short of 2
    inbox_settle("order.shipment.exception")
    inbox_settle("order.shipped")
    assert SyncJob.objects.filter(flow="stock.in", record_key="SHIRT-S", status="pending").exists()
    run_flows(shipbob_world["endpoint"], "stock.in")
    [(quantity, reason)] = stock_movements(shipbob_world, "SHIRT-S")
    assert quantity == -3 and "Cycle count" in reason
    order.refresh_from_db()
    assert order.status == "partially_shipped"
    level = StockLevel.objects.get(product=shipbob_world["sizes"][0], warehouse=shipbob_world["nord"])
    assert (level.on_hand, level.reserved) == (0, 2)


def shipped_order(world, lines=None):
    order = place(world, lines=lines)
    from orders.services import payment_record

    payment_record(order=order, amount=order.total, method="card")
    run_flows(world["endpoint"], "orders.out")
    world["sandbox"].warehouse.advance(force=True)
    inbox_settle("order.shipped")
    order.refresh_from_db()
    return order


def test_an_authorised_return_is_expected_at_the_3pl_and_its_receipt_becomes_the_rmas_receipt_and_inspection(shipbob_world):
    from inventory.models import StockMovement
    from returns.models import ChannelReturnPolicy, Rma
    from returns.services import rma_authorise, rma_refund, rma_request

    send_items(shipbob_world)
    order = shipped_order(shipbob_world)
    ChannelReturnPolicy.objects.create(channel=shipbob_world["channel"], refund_trigger="inspected")
    rma = rma_request(order=order, lines=[{"order_line": order.lines.get(), "quantity": 2, "reason": "damaged"}],
                      expected_warehouse=shipbob_world["nord"])
    rma_authorise(rma=rma)
    run_flows(shipbob_world["endpoint"], "returns.out")
    account = shipbob_world["account"]
    [expected] = account.get("return", ReferenceIds=rma.number)
    assert expected["status"] == "AwaitingArrival" and expected["fulfillment_center"]["id"] == 1001
    assert expected["inventory"][0]["quantity"] == 2 and expected["original_shipment_id"]
    account.control(f"returns/{expected['id']}/process", {"outcomes": {"LAMP-1": [[1, "restock", "As new"], [1, "dispose", "Broken"]]}})
    inbox_settle("return.completed")
    rma = Rma.objects.get(pk=rma.pk)
    line = rma.lines.get()
    assert line.received_quantity == 2 and (line.condition, line.disposition) == ("damaged", "scrap")  # mixed: the cautious outcome
    assert rma.status == "inspected" and rma.refunded_total == 0  # goods that fail inspection wait for a person
    sync_job_enqueue(endpoint=shipbob_world["endpoint"], flow="returns.poll", record_key="*")
    run_flows(shipbob_world["endpoint"], "returns.poll")
    assert Rma.objects.get(pk=rma.pk).lines.get().received_quantity == 2  # the receipt is recorded once
    rma_refund(rma=Rma.objects.get(pk=rma.pk))  # a person decides to refund
    assert Rma.objects.get(pk=rma.pk).refunded_total > 0


def test_a_return_receipt_whose_webhook_was_lost_is_recorded_by_the_poll_and_restocked(shipbob_world):
    from returns.models import Rma
    from returns.services import rma_authorise, rma_request

    send_items(shipbob_world)
    order = shipped_order(shipbob_world)
    rma = rma_authorise(rma=rma_request(order=order, lines=[{"order_line": order.lines.get(), "quantity": 1}],
                                        expected_warehouse=shipbob_world["nord"]))
    run_flows(shipbob_world["endpoint"], "returns.out")
    [expected] = shipbob_world["account"].get("return", ReferenceIds=rma.number)
    shipbob_world["sandbox"].set_faults(webhook_drop_rate=1.0)
    shipbob_world["account"].control(f"returns/{expected['id']}/process")
    sync_job_enqueue(endpoint=shipbob_world["endpoint"], flow="returns.poll", record_key="*")
    run_flows(shipbob_world["endpoint"], "returns.poll")
    rma = Rma.objects.get(pk=rma.pk)
    assert rma.status in ("inspected", "refunded") and rma.lines.get().disposition == "restock"
    assert StockLevel.objects.get(product=shipbob_world["lamp"], warehouse=shipbob_world["nord"]).on_hand == 9
    job = check_stock(shipbob_world)
    assert stock_movements(shipbob_world, "LAMP-1") == [], job.outcome


def test_the_reconciliation_report_shows_each_sku_per_3pl_warehouse_and_exports(shipbob_world, admin_client, tmp_path):
    import openpyxl
    import pytest
    from django.core.management import call_command

    from connectors.fulfilment.models import ThirdPartyStock

    send_items(shipbob_world)
    check_stock(shipbob_world)
    assert ThirdPartyStock.objects.filter(warehouse=shipbob_world["nord"]).count() == 4
    page = admin_client.get("/admin/connectors_fulfilment/thirdpartystock/")
    assert page.status_code == 200 and b"LAMP-1" in page.content and b"0 with a difference" in page.content
    ThirdPartyStock.objects.filter(product=shipbob_world["lamp"]).update(on_hand=7)  # a count the hub could not correct
    page = admin_client.get("/admin/connectors_fulfilment/thirdpartystock/?differences=1")
    assert b"-3" in page.content and b"SHIRT-M" not in page.content and b'class="difference"' in page.content
    csv_export = admin_client.get("/admin/connectors_fulfilment/thirdpartystock/?export=csv")
    text = csv_export.content.decode("utf-8-sig")
    assert csv_export["Content-Type"].startswith("text/csv") and "LAMP-1" in text and "Difference" in text.splitlines()[0]
    xlsx = admin_client.get("/admin/connectors_fulfilment/thirdpartystock/?export=xlsx")
    (tmp_path / "r.xlsx").write_bytes(xlsx.content)
    rows = list(openpyxl.load_workbook(tmp_path / "r.xlsx").active.values)
    assert rows[0][2] == "SKU" and any(row[2] == "LAMP-1" and row[9] == -3 for row in rows[1:])
    assert admin_client.get("/admin/connectors_fulfilment/thirdpartystock/?export=pdf").status_code == 400
    with pytest.raises(SystemExit) as exit_status:
        call_command("threepl_reconciliation", "--differences", "--output", str(tmp_path / "d.csv"))
    assert exit_status.value.code == 1 and "LAMP-1" in (tmp_path / "d.csv").read_text(encoding="utf-8-sig")
    call_command("threepl_reconciliation", "--refresh")  # a fresh count agrees again: exit 0


def test_stock_of_items_the_3pl_does_not_know_yet_is_left_alone_not_zeroed(shipbob_world):
    job = check_stock(shipbob_world)  # nothing sent to ShipBob yet: it lists no item
    from inventory.models import StockMovement

    assert not StockMovement.objects.filter(kind="3pl_correction").exists(), job.outcome
    assert "not known to ShipBob yet" in job.outcome
    assert StockLevel.objects.get(product=shipbob_world["lamp"], warehouse=shipbob_world["nord"]).on_hand == 10


def test_goods_on_their_way_into_the_3pl_are_counted_on_neither_side(shipbob_world):
    send_items(shipbob_world)
    shipbob_world["account"].control("stock/announce", {"location_id": NORD, "sku": "LAMP-1", "quantity": 6})
    job = check_stock(shipbob_world)
    assert stock_movements(shipbob_world, "LAMP-1") == [], job.outcome
    from connectors.fulfilment.models import ThirdPartyStock

    assert ThirdPartyStock.objects.get(product=shipbob_world["lamp"]).in_transit == 6


def test_hub_endpoint_adds_tests_and_syncs_a_shipbob_endpoint_without_a_channel(shipbob, capsys):
    import pytest
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from connectors.models import Endpoint
    from inventory.models import Warehouse
    from tests.connectors.shipbob_world import SHIPBOB_CHANNEL, SHIPBOB_SECRET, SHIPBOB_TOKEN
    from tests.inventory.factories import WarehouseFactory

    WarehouseFactory(code="3PL-NORD", kind=Warehouse.Kind.THIRD_PARTY)
    WarehouseFactory(code="LYON", kind=Warehouse.Kind.OWN)
    base = ["hub_endpoint", "add", "shipbob", "sb", "--base-url", shipbob.url, "--credential", f"token={SHIPBOB_TOKEN}",
            "--webhook-secret", SHIPBOB_SECRET, "--setting", f"channel_id={SHIPBOB_CHANNEL}"]
    with pytest.raises(CommandError, match="LYON"):  # not a 3PL warehouse
        call_command(*base, "--setting", "warehouse_map=LYON=1001")
    with pytest.raises(CommandError, match="channel_id"):
        call_command("hub_endpoint", "add", "shipbob", "sb", "--base-url", shipbob.url, "--setting", "warehouse_map=3PL-NORD=1001")
    call_command(*base, "--setting", "warehouse_map=3PL-NORD=1001")
    endpoint = Endpoint.objects.get(code="sb")
    assert endpoint.channel is None and endpoint.config["warehouse_map"] == {"3PL-NORD": "1001"} and endpoint.config["channel_id"] == SHIPBOB_CHANNEL
    call_command("hub_endpoint", "test", "sb")
    assert f"connected to ShipBob channel {SHIPBOB_CHANNEL} (ERP Hub), API 2026-01" in capsys.readouterr().out
    sync_job_enqueue(endpoint=endpoint, flow="shipments.poll", record_key="*")
    call_command("hub_endpoint", "sync", "sb")
    assert "shipments.poll: ran 1 jobs; now 1 done" in capsys.readouterr().out
    call_command("hub_endpoint", "add", "shipbob", "sb", "--base-url", shipbob.url, "--credential", "token=wrong")
    with pytest.raises(CommandError, match="ShipBob refused the token"):
        call_command("hub_endpoint", "test", "sb")
