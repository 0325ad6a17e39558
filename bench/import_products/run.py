"""Import 100 000 product rows (all new), then again with 30 % changed; export 1 000 000 stock rows.
The same two imports also run through the admin's Import button path (the django-import-export
resource of hub.imports.changelist, which records an import job and runs the hub engine), with
CPU seconds and SQL statements per pass, to compare with the engine called directly.

    .venv/bin/python bench/import_products/run.py [--rows 100000] [--reference-rows 10000]
        [--export-rows 1000000] [--backends sqlite,postgres]

Each pass runs in a fresh subprocess so peak memory (max RSS) is that pass's own. The reference
is a plain django-import-export `ModelResource` for the same model and file format, measured in
the same run on the first --reference-rows rows (it is ~10x slower; a full run would take minutes).
"""

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/hub_bench_import")


def write_products(path: Path, rows: int, *, changed_fraction=0.0, seed=1):
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "name", "category", "status", "brand", "gtin", "weight_g", "description"])
        for n in range(rows):
            changed = rng.random() < changed_fraction
            writer.writerow([
                f"SKU-{n:07d}", f"Produit {n}{' (nouveau)' if changed else ''}", "Maison > Décoration", "active",
                ["Lumina", "Maison Camille", "Cire & Co"][n % 3], "", 100 + n % 900 + (1 if changed else 0), f"Description {n}",
            ])


