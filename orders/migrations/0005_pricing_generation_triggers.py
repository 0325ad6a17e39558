"""Bump the pricing generation (catalog 0003) on writes that change who pays what: a customer's
price lists, group, contract list, currency, code or active flag; the lists of a group; which
channels a customer belongs to. A new customer row changes nothing until it is attached to a
channel (that insert bumps), so customer inserts do not bump.
"""

from django.db import migrations

ANY_WRITE_TABLES = ["orders_customer_price_lists", "orders_customer_channels", "orders_customergroup_price_lists"]
CUSTOMER_COLUMNS = ["code", "currency", "contract_price_list_id", "group_id", "is_active"]

PG_CREATE = [
    *(sql for table in ANY_WRITE_TABLES for sql in (
        f"CREATE TRIGGER pricing_gen_{table}_write AFTER INSERT OR UPDATE OR DELETE ON {table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION catalog_pricing_bump()",
        f"CREATE TRIGGER pricing_gen_{table}_truncate AFTER TRUNCATE ON {table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION catalog_pricing_bump()",
    )),
    "CREATE TRIGGER pricing_gen_orders_customer_delete AFTER DELETE OR TRUNCATE ON orders_customer"
    " FOR EACH STATEMENT EXECUTE FUNCTION catalog_pricing_bump()",
    "CREATE TRIGGER pricing_gen_orders_customer_update AFTER UPDATE ON orders_customer FOR EACH ROW WHEN ("
    + " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in CUSTOMER_COLUMNS)
    + ") EXECUTE FUNCTION catalog_pricing_bump()",
]
PG_DROP = [
    *(f"DROP TRIGGER IF EXISTS pricing_gen_{table}_{kind} ON {table}" for table in ANY_WRITE_TABLES for kind in ("write", "truncate")),
    "DROP TRIGGER IF EXISTS pricing_gen_orders_customer_delete ON orders_customer",
    "DROP TRIGGER IF EXISTS pricing_gen_orders_customer_update ON orders_customer",
]

SQLITE_BUMP = "BEGIN UPDATE catalog_pricing_generation SET value = value + 1; END"
SQLITE_CREATE = [
    *(f"CREATE TRIGGER pricing_gen_{table}_{event.lower()} AFTER {event} ON {table} FOR EACH ROW {SQLITE_BUMP}"
      for table in ANY_WRITE_TABLES for event in ("INSERT", "UPDATE", "DELETE")),
    f"CREATE TRIGGER pricing_gen_orders_customer_delete AFTER DELETE ON orders_customer FOR EACH ROW {SQLITE_BUMP}",
    "CREATE TRIGGER pricing_gen_orders_customer_update AFTER UPDATE ON orders_customer FOR EACH ROW WHEN "
    + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in CUSTOMER_COLUMNS) + f" {SQLITE_BUMP}",
]
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS pricing_gen_{table}_{event}" for table in ANY_WRITE_TABLES for event in ("insert", "update", "delete")),
    "DROP TRIGGER IF EXISTS pricing_gen_orders_customer_delete",
    "DROP TRIGGER IF EXISTS pricing_gen_orders_customer_update",
]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0003_pricing_generation"),
        ("orders", "0004_vat_number_format"),
    ]

    operations = [
        migrations.RunPython(_run({"postgresql": PG_CREATE, "sqlite": SQLITE_CREATE}),
                             _run({"postgresql": PG_DROP, "sqlite": SQLITE_DROP}), elidable=False),
    ]
