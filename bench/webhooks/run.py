"""Orders per second: signed Shopify orders from 16 concurrent senders into the hub, then the task
cluster turning them into allocated orders.

    .venv/bin/python bench/webhooks/run.py [--orders 2000] [--senders 16] [--backends sqlite,postgres]

For each backend: a fresh database, the hub under gunicorn (2 workers × 4 threads) and a real
task cluster (`qcluster`, 2 workers; SQLite uses the ORM broker, PostgreSQL the Redis broker).
The orders have 1–5 lines and come from 500 buyers (new, then returning customers); a 3PL
endpoint serves the warehouse, so every allocated order also writes a sync job. Phases:

1. reference: the senders POST every delivery to `/bench/bare/`, a Django view with no
   middleware that reads the body and answers 200, on the same server;
2. intake: the same deliveries (plus 5 % re-deliveries of the same webhook ids) to the webhook
   URL, with the task cluster stopped: accepted per second, answer p50 / p99;
3. processing: the task cluster starts on that backlog; orders processed per second until the
   last one is allocated, and the CPU the cluster's processes (and PostgreSQL's backends) spent
   per order;
4. at a steady rate (60 % of what phase 3 reached) with the cluster running: time from a
   delivery's acceptance to its order's allocation, p50 / p99; in the middle of it, 16 buyers
   at once for the last 5 units of one product;
5. checks: every distinct order exactly once, re-deliveries stored as duplicates, order numbers
   gapless, the 5 units sold exactly once, reserved = the sum of reservations everywhere,
   `stock_check` clean, no failed delivery;
6. probe: statements and CPU per delivery and per order, in one process (`bench.webhooks.probe`).
"""

import argparse
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SECRET = "bench-webhook-secret"
PORT = int(os.environ.get("BENCH_PORT", "18310"))
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_webhooks")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")


def order_body(number: int, rng: random.Random, *, skus: int = 50) -> bytes:
    """A paid Shopify order of 1–5 lines (quantities 1–3) from one of 500 buyers, so that most
    orders come from returning customers; its totals add up as Shopify's do (prices include tax)."""
    buyer = number % 500
    lines, subtotal = [], Decimal(0)
    for position, sku_number in enumerate(rng.sample(range(skus), rng.randint(1, 5))):
        sku, quantity, price = f"BENCH-{sku_number:02d}", rng.randint(1, 3), Decimal(10 + sku_number) + Decimal("0.90")
        tax = (price * quantity / 6).quantize(Decimal("0.01"))
        subtotal += price * quantity
        lines.append({"id": number * 10 + position, "variant_id": 1 + sku_number, "sku": sku, "title": sku, "quantity": quantity,
                      "price": str(price), "tax_lines": [{"title": "TVA", "price": str(tax), "rate": 0.2}], "discount_allocations": []})
    total = subtotal + Decimal("4.90")
    return json.dumps({
        "id": 5_000_000_000 + number, "name": f"#{10000 + number}", "email": f"buyer{buyer}@example.com", "currency": "EUR",
        "financial_status": "paid", "taxes_included": True, "total_price": str(total), "total_tax": str((total / 6).quantize(Decimal("0.01"))),
        "created_at": "2026-11-23T10:00:00+01:00", "updated_at": "2026-11-23T10:00:00+01:00",
        "customer": {"id": 9_000_000 + buyer, "email": f"buyer{buyer}@example.com", "first_name": "Bench", "last_name": f"Buyer {buyer}"},
        "shipping_address": {"first_name": "Bench", "last_name": "Buyer", "address1": "1 rue du Test", "zip": "69003", "city": "Lyon", "country_code": "FR"},
        "line_items": lines,
        "shipping_lines": [{"title": "Colissimo", "code": "COL", "price": "4.90", "tax_lines": [{"title": "TVA", "price": "0.82", "rate": 0.2}]}],
        "discount_codes": [], "cancelled_at": None}).encode()


