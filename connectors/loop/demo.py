"""Demo: the web shop's returns portal is Loop (the sandbox `make run` starts). A minute after
start the sandbox's shopper returns one unit of a shipped web order and the carrier scans the
label, so a newcomer sees a Loop return become an authorised RMA with its tracking."""

import os

from connectors.models import Endpoint
from hub.models import SalesChannel
from hub.registry import DemoSeeder, register_demo_seeder

DEMO_LOOP_PORT = int(os.environ.get("HUB_DEMO_LOOP_PORT", "8022"))
DEMO_LOOP_URL = f"http://127.0.0.1:{DEMO_LOOP_PORT}"
DEMO_API_KEY = "loop-demo-api-key"
DEMO_WEBHOOK_SECRET = "loop-demo-webhook-secret"
DEMO_ENDPOINT = "loop-demo"
DEMO_CHANNEL = "web-fr"


def seed(*, scale, rng):
    channel = SalesChannel.objects.filter(code=DEMO_CHANNEL).first()
    if channel is None:
        return "no web channel: skipped"
    Endpoint.objects.update_or_create(code=DEMO_ENDPOINT, defaults={
        "kind": "loop", "name": "Demo Loop Returns", "base_url": DEMO_LOOP_URL, "channel": channel,
        "credentials": {"api_key": DEMO_API_KEY}, "webhook_secret": DEMO_WEBHOOK_SECRET,
        "settings": {"order_reference": "provider_order_id"}})
    return f"endpoint {DEMO_ENDPOINT} → {DEMO_LOOP_URL}: the returns portal of {DEMO_CHANNEL}"


register_demo_seeder(DemoSeeder(name="loop-demo", seed=seed, order=70))
