"""Server-side prepared statements for the few hot read queries (the live price API).

On PostgreSQL, planning the price queries costs more than running them; a statement prepared
once per database connection skips that. Django's psycopg setup binds parameters client-side
and never prepares, so we PREPARE/EXECUTE explicitly, remembering per physical connection what
is prepared. By default this is on only with persistent connections (`CONN_MAX_AGE`, env
`DB_CONN_MAX_AGE`, > 0): on a connection used for one request, preparing is an extra round trip.
`HUB_PREPARED_STATEMENTS = True/False` forces it; use False behind PgBouncer in transaction
pooling mode, where a session's prepared statements are not kept.
"""

import re
import time

from django.conf import settings
from django.db import connection
from psycopg import errors as pg_errors
from psycopg.adapt import Transformer
from psycopg.pq import Escaping, ExecStatus


def prepared_statements_enabled(db=None) -> bool:
    db = db or connection
    if db.vendor != "postgresql":
        return False
    forced = getattr(settings, "HUB_PREPARED_STATEMENTS", None)
    if forced is not None:
        return bool(forced)
    max_age = db.settings_dict.get("CONN_MAX_AGE")
    return max_age is None or max_age > 0


def _literal(escaping, value) -> str | None:
    """`value` as a SQL literal for the few types the hot statements pass, else None."""
    if value is None:
        return "NULL"
    kind = type(value)
    if kind is str:
        return escaping.escape_literal(value.encode()).decode()
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    return None


# Custom plans would re-plan on every call (the planner guesses them cheaper for these tiny
# lookups); the generic plan is fine for indexed lookups. Only prepared statements are
# affected, and Django prepares none of its own.
_SESSION_SETUP = "SET plan_cache_mode = force_generic_plan"


def _prepared_state(db, run):
    """(connection, names prepared on it, escaping, row loader) for `db`'s current physical
    connection, set up with `run(sql)` on first use."""
    raw = db.connection
    state = getattr(db, "_hub_prepared", None)
    if state is None or state[0] is not raw:
        run(_SESSION_SETUP)
        state = (raw, set(), Escaping(raw.pgconn), Transformer(raw))
        db._hub_prepared = state
    return state


def _prepare_once(state, run, *, name: str, sql: str, types: list[str]) -> None:
    if name not in state[1]:
        run(f"PREPARE {name} ({', '.join(types)}) AS {sql}")
        state[1].add(name)


def execute_prepared(cursor, *, name: str, sql: str, params: list, types: list[str], db=None) -> None:
    """Run `sql` (with $1…$n placeholders) as prepared statement `name` on this connection.
    Text, boolean and integer arguments are escaped by libpq into the EXECUTE statement itself,
    which skips the driver's parameter conversion (a measurable part of a one-row lookup)."""
    db = db or connection
    state = _prepared_state(db, cursor.execute)
    _prepare_once(state, cursor.execute, name=name, sql=sql, types=types)
    literals = [_literal(state[2], p) for p in params]
    if None in literals:
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
    else:
        cursor.execute(f"EXECUTE {name} ({', '.join(literals)})")


def hot_cursor(db=None):
    """A cursor for the price API's one statement per call. Creating a Django cursor costs about
    as much as running that statement, so one is kept per database connection, except while
    queries are being recorded (DEBUG, tests counting queries), which need a fresh one."""
    db = db or connection
    if db.queries_logged:
        return db.cursor()
    db.ensure_connection()
    raw = db.connection
    kept = getattr(db, "_hub_cursor", None)
    if kept is None or kept[0] is not raw:
        kept = (raw, db.cursor())
        db._hub_cursor = kept
    return kept[1]


def fetch_numbered(*, name: str, sql: str, params: list, types: list[str], db=None) -> list[tuple]:
    """The rows of `sql` (written with $1…$n placeholders), as `execute_numbered` then
    `fetchall()` would give them. On PostgreSQL with prepared statements, outside a transaction
    (Django's autocommit, as in a web request), the EXECUTE goes straight to libpq and psycopg's
    loaders read the result: the cursor machinery around one small statement costs about as much
    CPU as the database spends running it. Errors come out as Django's database errors, and the
    statement is recorded when queries are (DEBUG, query-counting tests)."""
    db = db or connection
    db.close_if_health_check_failed()  # as Django does before handing out a cursor
    db.ensure_connection()
    raw = db.connection
    if not (prepared_statements_enabled(db) and raw.autocommit and not db.in_atomic_block):
        cursor = hot_cursor(db)
        execute_numbered(cursor, name=name, sql=sql, params=params, types=types, db=db)
        return cursor.fetchall()
    started = time.monotonic() if db.queries_logged else None
    with db.wrap_database_errors:
        pgconn = raw.pgconn

        def run(text):
            return _exec_checked(raw, pgconn, text)

        state = _prepared_state(db, run)
        literals = [_literal(state[2], p) for p in params]
        if None in literals:  # a type libpq cannot escape for us: the cursor binds it
            cursor = hot_cursor(db)
            execute_prepared(cursor, name=name, sql=sql, params=params, types=types, db=db)
            return cursor.fetchall()
        _prepare_once(state, run, name=name, sql=sql, types=types)
        text = f"EXECUTE {name} ({', '.join(literals)})"
        result = run(text)
        loader = state[3]
        loader.set_pgresult(result)
        rows = loader.load_rows(0, result.ntuples, tuple)
        loader.set_pgresult(None)
    if started is not None:
        db.queries_log.append({"sql": text, "time": f"{time.monotonic() - started:.3f}"})
    return rows


def _exec_checked(raw, pgconn, text: str):
    result = pgconn.exec_(text.encode())
    if result.status not in (ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK):
        raise pg_errors.error_from_result(result, encoding=raw.info.encoding)
    return result


_NUMBERED = re.compile(r"\$(\d+)")
_positional_cache: dict[str, tuple[str, list[int]]] = {}


def execute_numbered(cursor, *, name: str, sql: str, params: list, types: list[str], db=None) -> None:
    """Run `sql` written with $1…$n placeholders: as prepared statement `name` when enabled, else
    rewritten to the driver's positional placeholders (parameters repeated as needed), so one
    text serves PostgreSQL either way and SQLite."""
    db = db or connection
    if prepared_statements_enabled(db):
        execute_prepared(cursor, name=name, sql=sql, params=params, types=types, db=db)
        return
    cached = _positional_cache.get(sql)
    if cached is None:
        order = [int(n) - 1 for n in _NUMBERED.findall(sql)]
        cached = _positional_cache[sql] = (_NUMBERED.sub("%s", sql.replace("%", "%%")), order)
    text, order = cached
    cursor.execute(text, [params[i] for i in order])


# The pricing generation (migration catalog 0003): the sum of the counter rows. Any committed
# write to a table prices are resolved from makes it larger.
GENERATION_SQL = "(SELECT CAST(SUM(value) AS BIGINT) FROM catalog_pricing_generation)"


def pricing_trigger_names() -> set[str]:
    """Names of the pricing-generation triggers present in the database (all apps)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'pricing\\_gen\\_%%' AND NOT tgisinternal")
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'pricing\\_gen\\_%%' ESCAPE '\\'")
        else:
            return set()
        return {row[0] for row in cursor.fetchall()}
