"""Companion processes `hub_run --demo` starts for Shopify: the sandbox shop and a little traffic in it."""

import os
import sys

from connectors.shopify.demo import DEMO_ACCESS_TOKEN, DEMO_ENDPOINT, DEMO_SHOP_PORT, DEMO_SHOP_URL, DEMO_WEBHOOK_SECRET
from hub.registry import ProcessSpec, register_process

HUB_URL = "http://" + os.environ.get("HUB_BIND", "127.0.0.1:8000")

register_process(ProcessSpec(name="shopify-sandbox", argv=[
    sys.executable, "manage.py", "shopify_sandbox", "--port", str(DEMO_SHOP_PORT), "--access-token", DEMO_ACCESS_TOKEN,
    "--webhook-url", f"{HUB_URL}/webhooks/{DEMO_ENDPOINT}/", "--webhook-secret", DEMO_WEBHOOK_SECRET, "--duplicate-rate", "0.05"]))
register_process(ProcessSpec(name="shopify-traffic", argv=[
    sys.executable, "manage.py", "shopify_traffic", "--sandbox-url", DEMO_SHOP_URL, "--interval", "8"]))
