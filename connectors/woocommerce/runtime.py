"""Companion processes `hub_run --demo` starts for WooCommerce: the sandbox shop and a little traffic in it."""

import os
import sys

from connectors.woocommerce.demo import DEMO_ENDPOINT, DEMO_KEY, DEMO_SECRET, DEMO_SHOP_PORT, DEMO_SHOP_URL, DEMO_WEBHOOK_SECRET
from hub.registry import ProcessSpec, register_process

HUB_URL = "http://" + os.environ.get("HUB_BIND", "127.0.0.1:8000")

register_process(ProcessSpec(name="woocommerce-sandbox", argv=[
    sys.executable, "-m", "connectors.woocommerce.sandbox", "--port", str(DEMO_SHOP_PORT), "--consumer-key", DEMO_KEY,
    "--consumer-secret", DEMO_SECRET, "--webhook-url", f"{HUB_URL}/webhooks/{DEMO_ENDPOINT}/", "--webhook-secret", DEMO_WEBHOOK_SECRET,
    "--duplicate-rate", "0.05"]))
register_process(ProcessSpec(name="woocommerce-traffic", argv=[
    sys.executable, "-m", "connectors.woocommerce.traffic", "--sandbox-url", DEMO_SHOP_URL, "--interval", "10"]))
