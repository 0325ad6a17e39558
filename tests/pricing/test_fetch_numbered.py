"""`catalog.sql.fetch_numbered` on PostgreSQL outside a transaction sends EXECUTE straight to
libpq. These tests check it answers, fails and is recorded as a Django cursor would.

They commit (transactional database), so that the call runs in autocommit as in a web request."""

import datetime
from decimal import Decimal

import psycopg
import pytest
from django.db import DataError, close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.sql import fetch_numbered

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

TYPED_SQL = "SELECT $1::text, $2::int, 12.50::numeric, DATE '2026-01-02', NULL::text, $3::boolean FROM generate_series(1, $2)"


def typed_rows(name):
    return fetch_numbered(name=name, sql=TYPED_SQL, params=["O'Brien; \"x\" \\ é", 2, True], types=["text", "int", "boolean"])


def test_rows_read_outside_a_transaction_match_a_cursors_rows_value_for_value():
    assert not connection.in_atomic_block
    direct = typed_rows("hub_test_typed")
    with transaction.atomic():
        through_cursor = typed_rows("hub_test_typed")

    assert direct == through_cursor
    assert direct == [("O'Brien; \"x\" \\ é", 2, Decimal("12.50"), datetime.date(2026, 1, 2), None, True)] * 2


def test_a_failing_statement_raises_djangos_error_and_the_connection_still_answers():
    sql = "SELECT 10 / $1::int"
    with pytest.raises(DataError, match="division by zero"):
        fetch_numbered(name="hub_test_divide", sql=sql, params=[0], types=["int"])

    assert fetch_numbered(name="hub_test_divide", sql=sql, params=[5], types=["int"]) == [(2,)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_statements_sent_to_libpq_are_recorded_when_queries_are():
    def echo():
        return fetch_numbered(name="hub_test_recorded", sql="SELECT $1::text, $2::int", params=["it's", 7], types=["text", "int"])

    echo()  # prepares the statement
    with CaptureQueriesContext(connection) as captured:
        assert echo() == [("it's", 7)]

    assert [query["sql"] for query in captured.captured_queries] == ["EXECUTE hub_test_recorded ('it''s', 7)"]


def test_with_health_checks_on_a_connection_the_server_dropped_is_replaced_at_the_next_request():
    def backend_pid():
        return fetch_numbered(name="hub_test_pid", sql="SELECT pg_backend_pid(), $1::int", params=[1], types=["int"])[0][0]

    saved = {key: connection.settings_dict[key] for key in ("CONN_HEALTH_CHECKS", "CONN_MAX_AGE")}
    connection.settings_dict.update(CONN_HEALTH_CHECKS=True, CONN_MAX_AGE=None)  # a persistent connection
    try:
        connection.close()
        first = backend_pid()
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [first])
        close_old_connections()  # what Django does when a request starts

        assert backend_pid() != first
    finally:
        connection.settings_dict.update(saved)
        connection.close()
