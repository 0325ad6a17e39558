"""The price API as installed: `manage.py hub_run --production` (hub/gunicorn_conf.py), DEBUG=0,
no tuning variables, on SQLite then PostgreSQL. wrk drives each case; every figure is printed
next to its reference from the same run: a bare Django view without middleware on the same
server (and, second, the same view through the hub's middleware). See bench/price_api/run.sh."""

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUT = ROOT / "bench" / "out" / "price_api"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
DATABASES = {"sqlite": f"sqlite:///{OUT / 'bench.sqlite3'}",
             "postgresql": os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h_price_bench")}
IMPORT_ROWS = 10_000


def ensure_database(url: str) -> None:
    if url.startswith("postgres"):
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(base: str, script: str, token: str, duration: int, name: str, **env) -> dict:
    cmd = ["wrk", "-t1", "-c16", f"-d{duration}s", "--latency", "-s", str(HERE / script), "-H", f"Authorization: Token {token}", base]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, **env}).stdout
    (OUT / f"{name}.txt").write_text(text)
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))}
    for pct in ("50", "99"):
        result[f"p{pct}"] = to_ms(re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", text, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    result["errors"] = int(bad.group(1)) if bad else 0
    return result


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def run_database(vendor: str, args, env: dict) -> list[str]:
    url = DATABASES[vendor]
    env = {**env, "DATABASE_URL": url}
    ensure_database(url)
    print(f"\n== {vendor}: {url.split('@')[-1]} — migrating and seeding (first run takes a few minutes)", flush=True)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([PYTHON, "-m", "bench.price_api.seed", str(OUT)], cwd=ROOT, env=env, check=True)
    token = (OUT / "token").read_text().strip()
    prices = [OUT / f"prices-{n}.csv" for n in (0, 1)]
    for n, path in enumerate(prices):
        path.write_text("price_list,sku,unit_price\n" + "".join(f"BENCH-PUBLIC,BENCH-{i:06d},{10 + n + i % 90}.{n}0\n"
                                                                for i in range(IMPORT_ROWS)))
    base = f"http://127.0.0.1:{args.port}"
    log = open(OUT / f"server-{vendor}.log", "w")
    server = subprocess.Popen([PYTHON, "manage.py", "hub_run", "--production", "--no-migrate", "--bind", f"127.0.0.1:{args.port}"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    results, lines = {}, []
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/bench/bare/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"the server did not start; see {log.name}")
        print(next((line.strip() for line in open(log.name) if line.startswith("gunicorn on")), ""), flush=True)
        cases = [("bare view, no middleware", "bare.lua", {}), ("bare view, hub middleware", "bare.lua", {"BARE_PATH": "/bench/bare-stack/"}),
                 ("1-SKU GET", "get1.lua", {}), ("48-SKU GET", "get48.lua", {})]
        for label, script, extra in cases:
            wrk(base, script, token, args.warmup, "warmup", **extra)
            results[label] = r = wrk(base, script, token, args.duration, f"{vendor}-{script}-{len(results)}", **extra)
            print(f"{label:<28} {r['rps']:>8.0f} req/s   p50 {r['p50']:>6.2f} ms   p99 {r['p99']:>6.2f} ms"
                  + (f"   NON-2XX {r['errors']}" if r["errors"] else ""), flush=True)
        # Price imports of 10 000 rows back to back (each changes every row) beside the 1-SKU GETs,
        # against the 1-SKU GETs just before (the workers' caches as warm).
        results["1-SKU GET idle"] = idle = wrk(base, "get1.lua", token, args.duration, f"{vendor}-get1-idle")
        importer = subprocess.Popen(["bash", "-c", f"while :; do for f in {prices[0]} {prices[1]}; do {PYTHON} manage.py hub_import "
                                     f"prices $f --no-progress >/dev/null && echo done || echo failed; done; done"],
                                    cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
        first = time.monotonic()
        if importer.stdout.readline().strip() != "done":  # the first import is done: from now on one is always running
            raise SystemExit("the price import failed: run it by hand to see why")
        print(f"(a first import of {IMPORT_ROWS} rows took {time.monotonic() - first:.0f} s)", flush=True)
        r = results["1-SKU GET during imports"] = wrk(base, "get1.lua", token, args.duration, f"{vendor}-get1-import")
        os.killpg(importer.pid, signal.SIGTERM)
        imports = importer.communicate()[0].count("done")
        for label, each in (("1-SKU GET idle, just before", idle), ("1-SKU GET during imports", r)):
            print(f"{label:<28} {each['rps']:>8.0f} req/s   p50 {each['p50']:>6.2f} ms   p99 {each['p99']:>6.2f} ms", flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    bare, stack, one, many, idle, busy = (results[k] for k in ("bare view, no middleware", "bare view, hub middleware", "1-SKU GET",
                                                               "48-SKU GET", "1-SKU GET idle", "1-SKU GET during imports"))
    lines.append(f"{vendor}: 1-SKU GET / bare view without middleware: {one['rps'] / bare['rps']:.2f} (target ≥ 0.40) — "
                 f"{verdict(one['rps'] / bare['rps'] >= 0.40)}; / bare view with the hub's middleware: {one['rps'] / stack['rps']:.2f}")
    lines.append(f"{vendor}: 1-SKU GET p99 {one['p99']:.1f} ms (target < 25 ms) — {verdict(one['p99'] < 25)}")
    lines.append(f"{vendor}: 48-SKU GET p50 {many['p50']:.1f} ms (target < 15 ms) — {verdict(many['p50'] < 15)}")
    lines.append(f"{vendor}: 1-SKU GET during price imports ({imports} completed in the window) / idle just before: "
                 f"{busy['rps'] / idle['rps']:.2f} (target ≥ 0.50) — {verdict(busy['rps'] / idle['rps'] >= 0.5)}")
    if any(r["errors"] for r in results.values()):
        lines.append(f"{vendor}: NON-2XX ANSWERS — see {OUT}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per case (default 10)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--only", choices=sorted(DATABASES), help="one database instead of both")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HUB_", "DB_", "WEB_", "SQLITE_", "REDIS_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "bench.price_api.settings", "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(64),
                "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)})
    print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}; "
          f"wrk 1 thread, 16 connections, {args.warmup} s warm-up + {args.duration} s per case")
    summary = [line for vendor in ([args.only] if args.only else DATABASES) for line in run_database(vendor, args, env)]
    print(f"\nload average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}\n" + "\n".join(summary))
    return 1 if any("NON-2XX" in line for line in summary) else 0


if __name__ == "__main__":
    sys.exit(main())