def child(args):
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DEBUG", "1")  # development settings, as the recorded figures were measured
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from django.db import connection

    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    counting = connection.execute_wrapper(count)  # kept referenced: collecting it would remove the wrapper
    counting.__enter__()
    started, cpu_started = time.perf_counter(), time.process_time()
    if args.mode == "setup":
        call_command("migrate", verbosity=0)
        from catalog.services import category_get_or_create_path

        category_get_or_create_path(path="Maison > Décoration")
        result = {}
    elif args.mode == "hub":
        from hub.imports.engine import run_import
        from hub.imports.services import resource_get

        outcome = run_import(resource_get("products"), Path(args.file))
        assert outcome.ok, outcome.errors[:5]
        result = {"rows": outcome.rows, "new": outcome.new, "updated": outcome.updated, "unchanged": outcome.unchanged}
    elif args.mode == "admin":
        from django.core.files import File

        from hub.imports.changelist import resource_class

        with open(args.file, "rb") as handle:
            outcome = resource_class("products")().import_data(dry_run=False, uploaded_file=File(handle, name=Path(args.file).name))
        assert not outcome.error_count, outcome.errors[:5]
        result = {"rows": outcome.total_rows, "new": outcome.job.new, "updated": outcome.job.updated, "unchanged": outcome.job.unchanged}
    elif args.mode == "reference":
        import tablib
        from import_export import fields, resources, widgets

        from catalog.models import Category, Product

        class PlainProductResource(resources.ModelResource):
            category = fields.Field(attribute="category", column_name="category", widget=widgets.ForeignKeyWidget(Category, "path"))

            class Meta:
                model = Product
                import_id_fields = ["sku"]
                fields = ["sku", "name", "category", "status", "brand", "gtin", "weight_g", "description"]

        with open(args.file, encoding="utf-8") as handle:
            lines = handle.readlines()[: args.limit + 1]
        dataset = tablib.Dataset().load("".join(lines), format="csv")
        outcome = PlainProductResource().import_data(dataset, raise_errors=True)
        result = {"rows": len(dataset), "new": outcome.totals.get("new", 0), "updated": outcome.totals.get("update", 0)}
    elif args.mode == "export-setup":
        from django.db import transaction

        from catalog.models import Product
        from inventory.models import StockLevel, Warehouse

        products = args.limit // 5
        with transaction.atomic():
            Product.objects.bulk_create((Product(sku=f"EXP-{n:07d}", name=f"P{n}", status="active") for n in range(products)), batch_size=10000)
            warehouses = [Warehouse.objects.create(code=f"W{i}", name=f"W{i}") for i in range(5)]
            ids = list(Product.objects.filter(sku__startswith="EXP-").values_list("id", flat=True))
            StockLevel.objects.bulk_create((StockLevel(product_id=p, warehouse=w, on_hand=p % 40) for p in ids for w in warehouses), batch_size=20000)
        result = {"rows": products * 5}
    elif args.mode == "export":
        from hub.imports.engine import export_to_file
        from hub.imports.services import resource_get

        count = export_to_file(resource_get("stock"), Path(args.file))
        result = {"rows": count}
    result["seconds"] = time.perf_counter() - started
    result["cpu"] = time.process_time() - cpu_started
    result["statements"] = statements[0]
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_child(mode, database_url, file="", limit=0):
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--database-url", database_url, "--file", str(file), "--limit", str(limit)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "HUB_VAR_DIR": str(Path(file or ".").resolve().parent / "var")},
    )
    if out.returncode:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_database(backend, workdir):
    if backend == "sqlite":
        return f"sqlite:///{workdir}/bench-{time.time_ns()}.sqlite3"
    name = PG_URL.rsplit("/", 1)[1]
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    return PG_URL


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reference-rows", type=int, default=10_000)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--child")
    parser.add_argument("--database-url")
    parser.add_argument("--file")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        args.mode = args.child
        return child(args)

    workdir = Path(tempfile.mkdtemp(prefix="hub-bench-import-"))
    first, second = workdir / "products.csv", workdir / "products-30pct-changed.csv"
    write_products(first, args.rows)
    write_products(second, args.rows, changed_fraction=0.30)
    print(f"{args.rows} product rows; reference on the first {args.reference_rows}; files in {workdir}")
    print(f"{'backend':<9} {'pass':<28} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'peak MB':>8} {'CPU s':>7} {'SQL':>7}")
    for backend in args.backends.split(","):
        figures = {}
        for label, mode, file, limit in [
            ("reference ModelResource new", "reference", first, args.reference_rows),
            ("reference ModelResource 30%", "reference", second, args.reference_rows),
        ]:
            url = fresh_database(backend, workdir)
            run_child("setup", url)
            if label.endswith("30%"):
                run_child("reference", url, first, limit)
            r = run_child(mode, url, file, limit)
            figures[label] = r["rows"] / r["seconds"]
            figures[label + " cpu"] = r["rows"] / max(r["cpu"], 1e-6)
            print(f"{backend:<9} {label:<28} {r['rows']:>8} {r['seconds']:>8.2f} {figures[label]:>9,.0f} {r['peak_mb']:>8.0f} {r['cpu']:>7.2f} {r['statements']:>7}")
        url = fresh_database(backend, workdir)
        run_child("setup", url)
        engine_cpu = {}
        for label, file in [("hub import, all new", first), ("hub import, 30% changed", second)]:
            r = run_child("hub", url, file)
            engine_cpu[file] = r["cpu"]
            rate = r["rows"] / r["seconds"]
            reference = "reference ModelResource new" if "new" in label else "reference ModelResource 30%"
            ratio = rate / figures[reference]
            cpu_ratio = r["rows"] / max(r["cpu"], 1e-6) / figures[reference + " cpu"]
            print(f"{backend:<9} {label:<28} {r['rows']:>8} {r['seconds']:>8.2f} {rate:>9,.0f} {r['peak_mb']:>8.0f} {r['cpu']:>7.2f} {r['statements']:>7}   "
                  f"{ratio:.1f}x reference ({cpu_ratio:.1f}x per CPU second); target >= 10 000 rows/s, < 500 MB: {'met' if rate >= 10000 and r['peak_mb'] < 500 else 'MISSED'}")
        url = fresh_database(backend, workdir)
        run_child("setup", url)
        for label, file in [("admin Import, all new", first), ("admin Import, 30% changed", second)]:
            r = run_child("admin", url, file)
            rate = r["rows"] / r["seconds"]
            print(f"{backend:<9} {label:<28} {r['rows']:>8} {r['seconds']:>8.2f} {rate:>9,.0f} {r['peak_mb']:>8.0f} {r['cpu']:>7.2f} {r['statements']:>7}   "
                  f"CPU {r['cpu'] / engine_cpu[file]:.2f}x the engine called directly")
    if args.export_rows:
        url = fresh_database("sqlite", workdir)
        run_child("setup", url)
        run_child("export-setup", url, limit=args.export_rows)
        r = run_child("export", url, workdir / "stock.csv")
        print(f"{'sqlite':<9} {'export stock rows (CSV)':<28} {r['rows']:>8} {r['seconds']:>8.2f} {r['rows'] / r['seconds']:>9,.0f} {r['peak_mb']:>8.0f}   "
              f"target < 300 MB: {'met' if r['peak_mb'] < 300 else 'MISSED'}")


if __name__ == "__main__":
    main()
