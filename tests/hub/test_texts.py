"""Stored sentences are kept in English and shown in the reader's language."""

from decimal import Decimal

from django.utils import translation

from hub.texts import Text, text_shown, texts_english, texts_stored

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
        assert text_shown(texts_stored(texts)) == "SO-1 est en attente : inconnue; SO-2 est en attente : 1.50"


def test_rows_written_before_texts_were_stored_show_their_english_column():
    assert text_shown({}, "legacy reason") == "legacy reason"
    assert text_shown([], "legacy reason") == "legacy reason"
    assert text_shown(None, "") == ""


def test_a_message_the_catalogue_does_not_know_is_shown_as_written():
    assert text_shown(Text("no such message %(n)s", n=3).stored()) == "no such message 3"


def test_a_text_missing_a_parameter_is_shown_unformatted_rather_than_failing():
    with translation.override("fr"):
        assert text_shown(Text(ON_HOLD, order="SO-1").stored()) == ON_HOLD
