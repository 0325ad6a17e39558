"""Stock push: N changed SKUs to a Shopify sandbox shop at Shopify's standard limits.

    .venv/bin/python bench/stock_push/run.py [--skus 10000] [--runners 2]

A fresh SQLite hub with N published SKUs (their variants seeded in the sandbox, which runs in
its own process with the standard plan's limits: REST 40 requests leaking 2/s, GraphQL 2 000
points restoring 100/s). One receipt file changes the stock of every SKU; the change feed
queues N `stock.out` jobs and `--runners` engine runs push them. Printed:

- elapsed time from the first claim to the last job done, and the jobs left unfinished;
- requests, GraphQL points spent, 429s and THROTTLED answers (all must be handled);
- the minimum those limits allow: max(0, (points − bucket) / restore rate) — and, since a
  bucket that holds the whole push makes that 0, the round-trip floor measured in the same run
  (calls × median latency of one identical mutation / runners);
- what the same push would need over REST `inventory_levels/set.json` (one request per SKU at
  2 requests/s), for reference;
- a check that every SKU's level in the shop equals the hub's available-to-sell.

With `--reconcile`, one SKU in ten is then changed in the shop behind the hub's back and a
stock reconcile pass runs, one page of variants per run (`StockReconcile.page_size`): printed
are the runs, the longest run next to the task timeout (`Q_TIMEOUT`), the levels corrected and
the SKUs still differing.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
TOKEN = "shpat_bench"
PORT = 18410


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--runners", type=int, default=2)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--graphql-maximum", type=float, default=2000.0, help="Shop's GraphQL bucket (standard plan: 2000).")
    parser.add_argument("--graphql-restore", type=float, default=100.0, help="Points restored per second (standard plan: 100).")
    parser.add_argument("--reconcile", action="store_true", help="Then drift 1 SKU in 10 in the shop and run a reconcile pass.")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="hub-bench-stock-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DEBUG", "1")  # development settings, as the recorded figures were measured
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from catalog.models import Product
    from connectors import sync
    from connectors.models import Binding, Endpoint, SyncJob
    from connectors.shopify.connector import SET_QUANTITIES
    from hub.models import SalesChannel
    from inventory.models import Warehouse
    from inventory.selectors import available_to_sell
    from inventory.services import channel_stock_policy_set, stock_receive_many

    call_command("migrate", verbosity=0)
    shop_url = f"http://127.0.0.1:{args.port}"
    sandbox = subprocess.Popen([sys.executable, "manage.py", "shopify_sandbox", "--port", str(args.port), "--access-token", TOKEN,
                                "--graphql-maximum", str(args.graphql_maximum), "--graphql-restore", str(args.graphql_restore)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                requests.get(f"{shop_url}/_sandbox/state", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)

        started = time.perf_counter()
        with transaction.atomic():
            lyon = Warehouse.objects.create(code="LYON", name="Lyon")
            channel = SalesChannel.objects.create(code="shopify", name="Shopify")
            channel_stock_policy_set(channel=channel, warehouses=[lyon], safety_buffer=0)
            Product.objects.bulk_create((Product(sku=f"SKU{n:06d}", name=f"Product {n}", status="active") for n in range(args.skus)), batch_size=5000)
            endpoint = Endpoint.objects.create(kind="shopify", code="bench", name="Bench shop", base_url=shop_url, channel=channel,
                                               credentials={"access_token": TOKEN}, settings={"warehouse_map": {"LYON": "1001"}}, concurrency_limit=args.runners,
                                               enabled_flows=["stock.out"])
        products = dict(Product.objects.values_list("sku", "pk"))
        for start in range(0, args.skus, 2000):  # publish in the shop (seeding, not measured) and bind
            chunk = list(products)[start:start + 2000]
            created = requests.post(f"{shop_url}/_sandbox/products", timeout=120, json={"products": [
                {"title": sku, "variants": [{"sku": sku, "price": "10.00"}]} for sku in chunk]}).json()["products"]
            Binding.objects.bulk_create([Binding(endpoint=endpoint, model="variant", local_id=str(products[p["variants"][0]["sku"]]),
                                                 external_id=str(p["variants"][0]["id"]),
                                                 data={"sku": p["variants"][0]["sku"], "inventory_item_id": str(p["variants"][0]["inventory_item_id"])})
                                         for p in created])
        print(f"setup: {args.skus} SKUs published and bound in {time.perf_counter() - started:.1f} s (SQLite {workdir})")

        item = Binding.objects.first().data["inventory_item_id"]
        latencies = []
        for _ in range(5):  # reference: one identical 250-quantity mutation, measured in this run
            variables = {"input": {"name": "available", "reason": "correction", "ignoreCompareQuantity": True, "quantities": [
                {"inventoryItemId": f"gid://shopify/InventoryItem/{item}", "locationId": "gid://shopify/Location/1001", "quantity": 0}] * 250}}
            t0 = time.perf_counter()
            requests.post(f"{shop_url}/admin/api/2025-01/graphql.json", headers={"X-Shopify-Access-Token": TOKEN},
                          json={"query": SET_QUANTITIES, "variables": variables}, timeout=30).raise_for_status()
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.2)
        time.sleep(len(latencies) * 12 / args.graphql_restore + 0.5)  # let the bucket refill: the push starts with a full bucket
        before = requests.get(f"{shop_url}/_sandbox/state", timeout=10).json()["stats"]

        t0 = time.perf_counter()
        rows = [{"product": product, "warehouse": lyon, "quantity": 5 + product.pk % 40} for product in Product.objects.all()]
        stock_receive_many(rows=rows, source="bench")
        queued = SyncJob.objects.filter(flow="stock.out", status="pending").count()
        print(f"stock receipt of {args.skus} SKUs + {queued} jobs queued in {time.perf_counter() - t0:.1f} s")

        push_started = time.perf_counter()
        errors = []

        def runner():
            try:
                while SyncJob.objects.filter(flow="stock.out", status="pending").exists():
                    sync.sync_run(endpoint_id=endpoint.pk, flow_name="stock.out", budget_seconds=600)
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                from django.db import connection
                connection.close()

        threads = [threading.Thread(target=runner) for _ in range(args.runners if args.runners > 1 else 0)]
        if args.runners == 1:
            runner()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - push_started

        after = requests.get(f"{shop_url}/_sandbox/state", timeout=10).json()["stats"]
        delta = {key: after.get(key, 0) - before.get(key, 0) for key in set(after) | set(before)}
        calls = delta.get("POST graphql.json", 0)
        points = delta.get("graphql points", 0)
        throttled, too_many = delta.get("graphql throttled", 0), delta.get("429 sent", 0)
        bucket, restore = args.graphql_maximum, args.graphql_restore
        limit_floor = max(0.0, (points - bucket) / restore)
        rtt = statistics.median(latencies)
        trip_floor = (calls - throttled) * rtt / args.runners
        floor = max(limit_floor, trip_floor)
        left = SyncJob.objects.filter(flow="stock.out").exclude(status="done").count()

        wanted = available_to_sell(channel=channel, skus=list(products))
        bound = {b.data["inventory_item_id"]: b.data["sku"] for b in Binding.objects.filter(endpoint=endpoint, model="variant")}
        shown = shop_levels(shop_url, bound)
        mismatched = sum(1 for sku, units in wanted.items() if shown.get(sku) != units)

        print()
        print(f"| {args.skus} SKUs, {args.runners} runners | figure |")
        print("|---|---|")
        print(f"| elapsed (first claim → last job done) | {elapsed:.2f} s |")
        print(f"| GraphQL calls / points spent | {calls} / {points} |")
        print(f"| THROTTLED answers / 429s (all handled) | {throttled} / {too_many} |")
        print(f"| minimum allowed by the limits, max(0, (points − {bucket:.0f}) / {restore:.0f}/s) | {limit_floor:.2f} s |")
        print(f"| round-trip floor (calls × median {rtt * 1000:.0f} ms / {args.runners}) | {trip_floor:.2f} s |")
        print(f"| elapsed ÷ max(both floors) | {elapsed / floor:.2f} |" if floor else "| elapsed ÷ floor | n/a |")
        print(f"| same push over REST inventory_levels/set.json at 2 req/s (minimum) | {max(0, args.skus - 40) / 2:.0f} s |")
        print(f"| jobs not done / engine errors | {left} / {len(errors)} |")
        print(f"| SKUs whose shop level differs from the hub's available-to-sell | {mismatched} |")
        if args.reconcile:
            reconcile(args, shop_url, endpoint, channel, products, bound)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


def shop_levels(shop_url: str, bound: dict) -> dict:
    levels = requests.get(f"{shop_url}/_sandbox/inventory", timeout=60).json()["inventory_levels"]
    return {bound[str(r["inventory_item_id"])]: r["available"] for r in levels if r["location_id"] == 1001 and str(r["inventory_item_id"]) in bound}


def reconcile(args, shop_url, endpoint, channel, products, bound):
    from django.conf import settings

    from connectors import sync
    from connectors.commerce.flows import StockReconcile
    from connectors.models import SyncAttempt, SyncJob
    from connectors.shopify.connector import SET_QUANTITIES
    from inventory.selectors import available_to_sell

    items = sorted(bound)[::10]
    for start in range(0, len(items), 250):  # drift, as another app or a person in the shop would
        variables = {"input": {"name": "available", "reason": "correction", "ignoreCompareQuantity": True, "quantities": [
            {"inventoryItemId": f"gid://shopify/InventoryItem/{item}", "locationId": "gid://shopify/Location/1001", "quantity": 999}
            for item in items[start:start + 250]]}}
        for _ in range(50):
            answer = requests.post(f"{shop_url}/admin/api/2025-01/graphql.json", headers={"X-Shopify-Access-Token": TOKEN},
                                   json={"query": SET_QUANTITIES, "variables": variables}, timeout=30).json()
            if not answer.get("errors"):
                break
            time.sleep(1)
    Endpoint = type(endpoint)
    Endpoint.objects.filter(pk=endpoint.pk).update(enabled_flows=["stock.out", "stock.reconcile"])
    started = time.perf_counter()
    sync.sync_job_enqueue(endpoint=endpoint, flow="stock.reconcile", record_key=sync.SCHEDULED_KEY, label="bench")
    while SyncJob.objects.filter(flow="stock.reconcile", status="pending").exists():
        sync.sync_run(endpoint_id=endpoint.pk, flow_name="stock.reconcile", budget_seconds=1)
    elapsed = time.perf_counter() - started
    runs = list(SyncAttempt.objects.filter(job__flow="stock.reconcile").values_list("duration_ms", flat=True))
    outcomes = SyncJob.objects.filter(flow="stock.reconcile").values_list("status", "outcome")
    corrected = sum(int(outcome.split("corrected ")[1].split(";")[0]) for status, outcome in outcomes if status == "done")
    wanted = available_to_sell(channel=channel, skus=list(products))
    shown = shop_levels(shop_url, bound)
    print()
    print(f"| reconcile, {args.skus} variants, {StockReconcile.page_size} a run | figure |")
    print("|---|---|")
    print(f"| runs (pages) / failed | {len(runs)} / {SyncJob.objects.filter(flow='stock.reconcile').exclude(status='done').count()} |")
    print(f"| longest run / task timeout (Q_TIMEOUT) | {max(runs) / 1000:.1f} s / {settings.Q_CLUSTER['timeout']} s |")
    print(f"| whole pass | {elapsed:.1f} s |")
    print(f"| levels drifted in the shop / corrected | {len(items)} / {corrected} |")
    print(f"| SKUs whose shop level differs from the hub's available-to-sell | {sum(1 for sku, units in wanted.items() if shown.get(sku) != units)} |")


if __name__ == "__main__":
    main()
