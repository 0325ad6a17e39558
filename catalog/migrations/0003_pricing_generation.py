"""The pricing generation: a counter that database triggers bump on every write to the catalog
tables prices are resolved from (price lists, price entries, channel catalogues, a product's
status or SKU). The price API caches price data per process and trusts it only while the
counter is unchanged; triggers, not signals, so bulk updates, imports and raw SQL count too.
`orders` adds the same triggers on its customer tables. See docs/ARCHITECTURE.md.

PostgreSQL: 16 counter rows; a transaction bumps the row `txid % 16` once per statement;
readers sum the rows (0004 replaces the row choice: a free row, once per transaction). SQLite (one writer at a
time, row triggers only): one row, bumped per written row.
"""

from django.db import migrations

SLOTS = 16

# Tables bumped on any write. Products: only when status or SKU change (or rows come
# and go), as products are also saved for many reasons that do not change a price.
ANY_WRITE_TABLES = ["catalog_pricelist", "catalog_priceentry", "catalog_channelcatalog"]

PG_CREATE = [
    "CREATE TABLE catalog_pricing_generation (slot integer PRIMARY KEY, value bigint NOT NULL DEFAULT 0)",
    f"INSERT INTO catalog_pricing_generation (slot, value) SELECT s, 0 FROM generate_series(0, {SLOTS - 1}) s",
    f"""CREATE FUNCTION catalog_pricing_bump() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE catalog_pricing_generation SET value = value + 1 WHERE slot = mod(txid_current(), {SLOTS});
            RETURN NULL;
        END
        $$""",
    *(sql for table in ANY_WRITE_TABLES for sql in (
        f"CREATE TRIGGER pricing_gen_{table}_write AFTER INSERT OR UPDATE OR DELETE ON {table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION catalog_pricing_bump()",
        f"CREATE TRIGGER pricing_gen_{table}_truncate AFTER TRUNCATE ON {table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION catalog_pricing_bump()",
    )),
    "CREATE TRIGGER pricing_gen_catalog_product_insert_delete AFTER INSERT OR DELETE OR TRUNCATE ON catalog_product"
    " FOR EACH STATEMENT EXECUTE FUNCTION catalog_pricing_bump()",
    "CREATE TRIGGER pricing_gen_catalog_product_update AFTER UPDATE ON catalog_product FOR EACH ROW"
    " WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.sku IS DISTINCT FROM NEW.sku)"
    " EXECUTE FUNCTION catalog_pricing_bump()",
]
PG_DROP = [
    *(f"DROP TRIGGER IF EXISTS pricing_gen_{table}_{kind} ON {table}" for table in ANY_WRITE_TABLES for kind in ("write", "truncate")),
    "DROP TRIGGER IF EXISTS pricing_gen_catalog_product_insert_delete ON catalog_product",
    "DROP TRIGGER IF EXISTS pricing_gen_catalog_product_update ON catalog_product",
    "DROP FUNCTION IF EXISTS catalog_pricing_bump()",
    "DROP TABLE IF EXISTS catalog_pricing_generation",
]

SQLITE_BUMP = "BEGIN UPDATE catalog_pricing_generation SET value = value + 1; END"
SQLITE_CREATE = [
    "CREATE TABLE catalog_pricing_generation (slot integer PRIMARY KEY, value bigint NOT NULL DEFAULT 0)",
    "INSERT INTO catalog_pricing_generation (slot, value) VALUES (0, 0)",
    *(f"CREATE TRIGGER pricing_gen_{table}_{event.lower()} AFTER {event} ON {table} FOR EACH ROW {SQLITE_BUMP}"
      for table in ANY_WRITE_TABLES for event in ("INSERT", "UPDATE", "DELETE")),
    f"CREATE TRIGGER pricing_gen_catalog_product_insert AFTER INSERT ON catalog_product FOR EACH ROW {SQLITE_BUMP}",
    f"CREATE TRIGGER pricing_gen_catalog_product_delete AFTER DELETE ON catalog_product FOR EACH ROW {SQLITE_BUMP}",
    "CREATE TRIGGER pricing_gen_catalog_product_update AFTER UPDATE ON catalog_product FOR EACH ROW"
    f" WHEN OLD.status IS NOT NEW.status OR OLD.sku IS NOT NEW.sku {SQLITE_BUMP}",
]
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS pricing_gen_{table}_{event}" for table in ANY_WRITE_TABLES for event in ("insert", "update", "delete")),
    *(f"DROP TRIGGER IF EXISTS pricing_gen_catalog_product_{event}" for event in ("insert", "update", "delete")),
    "DROP TABLE IF EXISTS catalog_pricing_generation",
]


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            return  # other databases: no triggers, and the price cache stays off (orders.pricing)
        for sql in statements[vendor]:
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0002_product_details_derived_lists_history"),
    ]

    operations = [
        migrations.RunPython(_run({"postgresql": PG_CREATE, "sqlite": SQLITE_CREATE}),
                             _run({"postgresql": PG_DROP, "sqlite": SQLITE_DROP}), elidable=False),
    ]
