"""Marketplace stock push: N changed merchant-fulfilled quantities to an Amazon sandbox seller
account at its usage plans.

    .venv/bin/python bench/marketplace_stock/run.py [--skus 10000] [--runners 2] [--rate 5 --burst 10]

A fresh SQLite hub with N SKUs listed on Amazon FR and bound (seeding, not measured); the SP-API
sandbox runs in its own process with `patchListingsItem` at `--rate` requests/s and a bucket of
`--burst` (Amazon's published plan: 5/s, burst 10). One receipt changes every SKU's stock; the
change feed queues N `stock.out` jobs and `--runners` engine runs push them, one Listings Items
PATCH per SKU. Printed: elapsed time from the first claim to the last job done; the minimum the
plan allows, (N − burst) / rate; the ratio; QuotaExceeded answers (all must be waited out); and
a check that every listing's quantity equals the hub's available-to-sell."""

import argparse
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
PORT = 18431
FR = "A13V1IB3VIYZZH"
CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, SELLER = "amzn1.application-oa2-client.test", "secret", "Atzr|test", "A1SELLERTEST"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--runners", type=int, default=2)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--rate", type=float, default=5.0, help="patchListingsItem requests per second (published: 5).")
    parser.add_argument("--burst", type=int, default=10, help="patchListingsItem burst (published: 10).")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="hub-bench-marketplace-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from catalog.models import Product
    from connectors import sync
    from connectors.models import Binding, Endpoint, SyncJob
    from hub.models import SalesChannel
    from inventory.models import Warehouse
    from inventory.selectors import available_to_sell
    from inventory.services import channel_stock_policy_set, stock_receive_many

    call_command("migrate", verbosity=0)
    url = f"http://127.0.0.1:{args.port}"
    sandbox = subprocess.Popen([sys.executable, "-m", "connectors.amazon.sandbox", "--port", str(args.port),
                                "--quota", f"patchListingsItem={args.rate}/{args.burst}"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                requests.get(f"{url}/_sandbox/state", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        started = time.perf_counter()
        with transaction.atomic():
            lyon = Warehouse.objects.create(code="LYON", name="Lyon")
            channel = SalesChannel.objects.create(code="amazon-fr", name="Amazon FR", kind="marketplace")
            channel_stock_policy_set(channel=channel, warehouses=[lyon], safety_buffer=0)
            Product.objects.bulk_create((Product(sku=f"SKU{n:06d}", name=f"Product {n}", status="active") for n in range(args.skus)),
                                        batch_size=5000)
            endpoint = Endpoint.objects.create(
                kind="amazon", code="bench", name="Bench Amazon", base_url=url, channel=channel, concurrency_limit=args.runners,
                credentials={"refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
                settings={"seller_id": SELLER, "marketplaces": {"FR": "amazon-fr"}, "stock_warehouses": "LYON",
                          "token_url": f"{url}/auth/o2/token"}, enabled_flows=["stock.out"])
            products = dict(Product.objects.values_list("sku", "pk"))
            Binding.objects.bulk_create([Binding(endpoint=endpoint, model="variant", local_id=str(pk), external_id=sku,
                                                 data={"sku": sku, "product": sku}) for sku, pk in products.items()], batch_size=5000)
        skus = list(products)
        for start in range(0, len(skus), 5000):
            requests.post(f"{url}/_sandbox/listings", json={"skus": skus[start:start + 5000], "marketplaces": [FR]}, timeout=60).raise_for_status()
        print(f"setup: {args.skus} SKUs listed on Amazon FR and bound in {time.perf_counter() - started:.1f} s (SQLite {workdir})")

        t0 = time.perf_counter()
        stock_receive_many(rows=[{"product": product, "warehouse": lyon, "quantity": 5 + product.pk % 40} for product in Product.objects.all()],
                           source="bench")
        queued = SyncJob.objects.filter(flow="stock.out", status="pending").count()
        print(f"stock receipt of {args.skus} SKUs + {queued} jobs queued in {time.perf_counter() - t0:.1f} s")
        before = requests.get(f"{url}/_sandbox/state", timeout=10).json()["stats"]

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

        after = requests.get(f"{url}/_sandbox/state", timeout=10).json()["stats"]
        calls = after.get("patchListingsItem", 0) - before.get("patchListingsItem", 0)
        refused = after.get("QuotaExceeded patchListingsItem", 0) - before.get("QuotaExceeded patchListingsItem", 0)
        floor = max(0.0, (queued - args.burst) / args.rate)
        left = SyncJob.objects.filter(flow="stock.out").exclude(status="done").count()
        shown = {sku: listing["quantity"].get(FR) for sku, listing in
                 requests.get(f"{url}/_sandbox/listings", timeout=120).json()["listings"].items()}
        wanted = available_to_sell(channel=channel, skus=skus, warehouse_codes={"LYON"})
        wrong = sum(shown.get(sku) != units for sku, units in wanted.items())
        print(f"push: {queued} quantities in {elapsed:.1f} s with {args.runners} runners; {left} jobs not done; errors: {errors or 'none'}")
        print(f"requests: {calls} patchListingsItem, {refused} QuotaExceeded (waited out)")
        print(f"minimum at {args.rate:g}/s, burst {args.burst}: {floor:.1f} s; measured/minimum = {elapsed / floor if floor else float('nan'):.3f}")
        print(f"check: {len(wanted) - wrong}/{len(wanted)} listings show the hub's available-to-sell")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
