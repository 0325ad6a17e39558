"""Demo only: the Loop Returns sandbox for `make run`. Once the hub answers, its shopper returns
one unit of the latest shipped web order with a unit still returnable, and a little later the
carrier scans the label."""

import threading
import time

import requests
from django.core.management.base import BaseCommand

from connectors.loop.demo import DEMO_API_KEY, DEMO_CHANNEL, DEMO_ENDPOINT, DEMO_WEBHOOK_SECRET
from connectors.loop.sandbox import LoopSandbox
from orders.models import SalesOrder
from returns.services import returnable_quantity


def demo_return_spec() -> dict | None:
    """A Loop return of one unit of the latest shipped web order with a unit still returnable."""
    orders = (SalesOrder.objects.filter(channel__code=DEMO_CHANNEL, status__in=["shipped", "partially_shipped", "completed"])
              .exclude(external_id="").order_by("-pk"))
    for order in orders[:50]:
        line = next((l for l in order.lines.all() if returnable_quantity(order_line=l) > 0), None)
        if line is not None:
            price = line.line_total / line.quantity
            return {"order_id": order.external_id, "order_name": order.external_id, "currency": order.currency,
                    "lines": [{"sku": line.sku, "price": f"{price:.2f}", "reason": "Too small", "parent_reason": "Size / fit"}]}
    return None


def shopper(sandbox: LoopSandbox, hub_url: str, *, first_after: float, label_after: float) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{hub_url.rstrip('/')}/healthz", timeout=2).status_code < 500:
                break
        except requests.RequestException:
            pass
        time.sleep(2)
    time.sleep(first_after)
    spec = demo_return_spec()
    if spec is None:
        return
    control = f"{sandbox.url}/_sandbox/returns"
    created = requests.post(control, json=spec, timeout=10).json()
    time.sleep(label_after)
    requests.post(f"{control}/{created['id']}/label", json={"carrier": "Colissimo", "tracking_number": "8R/DEMO-0001",
                                                           "status": "in_transit"}, timeout=10)


class Command(BaseCommand):
    help = "Demo: run the Loop Returns sandbox as the web shop's returns portal; its shopper starts one return."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8022)
        parser.add_argument("--hub-url", default="http://127.0.0.1:8000")
        parser.add_argument("--first-after", type=float, default=30.0)
        parser.add_argument("--label-after", type=float, default=30.0)

    def handle(self, *args, port, hub_url, first_after, label_after, **options):
        sandbox = LoopSandbox(api_key=DEMO_API_KEY, port=port, webhook_url=f"{hub_url.rstrip('/')}/webhooks/{DEMO_ENDPOINT}/",
                              webhook_secret=DEMO_WEBHOOK_SECRET, seed=None)
        threading.Thread(target=shopper, args=(sandbox, hub_url), kwargs={"first_after": first_after, "label_after": label_after},
                         daemon=True).start()
        self.stdout.write(f"Loop Returns sandbox (demo returns portal) on {sandbox.url}")
        sandbox.serve_forever()