def send_all(url: str, deliveries: list[tuple[bytes, dict]], senders: int, *, rate: float | None = None) -> tuple[float, list[float], int]:
    """POST every delivery from `senders` threads (at `rate` per second in all, when given);
    returns (wall seconds, answer latencies, non-2xx count)."""
    from connectors.shopify.webhooks import signature

    latencies, failures, lock = [], [0], threading.Lock()
    chunks = [list(enumerate(deliveries))[i::senders] for i in range(senders)]
    started = time.perf_counter()

    def sender(chunk):
        session = requests.Session()
        mine = []
        for index, (body, headers) in chunk:
            if rate:
                delay = started + index / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            signed = {**headers, "X-Shopify-Hmac-Sha256": signature(SECRET, body)}
            t0 = time.perf_counter()
            try:
                status = session.post(url, data=body, headers=signed, timeout=60).status_code
            except requests.RequestException:
                status = 0  # counted as refused; the checks then show what is missing
            mine.append(time.perf_counter() - t0)
            if not 200 <= status < 300:
                with lock:
                    failures[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=sender, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, failures[0]


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


TICKS = os.sysconf("SC_CLK_TCK")


def _processes():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            yield int(entry), int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS, cmdline


def cpu_seconds(root_pid: int, db_name: str | None) -> tuple[float, float]:
    """CPU seconds (user + system) so far of `root_pid` and its descendants, and of the
    PostgreSQL backends serving `db_name`."""
    procs = list(_processes())
    children: dict[int, list[int]] = {}
    for pid, ppid, _, _ in procs:
        children.setdefault(ppid, []).append(pid)
    tree, stack = set(), [root_pid]
    while stack:
        pid = stack.pop()
        tree.add(pid)
        stack.extend(children.get(pid, []))
    own = sum(cpu for pid, _, cpu, _ in procs if pid in tree)
    backends = sum(cpu for _, _, cpu, cmdline in procs if db_name and cmdline.startswith("postgres:") and f" {db_name} " in cmdline)
    return own, backends


SEED = """
from catalog.models import Product; from inventory.models import Warehouse; from inventory.services import stock_receive_many
from hub.models import SalesChannel; from connectors.models import Endpoint
w = Warehouse.objects.create(code='LYON', name='Lyon', country='FR')
ps = [Product.objects.create(sku=f'BENCH-{n:02d}', name=f'Bench {n}', status='active') for n in range(50)]
last = Product.objects.create(sku='BENCH-LAST', name='The last five', status='active')
stock_receive_many(rows=[{'product': p, 'warehouse': w, 'quantity': 1000000} for p in ps] + [{'product': last, 'warehouse': w, 'quantity': 5}])
c = SalesChannel.objects.create(code='shopify', name='Shopify')
Endpoint.objects.create(kind='shopify', code='shop', name='Shop', base_url='http://127.0.0.1:9', channel=c, webhook_secret='%s')
Endpoint.objects.create(kind='shipbob', code='3pl', name='3PL', base_url='http://127.0.0.1:9', settings={'warehouse_map': {'LYON': '1'}},
                        credentials={'token': 'bench'})
"""

CHECKS = """
import json, subprocess, sys
from django.db.models import Count, Sum
from connectors.models import InboxMessage as I, SyncJob
from hub.models import TimelineEvent
from inventory.models import Reservation, StockLevel
from orders.models import SalesOrder as S
latency = []
received = dict(I.objects.filter(delivery_id__startswith='steady-').values_list('delivery_id', 'received_at'))
orders = {o.external_id: o for o in S.objects.filter(external_id__in=[str(5_000_000_000 + int(d.split('-')[1])) for d in received])}
allocated = dict(TimelineEvent.objects.filter(event='allocated', object_id__in=[str(o.pk) for o in orders.values()]).values_list('object_id', 'created_at'))
for delivery, at in received.items():
    order = orders.get(str(5_000_000_000 + int(delivery.split('-')[1])))
    if order is not None and str(order.pk) in allocated:
        latency.append((allocated[str(order.pk)] - at).total_seconds())
numbers = sorted(int(n.split('-')[1]) for n in S.objects.values_list('number', flat=True))
reserved = {(l['product_id'], l['warehouse_id']): l['s'] for l in Reservation.objects.values('product_id', 'warehouse_id').annotate(s=Sum('quantity'))}
drift = [l.pk for l in StockLevel.objects.all() if l.reserved != reserved.get((l.product_id, l.warehouse_id), 0) or l.reserved > l.on_hand]
last = S.objects.filter(lines__sku='BENCH-LAST').distinct()
print(json.dumps({
    'orders': S.objects.count(), 'distinct': S.objects.values('channel', 'external_id').distinct().count(),
    'statuses': dict(S.objects.values_list('status').annotate(n=Count('id')).values_list('status', 'n')),
    'inbox': dict(I.objects.values_list('status').annotate(n=Count('id')).values_list('status', 'n')),
    'gapless': numbers == list(range(1, len(numbers) + 1)),
    'last_allocated': last.filter(status='allocated').count(), 'last_held': last.filter(status='on_hold').count(),
    'last_reserved': StockLevel.objects.get(product__sku='BENCH-LAST').reserved,
    'reserved_drift': len(drift), 'sync_jobs': SyncJob.objects.count(),
    'latency': sorted(latency), 'steady': len(received),
}))
"""


def shell(python, env, code: str) -> str:
    return subprocess.run([python, "manage.py", "shell", "-v", "0", "-c", code], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def deliveries_for(numbers, rng, *, prefix="bench", resend_every=0):
    out = []
    for number in numbers:
        body = order_body(number, rng)
        headers = {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": f"{prefix}-{number}",
                   "X-Shopify-Shop-Domain": "bench.myshopify.com", "X-Shopify-API-Version": "2025-01"}
        out.append((body, headers))
        if resend_every and number % resend_every == 0:
            out.append((body, headers))  # a re-delivery of the same webhook
    return out


def last_units_body(number: int) -> bytes:
    """One unit of the product that has 5 left."""
    data = json.loads(order_body(number, random.Random(number)))
    data["line_items"] = [{"id": number * 10, "variant_id": 99, "sku": "BENCH-LAST", "title": "Last", "quantity": 1, "price": "25.00",
                           "tax_lines": [{"title": "TVA", "price": "4.17", "rate": 0.2}], "discount_allocations": []}]
    data["total_price"], data["total_tax"] = "29.90", "4.98"
    return json.dumps(data).encode()


def done_count(backend: str, workdir: str) -> int:
    """Orders allocated or held so far, read directly (a `manage.py shell` per poll would cost
    the machine more CPU than the orders it is waiting for)."""
    sql = "SELECT count(*) FROM orders_salesorder WHERE status IN ('allocated', 'on_hold')"
    if backend == "postgres":
        import psycopg

        with psycopg.connect(PG_URL) as connection:
            return connection.execute(sql).fetchone()[0]
    import sqlite3

    connection = sqlite3.connect(f"file:{Path(workdir) / 'hub.sqlite3'}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()


def wait_for(backend: str, workdir: str, wanted: int, timeout: float) -> int:
    deadline = time.perf_counter() + timeout
    while True:
        done = done_count(backend, workdir)
        if done >= wanted or time.perf_counter() > deadline:
            return done
        time.sleep(0.25)


def run_backend(backend: str, orders: int, senders: int) -> dict:
    workdir = tempfile.mkdtemp(prefix=f"hub-bench-webhooks-{backend}-")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.webhooks.settings", "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(64),
           "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver", "HUB_VAR_DIR": workdir, "Q_WORKERS": "2", "LOG_LEVEL": "WARNING",
           "DB_CONN_MAX_AGE": "600"}
    db_name = None
    if backend == "postgres":
        db_name = PG_URL.rsplit("/", 1)[1]
        env.update(DATABASE_URL=PG_URL, REDIS_URL=REDIS_URL)
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", f"DROP DATABASE IF EXISTS {db_name}"], check=True)
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", f"CREATE DATABASE {db_name}"], check=True)
        subprocess.run(["redis-cli", "-n", REDIS_URL.rsplit("/", 1)[1], "FLUSHDB"], check=False, stdout=subprocess.DEVNULL)
    else:
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    shell(python, env, SEED % SECRET)
    log = open(Path(workdir) / "server.log", "w")
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "bench.webhooks.wsgi:application", "-b", f"127.0.0.1:{PORT}", "-w", "2",
                               "--worker-class", "gthread", "--threads", "4", "--access-logfile", "/dev/null"],
                              cwd=ROOT, env=env, stdout=log, stderr=log)
    cluster = None
    base = f"http://127.0.0.1:{PORT}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        rng = random.Random(7)
        deliveries = deliveries_for(range(orders), rng, resend_every=20)
        warm = deliveries_for(range(orders, orders + 64), rng, prefix="warm")
        send_all(f"{base}/bench/bare/", warm, senders)
        bare_seconds, bare_latencies, _ = send_all(f"{base}/bench/bare/", deliveries, senders)
        seconds, latencies, refused = send_all(f"{base}/webhooks/shop/", deliveries, senders)

        # Processing on its own: on two cores, intake and processing at once would mostly
        # measure each other.
        cluster = subprocess.Popen([python, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=log)
        started = time.perf_counter()
        pg_before = cpu_seconds(cluster.pid, db_name)[1]
        done = wait_for(backend, workdir, orders, 900)
        processed_seconds = time.perf_counter() - started
        cluster_cpu, pg_after = cpu_seconds(cluster.pid, db_name)

        # Steady rate with the cluster running: accepted → allocated.
        rate = max(5.0, 0.6 * done / processed_seconds)
        steady_count = int(min(max(rate * 15, 100), 1500))
        steady = deliveries_for(range(orders + 1000, orders + 1000 + steady_count), rng, prefix="steady")
        rush = [(last_units_body(900_000 + n), {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
                                                "X-Shopify-Webhook-Id": f"rush-{n}", "X-Shopify-Shop-Domain": "bench.myshopify.com"})
                for n in range(16)]
        rush_thread = threading.Thread(target=lambda: (time.sleep(steady_count / rate / 2), send_all(f"{base}/webhooks/shop/", rush, 16)))
        rush_thread.start()
        _, steady_latencies, steady_refused = send_all(f"{base}/webhooks/shop/", steady, senders, rate=rate)
        rush_thread.join()
        wait_for(backend, workdir, orders + steady_count + 16, 300)
        checks = json.loads(shell(python, env, CHECKS).strip().splitlines()[-1])
        stock_check = subprocess.run([python, "manage.py", "stock_check"], cwd=ROOT, env=env, capture_output=True, text=True)
    finally:
        for process in (server, cluster):
            if process is not None:
                process.terminate()
        for process in (p for p in (server, cluster) if p is not None):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    probe = json.loads(subprocess.run([python, "-m", "bench.webhooks.probe", "60", str(orders + 5000)], cwd=ROOT, env=env, check=True,
                                      capture_output=True, text=True).stdout.strip().splitlines()[-1])
    latency = checks.pop("latency")
    return {"backend": backend, "deliveries": len(deliveries), "orders": orders, "accepted_per_s": len(deliveries) / seconds,
            "p50": pct(latencies, 0.5), "p99": pct(latencies, 0.99), "refused": refused + steady_refused,
            "bare_per_s": len(deliveries) / bare_seconds, "bare_p50": pct(bare_latencies, 0.5), "bare_p99": pct(bare_latencies, 0.99),
            "processed": done, "processed_per_s": done / processed_seconds, "cluster_cpu_ms": cluster_cpu * 1000 / max(done, 1),
            "pg_cpu_ms": (pg_after - pg_before) * 1000 / max(done, 1) if db_name else None,
            "rate": rate, "steady_answer_p99": pct(steady_latencies, 0.99), "alloc_p50": pct(latency, 0.5), "alloc_p99": pct(latency, 0.99),
            "alloc_measured": len(latency), "stock_check": stock_check.returncode == 0, "checks": checks, "probe": probe}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the server and the cluster on the way out
    load_before = os.getloadavg()[0]
    print(f"load average before: {load_before:.2f}; gunicorn 2 workers × 4 threads; qcluster 2 workers; {args.senders} senders", flush=True)
    rows = []
    for backend in args.backends.split(","):
        rows.append(run_backend(backend, args.orders, args.senders))
        print(f"{backend} done; load average {os.getloadavg()[0]:.2f}", flush=True)
    print()
    print("| backend | bare view /s (p50 / p99 ms) | accepted /s (p50 / p99 ms) | accepted ÷ bare | processed orders/s | cluster CPU ms/order "
          "| PostgreSQL CPU ms/order | steady rate /s | accepted → allocated p50 / p99 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        pg = f"{r['pg_cpu_ms']:.1f}" if r["pg_cpu_ms"] is not None else "—"
        print(f"| {r['backend']} | {r['bare_per_s']:.0f} ({r['bare_p50']:.1f} / {r['bare_p99']:.1f}) | {r['accepted_per_s']:.0f} "
              f"({r['p50']:.1f} / {r['p99']:.1f}) | **{r['accepted_per_s'] / r['bare_per_s']:.2f}** | **{r['processed_per_s']:.1f}** "
              f"| {r['cluster_cpu_ms']:.1f} | {pg} | {r['rate']:.0f} | {r['alloc_p50']:.0f} / **{r['alloc_p99']:.0f} ms** |")
    print()
    print("| backend | statements per delivery (intake) | CPU ms per delivery (view, in process) | statements per order | CPU ms per order (in process) | lines per order |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        p = r["probe"]
        print(f"| {r['backend']} | {p['intake_queries']:.1f} | {p['intake_cpu_ms']:.2f} | {p['process_queries']:.1f} | {p['process_cpu_ms']:.1f} | {p['lines_per_order']:.1f} |")
    print()
    for r in rows:
        c = r["checks"]
        ok = (c["distinct"] == c["orders"] and c["gapless"] and c["last_allocated"] == 5 and c["last_reserved"] == 5 and c["reserved_drift"] == 0
              and r["stock_check"] and not c["inbox"].get("failed") and not r["refused"] and c["inbox"].get("received", 0) == 0)
        print(f"{r['backend']}: {'OK' if ok else 'PROBLEM'} — {c['orders']} orders for {c['distinct']} distinct ids; statuses {c['statuses']}; "
              f"inbox {c['inbox']}; numbers gapless: {c['gapless']}; 16 buyers for the last 5 units: {c['last_allocated']} allocated, "
              f"{c['last_held']} held, {c['last_reserved']} reserved; levels whose reserved differs from their reservations: {c['reserved_drift']}; "
              f"stock_check clean: {r['stock_check']}; sync jobs written: {c['sync_jobs']}; refused: {r['refused']}; "
              f"latency measured on {r['alloc_measured']} of {c['steady']} steady orders")
    print(f"load average after: {os.getloadavg()[0]:.2f} (before: {load_before:.2f})")


if __name__ == "__main__":
    main()
