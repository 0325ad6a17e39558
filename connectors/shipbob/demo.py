"""Demo: the 3PL warehouse 3PL-NORD is run by ShipBob (the sandbox `make run` starts), and the
demo merchant hands its web orders to it first, so a newcomer sees them go to the 3PL and come
back shipped with tracking, on to the shop."""

import base64
import os

from catalog.models import Product
from connectors.models import Endpoint, EndpointSchedule
from connectors.sync import sync_job_enqueue
from hub.registry import DemoSeeder, register_demo_seeder
from inventory.models import StockLevel, Warehouse

DEMO_3PL_PORT = int(os.environ.get("HUB_DEMO_3PL_PORT", "8020"))
DEMO_3PL_URL = f"http://127.0.0.1:{DEMO_3PL_PORT}"
DEMO_TOKEN = "pat_demo_sandbox_token"
DEMO_CHANNEL_ID = 100102
DEMO_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"demo-shipbob-sandbox-signing-key").decode()
DEMO_ENDPOINT = "shipbob-demo"
DEMO_WAREHOUSE = "3PL-NORD"
DEMO_LOCATION = "1001"
# Above the own warehouse (LYON-DC, 30): the 3PL serves the web shop first.
DEMO_PRIORITY = 40


def seed(*, scale, rng):
    warehouse = Warehouse.objects.filter(code=DEMO_WAREHOUSE, kind=Warehouse.Kind.THIRD_PARTY).first()
    if warehouse is None:
        return f"no 3PL warehouse {DEMO_WAREHOUSE}: skipped"
    Warehouse.objects.filter(pk=warehouse.pk).update(priority=DEMO_PRIORITY)
    endpoint, _ = Endpoint.objects.update_or_create(code=DEMO_ENDPOINT, defaults={
        "kind": "shipbob", "name": "Demo ShipBob (3PL Nord)", "base_url": DEMO_3PL_URL, "channel": None,
        "credentials": {"token": DEMO_TOKEN}, "webhook_secret": DEMO_WEBHOOK_SECRET, "concurrency_limit": 2,
        "settings": {"warehouse_map": {DEMO_WAREHOUSE: DEMO_LOCATION}, "channel_id": DEMO_CHANNEL_ID, "default_service": "Standard"}})
    for flow, minutes in (("shipments.poll", 5), ("stock.in", 10), ("returns.poll", 10)):
        EndpointSchedule.objects.update_or_create(endpoint=endpoint, flow=flow, defaults={"every_minutes": minutes})
    stocked = (Product.objects.filter(pk__in=StockLevel.objects.filter(warehouse=warehouse, on_hand__gt=0).values("product_id"))
               .order_by("sku").values_list("pk", "sku"))
    for pk, sku in stocked:
        sync_job_enqueue(endpoint=endpoint, flow="items.out", record_key=str(pk), label=sku)
    return f"endpoint {DEMO_ENDPOINT} → {DEMO_3PL_URL} serves {DEMO_WAREHOUSE}; {len(stocked)} items queued"


register_demo_seeder(DemoSeeder(name="shipbob-demo", seed=seed, order=60))
