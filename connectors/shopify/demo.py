"""Demo: a Shopify shop (the sandbox started by `make run`) connected to the web channel."""

import os

from catalog.models import Product
from connectors.models import Endpoint, EndpointSchedule
from connectors.sync import sync_job_enqueue
from hub.models import SalesChannel
from hub.registry import DemoSeeder, register_demo_seeder

DEMO_SHOP_PORT = int(os.environ.get("HUB_DEMO_SHOP_PORT", "8010"))
DEMO_SHOP_URL = f"http://127.0.0.1:{DEMO_SHOP_PORT}"
DEMO_ACCESS_TOKEN = "shpat_demo_sandbox_token"
DEMO_WEBHOOK_SECRET = "demo-sandbox-webhook-secret"
DEMO_ENDPOINT = "shopify-demo"
DEMO_CHANNEL = "web-fr"
# Hub warehouse → the sandbox's locations (it creates them with these ids).
DEMO_LOCATIONS = {"LYON-DC": "1001", "3PL-NORD": "1002"}


def seed(*, scale, rng):
    channel = SalesChannel.objects.filter(code=DEMO_CHANNEL).first()
    if channel is None:
        return "no web channel: skipped"
    endpoint, _ = Endpoint.objects.update_or_create(code=DEMO_ENDPOINT, defaults={
        "kind": "shopify", "name": "Demo Shopify shop", "base_url": DEMO_SHOP_URL, "channel": channel,
        "credentials": {"access_token": DEMO_ACCESS_TOKEN}, "webhook_secret": DEMO_WEBHOOK_SECRET,
        "settings": {"warehouse_map": DEMO_LOCATIONS}, "concurrency_limit": 2})
    for flow, minutes in (("orders.poll", 5), ("stock.reconcile", 30)):
        EndpointSchedule.objects.update_or_create(endpoint=endpoint, flow=flow, defaults={"every_minutes": minutes})
    parents = (Product.objects.filter(status=Product.Status.ACTIVE, parent__isnull=True).order_by("sku")
               .values_list("pk", "sku")[:25 * max(1, scale)])
    for pk, sku in parents:
        sync_job_enqueue(endpoint=endpoint, flow="products.out", record_key=str(pk), label=sku)
    return f"endpoint {DEMO_ENDPOINT} → {DEMO_SHOP_URL}, {len(parents)} products queued for publishing"


register_demo_seeder(DemoSeeder(name="shopify-demo", seed=seed, order=50))
