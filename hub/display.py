"""Values rendered for people in the admin: address blocks, option chips, status badges, rates as
percentages, long texts cut to one line (full text on hover), JSON only where it is technical."""

import json
from decimal import Decimal, InvalidOperation

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy as _

EMPTY = "—"

# Tones a badge can take; the colours live in hub/static/hub/admin.css.
TONES = {"neutral", "info", "success", "warning", "danger", "muted"}


def badge(label, tone: str = "neutral", *, title: str = ""):
    """A coloured status pill, e.g. badge("On hold", "danger")."""
    tone = tone if tone in TONES else "neutral"
    if title:
        return format_html('<span class="hub-badge hub-badge-{}" title="{}">{}</span>', tone, title, label)
    return format_html('<span class="hub-badge hub-badge-{}">{}</span>', tone, label)


def truncated(text, length: int = 60):
    """One line of at most `length` characters; the whole text in the title attribute."""
    return _shortened(text, length, "hub-oneline")


def clipped(text, length: int = 60):
    """At most `length` characters that may wrap over a few lines in a narrow column (a list's
    reason or error); the whole text in the title attribute."""
    return _shortened(text, length, "hub-clip")


def _shortened(text, length: int, css_class: str):
    text = " ".join(str(text or "").split())
    if not text:
        return EMPTY
    if len(text) <= length:
        return format_html('<span class="{}">{}</span>', css_class, text)
    return format_html('<span class="{}" title="{}">{}…</span>', css_class, text, text[: length - 1].rstrip())


def percent(rate) -> str:
    """A stored fraction as people write it: Decimal("0.2000") -> "20 %", 0.055 -> "5.5 %"."""
    if rate is None or rate == "":
        return EMPTY
    try:
        value = Decimal(str(rate)) * 100
    except InvalidOperation:
        return str(rate)
    text = f"{value.normalize():f}"
    return f"{text} %"


COUNTRY_NAMES = {
    "FR": _("France"), "BE": _("Belgium"), "CH": _("Switzerland"), "LU": _("Luxembourg"), "DE": _("Germany"), "ES": _("Spain"),
    "IT": _("Italy"), "NL": _("Netherlands"), "PT": _("Portugal"), "GB": _("United Kingdom"), "IE": _("Ireland"), "AT": _("Austria"),
    "US": _("United States"), "CA": _("Canada"), "MC": _("Monaco"),
}


def country_name(code: str) -> str:
    code = (code or "").upper()
    return str(COUNTRY_NAMES.get(code, code))


def address_block(address: dict | None):
    """An address as it is printed on a label: name, company, street lines, postcode and city,
    country; phone and e-mail on their own lines."""
    if not address:
        return EMPTY
    get = lambda key: str(address.get(key) or "").strip()  # noqa: E731
    first = get("first_name") + (" " if get("first_name") and get("last_name") else "") + get("last_name")
    lines = [get("name") or first, get("company"), get("line1") or get("address1"), get("line2") or get("address2"),
             " ".join(part for part in (get("postcode") or get("zip"), get("city")) if part),
             country_name(get("country") or get("country_code")), get("phone"), get("email")]
    lines = [line for line in lines if line]
    if not lines:
        return EMPTY
    return format_html('<address class="hub-address">{}</address>', format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)))


def chips(values, *, labels: dict | None = None):
    """Option values ({"colour": "blue"}) or a list of codes as small chips: "colour: blue"."""
    if not values:
        return EMPTY
    labels = labels or {}
    if isinstance(values, dict):
        items = [(f"{labels.get(key, str(key).replace('_', ' '))}: {_plain(value)}",) for key, value in values.items()]
    else:
        items = [(str(labels.get(value, value)),) for value in values]
    return format_html('<span class="hub-chips">{}</span>', format_html_join("", '<span class="hub-chip">{}</span>', items))


def _plain(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key} {_plain(item)}" for key, item in value.items())
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return str(value)


def pretty_json(value):
    """Indented JSON in a <pre>, for technical pages only (sync jobs, webhook inbox)."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, (bytes, str)):
        try:
            value = json.loads(value)
        except (ValueError, UnicodeDecodeError):
            return format_html('<pre class="hub-json">{}</pre>', value if isinstance(value, str) else value.decode("utf-8", "replace"))
    return format_html('<pre class="hub-json">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str))
