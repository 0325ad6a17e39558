"""Webhook intake: signed Shopify orders from 16 concurrent senders into the hub.

    .venv/bin/python bench/webhooks/run.py [--orders 2000] [--senders 16] [--backends sqlite,postgres]

For each backend, a fresh database, the hub under gunicorn and a real task cluster (`qcluster`;
SQLite uses the ORM broker, PostgreSQL the Redis broker). The senders POST distinct signed
`orders/create` webhooks (plus 5 % re-deliveries of the same webhook id) and measure:

- accepted per second: answered 2xx and stored in the inbox (answer latency p50 / p99);
- processed per second: from the start of the task cluster (after the intake, so that the two
  do not share the two cores) until every order exists in the hub;
- that nothing was lost or doubled (orders = distinct order ids, duplicates stored as such);
- the reference: the same senders POSTing the same bodies to a bare Django view on the same
  server in the same run.
"""

import argparse
import json
import os
import random
import secrets
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
SECRET = "bench-webhook-secret"
PORT = 18310
PG_URL = "postgres://postgres@127.0.0.1:5432/bench_webhooks"
REDIS_URL = "redis://127.0.0.1:6379/6"


def order_body(number: int, rng: random.Random) -> bytes:
    sku = f"BENCH-{rng.randint(0, 49):02d}"
    return json.dumps({
        "id": 5_000_000_000 + number, "name": f"#{10000 + number}", "email": f"buyer{number % 500}@example.com", "currency": "EUR",
        "financial_status": "paid", "taxes_included": True, "total_price": "29.90", "total_tax": "4.99",
        "created_at": "2026-11-23T10:00:00+01:00", "updated_at": "2026-11-23T10:00:00+01:00",
        "customer": {"id": 9_000_000 + number % 500, "email": f"buyer{number % 500}@example.com", "first_name": "Bench", "last_name": f"Buyer {number % 500}"},
        "shipping_address": {"first_name": "Bench", "last_name": "Buyer", "address1": "1 rue du Test", "zip": "69003", "city": "Lyon", "country_code": "FR"},
        "line_items": [{"id": number * 10, "variant_id": 1, "sku": sku, "title": sku, "quantity": 1, "price": "25.00",
                        "tax_lines": [{"title": "TVA", "price": "4.17", "rate": 0.2}], "discount_allocations": []}],
        "shipping_lines": [{"title": "Colissimo", "code": "COL", "price": "4.90", "tax_lines": [{"title": "TVA", "price": "0.82", "rate": 0.2}]}],
        "discount_codes": [], "cancelled_at": None}).encode()


