"""A little shopper traffic for the demo shop: orders now and then, a cancellation or a refund
from time to time, all through the sandbox's control API (as if people used the shop)."""

import random
import threading
import unicodedata

import requests

FIRST_NAMES = ["Camille", "Léa", "Hugo", "Louis", "Chloé", "Manon", "Jules", "Inès", "Lucas", "Emma"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]


def traffic_step(*, sandbox_url: str, rng: random.Random, session=requests) -> str:
    state = session.get(f"{sandbox_url}/_sandbox/state", timeout=5).json()
    skus = state.get("skus") or []
    if not skus:
        return "the shop has no products yet"
    roll = rng.random()
    open_orders = state.get("open_orders") or []
    if roll < 0.08 and open_orders:
        order_id = rng.choice(open_orders)
        response = session.post(f"{sandbox_url}/_sandbox/orders/{order_id}/cancel", json={"reason": "customer"}, timeout=5)
        return f"cancel {order_id}: {response.status_code}"
    if roll < 0.14 and open_orders:
        order_id = rng.choice(open_orders)
        order = session.get(f"{sandbox_url}/_sandbox/orders/{order_id}", timeout=5).json()["order"]
        item = rng.choice(order["line_items"])
        response = session.post(f"{sandbox_url}/_sandbox/orders/{order_id}/refunds",
                                json={"lines": [{"line_item_id": item["id"], "quantity": 1}], "restock": True, "note": "returned by the customer"}, timeout=5)
        return f"refund 1 × {item['sku']} of {order['name']}: {response.status_code}"
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 40)}@example.com"
    lines = [{"sku": sku, "quantity": rng.choice([1, 1, 1, 2, 3])} for sku in rng.sample(skus, k=min(len(skus), rng.randint(1, 3)))]
    response = session.post(f"{sandbox_url}/_sandbox/orders", json={"lines": lines, "email": email,
                                                                    "financial_status": "paid" if rng.random() < 0.9 else "pending"}, timeout=5)
    return f"order for {email}: {response.status_code}"


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def run_traffic(*, sandbox_url: str, interval_seconds: float = 8.0, rng: random.Random | None = None,
                stop_event: threading.Event | None = None, log=print) -> None:
    rng = rng or random.Random()
    stop_event = stop_event or threading.Event()
    while not stop_event.is_set():
        try:
            log(traffic_step(sandbox_url=sandbox_url, rng=rng))
        except requests.RequestException as exc:
            log(f"sandbox not reachable yet: {type(exc).__name__}")
        stop_event.wait(interval_seconds * rng.uniform(0.5, 1.5))
