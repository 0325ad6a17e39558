"""Stored sentences are kept in English and shown in the reader's language."""

from decimal import Decimal

import pytest
from django.utils import translation

from hub.texts import Text, text_shown, text_stored, texts_english

ON_HOLD = "%(order)s is on hold: %(reason)s"  # a message the French catalogue has


def test_a_stored_text_reads_in_english_and_in_french_with_its_parameters():
    text = Text(ON_HOLD, order="SO-1", reason="x")
    assert str(text) == "SO-1 is on hold: x"
    with translation.override("fr"):
        assert text_shown(text.stored()) == "SO-1 est en attente : x"
    with translation.override("en"):
        assert text_shown(text.stored()) == "SO-1 is on hold: x"


def test_a_list_of_texts_is_joined_and_nested_texts_are_translated_too():
    texts = [Text(ON_HOLD, order="SO-1", reason=Text("unknown")), Text(ON_HOLD, order="SO-2", reason=Decimal("1.50"))]
    assert texts_english(texts) == "SO-1 is on hold: unknown; SO-2 is on hold: 1.50"
    with translation.override("fr"):
        assert text_shown([text_stored(text) for text in texts]) == "SO-1 est en attente : inconnue; SO-2 est en attente : 1.50"


def test_a_sentence_someone_typed_is_stored_as_written_not_as_a_text():
    assert text_stored("colis abîmé") is None and text_stored(Text(ON_HOLD, order="SO-1", reason="x"))["msgid"] == ON_HOLD


def test_rows_written_before_texts_were_stored_show_their_english_column():
    assert text_shown({}, "legacy reason") == "legacy reason"
    assert text_shown([], "legacy reason") == "legacy reason"
    assert text_shown(None, "") == ""


def test_a_message_the_catalogue_does_not_know_is_shown_as_written():
    assert text_shown(Text("no such message %(n)s", n=3).stored()) == "no such message 3"


def test_a_text_missing_a_parameter_is_shown_unformatted_rather_than_failing():
    with translation.override("fr"):
        assert text_shown(Text(ON_HOLD, order="SO-1").stored()) == ON_HOLD


def test_amounts_and_dates_read_as_the_reader_writes_them_and_plainly_in_english():
    from datetime import date

    from hub.money import Money

    text = Text("%(invoice)s: %(total)s, due %(due)s", invoice="INV-1", total=Money(Decimal("1234.5"), "EUR"), due=date(2026, 12, 31))
    assert str(text) == "INV-1: 1234.50 EUR, due 2026-12-31"
    with translation.override("fr"):
        assert text_shown(text.stored()) == "INV-1 : 1\u00a0234,50\u00a0€, échéance le 31/12/2026"


def test_a_choice_label_in_a_sentence_is_translated_when_shown():
    from hub.texts import label_text
    from orders.models import OrderStatus

    text = Text("%(previous)s → %(status)s", previous=label_text(OrderStatus.RECEIVED.label), status=label_text(OrderStatus.ON_HOLD.label))
    with translation.override("fr"):
        assert str(text) == "Received → On hold"
        assert text.shown() == "Reçu → En attente"


@pytest.mark.django_db
def test_a_timeline_entry_keeps_its_english_message_and_shows_the_readers_language():
    from hub.services import timeline_record
    from tests.hub.factories import SalesChannelFactory

    channel = SalesChannelFactory(code="web")
    written = timeline_record(subject=channel, event="updated", message=Text("stock reserved"))
    typed = timeline_record(subject=channel, event="updated", message="a note someone typed")
    written.refresh_from_db()
    typed.refresh_from_db()
    assert (written.message, typed.message, typed.message_text) == ("stock reserved", "a note someone typed", None)
    with translation.override("fr"):
        assert (written.message_shown, typed.message_shown) == ("stock réservé", "a note someone typed")
