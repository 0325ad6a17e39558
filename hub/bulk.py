"""Fast set-wise writes for imports: one prepared INSERT run with executemany.

Django's `bulk_create` compiles SQL per batch and, on SQLite, caps a statement at 999
parameters (about 40 rows of a wide model); for wide models that costs more than the database
work itself. Here rows are plain dicts keyed by field attname; each value is adapted with the
field's own `get_db_prep_save` unless the type needs no adapting (text, integers, booleans,
foreign-key ids), and missing fields take the field's default — as the ORM would. `INSERT …
ON CONFLICT (…) DO UPDATE` is the same syntax on SQLite (3.24+) and PostgreSQL.
"""

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone

NATIVE = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.ForeignKey)


def _preparers(model, connection):
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    plan = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            default = field.get_db_prep_save(now, connection)
            plan.append((field.attname, None, default, True))
            continue
        native = isinstance(field, NATIVE) and not isinstance(field, models.JSONField)
        prep = None if native else (lambda value, f=field: f.get_db_prep_save(value, connection))
        default = field.get_default()
        plan.append((field.attname, prep, default if prep is None else prep(default), False))
    return fields, plan


def _tuples(rows, plan):
    for row in rows:
        values = []
        for attname, prep, default, is_timestamp in plan:
            if is_timestamp or attname not in row:
                values.append(default)
            else:
                value = row[attname]
                values.append(value if prep is None or value is None else prep(value))
        yield values


def _execute(model, sql_tail, rows, batch_size, using, returning=None):
    connection = connections[using]
    fields, plan = _preparers(model, connection)
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    group = f"({', '.join(['%s'] * len(fields))})"
    tail = sql_tail(fields, quote)
    total = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Client-side parameter binding of big statements costs more than the insert
            # itself; COPY into a session temp table, then one INSERT … SELECT, is ~8× faster.
            columns = ", ".join(quote(f.column) for f in fields)
            staging = quote(f"bulk_{model._meta.db_table}")
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} AS SELECT {columns} FROM {quote(model._meta.db_table)} WITH NO DATA")
            cursor.execute(f"TRUNCATE {staging}")
            with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
                for values in _tuples(rows, plan):
                    copy.write_row(values)
                    total += 1
            returning_sql = f" RETURNING {quote(returning)}" if returning else ""
            cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT {columns} FROM {staging}{tail}{returning_sql}")
            returned = [row[0] for row in cursor.fetchall()] if returning else None
            cursor.execute(f"TRUNCATE {staging}")
            return returned if returning else total
        else:
            for start in range(0, len(rows), batch_size):
                batch = list(_tuples(rows[start:start + batch_size], plan))
                cursor.executemany(head + group + tail, batch)
                total += len(batch)
    return total


def bulk_upsert(model, rows: list[dict], *, unique_fields: list[str], update_fields: list[str], batch_size: int = 5000,
                using: str = DEFAULT_DB_ALIAS, returning: str | None = None):
    """Insert rows, or update `update_fields` (attnames) of those that clash on `unique_fields`.
    Auto-updated timestamps (`auto_now`) are set to now on insert and update. Returns the row
    count, or with `returning="id"` on PostgreSQL the written rows' ids (None elsewhere)."""

    def tail(fields, quote):
        by_name = {f.attname: f for f in fields} | {f.name: f for f in fields}
        conflict = ", ".join(quote(by_name[n].column) for n in unique_fields)
        updated = update_fields + [f.attname for f in fields if getattr(f, "auto_now", False) and f.attname not in update_fields]
        sets = ", ".join(f"{quote(by_name[n].column)} = excluded.{quote(by_name[n].column)}" for n in updated)
        return f" ON CONFLICT ({conflict}) DO UPDATE SET {sets}"

    result = _execute(model, tail, rows, batch_size, using, returning=returning)
    if returning and not isinstance(result, list):
        return None
    return result


def bulk_insert(model, rows: list[dict], *, batch_size: int = 5000, using: str = DEFAULT_DB_ALIAS) -> int:
    """Plain INSERT of new rows."""
    return _execute(model, lambda fields, quote: "", rows, batch_size, using)


def bulk_update_fields(objects, fields: list[str], *, batch_size: int = 1000, using: str = DEFAULT_DB_ALIAS) -> int:
    """Write `fields` of each object by primary key: one prepared UPDATE run with executemany.
    For batches where every row has its own values, Django's `bulk_update` builds a CASE per
    field and per row, which costs far more than the writes themselves."""
    objects = list(objects)
    if not objects:
        return 0
    model = type(objects[0])
    connection = connections[using]
    quote = connection.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    sql = (f"UPDATE {quote(model._meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in columns)} "
           f"WHERE {quote(model._meta.pk.column)} = %s")
    params = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns] + [obj.pk] for obj in objects]
    with connection.cursor() as cursor:
        for start in range(0, len(params), batch_size):
            cursor.executemany(sql, params[start:start + batch_size])
    return len(params)
