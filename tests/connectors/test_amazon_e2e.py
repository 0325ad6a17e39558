"""Amazon (SP-API) end to end over real HTTP: the hub and the Amazon sandbox."""

import time
from decimal import Decimal

import requests

from catalog.services import product_create
from connectors.models import InboxMessage, SyncJob, ThrottleBucket
from connectors.services import inbox_process
from inventory import services as stock
from inventory.models import StockLevel
from orders.models import SalesOrder
from orders.services import shipment_create
from tests.connectors.amazon_world import FR, RELAY_SECRET, poll, publish, run_flows


def test_listings_get_their_price_and_merchant_fulfilled_quantity(amazon_world):
    publish(amazon_world)
    listings = amazon_world["seller"].get("listings")["listings"]
    assert listings["LAMP-1"]["quantity"] == {FR: 10} and listings["LAMP-1"]["price"] == {FR: ["EUR", "25.00"]}
    assert listings["MUG-1"]["price"] == {FR: ["EUR", "9.50"]}


def test_an_order_is_reserved_shipped_and_confirmed_with_tracking(amazon_world):
    publish(amazon_world)
    seller = amazon_world["seller"]
    placed = seller.post("orders", {"lines": [{"sku": "LAMP-1", "quantity": 2, "price": "25.00", "shipping": "4.90", "promotion": "5.00"},
                                              {"sku": "MUG-1", "quantity": 1, "price": "9.50"}]})
    poll(amazon_world["endpoint"])
    order = SalesOrder.objects.get(external_id=placed["id"])
    assert order.channel.code == "amazon-fr" and order.status == "allocated" and order.total == Decimal(placed["total"])
    assert order.shipping_address["city"] == "Lyon" and sorted((line.sku, line.quantity) for line in order.lines.all()) == [("LAMP-1", 2), ("MUG-1", 1)]
    lamp = order.lines.get(sku="LAMP-1")
    shipment_create(order=order, warehouse=amazon_world["lyon"], lines=[(lamp, 1)], carrier="Colissimo", tracking_numbers=["6A001"])
    run_flows(amazon_world["endpoint"], "fulfilments.out")
    remote = seller.get(f"orders/{placed['id']}")
    assert remote["OrderStatus"] == "PartiallyShipped"
    (package,) = remote["packages"]
    assert (package["carrierCode"], package["trackingNumber"]) == ("Colissimo", "6A001")
    assert [line["quantity"] for line in package["orderItems"]] == [1]
    order.refresh_from_db()
    shipment_create(order=order, warehouse=amazon_world["lyon"], lines=[(lamp, 1), (order.lines.get(sku="MUG-1"), 1)],
                    carrier="Transports Dupont", tracking_numbers=["TD-77"])
    run_flows(amazon_world["endpoint"], "fulfilments.out")
    remote = amazon_world["seller"].get(f"orders/{placed['id']}")
    assert remote["OrderStatus"] == "Shipped" and len(remote["packages"]) == 2
    assert remote["packages"][1]["carrierCode"] == "Other" and remote["packages"][1]["carrierName"] == "Transports Dupont"
    assert set(SyncJob.objects.filter(flow="fulfilments.out").values_list("status", flat=True)) == {"done"}


def test_pending_orders_wait_until_amazon_marks_them_unshipped(amazon_world):
    seller = amazon_world["seller"]
    placed = seller.post("orders", {"status": "Pending", "lines": [{"sku": "LAMP-1", "quantity": 1, "price": "25.00"}]})
    poll(amazon_world["endpoint"])
    assert not SalesOrder.objects.filter(external_id=placed["id"]).exists()
    time.sleep(1.1)  # Amazon's update stamps are whole seconds
    seller.post(f"orders/{placed['id']}/status", {"status": "Unshipped"})
    poll(amazon_world["endpoint"])
    assert SalesOrder.objects.get(external_id=placed["id"]).status == "allocated"


