"""Demo: the merchant's books in a Xero sandbox organisation (started by `make run`), fed as documents are issued."""

import os
from datetime import date

from connectors.models import Endpoint
from connectors.registry import connector_for
from hub.registry import DemoSeeder, register_demo_seeder

DEMO_XERO_PORT = int(os.environ.get("HUB_DEMO_XERO_PORT", "8040"))
DEMO_XERO_URL = f"http://127.0.0.1:{DEMO_XERO_PORT}"
DEMO_ENDPOINT = "xero-demo"
DEMO_CREDENTIALS = {"client_id": "demo-xero-client", "client_secret": "demo-xero-secret", "refresh_token": "demo-xero-refresh-1",
                    "tenant_id": "6f0a0c4e-8c1b-4d0f-9c43-2d54c1a0f1aa"}


def seed(*, scale, rng):
    endpoint, _ = Endpoint.objects.update_or_create(code=DEMO_ENDPOINT, defaults={
        "kind": "xero", "name": "Demo Xero organisation", "base_url": f"{DEMO_XERO_URL}/api.xro/2.0", "credentials": DEMO_CREDENTIALS,
        "settings": {"mode": "event", "start_date": date(2000, 1, 1).isoformat(), "token_url": f"{DEMO_XERO_URL}/connect/token"},
        "concurrency_limit": 2})
    queued = connector_for(endpoint).sync_due(endpoint=endpoint)
    return f"endpoint {DEMO_ENDPOINT} → {DEMO_XERO_URL}, {queued} documents queued for the books"


register_demo_seeder(DemoSeeder(name="xero-demo", seed=seed, order=60))
