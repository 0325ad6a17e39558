"""Server-side prepared statements for the few hot read queries (the live price API).

On PostgreSQL, planning the price queries costs more than running them; a statement prepared
once per database connection skips that. Django's psycopg setup binds parameters client-side
and never prepares, so we PREPARE/EXECUTE explicitly, remembering per physical connection what
is prepared. By default this is on only with persistent connections (`CONN_MAX_AGE`, env
`DB_CONN_MAX_AGE`, > 0): on a connection used for one request, preparing is an extra round trip.
`HUB_PREPARED_STATEMENTS = True/False` forces it; use False behind PgBouncer in transaction
pooling mode, where a session's prepared statements are not kept.
"""

from django.conf import settings
from django.db import connection


def prepared_statements_enabled() -> bool:
    if connection.vendor != "postgresql":
        return False
    forced = getattr(settings, "HUB_PREPARED_STATEMENTS", None)
    if forced is not None:
        return bool(forced)
    max_age = connection.settings_dict.get("CONN_MAX_AGE")
    return max_age is None or max_age > 0


def execute_prepared(cursor, *, name: str, sql: str, params: list, types: list[str]) -> None:
    """Run `sql` (with $1…$n placeholders) as prepared statement `name` on this connection."""
    raw = connection.connection
    state = getattr(connection, "_hub_prepared", None)
    if state is None or state[0] is not raw:
        # Custom plans would re-plan on every call (the planner guesses them cheaper for these
        # tiny lookups); the generic plan is fine for indexed lookups. Only prepared statements
        # are affected, and Django prepares none of its own.
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        state = (raw, set())
        connection._hub_prepared = state
    if name not in state[1]:
        cursor.execute(f"PREPARE {name} ({', '.join(types)}) AS {sql}")
        state[1].add(name)
    cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
