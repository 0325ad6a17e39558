"""Running the sync engine in a test as the task cluster would."""

import time

from connectors import sync
from connectors.models import SyncJob


def drain(endpoint, *, until_seconds: float, flows=("products.out", "stock.out", "fulfilments.out"), pause: float = 0.5):
    """What the cluster does every tick: sweep, then run whatever is due, until nothing is left."""
    deadline = time.monotonic() + until_seconds
    while time.monotonic() < deadline:
        sync.sync_sweep()
        for flow in flows:
            sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=5)
        if not SyncJob.objects.filter(endpoint=endpoint, status__in=["pending", "running"]).exists():
            return
        time.sleep(pause)
