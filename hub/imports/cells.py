"""What may safely go into a spreadsheet cell, and what an error message may quote of one.

Formulas (OWASP "CSV injection"): a spreadsheet evaluates a text cell that starts with `=`, `+`,
`-`, `@`, tab or CR, so an exported product name such as `=HYPERLINK(…)` would run in the
merchandiser's spreadsheet. Exports therefore write such text after a single quote in CSV (the
quote shows, nothing is evaluated) and as string cells in XLSX. Numbers are never touched: a
negative price stays a number. Imports drop that quote again, so an exported file imports back
unchanged; text that itself starts with a quote before one of those characters (or another
quote) gets one more, which keeps the escape reversible.
"""

from decimal import Decimal

from django.conf import settings

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
NUMBERS = (int, float, Decimal)


def _quoted(text: str) -> bool:
    return text.startswith(QUOTE) and text[1:2] in FORMULA_STARTS + (QUOTE,)


def csv_text(text: str) -> str:
    """`text` as written in a CSV cell: quoted when a spreadsheet would evaluate it."""
    return QUOTE + text if text.startswith(FORMULA_STARTS) or _quoted(text) else text


def csv_cell(value, text: str | None = None) -> str:
    """A value (as `text` when given, e.g. formatted with a decimal comma) for a CSV cell;
    numbers as they are, anything else through `csv_text`."""
    if text is None:
        text = "" if value is None else str(value)
    return text if isinstance(value, NUMBERS) else csv_text(text)


def imported_text(text: str) -> str:
    """The reverse of `csv_text`, for a cell read from a file."""
    return text[1:] if _quoted(text) else text


def xlsx_cell(sheet, text: str):
    """A text for a write-only XLSX sheet: always a string cell (openpyxl would otherwise make
    `=…` a formula and `#N/A` an error), with the characters XML cannot carry replaced and
    the quote escape as in CSV, since imports read both formats alike."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    if _quoted(text):
        return QUOTE + text
    if not (text.startswith(FORMULA_STARTS) or text in ERROR_CODES):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


def excerpt(value, limit: int | None = None) -> str:
    """At most `limit` characters of a value for an error message, control characters made
    visible (a NUL cannot be stored in a PostgreSQL text or JSON column)."""
    limit = limit or settings.HUB_IMPORT_EXCERPT_CHARS
    text = "" if value is None else str(value)
    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text[:limit])
    return shown + "…" if len(text) > limit else shown


def excerpt_list(values, limit: int = 10) -> str:
    """`a, b, c … and 7 more`, each an excerpt."""
    values = list(values)
    shown = ", ".join(excerpt(value) for value in values[:limit])
    return shown + (f" … and {len(values) - limit} more" if len(values) > limit else "")
