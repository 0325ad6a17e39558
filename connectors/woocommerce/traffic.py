"""A little shopper and merchant traffic for the demo WooCommerce shop, through its control API:
orders from new, returning and guest customers, a bank transfer arriving now and then, the odd
cancellation or partial refund (as if people used the shop and its back office)."""

import argparse
import random
import threading

import requests

PAYMENT_METHODS = ["stripe"] * 6 + ["bacs", "cod"]


def traffic_step(*, sandbox_url: str, rng: random.Random, session=requests) -> str:
    control = f"{sandbox_url}/_sandbox"
    state = session.get(f"{control}/state", timeout=5).json()
    if not state.get("skus"):
        return "the shop has nothing to sell yet"
    roll = rng.random()
    waiting = [o for o in state.get("awaiting_payment") or [] if o in (state.get("open_orders") or [])]
    if roll < 0.08 and waiting:
        order_id = rng.choice(waiting)
        return f"pay {order_id}: {session.post(f'{control}/orders/{order_id}/pay', timeout=5).status_code}"
    if roll < 0.13 and state.get("open_orders"):
        order_id = rng.choice(state["open_orders"])
        response = session.post(f"{control}/orders/{order_id}/cancel", json={"reason": "Annulée par le client."}, timeout=5)
        return f"cancel {order_id}: {response.status_code}"
    if roll < 0.19 and state.get("refundable_orders"):
        order_id = rng.choice(state["refundable_orders"])
        order = session.get(f"{control}/orders/{order_id}", timeout=5).json()
        line = rng.choice(order["line_items"])
        response = session.post(f"{control}/orders/{order_id}/refunds", timeout=5,
                                json={"lines": [{"line_item_id": line["id"], "quantity": 1}], "reason": "Retour client"})
        if response.status_code == 400:  # that line is already refunded in full: refund the first line instead
            response = session.post(f"{control}/orders/{order_id}/refunds", json={"reason": "Retour client"}, timeout=5)
        return f"refund 1 × {line['sku']} of {order_id}: {response.status_code}"
    customer = "returning" if state.get("customers") and rng.random() < 0.35 else rng.choice(["new", "new", "new", "guest"])
    body = {"customer": customer, "payment_method": rng.choice(PAYMENT_METHODS), "line_count": rng.choice([1, 1, 2, 2, 3, 4, 5])}
    if rng.random() < 0.1:
        body["coupon"] = "BIENVENUE10"
    response = session.post(f"{control}/orders", json=body, timeout=5)
    order_id = response.json().get("id") if response.status_code == 201 else "-"
    return f"order {order_id} ({customer}, {body['payment_method']}): {response.status_code}"


def run_traffic(*, sandbox_url: str, interval_seconds: float = 8.0, rng: random.Random | None = None,
                stop_event: threading.Event | None = None, log=print) -> None:
    rng = rng or random.Random()
    stop_event = stop_event or threading.Event()
    session = requests.Session()
    while not stop_event.is_set():
        try:
            log(traffic_step(sandbox_url=sandbox_url, rng=rng, session=session))
        except (requests.RequestException, ValueError) as exc:
            log(f"sandbox not reachable yet: {type(exc).__name__}")
        stop_event.wait(interval_seconds * rng.uniform(0.5, 1.5))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Place shopper orders (and the odd payment, cancellation or refund) in a WooCommerce sandbox.")
    parser.add_argument("--sandbox-url", required=True)
    parser.add_argument("--interval", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        run_traffic(sandbox_url=args.sandbox_url.rstrip("/"), interval_seconds=args.interval, rng=random.Random(args.seed),
                    log=lambda line: print(f"traffic: {line}", flush=True))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
