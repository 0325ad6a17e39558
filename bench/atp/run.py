"""Available-to-sell for 100 000 SKUs over 5 warehouses, on a fresh SQLite file.

    .venv/bin/python bench/atp/run.py [--skus 100000] [--repeat 5]

Prints the time of `inventory.selectors.available_to_sell` for one channel (median of
--repeat runs) next to a bare GROUP BY over the same table measured in the same run.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--warehouses", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="hub-bench-atp-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DEBUG", "1")  # development settings, as the recorded figures were measured
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from catalog.models import Product
    from hub.models import SalesChannel
    from inventory.models import StockLevel, Warehouse
    from inventory.selectors import available_to_sell
    from inventory.services import channel_stock_policy_set

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with transaction.atomic():
        warehouses = [Warehouse.objects.create(code=f"WH{i}", name=f"Warehouse {i}", priority=i) for i in range(args.warehouses)]
        Product.objects.bulk_create(
            (Product(sku=f"SKU{n:07d}", name=f"Product {n}", status="active") for n in range(args.skus)), batch_size=10_000
        )
        product_ids = list(Product.objects.values_list("id", flat=True))
        StockLevel.objects.bulk_create(
            (StockLevel(product_id=p, warehouse=w, on_hand=(p * 7 + i) % 50, reserved=(p + i) % 5)
             for p in product_ids for i, w in enumerate(warehouses)),
            batch_size=20_000,
        )
        channel = SalesChannel.objects.create(code="web", name="Web")
        channel_stock_policy_set(channel=channel, warehouses=warehouses, safety_buffer=2)
    print(f"data: {args.skus} SKUs x {args.warehouses} warehouses = {args.skus * args.warehouses} stock levels "
          f"(built in {time.perf_counter() - started:.1f}s, SQLite {workdir})")

    def bare_group_by():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT product_id, SUM(on_hand - reserved) FROM inventory_stocklevel GROUP BY product_id"
            )
            return cursor.fetchall()

    def timed(func):
        samples = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = func()
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples), result

    reference_s, reference_rows = timed(bare_group_by)
    atp_s, atp = timed(lambda: available_to_sell(channel=channel))
    assert len(atp) == args.skus and len(reference_rows) == args.skus
    print(f"reference  bare GROUP BY (raw SQL, no join, no clamp): {reference_s:.3f} s")
    print(f"available_to_sell(channel) for {len(atp)} SKUs:        {atp_s:.3f} s  "
          f"({atp_s / reference_s:.2f}x the reference; target < 2 s: {'met' if atp_s < 2 else 'MISSED'})")


if __name__ == "__main__":
    main()
