"""Reading CSV and XLSX files into (line number, {column: text}) rows."""

import codecs
import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

CSV_DELIMITERS = [",", ";", "\t", "|"]


class FileFormatError(ValueError):
    pass


def detect_encoding(sample: bytes) -> str:
    """UTF-8 with BOM, UTF-8, else Windows-1252 (what Excel writes on a French Windows)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(sample) - 3:
            return "utf-8"
        return "cp1252"


def detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in CSV_DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(Decimal(repr(value)).normalize()) if value != int(value) else str(int(value))
    return str(value).strip()


class TabularFile:
    """Header + rows of a CSV or XLSX file; line numbers are those a spreadsheet shows (header = 1)."""

    def __init__(self, path: Path, *, delimiter: str | None = None, encoding: str | None = None):
        self.path = Path(path)
        self.format = "xlsx" if self.path.suffix.lower() in {".xlsx", ".xlsm"} else "csv"
        self.delimiter = delimiter
        self.encoding = encoding
        self.header: list[str] = []

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        yield from (self._xlsx_rows() if self.format == "xlsx" else self._csv_rows())

    def _csv_rows(self):
        raw = self.path.read_bytes()
        encoding = self.encoding or detect_encoding(raw[:65536])
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise FileFormatError(f"cannot read the file as {encoding}: {exc}") from None
        if text.startswith("\ufeff"):
            text = text[1:]
        self.encoding = encoding
        first_line = text.split("\n", 1)[0]
        self.delimiter = self.delimiter or detect_delimiter(first_line)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise FileFormatError("the file is empty") from None
        self.header = [h.strip().lower() for h in header]
        width = len(self.header)
        for line, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(values) > width and any(v.strip() for v in values[width:]):
                yield line, {"__extra__": f"{len(values)} values for {width} columns"}
                continue
            yield line, {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(self.header)}

    def _xlsx_rows(self):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:
            raise FileFormatError(f"not a readable XLSX file: {exc}") from None
        try:
            sheet = workbook.worksheets[0]
            iterator = sheet.iter_rows(values_only=True)
            try:
                header = next(iterator)
            except StopIteration:
                raise FileFormatError("the sheet is empty") from None
            self.header = [_cell_text(h).lower() for h in header]
            while self.header and not self.header[-1]:
                self.header.pop()
            for line, values in enumerate(iterator, start=2):
                texts = [_cell_text(v) for v in values[: len(self.header)]]
                if not any(texts):
                    continue
                yield line, {name: (texts[i] if i < len(texts) else "") for i, name in enumerate(self.header)}
        finally:
            workbook.close()
