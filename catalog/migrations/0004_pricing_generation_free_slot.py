"""PostgreSQL: a transaction that writes pricing data bumps a counter row no other open
transaction holds, once.

Migration 0003 picked the row by transaction id. Two writers that landed on the same row then
queued on it, and that wait could close a cycle: A writes price X and holds row 3; B writes
price Y and waits for row 3; A then writes Y and waits for B — a deadlock that the counter
alone caused. Now the first pricing write of a transaction takes a free row
(`FOR UPDATE SKIP LOCKED`), remembers it in a transaction-local setting and bumps it; later
writes in the same transaction bump nothing more (one bump per transaction is all readers
need: the sum changes when it commits). A writer waits for a row only when every row is held
by another open writer, so there are 64 rows. A rolled-back savepoint forgets both the lock and
the setting, so the next write takes a row again. SQLite (one writer at a time) is unchanged.
"""

from django.db import migrations

SLOTS = 64
OLD_SLOTS = 16

BUMP_FREE_SLOT = """CREATE OR REPLACE FUNCTION catalog_pricing_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        free integer;
    BEGIN
        IF coalesce(current_setting('hub.pricing_slot', true), '') <> '' THEN
            RETURN NULL;  -- this transaction has bumped already
        END IF;
        SELECT slot INTO free FROM catalog_pricing_generation ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF free IS NULL THEN
            free := mod(txid_current(), %(slots)s);  -- every row is held by an open writer: queue on one
        END IF;
        UPDATE catalog_pricing_generation SET value = value + 1 WHERE slot = free;
        PERFORM set_config('hub.pricing_slot', free::text, true);
        RETURN NULL;
    END
    $$"""

BUMP_BY_TXID = """CREATE OR REPLACE FUNCTION catalog_pricing_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE catalog_pricing_generation SET value = value + 1 WHERE slot = mod(txid_current(), %(slots)s);
        RETURN NULL;
    END
    $$"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"INSERT INTO catalog_pricing_generation (slot, value) SELECT s, 0 FROM generate_series({OLD_SLOTS}, {SLOTS - 1}) s"
        " ON CONFLICT (slot) DO NOTHING")
    schema_editor.execute(BUMP_FREE_SLOT % {"slots": SLOTS})


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Fold the extra rows into row 0 so the sum (what readers compare) never goes back.
    schema_editor.execute(
        f"UPDATE catalog_pricing_generation SET value = value + (SELECT coalesce(sum(value), 0) + 1"
        f" FROM catalog_pricing_generation WHERE slot >= {OLD_SLOTS}) WHERE slot = 0")
    schema_editor.execute(f"DELETE FROM catalog_pricing_generation WHERE slot >= {OLD_SLOTS}")
    schema_editor.execute(BUMP_BY_TXID % {"slots": OLD_SLOTS})


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0003_pricing_generation"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