def send_all(url: str, deliveries: list[tuple[bytes, dict]], senders: int) -> tuple[float, list[float], int]:
    """POST every delivery from `senders` threads; returns (wall seconds, latencies, non-2xx count)."""
    from connectors.shopify.webhooks import signature

    latencies, failures, lock = [], [0], threading.Lock()
    chunks = [deliveries[i::senders] for i in range(senders)]

    def sender(chunk):
        session = requests.Session()
        mine = []
        for body, headers in chunk:
            signed = {**headers, "X-Shopify-Hmac-Sha256": signature(SECRET, body)}
            t0 = time.perf_counter()
            response = session.post(url, data=body, headers=signed, timeout=30)
            mine.append(time.perf_counter() - t0)
            if response.status_code >= 300:
                with lock:
                    failures[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=sender, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, failures[0]


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run_backend(backend: str, orders: int, senders: int) -> dict:
    workdir = tempfile.mkdtemp(prefix=f"hub-bench-webhooks-{backend}-")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.webhooks.settings", "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(64),
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "HUB_VAR_DIR": workdir, "Q_WORKERS": "2", "LOG_LEVEL": "WARNING",
           "DB_CONN_MAX_AGE": "600"}
    if backend == "postgres":
        env.update(DATABASE_URL=PG_URL, REDIS_URL=REDIS_URL)
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", "DROP DATABASE IF EXISTS bench_webhooks"], check=True)
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", "CREATE DATABASE bench_webhooks"], check=True)
        subprocess.run(["redis-cli", "-n", "6", "FLUSHDB"], check=False, stdout=subprocess.DEVNULL)
    else:
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    seed = ("from catalog.models import Product; from inventory.models import Warehouse; from inventory.services import stock_receive_many;"
            "from hub.models import SalesChannel; from connectors.models import Endpoint;"
            "w = Warehouse.objects.create(code='LYON', name='Lyon');"
            "ps = [Product.objects.create(sku=f'BENCH-{n:02d}', name=f'Bench {n}', status='active') for n in range(50)];"
            "stock_receive_many(rows=[{'product': p, 'warehouse': w, 'quantity': 100000} for p in ps]);"
            "c = SalesChannel.objects.create(code='shopify', name='Shopify');"
            f"Endpoint.objects.create(kind='shopify', code='shop', name='Shop', base_url='http://127.0.0.1:9', channel=c, webhook_secret='{SECRET}')")
    subprocess.run([python, "manage.py", "shell", "-v", "0", "-c", seed], cwd=ROOT, env=env, check=True)
    log = open(Path(workdir) / "gunicorn.log", "w")
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "hub.wsgi:application", "-b", f"127.0.0.1:{PORT}", "-w", "2",
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
        deliveries = []
        for number in range(orders):
            body = order_body(number, rng)
            headers = {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": f"bench-{number}",
                       "X-Shopify-Shop-Domain": "bench.myshopify.com", "X-Shopify-API-Version": "2025-01"}
            deliveries.append((body, headers))
            if number % 20 == 0:
                deliveries.append((body, headers))  # a re-delivery of the same webhook
        warm = [(order_body(orders + n, rng), {"X-Shopify-Topic": "shop/update", "X-Shopify-Webhook-Id": f"warm-{n}"}) for n in range(64)]
        send_all(f"{base}/bench/bare/", warm, senders)
        bare_seconds, bare_latencies, _ = send_all(f"{base}/bench/bare/", deliveries, senders)

        counts = "from connectors.models import InboxMessage as I; from orders.models import SalesOrder as S; print(I.objects.count(), I.objects.filter(status='duplicate').count(), S.objects.count())"
        seconds, latencies, refused = send_all(f"{base}/webhooks/shop/", deliveries, senders)
        # Processing is measured on its own: on two cores, intake and order import running at
        # once share the CPU, and each figure would mostly measure the other.
        started = time.perf_counter()
        cluster = subprocess.Popen([python, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=log)
        deadline = time.perf_counter() + 600
        while True:
            stored, duplicates, created = map(int, subprocess.run([python, "manage.py", "shell", "-v", "0", "-c", counts], cwd=ROOT, env=env,
                                                                   check=True, capture_output=True, text=True).stdout.split()[-3:])
            if created >= orders or time.perf_counter() > deadline:
                break
            time.sleep(1)
        processed_seconds = time.perf_counter() - started
        return {"backend": backend, "deliveries": len(deliveries), "orders": orders, "accepted_per_s": len(deliveries) / seconds,
                "p50": pct(latencies, 0.5), "p99": pct(latencies, 0.99), "refused": refused, "stored": stored, "duplicates": duplicates,
                "created": created, "processed_per_s": created / processed_seconds, "bare_per_s": len(deliveries) / bare_seconds,
                "bare_p50": pct(bare_latencies, 0.5), "bare_p99": pct(bare_latencies, 0.99)}
    finally:
        for process in (server, cluster):
            if process is not None:
                process.terminate()
        for process in (p for p in (server, cluster) if p is not None):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}; gunicorn 2 workers × 4 threads; qcluster 2 workers; {args.senders} senders")
    rows = [run_backend(backend, args.orders, args.senders) for backend in args.backends.split(",")]
    print()
    print("| backend | deliveries (5 % re-sent) | accepted/s | p50 / p99 ms | bare view /s (p50 / p99 ms) | accepted ÷ bare | processed orders/s | orders created / distinct | duplicates stored | refused |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['deliveries']} | {r['accepted_per_s']:.0f} | {r['p50']:.1f} / {r['p99']:.1f} | {r['bare_per_s']:.0f} "
              f"({r['bare_p50']:.1f} / {r['bare_p99']:.1f}) | {r['accepted_per_s'] / r['bare_per_s']:.0%} | {r['processed_per_s']:.1f} | "
              f"{r['created']} / {r['orders']} | {r['duplicates']} | {r['refused']} |")


if __name__ == "__main__":
    main()
