"""Orders released to a 3PL per minute, against what its rate limit allows, measured against the
3PL's sandbox in the same run.

    .venv/bin/python bench/threepl/run.py [--vendor shipbob|shipstation|both] [--orders N] [--runners 2]

A fresh SQLite hub with one 3PL warehouse mapped to the sandbox (in its own process, with the
vendor's published limit: ShipBob 150 requests per minute in a sliding window, ShipStation 40
per minute in fixed windows announced in X-Rate-Limit-*). N paid orders are imported (not
measured); their `orders.out` jobs are then released by `--runners` engine runs. Printed:

- elapsed time from the first claim to the last job done, the requests the 3PL saw and its 429s;
- orders released per minute, and what the limit allows at steady state (limit ÷ window × 60,
  one request per order): the target is within 10 % of it;
- the absolute floor for N requests under that limit, the first window's burst included
  (⌊(N − 1) / limit⌋ × window): the kernel's shared limiter paces instead of bursting, so short
  runs sit above it by about one window;
- a check that every order is at the 3PL exactly once.
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
LIMITS = {"shipbob": 150, "shipstation": 40}
DEFAULT_ORDERS = {"shipbob": 200, "shipstation": 80}
WINDOW = 60.0  # seconds, as both vendors publish


def start_sandbox(vendor: str, port: int, window: float):
    if vendor == "shipbob":
        argv = ["shipbob_sandbox", "--port", str(port), "--token", "bench-token", "--location", "1001=Bench", "--rate-window", str(window)]
    else:
        argv = ["shipstation_sandbox", "--port", str(port), "--api-key", "bench-key", "--api-secret", "bench-secret", "--warehouse",
                "2001=Bench", "--rate-window", str(window)]
    process = subprocess.Popen([sys.executable, "manage.py", *argv], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{url}/_sandbox/state", timeout=1)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"the {vendor} sandbox did not start")


def bench(vendor: str, *, orders: int, runners: int, window: float, port: int) -> dict:
    from django.db import connection

    from catalog.models import Product
    from connectors import sync
    from connectors.models import Endpoint, SyncJob
    from hub.models import SalesChannel
    from inventory.models import Warehouse
    from inventory.services import channel_stock_policy_set, stock_receive_many
    from orders.services import order_import

    sandbox, url = start_sandbox(vendor, port, window)
    try:
        location = "1001" if vendor == "shipbob" else "2001"
        warehouse = Warehouse.objects.create(code=f"3PL-{vendor.upper()}", name=vendor, kind=Warehouse.Kind.THIRD_PARTY)
        channel = SalesChannel.objects.create(code=f"web-{vendor}", name="Web")
        channel_stock_policy_set(channel=channel, warehouses=[warehouse])
        products = [Product.objects.get_or_create(sku=f"BENCH-{n:03d}", defaults={"name": f"Bench {n}", "status": "active"})[0]
                    for n in range(20)]
        stock_receive_many(rows=[{"product": p, "warehouse": warehouse, "quantity": orders * 2} for p in products], source="bench")
        if vendor == "shipbob":
            endpoint = Endpoint.objects.create(kind="shipbob", code="bench-shipbob", name="ShipBob", base_url=url,
                                               credentials={"token": "bench-token"}, concurrency_limit=runners,
                                               settings={"warehouse_map": {warehouse.code: location}, "channel_id": 100102},
                                               enabled_flows=["orders.out"])
        else:
            endpoint = Endpoint.objects.create(kind="shipstation", code="bench-shipstation", name="ShipStation", base_url=url,
                                               credentials={"api_key": "bench-key", "api_secret": "bench-secret"}, concurrency_limit=runners,
                                               settings={"warehouse_map": {warehouse.code: location}}, enabled_flows=["orders.out"])
        started = time.perf_counter()
        for n in range(orders):
            product = products[n % len(products)]
            order_import(channel=channel, data={
                "external_id": f"B{n:05d}", "currency": "EUR", "customer": {"external_id": f"c{n % 50}", "email": f"c{n % 50}@example.com"},
                "shipping_address": {"name": "Camille Martin", "line1": "3 rue des Lilas", "postcode": "69003", "city": "Lyon", "country": "FR"},
                "lines": [{"sku": product.sku, "name": product.name, "quantity": 1, "unit_price": "10.00"}], "total": "10.00",
                "payment_status": "paid"})
        queued = SyncJob.objects.filter(endpoint=endpoint, flow="orders.out", status="pending").count()
        print(f"{vendor}: {orders} orders imported, {queued} jobs queued in {time.perf_counter() - started:.1f} s", flush=True)
        before = requests.get(f"{url}/_sandbox/state", timeout=10).json()["stats"]

        errors = []

        def runner():
            try:
                while SyncJob.objects.filter(endpoint=endpoint, flow="orders.out", status="pending").exists():
                    sync.sync_run(endpoint_id=endpoint.pk, flow_name="orders.out", budget_seconds=3600)
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                connection.close()

        release_started = time.perf_counter()
        threads = [threading.Thread(target=runner) for _ in range(runners)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - release_started

        after = requests.get(f"{url}/_sandbox/state", timeout=10).json()
        stats = after["stats"]
        calls = sum(after_count - before.get(key, 0) for key, after_count in stats.items() if key.startswith("POST"))
        too_many = stats.get("429 sent", 0) - before.get("429 sent", 0)
        at_3pl = after["orders"]
        done = SyncJob.objects.filter(endpoint=endpoint, flow="orders.out", status="done").count()
        limit = LIMITS[vendor]
        allowed_per_minute = limit / window * 60
        measured_per_minute = orders / elapsed * 60
        floor = math.floor((orders - 1) / limit) * window
        return {"vendor": vendor, "orders": orders, "runners": runners, "window": window, "elapsed": elapsed, "calls": calls,
                "429": too_many, "per_minute": measured_per_minute, "allowed": allowed_per_minute,
                "ratio": measured_per_minute / allowed_per_minute, "floor": floor, "at_3pl": at_3pl, "done": done, "errors": len(errors)}
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vendor", choices=["shipbob", "shipstation", "both"], default="both")
    parser.add_argument("--orders", type=int, default=0, help="Orders per vendor (default: 200 ShipBob, 80 ShipStation).")
    parser.add_argument("--runners", type=int, default=2)
    parser.add_argument("--port", type=int, default=18420)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="hub-bench-3pl-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    vendors = ["shipbob", "shipstation"] if args.vendor == "both" else [args.vendor]
    results = [bench(vendor, orders=args.orders or DEFAULT_ORDERS[vendor], runners=args.runners, window=WINDOW,
                     port=args.port + index) for index, vendor in enumerate(vendors)]
    print()
    print("| 3PL | orders | elapsed | requests / 429s | orders per minute | allowed at steady state | ratio | floor for N (burst included) | at the 3PL once |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['vendor']} ({LIMITS[r['vendor']]} per {r['window']:.0f} s) | {r['orders']} | {r['elapsed']:.1f} s | {r['calls']} / {r['429']} | "
              f"{r['per_minute']:.1f} | {r['allowed']:.1f} | {r['ratio']:.1%} | {r['floor']:.0f} s | "
              f"{'yes' if r['at_3pl'] == r['orders'] == r['done'] and not r['errors'] else 'NO'} ({r['at_3pl']} orders, {r['done']} jobs done, {r['errors']} errors) |")


if __name__ == "__main__":
    main()
