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