def test_an_order_on_two_pages_is_applied_once(amazon_world):
    seller = amazon_world["seller"]
    seller.post("pages", {"page_size": 2, "repeat_page_edge": True})
    placed = [seller.post("orders", {"lines": [{"sku": "MUG-1", "quantity": 1, "price": "9.50"}]})["id"] for _ in range(5)]
    poll(amazon_world["endpoint"])
    assert amazon_world["sandbox"].stats["orders repeated across pages"] >= 2
    assert sorted(SalesOrder.objects.values_list("external_id", flat=True)) == sorted(placed)
    assert StockLevel.objects.get(product=amazon_world["products"]["MUG-1"], warehouse=amazon_world["lyon"]).reserved == 5


def test_restricted_data_tokens_name_only_the_orders_being_imported(amazon_world):
    seller = amazon_world["seller"]
    seller.post("orders", {"status": "Pending", "lines": [{"sku": "LAMP-1", "quantity": 1, "price": "25.00"}]})
    seller.post("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1, "price": "25.00"}]})
    poll(amazon_world["endpoint"])
    assert amazon_world["sandbox"].stats["restricted resources granted"] == 2  # address + buyer info of the one importable order


def test_a_stock_change_goes_out_within_the_listing_quota(amazon_world):
    publish(amazon_world)
    lyon = amazon_world["lyon"]
    skus = [f"BULK-{n:02d}" for n in range(25)]
    amazon_world["seller"].post("listings", {"skus": skus, "marketplaces": [FR]})
    for sku in skus:
        product = product_create(sku=sku, name=sku, status="active")
        from catalog.services import price_entry_set

        price_entry_set(price_list=amazon_world["public"], product=product, unit_price=Decimal("5.00"))
    from connectors.sync import sync_job_enqueue

    for product in amazon_world["public"].entries.filter(product__sku__in=skus).select_related("product"):
        sync_job_enqueue(endpoint=amazon_world["endpoint"], flow="products.out", record_key=str(product.product_id), label=product.product.sku)
    run_flows(amazon_world["endpoint"], "products.out", budget=60)
    started = time.monotonic()
    from catalog.models import Product

    for product in Product.objects.filter(sku__in=skus):
        stock.stock_receive(product=product, warehouse=lyon, quantity=3)
    run_flows(amazon_world["endpoint"], "stock.out", budget=60)
    elapsed = time.monotonic() - started
    assert {sku: amazon_world["seller"].quantity(sku) for sku in skus} == dict.fromkeys(skus, 3)
    assert amazon_world["sandbox"].stats["QuotaExceeded patchListingsItem"] == 0
    assert elapsed >= (25 - 10) / 5 * 0.9  # the burst, then 5 a second: the documented quota, kept by the client


def test_quota_exhaustion_is_waited_out_with_nothing_lost(amazon_world):
    publish(amazon_world)
    amazon_world["seller"].post("quotas", {"patchListingsItem": [4, 1]})  # the account's real quota is far below the documented one
    for product in amazon_world["products"].values():
        for _ in range(3):
            stock.stock_adjust(product=product, warehouse=amazon_world["lyon"], quantity_delta=-1, reason="damaged")
            run_flows(amazon_world["endpoint"], "stock.out")
    assert amazon_world["sandbox"].stats["QuotaExceeded patchListingsItem"] >= 1
    assert amazon_world["seller"].quantity("LAMP-1") == 7 and amazon_world["seller"].quantity("MUG-1") == 7
    assert set(SyncJob.objects.filter(flow="stock.out").values_list("status", flat=True)) == {"done"}
    assert ThrottleBucket.objects.get(endpoint=amazon_world["endpoint"], name="patchListingsItem").rate_per_second == 4


def test_an_expired_access_token_is_refreshed_mid_run(amazon_world):
    publish(amazon_world)
    issued = amazon_world["sandbox"].stats["access tokens issued"]
    amazon_world["seller"].post("tokens/expire")  # Amazon revoked it early: the stored expiry still says it is valid
    stock.stock_adjust(product=amazon_world["products"]["LAMP-1"], warehouse=amazon_world["lyon"], quantity_delta=-4, reason="damaged")
    run_flows(amazon_world["endpoint"], "stock.out")
    assert amazon_world["seller"].quantity("LAMP-1") == 6
    assert amazon_world["sandbox"].stats["access tokens issued"] == issued + 1
    endpoint = amazon_world["endpoint"]
    endpoint.refresh_from_db()
    assert endpoint.credentials["access_token"].startswith("Atza|") and endpoint.credentials["refresh_token"] == "Atzr|hub-refresh"


def test_an_order_change_notification_brings_the_poll_forward_once(amazon_world, hub_url):
    seller = amazon_world["seller"]
    placed = seller.post("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1, "price": "25.00"}]})
    url = f"{hub_url}/webhooks/amazon-eu/"
    for _ in range(2):  # queues deliver at least once
        assert seller.post("notifications", {"order_id": placed["id"], "url": url, "secret": RELAY_SECRET,
                                             "notification_id": "8e009934-fc5c-4bd3-a1ac-1e3d2ef0d8c8"})["status"] == 200
    forged = requests.post(url, json={"NotificationType": "ORDER_CHANGE", "NotificationMetadata": {"NotificationId": "x"}},
                           headers={"Authorization": "Bearer guessed"}, timeout=10)
    assert forged.status_code in (401, 403)
    assert InboxMessage.objects.filter(status="received").count() == 1
    for message in InboxMessage.objects.filter(status="received"):
        inbox_process(message_id=message.pk)
    run_flows(amazon_world["endpoint"], "orders.poll")
    assert SalesOrder.objects.filter(external_id=placed["id"]).exists()


def test_an_amazon_endpoint_is_added_with_its_marketplace_channels_from_the_command_line(amazon, transactional_db, capsys):
    from django.core.management import call_command

    from tests.hub.factories import SalesChannelFactory

    SalesChannelFactory(code="amazon-hub")
    call_command("hub_endpoint", "add", "amazon", "amz-test", "--base-url", amazon.url, "--channel", "amazon-hub",
                 "--credential", "refresh_token=Atzr|hub-refresh", "--credential", "client_id=amzn1.application-oa2-client.hub",
                 "--credential", "client_secret=lwa-secret", "--setting", "seller_id=A2HUBSELLER",
                 "--setting", "marketplaces=FR=amazon-fr-new,UK=amazon-uk", "--setting", f"token_url={amazon.url}/auth/o2/token")
    call_command("hub_endpoint", "test", "amz-test")
    assert "connected to seller A2HUBSELLER" in capsys.readouterr().out
    from hub.models import SalesChannel

    assert dict(SalesChannel.objects.filter(code__in=["amazon-fr-new", "amazon-uk"]).values_list("code", "currency")) == {
        "amazon-fr-new": "EUR", "amazon-uk": "GBP"}


def test_each_marketplace_channel_sells_what_its_stock_policy_allows(amazon_world):
    from inventory.models import ChannelStockPolicy

    from tests.hub.factories import SalesChannelFactory

    endpoint = amazon_world["endpoint"]
    ChannelStockPolicy.objects.create(channel=endpoint.channel, safety_buffer=3)
    germany = SalesChannelFactory(code="amazon-de", kind="marketplace")
    ChannelStockPolicy.objects.create(channel=germany, safety_buffer=8)
    endpoint.settings = {**endpoint.settings, "marketplaces": {"FR": "amazon-fr", "DE": "amazon-de"}}
    endpoint.save()
    amazon_world["seller"].post("listings", {"skus": ["LAMP-1"], "marketplaces": [FR, "A1PA6795UKMFR9"]})
    publish(amazon_world)
    assert amazon_world["seller"].quantity("LAMP-1") == 7
    assert amazon_world["seller"].quantity("LAMP-1", marketplace="A1PA6795UKMFR9") == 2


def test_an_order_lands_on_its_marketplace_channel(amazon_world):
    endpoint = amazon_world["endpoint"]
    endpoint.settings = {**endpoint.settings, "marketplaces": {"FR": "amazon-fr", "DE": "amazon-de"}}
    endpoint.save()
    placed = amazon_world["seller"].post("orders", {"marketplace": "A1PA6795UKMFR9", "lines": [{"sku": "MUG-1", "quantity": 1, "price": "9.50"}]})
    poll(endpoint)
    order = SalesOrder.objects.get(external_id=placed["id"])
    assert (order.channel.code, order.channel.kind, order.channel.currency) == ("amazon-de", "marketplace", "EUR")
