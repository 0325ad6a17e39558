"""Record what each pricing write changed, replacing the one generation counter of catalog
0003/0004 and orders 0005 (any write emptied every process's whole price cache). See
catalog/pricing/cache.py. Here, in the last of the apps whose tables prices depend on (hub,
catalog, orders), so that it runs after every migration it replaces.

A trigger on each table prices depend on adds a row to `pricing_change`: (slot, value)
of the counter row its transaction bumped, a kind and a key (the SKU, the customer code, or
none for `*`: drop every customer and token kept). PostgreSQL: a transaction's first pricing
write takes a counter row no other open writer holds (no queueing, no deadlock) and
bumps it once; it prunes that row's changes older than 1 000 bumps. SQLite (one writer at a
time): one counter row, bumped per written row; changes older than 100 000 bumps are pruned.
A new customer changes nothing until it joins a channel (that insert is recorded).
"""

from django.db import migrations

SLOTS = 64
NOTE = f"""CREATE FUNCTION pricing_note(kind text, keys text[]) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        held text := coalesce(current_setting('hub.pricing_slot', true), '');
        s integer; v bigint;
    BEGIN
        IF held = '' THEN
            SELECT slot INTO s FROM pricing_slot ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;
            IF s IS NULL THEN s := mod(txid_current(), {SLOTS}); END IF;  -- every row held: queue on one
            UPDATE pricing_slot SET value = value + 1 WHERE slot = s RETURNING value INTO v;
            DELETE FROM pricing_change WHERE slot = s AND value <= v - 1000;
            PERFORM set_config('hub.pricing_slot', s || ' ' || v, true);
        ELSE
            s := split_part(held, ' ', 1); v := split_part(held, ' ', 2);
        END IF;
        INSERT INTO pricing_change (slot, value, kind, key)
            SELECT DISTINCT s, v, kind, k FROM unnest(keys) k WHERE k IS NOT NULL OR kind = '*';
    END $$"""
SQLITE_NOTE = """UPDATE pricing_slot SET value = value + 1;
    INSERT INTO pricing_change (slot, value, kind, key) SELECT 0, (SELECT value FROM pricing_slot), '{kind}', k
      FROM ({keys}) WHERE k IS NOT NULL OR '{kind}' = '*';
    DELETE FROM pricing_change WHERE slot = 0 AND value <= (SELECT value FROM pricing_slot) - 100000;"""

# (table, kind, the key from a row `{row}`, columns whose update matters or None for any, events)
CUSTOMER_CODE = "(SELECT code FROM orders_customer WHERE id = {row}.customer_id)"
TABLES = [
    ("catalog_priceentry", "s", "(SELECT sku FROM catalog_product WHERE id = {row}.product_id)", None, "IUD"),
    ("catalog_product", "s", "{row}.sku", ["status", "sku"], "IUD"),
    ("catalog_pricelist", "*", "NULL", None, "IUD"),
    ("catalog_channelcatalog", "*", "NULL", None, "IUD"),
    ("hub_apitoken", "*", "NULL", ["key_hash", "revoked_at", "channel_id"], "UD"),
    ("hub_saleschannel", "*", "NULL", ["is_active", "code", "currency"], "UD"),
    ("orders_customer", "c", "{row}.code", ["code", "currency", "contract_price_list_id", "group_id", "is_active"], "UD"),
    ("orders_customer_price_lists", "c", CUSTOMER_CODE, None, "IUD"),
    ("orders_customer_channels", "c", CUSTOMER_CODE, None, "IUD"),
    ("orders_customergroup_price_lists", "*", "NULL", None, "IUD"),
]


def triggers(vendor):
    """(create, drop) statements for the triggers on this database."""
    create, drop = [], []
    for table, kind, key, columns, events in TABLES:
        name = f"pricing_change_{table}"
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns or ())
        if vendor == "postgresql":
            keys = f"ARRAY[{key.format(row='OLD')}, {key.format(row='NEW')}]"
            create.append(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                          f" PERFORM pricing_note('{kind}', {keys}); RETURN NULL; END $$")
            other = " OR ".join({"I": "INSERT", "D": "DELETE", "U": "UPDATE"}[e] for e in events if e != "U" or not columns)
            if other:
                create.append(f"CREATE TRIGGER {name} AFTER {other} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")
            if columns:
                create.append(f"CREATE TRIGGER {name}_u AFTER UPDATE ON {table} FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {name}()")
            drop.append(f"DROP FUNCTION IF EXISTS {name}() CASCADE")
        elif vendor == "sqlite":
            for event in events:
                rows = {"I": ["NEW"], "D": ["OLD"], "U": ["OLD", "NEW"]}[event]
                keys = " UNION ".join(f"SELECT {key.format(row=row)} AS k" for row in rows)
                when = f" WHEN {changed.replace('IS DISTINCT FROM', 'IS NOT')}" if event == "U" and columns else ""
                verb = {"I": "INSERT", "D": "DELETE", "U": "UPDATE"}[event]
                create.append(f"CREATE TRIGGER {name}_{event} AFTER {verb} ON {table} FOR EACH ROW{when} BEGIN "
                              + SQLITE_NOTE.format(kind=kind, keys=keys) + " END")
                drop.append(f"DROP TRIGGER IF EXISTS {name}_{event}")
    return create, drop


def forwards(apps, schema_editor):
    vendor, run = schema_editor.connection.vendor, schema_editor.execute
    if vendor == "postgresql":
        run("DROP FUNCTION IF EXISTS catalog_pricing_bump() CASCADE")  # with the triggers calling it
        run(f"CREATE TABLE pricing_slot AS SELECT s AS slot, CAST(0 AS bigint) AS value FROM generate_series(0, {SLOTS - 1}) s")
        run("ALTER TABLE pricing_slot ADD PRIMARY KEY (slot)")
        run("CREATE TABLE pricing_change (id bigserial PRIMARY KEY, slot integer NOT NULL, value bigint NOT NULL,"
            " kind char(1) NOT NULL, key text)")
        run(NOTE)
    elif vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'pricing_gen_%'")
            for (name,) in cursor.fetchall():
                run(f"DROP TRIGGER {name}")
        run("CREATE TABLE pricing_slot (slot integer PRIMARY KEY, value bigint NOT NULL)")
        run("INSERT INTO pricing_slot VALUES (0, 0)")
        run("CREATE TABLE pricing_change (id integer PRIMARY KEY, slot integer NOT NULL, value bigint NOT NULL,"
            " kind char(1) NOT NULL, key text)")
    else:
        return  # no triggers: the price cache stays off (orders.pricing)
    run("DROP TABLE IF EXISTS catalog_pricing_generation")
    run("CREATE INDEX pricing_change_slot_value ON pricing_change (slot, value)")
    for sql in triggers(vendor)[0]:
        run(sql)


def backwards(apps, schema_editor):
    vendor, run = schema_editor.connection.vendor, schema_editor.execute
    for sql in triggers(vendor)[1] + ["DROP FUNCTION IF EXISTS pricing_note(text, text[])"] * (vendor == "postgresql"):
        run(sql)
    run("DROP TABLE IF EXISTS pricing_change")
    run("DROP TABLE IF EXISTS pricing_slot")


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0005_admin_permissions"),
        ("hub", "0004_import_job_lease"),
        ("orders", "0009_accounting"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
