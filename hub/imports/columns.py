"""Typed columns: each turns a cell's text into a value or raises CellError with a clear message."""


import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from django.utils.translation import gettext

from hub.imports.cells import excerpt


class CellError(ValueError):
    pass


# Every integer column of the hub is a Django IntegerField or PositiveIntegerField, whose range is
# the same on every database.
INTEGER_MIN, INTEGER_MAX = -2**31, 2**31 - 1


class Column:
    def __init__(self, name, *, required=False, default=None, help=""):
        self.name = name
        self.required = required
        self.default = default
        self.help = help

    def parse(self, text: str, *, options):
        if "\x00" in text:
            raise CellError(gettext("contains a NUL character (\\x00)"))
        if text == "":
            if self.required:
                raise CellError(gettext("is required"))
            return self.default
        return self.convert(text, options=options)

    def convert(self, text, *, options):
        return text

    def format(self, value, *, options=None) -> str:
        return "" if value is None else str(value)


class Text(Column):
    def __init__(self, name, *, max_length=None, pattern=None, pattern_message="", default="", **kw):
        super().__init__(name, default=default, **kw)
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_message = pattern_message

    def convert(self, text, *, options):
        if self.max_length and len(text) > self.max_length:
            raise CellError(gettext("is %(length)s characters long; at most %(max_length)s") % {"length": len(text), "max_length": self.max_length})
        if self.pattern and not self.pattern.match(text):
            raise CellError(str(self.pattern_message) if self.pattern_message else gettext("has an invalid format"))
        return text


class Integer(Column):
    def __init__(self, name, *, minimum=INTEGER_MIN, maximum=INTEGER_MAX, **kw):
        super().__init__(name, **kw)
        self.minimum, self.maximum = max(minimum, INTEGER_MIN), min(maximum, INTEGER_MAX)

    def convert(self, text, *, options):
        cleaned = text.replace(" ", "").replace("\u202f", "").replace("\xa0", "")
        if re.fullmatch(r"[+-]?\d+([.,]0+)?", cleaned) is None:
            raise CellError(gettext("is not a whole number"))
        whole = re.split(r"[.,]", cleaned)[0]
        # Compared as text first: Python refuses to convert more than 4 300 digits.
        too_long = len(whole.lstrip("+-").lstrip("0")) > len(str(INTEGER_MAX))
        value = None if too_long else int(whole)
        if (value is None and whole.startswith("-")) or (value is not None and value < self.minimum):
            raise CellError(gettext("must be at least %(minimum)s") % {"minimum": self.minimum})
        if value is None or value > self.maximum:
            raise CellError(gettext("must be at most %(maximum)s") % {"maximum": self.maximum})
        return value


class DecimalNumber(Column):
    """`places` and `max_digits` are those of the DecimalField the value goes to."""

    def __init__(self, name, *, minimum=None, places=4, max_digits=14, **kw):
        super().__init__(name, **kw)
        self.minimum = minimum
        self.places = places
        self.max_digits = max_digits

    def convert(self, text, *, options):
        cleaned = text.replace(" ", "").replace("\u202f", "").replace("\xa0", "")
        if options.decimal_comma:
            cleaned = cleaned.replace(".", "").replace(",", ".")
        elif "," in cleaned:
            raise CellError(gettext("uses a decimal comma; import with the decimal-comma option, or write 12.50"))
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise CellError(gettext("is not a decimal number")) from None
        if not value.is_finite():
            raise CellError(gettext("is not a decimal number"))
        if value and value.adjusted() >= self.max_digits - self.places:
            raise CellError(gettext("is too large (at most %(max_digits)s digits before the decimal point)") % {"max_digits": self.max_digits - self.places})
        if -value.as_tuple().exponent > self.places:
            raise CellError(gettext("has more than %(places)s decimal places") % {"places": self.places})
        if self.minimum is not None and value < self.minimum:
            raise CellError(gettext("must be at least %(minimum)s") % {"minimum": self.minimum})
        return value

    def format(self, value, *, options=None) -> str:
        if value is None:
            return ""
        text = format(value, "f")
        return text.replace(".", ",") if options is not None and options.decimal_comma else text


DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


class Date(Column):
    def convert(self, text, *, options):
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise CellError(gettext("is not a date (use 2026-11-30 or 30/11/2026)"))

    def format(self, value, *, options=None) -> str:
        return value.isoformat() if isinstance(value, date) else ""


TRUE_WORDS = {"1", "true", "yes", "y", "oui", "vrai", "x"}
FALSE_WORDS = {"0", "false", "no", "n", "non", "faux"}


class Boolean(Column):
    def __init__(self, name, *, default=False, **kw):
        super().__init__(name, default=default, **kw)

    def convert(self, text, *, options):
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise CellError(gettext("is not yes/no (use 1/0, yes/no, true/false, oui/non)"))

    def format(self, value, *, options=None) -> str:
        return "1" if value else "0"


class Choice(Column):
    def __init__(self, name, choices, **kw):
        super().__init__(name, **kw)
        self.choices = {str(value).lower(): value for value, _ in choices}
        self.labels = {str(label).lower(): value for value, label in choices}

    def convert(self, text, *, options):
        lowered = text.lower()
        if lowered in self.choices:
            return self.choices[lowered]
        if lowered in self.labels:
            return self.labels[lowered]
        raise CellError(gettext("must be one of: %(choices)s") % {"choices": ', '.join(sorted(self.choices))})


class TextList(Column):
    """`a;b;c` (also `|`) — a list cell, since the file's own delimiter may be `;` too."""

    def __init__(self, name, *, default=(), **kw):
        super().__init__(name, default=list(default), **kw)

    def convert(self, text, *, options):
        return [item.strip() for item in re.split(r"[;|]", text) if item.strip()]

    def format(self, value, *, options=None) -> str:
        return ";".join(value or [])


class KeyValues(Column):
    """`size=M;colour=Red` → {"size": "M", "colour": "Red"}."""

    def __init__(self, name, **kw):
        super().__init__(name, default={}, **kw)

    def convert(self, text, *, options):
        result = {}
        for part in re.split(r"[;|]", text):
            if not part.strip():
                continue
            if "=" not in part:
                raise CellError(gettext("'%(part)s' is not name=value") % {"part": excerpt(part.strip())})
            key, value = part.split("=", 1)
            result[key.strip()] = value.strip()
        return result

    def format(self, value, *, options=None) -> str:
        return ";".join(f"{k}={v}" for k, v in (value or {}).items())
