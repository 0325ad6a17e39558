"""The FEC (fichier des écritures comptables, LPF article A47 A-1): the journal of a period as
the French tax authority reads it. See docs/accounting.md for the format and its choices."""

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from orders.journal import Books, books_load, entries_numbered, journal_entries
from orders.models import CompanySettings

COLUMNS = ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum", "CompAuxLib",
           "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise"]
ENCODING = "iso-8859-15"  # one of the character sets A47 A-1 allows (ASCII, ISO 8859-15, EBCDIC)
SEPARATOR, END_OF_LINE = "\t", "\r\n"
# Letters and punctuation outside ISO 8859-15 that have no decomposition to fall back on.
PLAIN = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i",
                       "‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " "})


class FecError(ValueError):
    """The FEC cannot be produced as things are (with what to change)."""


@dataclass(frozen=True)
class FecFile:
    name: str
    content: bytes
    entries: int
    lines: int


def fec_period(*, date_from: date | None = None, date_to: date | None = None) -> tuple[date, date]:
    """The period: by default the calendar year to date's end (31 December of this year); without
    `date_from`, the twelve months ending on `date_to`."""
    date_to = date_to or date(timezone.localdate().year, 12, 31)
    if date_from is None:
        try:
            date_from = date_to.replace(year=date_to.year - 1) + timedelta(days=1)
        except ValueError:  # 29 February
            date_from = date_to.replace(year=date_to.year - 1, day=28) + timedelta(days=1)
    if date_from > date_to:
        raise FecError(_("The period starts (%(start)s) after it ends (%(end)s).") % {"start": date_from, "end": date_to})
    return date_from, date_to


def fec_filename(*, siren: str, closing: date) -> str:
    return f"{siren}FEC{closing:%Y%m%d}.txt"


def _text(value) -> str:
    """A field as ISO 8859-15 can carry it: no separators or line breaks inside, and characters
    outside the set replaced by their unaccented form (or '?')."""
    text = " ".join(str(value).split())
    try:
        text.encode(ENCODING)
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text.translate(PLAIN):
        try:
            char.encode(ENCODING)
            out.append(char)
        except UnicodeEncodeError:
            plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(plain if plain and all(ord(c) < 128 for c in plain) else "?")
    return "".join(out)


def _amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def fec_rows(entries, *, books: Books) -> list[list[str]]:
    """One row per entry line, entries numbered per journal in the order given."""
    rows = []
    for number, entry in entries_numbered(entries):
        code = books.journal_code(entry.journal)
        head = [code, books.journal_label(entry.journal), f"{code}{number:06d}", f"{entry.date:%Y%m%d}"]
        for line in entry.lines:
            rows.append([_text(v) for v in head + [line.account, line.account_label, line.auxiliary, line.auxiliary_label,
                                                   entry.piece_ref, f"{entry.piece_date:%Y%m%d}", entry.label]]
                        + [_amount(line.debit), _amount(line.credit), "", "", f"{entry.date:%Y%m%d}", "", ""])
    return rows


def fec_build(*, date_from: date | None = None, date_to: date | None = None) -> FecFile:
    """The FEC of the period, named `<SIREN>FEC<closing date>.txt`."""
    date_from, date_to = fec_period(date_from=date_from, date_to=date_to)
    company = CompanySettings.objects.first()
    if company is None or not company.siren:
        raise FecError(_("The FEC is named after the company's SIREN: set it in admin › Company settings."))
    books = books_load()
    entries = journal_entries(date_from=date_from, date_to=date_to, books=books)
    foreign = [e.piece_ref for e in entries if e.currency != company.currency]
    if foreign:
        raise FecError(_("%(count)d documents are not in %(currency)s (%(examples)s): the FEC is kept in the accounting currency "
                         "and the hub has no exchange rates to convert them.")
                       % {"count": len(foreign), "currency": company.currency, "examples": ", ".join(foreign[:5])})
    rows = fec_rows(entries, books=books)
    text = END_OF_LINE.join(SEPARATOR.join(row) for row in [COLUMNS] + rows) + END_OF_LINE
    return FecFile(name=fec_filename(siren=company.siren, closing=date_to), content=text.encode(ENCODING),
                   entries=len(entries), lines=len(rows))


def fec_export(*, folder: Path, date_from: date | None = None, date_to: date | None = None) -> tuple[Path, FecFile]:
    """Write the period's FEC into `folder` (created if missing) under its legal name."""
    folder = Path(folder)
    fec = fec_build(date_from=date_from, date_to=date_to)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / fec.name
    path.write_bytes(fec.content)
    return path, fec
