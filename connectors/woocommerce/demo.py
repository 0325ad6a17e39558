"""Demo: a WooCommerce shop (the sandbox `make run` starts) on its own sales channel."""

import os

from catalog.models import ChannelCatalog, PriceList, Product
from connectors.models import Endpoint
from connectors.sync import sync_job_enqueue
from hub.models import SalesChannel
from hub.registry import DemoSeeder, register_demo_seeder
from hub.services import sales_channel_get_or_create
from inventory.services import channel_stock_policy_set
from inventory.models import Warehouse

DEMO_SHOP_PORT = int(os.environ.get("HUB_DEMO_WOO_PORT", "8011"))
DEMO_SHOP_URL = f"http://127.0.0.1:{DEMO_SHOP_PORT}"
DEMO_KEY, DEMO_SECRET = "ck_demo_sandbox_key", "cs_demo_sandbox_secret"
DEMO_WEBHOOK_SECRET = "demo-woocommerce-webhook-secret"
DEMO_ENDPOINT = "woocommerce-demo"
DEMO_CHANNEL = "woo-fr"
DEMO_WAREHOUSES = ("LYON-DC", "3PL-NORD")


def seed(*, scale, rng):
    public = PriceList.objects.filter(code="PUBLIC-TTC").first()
    warehouses = list(Warehouse.objects.filter(code__in=DEMO_WAREHOUSES))
    if public is None or not warehouses:
        return "no public price list or warehouses: skipped"
    channel, _ = sales_channel_get_or_create(code=DEMO_CHANNEL, name="Boutique WooCommerce (FR)", kind=SalesChannel.Kind.WEB, currency="EUR")
    ChannelCatalog.objects.update_or_create(channel=channel, defaults={"public_price_list": public})
    channel_stock_policy_set(channel=channel, warehouses=warehouses, safety_buffer=1, allow_split=True)
    endpoint, _ = Endpoint.objects.update_or_create(code=DEMO_ENDPOINT, defaults={
        "kind": "woocommerce", "name": "Demo WooCommerce shop", "base_url": DEMO_SHOP_URL, "channel": channel,
        "credentials": {"consumer_key": DEMO_KEY, "consumer_secret": DEMO_SECRET}, "webhook_secret": DEMO_WEBHOOK_SECRET,
        "settings": {"stock_warehouses": ",".join(w.code for w in warehouses)}, "concurrency_limit": 2, "rate_limit_per_second": 10})
    parents = (Product.objects.filter(status=Product.Status.ACTIVE, parent__isnull=True).order_by("-sku")
               .values_list("pk", "sku")[:15 * max(1, scale)])
    for pk, sku in parents:
        sync_job_enqueue(endpoint=endpoint, flow="products.out", record_key=str(pk), label=sku)
    return f"endpoint {DEMO_ENDPOINT} → {DEMO_SHOP_URL} on channel {DEMO_CHANNEL}, {len(parents)} products queued for publishing"


register_demo_seeder(DemoSeeder(name="woocommerce-demo", seed=seed, order=51))
