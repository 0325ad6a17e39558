"""Companion process `hub_run --demo` starts for ShipBob: the sandbox 3PL, whose warehouse picks,
packs and ships the orders it receives after a short delay, and sends its webhooks to the hub."""

import os
import sys

from connectors.shipbob.demo import DEMO_3PL_PORT
from hub.registry import ProcessSpec, register_process

HUB_URL = "http://" + os.environ.get("HUB_BIND", "127.0.0.1:8000")

register_process(ProcessSpec(name="shipbob-sandbox", argv=[
    sys.executable, "manage.py", "shipbob_demo_sandbox", "--port", str(DEMO_3PL_PORT), "--hub-url", HUB_URL]))
