"""Seed the price API benchmark data set (SQLite or PostgreSQL), fast: 100 000 products, 20 price lists,
500 000 price entries (COPY), 2 000 B2B customers on one channel, and a channel token.

    DJANGO_SETTINGS_MODULE=bench.price_api.settings python -m bench.price_api.seed OUT_DIR
"""

import io
import json
import random
import sys
import time
from pathlib import Path

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from catalog.models import ChannelCatalog, PriceEntry, PriceList, Product  # noqa: E402
from hub.services import api_token_create, sales_channel_get_or_create  # noqa: E402
from orders.models import Customer, CustomerGroup  # noqa: E402

PRODUCTS = 100_000
CUSTOMERS = 2_000
GROUPS = 5
GROUP_LISTS_PER_GROUP = 2
CUSTOMER_LISTS = 5
CONTRACTS = 3
B2B_ENTRIES = 300_000  # over the 18 non-public, non-derived lists, two breaks per product
BATCH = 10_000


def sku(n: int) -> str:
    return f"BENCH-{n:06d}"


def copy_rows(table: str, columns: list[str], rows) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})", list(rows))
        return
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())


def already_seeded() -> bool:
    return Product.objects.filter(sku=sku(PRODUCTS - 1)).exists() and PriceEntry.objects.count() >= 500_000


@transaction.atomic
def seed(rng: random.Random) -> None:
    now = timezone.now()
    channel, _ = sales_channel_get_or_create(code="bench-b2b", name="Bench B2B portal")
    products = [
        Product(sku=sku(n), name=f"Bench product {n}", status=Product.Status.ACTIVE, brand=f"Brand {n % 40}")
        for n in range(PRODUCTS)
    ]
    Product.objects.bulk_create(products, batch_size=BATCH)
    ids = dict(Product.objects.filter(sku__startswith="BENCH-").values_list("sku", "id"))
    product_ids = [ids[sku(n)] for n in range(PRODUCTS)]

    public = PriceList.objects.create(code="BENCH-PUBLIC", name="Public")
    derived = PriceList.objects.create(code="BENCH-PUBLIC-12", name="Public − 12 %", base_price_list=public, base_adjustment_percent=-12)
    ChannelCatalog.objects.update_or_create(channel=channel, defaults={"public_price_list": public})
    group_lists = [PriceList.objects.create(code=f"BENCH-GRP-{i}", name=f"Group list {i}", priority=i % 2)
                   for i in range(GROUPS * GROUP_LISTS_PER_GROUP)]
    customer_lists = [PriceList.objects.create(code=f"BENCH-CUST-{i}", name=f"Customer list {i}") for i in range(CUSTOMER_LISTS)]
    contract_lists = [PriceList.objects.create(code=f"BENCH-CONTRACT-{i}", name=f"Contract {i}") for i in range(CONTRACTS)]

    columns = ["price_list_id", "product_id", "min_quantity", "unit_price", "valid_from", "valid_to", "updated_at"]
    public_prices = [rng.randint(100, 50_000) for _ in range(PRODUCTS)]
    copy_rows("catalog_priceentry", columns, (
        (public.pk, pid, qty, f"{public_prices[i] * factor / 100:.4f}", None, None, now)
        for i, pid in enumerate(product_ids) for qty, factor in ((1, 1.0), (10, 0.95))
    ))
    b2b_lists = group_lists + customer_lists + contract_lists
    per_list, extra = divmod(B2B_ENTRIES // 2, len(b2b_lists))
    for index, price_list in enumerate(b2b_lists):
        chosen = rng.sample(range(PRODUCTS), per_list + (1 if index < extra else 0))
        copy_rows("catalog_priceentry", columns, (
            (price_list.pk, product_ids[i], qty, f"{public_prices[i] * factor / 100:.4f}", None, None, now)
            for i in chosen for qty, factor in ((1, 0.85), (20, 0.78))
        ))

    groups = [CustomerGroup.objects.create(code=f"BENCH-G{i}", name=f"Bench group {i}") for i in range(GROUPS)]
    for i, group in enumerate(groups):
        group.price_lists.add(*group_lists[i * GROUP_LISTS_PER_GROUP:(i + 1) * GROUP_LISTS_PER_GROUP])
        if i == 0:
            group.price_lists.add(derived)
    customers = Customer.objects.bulk_create([
        Customer(code=f"BC-{n:04d}", name=f"Bench customer {n}", type=Customer.Type.B2B, group=groups[n % GROUPS],
                 contract_price_list=contract_lists[n] if n < CONTRACTS else None)
        for n in range(CUSTOMERS)
    ], batch_size=BATCH)
    Customer.channels.through.objects.bulk_create(
        [Customer.channels.through(customer_id=c.pk, saleschannel_id=channel.pk) for c in customers], batch_size=BATCH)
    Customer.price_lists.through.objects.bulk_create(
        [Customer.price_lists.through(customer_id=c.pk, pricelist_id=customer_lists[n % CUSTOMER_LISTS].pk)
         for n, c in enumerate(customers) if n % 2 == 0], batch_size=BATCH)


def main(out_dir: Path) -> None:
    started = time.perf_counter()
    if already_seeded():
        print("data set already present")
    else:
        seed(random.Random(20261122))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"seeded in {time.perf_counter() - started:.1f}s")
    from hub.models import SalesChannel

    _, key = api_token_create(channel=SalesChannel.objects.get(code="bench-b2b"), name="bench")
    counts = {"products": Product.objects.count(), "price_lists": PriceList.objects.filter(code__startswith="BENCH-").count(),
              "price_entries": PriceEntry.objects.count(), "customers": Customer.objects.filter(code__startswith="BC-").count()}
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    (out_dir / "token").write_text(key)
    (out_dir / "counts.json").write_text(json.dumps(counts))


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    main(out)
