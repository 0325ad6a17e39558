"""Companion process `hub_run --demo` starts for Xero: the sandbox organisation the demo's books go to."""

import sys
from pathlib import Path

from django.conf import settings

from connectors.xero.demo import DEMO_CREDENTIALS, DEMO_XERO_PORT
from hub.registry import ProcessSpec, register_process

STATE_FILE = Path(settings.VAR_DIR) / "xero-sandbox.json"

register_process(ProcessSpec(name="xero-sandbox", argv=[
    sys.executable, "manage.py", "xero_sandbox", "--port", str(DEMO_XERO_PORT), "--client-id", DEMO_CREDENTIALS["client_id"],
    "--client-secret", DEMO_CREDENTIALS["client_secret"], "--refresh-token", DEMO_CREDENTIALS["refresh_token"],
    "--tenant-id", DEMO_CREDENTIALS["tenant_id"], "--state-file", str(STATE_FILE)]))
