"""Drive the price API under gunicorn with wrk and print throughput and latency next to a bare
Django view served by the same server in the same run. See bench/price_api/run.sh."""

import argparse
import os
import re
import resource
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
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/h_catalog_bench"
CASES = [
    ("bare Django view", "bare.lua"),
    ("1-SKU GET", "get1.lua"),
    ("50-SKU GET", "get50.lua"),
    ("100-line quote POST", "quote100.lua"),
]


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(base: str, script: str, token: str, duration: int, connections: int, threads: int) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(HERE / script),
           "-H", f"Authorization: Token {token}", base]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    (OUT / f"{script}.txt").write_text(text)
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))}
    for pct in ("50", "99"):
        result[f"p{pct}"] = to_ms(re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", text, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    result["errors"] = int(errors.group(1)) if errors else 0
    result["socket_errors"] = socket_errors.group(1).strip() if socket_errors else ""
    return result


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def workers_rss(master_pid: int) -> str:
    """Resident memory of the gunicorn workers (the price cache lives in each)."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", text, re.M):
            sizes.append(int(re.search(r"^VmRSS:\s+(\d+)", text, re.M).group(1)) // 1024)
    return ", ".join(f"{mb} MB" for mb in sorted(sizes)) or "?"


def cpu_seconds(pids) -> float:
    """User + system CPU seconds the processes have used so far (gone ones count 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def server_processes(master_pid: int, database: str) -> dict[str, list[int]]:
    """The gunicorn workers and the PostgreSQL backends connected to the bench database."""
    found = {"gunicorn": [], "postgres": []}
    for status in Path("/proc").glob("[0-9]*/status"):
        pid = int(status.parent.name)
        try:
            text = status.read_text()
            cmdline = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", text, re.M):
            found["gunicorn"].append(pid)
        elif cmdline.startswith("postgres: ") and f" {database} " in cmdline:
            found["postgres"].append(pid)
    return found


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 s per case instead of 30 s")
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=16)
    # One sync worker per core, and one wrk thread (it drives 16 connections at a few thousand
    # requests/s easily): on 2 cores, more processes only add context switches next to
    # PostgreSQL, and each worker's price cache warms faster. Same layout for every case.
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", os.cpu_count() or 2)),
                        help="gunicorn sync workers (default: one per core)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-cache", action="store_true", help="run the price API with its per-process cache off")
    args = parser.parse_args()
    duration = 5 if args.quick else args.duration
    OUT.mkdir(parents=True, exist_ok=True)

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "bench.price_api.settings",
           "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "127.0.0.1,localhost",
           "DB_CONN_MAX_AGE": "600", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    if args.no_cache:
        env["HUB_PRICE_CACHE_SKUS"] = "0"
    python = str(ROOT / ".venv" / "bin" / "python")
    ensure_database(database_url)
    print(f"database {database_url}: migrating and seeding (first run takes a few minutes)…", flush=True)
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "-m", "bench.price_api.seed", str(OUT)], cwd=ROOT, env=env, check=True)
    token = (OUT / "token").read_text().strip()

    base = f"http://127.0.0.1:{args.port}"
    log = open(OUT / "gunicorn.log", "w")
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "hub.wsgi:application", "-b", f"127.0.0.1:{args.port}",
         "-w", str(args.workers), "--worker-class", "sync", "--keep-alive", "5", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/bench/bare/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            print("gunicorn did not start; see bench/out/price_api/gunicorn.log", file=sys.stderr)
            return 1
        print(f"gunicorn {args.workers} sync workers; wrk {args.threads} threads, {args.connections} connections, "
              f"{duration} s per case (after a 3 s warm-up); price cache {'off' if args.no_cache else 'on'}; "
              f"load average before: {load_average()}\n", flush=True)
        results = {}
        database = database_url.rsplit("/", 1)[1]
        cpu_lines = []
        for label, script in CASES:
            run_wrk(base, script, token, 3, args.connections, args.threads)
            processes = server_processes(server.pid, database)
            before = {name: cpu_seconds(pids) for name, pids in processes.items()}
            wrk_before = children_cpu()
            results[label] = run_wrk(base, script, token, duration, args.connections, args.threads)
            r = results[label]
            requests = r["rps"] * duration
            used = {name: cpu_seconds(pids) - before[name] for name, pids in processes.items()}
            used["wrk"] = children_cpu() - wrk_before
            cpu_lines.append(f"{label:<22} " + "   ".join(f"{name} {seconds / requests * 1e6:>4.0f} µs"
                                                            for name, seconds in used.items()))
            bad = f"  NON-2XX: {r['errors']}" if r["errors"] else ""
            bad += f"  socket errors: {r['socket_errors']}" if r["socket_errors"] else ""
            print(f"{label:<22} {r['rps']:>9.0f} req/s   p50 {r['p50']:>7.2f} ms   p99 {r['p99']:>7.2f} ms{bad}", flush=True)
        print("\nCPU per request (user + system, from /proc; kernel work on behalf of no process is not counted):")
        print("\n".join(cpu_lines))
        print(f"\nload average after: {load_average()}; gunicorn workers' resident memory: {workers_rss(server.pid)}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    bare, one, quote = results["bare Django view"], results["1-SKU GET"], results["100-line quote POST"]
    ratio = one["rps"] / bare["rps"]
    print(f"\n1-SKU GET / bare view throughput: {ratio:.0%} (target ≥ 50 %) — {'OK' if ratio >= 0.5 else 'MISSED'}")
    print(f"1-SKU GET p99: {one['p99']:.2f} ms (target < 25 ms) — {'OK' if one['p99'] < 25 else 'MISSED'}")
    print(f"100-line quote p50: {quote['p50']:.2f} ms (target < 30 ms) — {'OK' if quote['p50'] < 30 else 'MISSED'}")
    return 0 if not any(r["errors"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
