import json
import logging
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from hub.changes import change_origin, change_record
from hub.logging import JsonFormatter, request_id_var
from hub.models import ApiToken, ChangeEvent, NumberSequence, SalesChannel
from hub.money import CurrencyMismatch, Money, round_money
from hub.services import api_token_create, hash_token_key, sequence_next
from tests.hub.factories import SalesChannelFactory


def test_money_rounds_half_up_to_the_minor_unit():
    assert round_money(Decimal("2.345"), "EUR") == Decimal("2.35")
    assert round_money(Decimal("-2.345"), "EUR") == Decimal("-2.35")
    assert round_money("1234.5", "JPY") == Decimal("1235")
    assert round_money("0.0005", "KWD") == Decimal("0.001")


def test_money_refuses_floats_and_mixed_currencies():
    with pytest.raises(TypeError):
        round_money(0.1, "EUR")
    with pytest.raises(CurrencyMismatch):
        Money("1", "EUR") + Money("1", "GBP")
    assert (Money("1.10", "EUR") + Money("2.205", "EUR")).rounded() == Money(Decimal("3.31"), "EUR")


@pytest.mark.django_db
def test_sequence_numbers_are_consecutive_and_a_rollback_gives_the_number_back():
    with transaction.atomic():
        assert sequence_next(series="INV-2026") == 1
    with pytest.raises(RuntimeError, match="boom"):
        with transaction.atomic():
            assert sequence_next(series="INV-2026") == 2
            raise RuntimeError("boom")
    with transaction.atomic():
        assert sequence_next(series="INV-2026") == 2
    assert NumberSequence.objects.get(series="INV-2026").last_value == 2


@pytest.mark.django_db(transaction=True)
def test_sequence_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        sequence_next(series="X")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_sequence_allocations_have_no_gap_and_no_duplicate():
    results, errors = [], []

    def allocate():
        try:
            with transaction.atomic():
                results.append(sequence_next(series="CONC"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == list(range(1, 21))


@pytest.mark.django_db
def test_change_feed_records_the_origin_so_connectors_do_not_echo_back():
    change_record(topic="catalog.price", object_id=7)
    with change_origin("shopify-main"):
        change_record(topic="catalog.price", object_id=8)
    rows = list(ChangeEvent.objects.values_list("object_id", "origin"))
    assert rows == [("7", ""), ("8", "shopify-main")]


@pytest.mark.django_db
def test_hub_token_prints_a_key_that_is_stored_only_as_a_hash(capsys):
    SalesChannelFactory(code="web-fr")
    call_command("hub_token", "web-fr")
    key = capsys.readouterr().out.strip()
    token = ApiToken.objects.get()
    assert len(key) >= 40
    assert token.key_hash == hash_token_key(key) and key not in (token.key_hash, token.prefix)
    assert token.channel.code == "web-fr"


@pytest.mark.django_db
def test_hub_token_refuses_an_unknown_channel_unless_asked_to_create_it(capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No sales channel 'b2b'"):
        call_command("hub_token", "b2b")
    call_command("hub_token", "b2b", create=True)
    assert SalesChannel.objects.filter(code="b2b").exists()


@pytest.mark.django_db
def test_a_revoked_token_no_longer_authenticates(rf):
    from rest_framework.exceptions import AuthenticationFailed

    from hub.api.auth import ChannelTokenAuthentication
    from hub.services import api_token_revoke

    token, key = api_token_create(channel=SalesChannelFactory())
    request = rf.get("/api/v1/", HTTP_AUTHORIZATION=f"Token {key}")
    principal, _ = ChannelTokenAuthentication().authenticate(request)
    assert principal.channel == token.channel
    api_token_revoke(token=token)
    with pytest.raises(AuthenticationFailed):
        ChannelTokenAuthentication().authenticate(request)


@pytest.mark.django_db
def test_web_responses_carry_a_request_id(client):
    assert len(client.get("/healthz")["X-Request-ID"]) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"] != "bad id\n"


def test_json_log_lines_carry_request_id_and_extra_fields():
    from hub.logging import ContextFilter

    record = logging.LogRecord("hub", logging.INFO, __file__, 1, "order %s imported", ("SO-1",), None)
    record.order = "SO-1"
    token = request_id_var.set("req-42")
    try:
        ContextFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "order SO-1 imported"
    assert line["request_id"] == "req-42"
    assert line["order"] == "SO-1"
    assert line["level"] == "INFO"


@pytest.mark.django_db
def test_admin_landing_page_links_every_area(admin_client):
    page = admin_client.get("/admin/").content.decode()
    for area in ["catalog/", "inventory/", "orders/", "returns/", "connectors/", "/healthz", "/api/docs/"]:
        assert area in page


@pytest.mark.django_db
def test_seed_demo_is_deterministic_and_runs_once_with_if_empty(capsys):
    call_command("seed_demo")
    first = sorted(SalesChannel.objects.values_list("code", flat=True))
    call_command("seed_demo", if_empty=True)
    assert "already present" in capsys.readouterr().out
    assert sorted(SalesChannel.objects.values_list("code", flat=True)) == first
    assert "web-fr" in first and "b2b-portal" in first
