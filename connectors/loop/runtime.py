"""Companion process `hub_run --demo` starts for Loop Returns: the sandbox returns portal, whose
shopper starts a return of a shipped web order once the hub answers."""

import os
import sys

from connectors.loop.demo import DEMO_LOOP_PORT
from hub.registry import ProcessSpec, register_process

HUB_URL = "http://" + os.environ.get("HUB_BIND", "127.0.0.1:8000")

register_process(ProcessSpec(name="loop-sandbox", argv=[
    sys.executable, "manage.py", "loop_demo_sandbox", "--port", str(DEMO_LOOP_PORT), "--hub-url", HUB_URL]))
