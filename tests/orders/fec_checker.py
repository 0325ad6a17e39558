"""An independent check of a FEC file against the published format (LPF article A47 A-1 and
BOI-CF-IOR-60-40-20): it reads only the file, never the hub's code that wrote it."""

import re
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

COLUMNS = ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum", "CompAuxLib",
           "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise"]
# Mandatory for a company under the BIC/IS regime; the auxiliary account, lettering and currency
# zones may be empty.
MANDATORY = ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "PieceRef", "PieceDate",
             "EcritureLib", "Debit", "Credit", "ValidDate"]
DATE_COLUMNS = ["EcritureDate", "PieceDate", "DateLet", "ValidDate"]
AMOUNT = re.compile(r"^-?\d+(,\d{1,2})?$")
FILENAME = re.compile(r"^(\d{9})FEC(\d{8})\.txt$")


def _date(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%Y%m%d").date() if len(text) == 8 else None
    except ValueError:
        return None


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def check_fec(path: Path, *, date_from: date, date_to: date, siren: str | None = None) -> list[str]:
    """Every rule the file breaks, as readable sentences; an empty list when it is valid."""
    errors = []
    path = Path(path)
    name = FILENAME.match(path.name)
    if not name:
        errors.append(f"file name {path.name!r} is not <SIREN>FEC<YYYYMMDD>.txt")
    else:
        if siren and name.group(1) != siren:
            errors.append(f"file name has SIREN {name.group(1)}, expected {siren}")
        if _date(name.group(2)) != date_to:
            errors.append(f"file name date {name.group(2)} is not the closing date {date_to:%Y%m%d}")
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        errors.append("the file starts with a UTF-8 byte order mark; it must be ISO 8859-15 (or ASCII)")
    text = raw.decode("iso-8859-15")  # every byte decodes; control characters are checked below
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text):
        errors.append("the file holds control characters outside ISO 8859-15's printable set")
    records = [r for r in re.split(r"\r\n|\n|\r", text)]
    if records and records[-1] == "":
        records.pop()
    if not records:
        return errors + ["the file is empty"]
    header = records[0].split("\t")
    if header != COLUMNS:
        errors.append(f"header is {header}, expected the 18 columns {COLUMNS} in that order")
        return errors
    entries = defaultdict(list)  # (journal, number) -> [(line number, row)]
    order = []
    for number, record in enumerate(records[1:], start=2):
        fields = record.split("\t")
        if len(fields) != len(COLUMNS):
            errors.append(f"line {number}: {len(fields)} fields, expected {len(COLUMNS)}")
            continue
        row = dict(zip(COLUMNS, fields))
        for column in MANDATORY:
            if not row[column].strip():
                errors.append(f"line {number}: {column} is empty")
        for column in DATE_COLUMNS:
            if row[column] and _date(row[column]) is None:
                errors.append(f"line {number}: {column} {row[column]!r} is not a YYYYMMDD date")
        for column in ("Debit", "Credit", "Montantdevise"):
            if row[column] and not AMOUNT.match(row[column]):
                errors.append(f"line {number}: {column} {row[column]!r} is not an amount with a decimal comma")
        if not row["CompteNum"][:3].isdigit():
            errors.append(f"line {number}: CompteNum {row['CompteNum']!r} does not start with 3 PCG digits")
        if row["Idevise"] and not re.match(r"^[A-Z]{3}$", row["Idevise"]):
            errors.append(f"line {number}: Idevise {row['Idevise']!r} is not an ISO 4217 code")
        if bool(row["Idevise"]) != bool(row["Montantdevise"]):
            errors.append(f"line {number}: Montantdevise and Idevise go together")
        for column in ("EcritureDate", "ValidDate"):
            day = _date(row[column])
            if day and not date_from <= day <= date_to:
                errors.append(f"line {number}: {column} {row[column]} is outside the period {date_from:%Y%m%d}–{date_to:%Y%m%d}")
        key = (row["JournalCode"], row["EcritureNum"])
        if key not in entries:
            order.append(key)
        elif entries[key][-1][0] != number - 1:
            errors.append(f"line {number}: the lines of entry {key[1]} are not together")
        entries[key].append((number, row))
    if errors:
        return errors
    previous_date, last_number = None, defaultdict(int)
    for journal, number in order:
        rows = [row for _, row in entries[(journal, number)]]
        first_line = entries[(journal, number)][0][0]
        debit, credit = sum(_amount(r["Debit"]) for r in rows), sum(_amount(r["Credit"]) for r in rows)
        if debit != credit:
            errors.append(f"entry {journal} {number}: debit {debit} ≠ credit {credit}")
        if len(rows) < 2:
            errors.append(f"entry {journal} {number}: a single line cannot balance an entry")
        for column in ("EcritureDate", "PieceRef", "JournalLib"):
            if len({r[column] for r in rows}) != 1:
                errors.append(f"entry {journal} {number}: its lines disagree on {column}")
        sequence = re.search(r"(\d+)$", number)
        if not sequence:
            errors.append(f"entry {journal} {number}: EcritureNum has no sequence number")
        else:
            if int(sequence.group(1)) != last_number[journal] + 1:
                errors.append(f"entry {journal} {number} (line {first_line}): expected number {last_number[journal] + 1} of journal {journal}, no gap")
            last_number[journal] = int(sequence.group(1))
        day = _date(rows[0]["EcritureDate"])
        if previous_date and day < previous_date:
            errors.append(f"entry {journal} {number} (line {first_line}): dated {day} after an entry of {previous_date}: not chronological")
        previous_date = day
    return errors
