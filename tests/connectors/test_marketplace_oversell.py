"""One stock across the Shopify shop and the marketplaces: the last unit is sold once."""

from connectors.sync import sync_job_enqueue
from inventory import services as stock
from inventory.models import StockLevel
from orders.models import SalesOrder
from tests.connectors.amazon_world import FR, SellerCentral, amazon_endpoint, poll
from tests.connectors.amazon_world import run_flows as run
from tests.connectors.ebay_world import EbaySeller, ebay_endpoint
from tests.connectors.shopify_world import publish as shopify_publish
from tests.connectors.shopify_world import shop_available, wait_for_inbox


def _publish(endpoint, product):
    sync_job_enqueue(endpoint=endpoint, flow="products.out", record_key=str(product.pk), label=product.sku)
    run(endpoint, "products.out", "stock.out")


def test_the_last_unit_sold_on_shopify_amazon_fr_and_ebay_is_sold_once_and_the_others_show_zero(world, amazon, ebay):
    lamp, lyon = world["lamp"], world["lyon"]
    public = world["endpoint"].channel.catalog.public_price_list
    amazon_fr = amazon_endpoint(amazon, price_list=public)
    ebay_fr = ebay_endpoint(ebay, price_list=public)
    seller_central, ebay_seller = SellerCentral(amazon.url), EbaySeller(ebay.url)
    seller_central.post("listings", {"skus": ["LAMP-1"], "marketplaces": [FR]})
    ebay_seller.post("listings", {"skus": ["LAMP-1"]})
    stock.stock_adjust(product=lamp, warehouse=lyon, quantity_delta=-9, reason="sold at the counter")
    shopify_publish(world)
    _publish(amazon_fr, lamp)
    _publish(ebay_fr, lamp)
    assert (shop_available(world), seller_central.quantity("LAMP-1"), ebay_seller.quantity("LAMP-1")) == (1, 1, 1)

    # Three buyers take the one lamp each channel still shows, before any channel hears of the others.
    shopify_order = str(world["shop"].control("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1}], "email": "a@example.com",
                                                         "financial_status": "paid"})["order"]["id"])
    amazon_order = seller_central.post("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1, "price": "25.00"}]})["id"]
    ebay_order = ebay_seller.post("orders", {"lines": [{"sku": "LAMP-1", "quantity": 1, "price": "25.00"}]})["id"]
    wait_for_inbox("orders/create", shopify_order)
    poll(amazon_fr)
    poll(ebay_fr)

    orders = {o.external_id: o for o in SalesOrder.objects.filter(external_id__in=[shopify_order, amazon_order, ebay_order])}
    assert len(orders) == 3  # every sale is recorded…
    assert [o.status for o in orders.values()].count("allocated") == 1  # …and the lamp is reserved for one of them
    assert {o.channel.code for o in orders.values()} == {"shopify-fr", "amazon-fr", "ebay-fr"}
    level = StockLevel.objects.get(product=lamp, warehouse=lyon)
    assert (level.on_hand, level.reserved) == (1, 1)

    run(world["endpoint"], "stock.out")
    run(amazon_fr, "stock.out")
    run(ebay_fr, "stock.out")
    assert (shop_available(world), seller_central.quantity("LAMP-1"), ebay_seller.quantity("LAMP-1")) == (0, 0, 0)
