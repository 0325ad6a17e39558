"""Sentences the hub writes down now and people read later: hold reasons, timeline entries, sync
errors. They are stored as their English message id with its parameters and translated when shown,
so a French user reads French, an English one English, and the English text stays searchable.

    reason = Text(gettext_noop("unknown SKU: %(sku)s"), sku="TSHIRT-XL")
    order.hold_reason, order.hold_text = str(reason)[:300], reason.stored()
    ...
    text_shown(order.hold_text, order.hold_reason)   # "SKU inconnu : TSHIRT-XL" in French

Call sites mark the message id with `gettext_noop` so `makemessages` collects it. A parameter may be
another `Text` (translated too) or a list of them (joined with "; ")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from hub.money import Money, minor_unit, money_format

SEPARATOR = "; "


@dataclass(frozen=True)
class Text:
    msgid: str
    params: dict = field(default_factory=dict)

    def __init__(self, msgid: str, **params):
        object.__setattr__(self, "msgid", str(msgid))
        object.__setattr__(self, "params", {name: _storable(value) for name, value in params.items()})

    def __str__(self) -> str:
        """The English sentence (logs, search columns)."""
        return _render(self.stored(), translate=False)

    def stored(self) -> dict:
        return {"msgid": self.msgid, "params": {name: _stored(value) for name, value in self.params.items()}}

    def shown(self) -> str:
        """The sentence in the active language."""
        return _render(self.stored(), translate=True)


def label_text(label) -> Text:
    """A lazily translated label (a model choice's, a field's) as a Text: its English message id."""
    with translation.override(None):
        return Text(str(label))


def text_restored(stored: dict) -> Text:
    """A stored Text as a Text again (to quote it in another sentence or store it elsewhere)."""
    return Text(stored.get("msgid", ""), **(stored.get("params") or {}))


def as_text(value) -> Text:
    """`value` as a Text: itself, or a sentence someone typed (shown as typed, in any language)."""
    return value if isinstance(value, Text) else Text("%(text)s", text=str(value))


def text_stored(value) -> dict | None:
    """What to store beside the English column: a Text's stored form, or None for a plain string
    (shown as written)."""
    return value.stored() if isinstance(value, Text) else None


def texts_english(texts) -> str:
    return SEPARATOR.join(str(text) for text in texts)


def text_shown(stored, fallback: str = "") -> str:
    """A stored Text (or list of them) in the active language; `fallback` (the English column) for
    rows written before texts were stored, or when nothing is stored."""
    if isinstance(stored, list) and stored:
        return SEPARATOR.join(_render(item, translate=True) for item in stored)
    if isinstance(stored, dict) and stored.get("msgid"):
        return _render(stored, translate=True)
    return fallback or ""


def _storable(value):
    if isinstance(value, (Text, Money)) or isinstance(value, (int, str)):
        return value
    if isinstance(value, dict) and ("msgid" in value or "currency" in value or "date" in value):
        return value  # an already stored Text (e.g. a hold reason quoted in a later sentence), amount or date
    if isinstance(value, (list, tuple)):
        return [_storable(item) for item in value]
    if isinstance(value, date) and not isinstance(value, datetime):
        return {"date": value.isoformat()}
    return str(value)  # Decimal, float, datetime and anything else: as written


def _stored(value):
    if isinstance(value, Text):
        return value.stored()
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, list):
        return [_stored(item) for item in value]
    return value


def _render(stored: dict, *, translate: bool) -> str:
    msgid = stored.get("msgid", "")
    params = {name: _render_param(value, translate) for name, value in (stored.get("params") or {}).items()}
    for template in ((gettext(msgid), msgid) if translate else (msgid,)):
        try:
            return template % params if params else template
        except (KeyError, TypeError, ValueError):
            # A translation (or a stored row) whose placeholders do not match must not hide the sentence.
            continue
    return msgid


def _render_param(value, translate: bool):
    if isinstance(value, dict) and "msgid" in value:
        return _render(value, translate=translate)
    if isinstance(value, dict) and "currency" in value:
        return _render_money(value, translate)
    if isinstance(value, dict) and "date" in value:
        return date_format(date.fromisoformat(value["date"]), "SHORT_DATE_FORMAT") if translate else value["date"]
    if isinstance(value, list):
        return SEPARATOR.join(str(_render_param(item, translate)) for item in value)
    return value


def _render_money(value: dict, translate: bool) -> str:
    amount, currency = Decimal(str(value.get("amount") or 0)), str(value.get("currency") or "")
    places = max(-amount.normalize().as_tuple().exponent, 0)
    if not translate:
        return str(Money(amount, currency)) if places <= minor_unit(currency) else f"{amount} {currency}"
    return money_format(amount, currency, max_places=places if places > minor_unit(currency) else None)
