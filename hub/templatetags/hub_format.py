"""Template filters for amounts: `{% load hub_format %}{{ invoice.total|money:invoice.currency }}`."""

from django import template

from hub.money import money_format

register = template.Library()


@register.filter
def money(amount, currency):
    """The amount in the active language's format with its currency (1 234,50 € / €1,234.50)."""
    if amount is None or amount == "":
        return ""
    return money_format(amount, currency)
