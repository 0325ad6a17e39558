"""Money: `Decimal` amounts with an explicit currency, and the one rounding rule.

Round half-up to the currency's minor unit, per line, then sum the rounded lines.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# ISO 4217 minor units for the currencies an EU merchant meets; others default to 2.
MINOR_UNITS = {"JPY": 0, "KRW": 0, "HUF": 2, "BHD": 3, "KWD": 3, "TND": 3}
CURRENCY_CHOICES = [
    ("EUR", _("Euro")),
    ("GBP", _("Pound sterling")),
    ("USD", _("US dollar")),
    ("CHF", _("Swiss franc")),
    ("SEK", _("Swedish krona")),
    ("DKK", _("Danish krone")),
    ("PLN", _("Polish złoty")),
    ("CZK", _("Czech koruna")),
]
CURRENCY_CODES = {code for code, _label in CURRENCY_CHOICES}
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


class CurrencyMismatch(ValueError):
    pass


def minor_unit(currency: str) -> int:
    return MINOR_UNITS.get(currency, 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def round_money(amount, currency: str) -> Decimal:
    """Half-up to the currency's minor unit. Accepts Decimal, int or a decimal string (never float)."""
    if isinstance(amount, float):
        raise TypeError("money must not be a float; pass a Decimal or a string")
    return to_decimal(amount).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def to_decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a Decimal or a string")
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self):
        object.__setattr__(self, "amount", to_decimal(self.amount))

    def _check(self, other: "Money") -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: "Money") -> "Money":
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor) -> "Money":
        if isinstance(factor, (Money, float)):
            raise TypeError("Money multiplies by an int or Decimal only")
        return Money(self.amount * to_decimal(factor), self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> "Money":
        return Money(-self.amount, self.currency)

    def rounded(self) -> "Money":
        return Money(round_money(self.amount, self.currency), self.currency)

    @classmethod
    def zero(cls, currency: str) -> "Money":
        return cls(Decimal(0), currency)

    def __str__(self) -> str:
        return f"{round_money(self.amount, self.currency)} {self.currency}"


def money_format(amount, currency: str, *, max_places: int | None = None) -> str:
    """An amount as a reader of the active language writes it: 1 234,50 € in French, €1,234.50 in
    English; currencies without a common symbol keep their code (1 234,50 CHF, CHF 1,234.50).
    `max_places` keeps finer decimals a price has (a B2B unit price of 0.1234), never fewer than the
    currency's minor unit."""
    places = minor_unit(currency)
    if max_places is None:
        amount = round_money(amount, currency)
    else:
        amount = to_decimal(amount).quantize(Decimal(1).scaleb(-max_places), rounding=ROUND_HALF_UP).normalize()
        places = max(places, -amount.as_tuple().exponent)
    number = formats.number_format(amount, places, use_l10n=True, force_grouping=True)
    symbol = SYMBOLS.get(currency)
    if (get_language() or "en").split("-")[0] == "fr":
        return f"{number}\u00a0{symbol or currency}"
    if number.startswith("-"):
        return f"-{symbol}{number[1:]}" if symbol else f"{currency}\u00a0{number}"
    return f"{symbol}{number}" if symbol else f"{currency}\u00a0{number}"


def sum_money(items, currency: str) -> Money:
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total
