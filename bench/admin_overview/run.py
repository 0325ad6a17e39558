"""The admin index with its overview on 10 000 orders, on a fresh SQLite file (or --database-url).

    .venv/bin/python bench/admin_overview/run.py [--orders 10000] [--repeat 10] [--database-url postgres://…]

(--database-url: a database of its own; it is emptied first.)

Seeds orders over the last 30 days (two currencies, every status, every kind of hold reason),
invoices for half of them (half of those past due, some paid), 20 000 stock levels, 20
endpoints with 2 000 failed sync jobs and a few imports; then, logged in as a superuser through
Django's test client, asks for the admin index and, as the reference measured in the same run,
the sales-order list (100 rows, the page staff open next). Prints, per page, the median CPU
time of the process (time.process_time: the database's share is included on SQLite, not on
PostgreSQL) and wall time over --repeat requests, and the number of queries.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="hub-bench-overview-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["HUB_VAR_DIR"] = workdir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from catalog.models import Product
    from connectors.models import Endpoint, SyncJob
    from hub.imports.models import ImportJob
    from hub.models import SalesChannel
    from inventory.models import StockLevel, Warehouse
    from orders.models import Customer, Invoice, OrderStatus, Payment, SalesOrder

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # a --database-url used before starts empty again
    rng = random.Random(7)
    started = time.perf_counter()
    now = timezone.now()
    reasons = ["unknown SKU: X-1", "totals do not add up: lines 10.00 + shipping 0 − discounts 0 = 10.00, but the order says 12.00",
               "credit limit exceeded: 900.00 open + 200.00 > limit 1000.00", "price of LAMP-1 is 9.00, hub price 10.00 (tolerance 2%)",
               "insufficient stock: LAMP-1 short by 2", "held by admin from the admin"]
    statuses = [s for s in OrderStatus.values]
    with transaction.atomic():
        eur = SalesChannel.objects.create(code="web", name="Web", currency="EUR")
        usd = SalesChannel.objects.create(code="us", name="US", currency="USD")
        customer = Customer.objects.create(code="C1", name="Customer", currency="EUR")
        orders = []
        for n in range(args.orders):
            status = rng.choice(statuses)
            orders.append(SalesOrder(number=f"SO-{n:07d}", channel=usd if n % 7 == 0 else eur, customer=customer,
                                     currency="USD" if n % 7 == 0 else "EUR", status=status,
                                     hold_reason=rng.choice(reasons) if status == OrderStatus.ON_HOLD else "",
                                     total=Decimal(rng.randint(500, 50_000)) / 100))
        SalesOrder.objects.bulk_create(orders, batch_size=2000)
        spread = list(SalesOrder.objects.only("pk"))
        for order in spread:
            order.created_at = now - timedelta(minutes=rng.randint(0, 30 * 24 * 60))
        SalesOrder.objects.bulk_update(spread, ["created_at"], batch_size=2000)
        ids = list(SalesOrder.objects.values_list("pk", "currency", "total"))
        today = timezone.localdate()
        invoices, payments = [], []
        for index, (pk, currency, total) in enumerate(ids[::2]):
            due = today + timedelta(days=rng.randint(-30, 30))
            invoices.append(Invoice(number=f"INV-{index:07d}", order_id=pk, customer=customer, currency=currency,
                                    issued_on=due - timedelta(days=30), due_on=due, subtotal=total, total=total))
            if index % 3 == 0:
                payments.append(Payment(order_id=pk, amount=total, currency=currency, method="card", received_on=today))
        Invoice.objects.bulk_create(invoices, batch_size=2000)
        Payment.objects.bulk_create(payments, batch_size=2000)
        warehouses = [Warehouse.objects.create(code=f"WH{i}", name=f"Warehouse {i}") for i in range(4)]
        Product.objects.bulk_create((Product(sku=f"SKU{n:06d}", name=f"Product {n}", status="active") for n in range(5000)), batch_size=5000)
        StockLevel.objects.bulk_create((StockLevel(product_id=p, warehouse=w, on_hand=rng.randint(0, 30), reserved=rng.randint(0, 3))
                                        for p in Product.objects.values_list("pk", flat=True) for w in warehouses), batch_size=5000)
        endpoints = [Endpoint.objects.create(code=f"ep{i}", name=f"Endpoint {i}", kind="shopify", base_url=f"https://ep{i}.example.com")
                     for i in range(20)]
        SyncJob.objects.bulk_create((SyncJob(endpoint=endpoints[n % 20], flow="products", record_key=str(n), next_attempt_at=now,
                                             status=SyncJob.Status.FAILED if n % 5 == 0 else SyncJob.Status.DONE) for n in range(10_000)),
                                    batch_size=5000)
        for status in ["running", "pending", "succeeded"]:
            ImportJob.objects.create(resource="products", original_name="p.csv", status=status)
        User.objects.create_superuser("bench", "bench@example.com", "bench")
    print(f"data: {args.orders} orders, {len(invoices)} invoices, {len(payments)} payments, {StockLevel.objects.count()} stock levels, "
          f"{SyncJob.objects.count()} sync jobs ({time.perf_counter() - started:.1f}s, {connection.vendor})")

    client = Client()
    client.force_login(User.objects.get(username="bench"))
    pages = {"admin index (overview)": "/admin/", "reference: sales-order list": "/admin/orders/salesorder/"}
    for label, url in pages.items():
        assert client.get(url).status_code == 200  # warm-up
        cpu, wall = [], []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                c0, w0 = time.process_time(), time.perf_counter()
                response = client.get(url)
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
            assert response.status_code == 200
        print(f"{label:32s} CPU {statistics.median(cpu) * 1000:7.1f} ms  wall {statistics.median(wall) * 1000:7.1f} ms  "
              f"queries {len(queries.captured_queries)}")


if __name__ == "__main__":
    main()
