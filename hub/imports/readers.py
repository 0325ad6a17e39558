"""Reading CSV and XLSX files into (line number, {column: text}) rows."""

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from hub.imports.cells import excerpt

CSV_DELIMITERS = [",", ";", "\t", "|"]
MB = 1024 * 1024
# Small members may be compressed any amount; the ratio is checked above this size (as Apache POI does).
RATIO_CHECKED_FROM_BYTES = 100 * 1024


class FileFormatError(ValueError):
    def __init__(self, message: str, *, line: int = 1):
        super().__init__(message)
        self.line = line


# Byte-order marks, longest first (a UTF-32 LE mark starts like a UTF-16 LE one).
BOMS = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]
ENCODING_HELP = gettext_noop("save it as CSV UTF-8, or give its encoding with --encoding (e.g. --encoding shift_jis; in the admin, "
                              "the import form's Encoding field)")
NEITHER = gettext_noop("the file is neither UTF-8 nor Windows-1252")
# Western text has its accented letters one or two at a time ("été", "Größe"); Shift-JIS, GB18030,
# Big5 and EUC-KR write each character as two high bytes, Cyrillic and Greek whole words in high bytes.
FOREIGN_RUN = re.compile(rb"[\x80-\xff]{4,}")
HIGH_BYTE = re.compile(rb"[\x80-\xff]")


def _line_of(raw: bytes, position: int) -> int:
    return raw.count(b"\n", 0, position) + 1


def _utf16_without_bom(sample: bytes) -> str | None:
    """ "le" or "be" when NUL bytes fill one side of the 16-bit units, as ASCII text in UTF-16 does."""
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if even + odd < len(sample) / 4:
        return None
    return "le" if odd > even else "be"


def decode_csv(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text of a CSV file and the encoding read: the one given, else the byte-order mark's,
    else UTF-8, else Windows-1252 (what Excel writes on a French Windows, and a superset of the
    Latin-1 letters). Anything else is refused rather than read as mojibake."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise FileFormatError(gettext("unknown encoding '%(encoding)s' (--encoding); use a name such as utf-8, "
                                          "cp1252, utf-16-le, shift_jis or gb18030") % {"encoding": excerpt(encoding)}) from None
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise FileFormatError(gettext("the file cannot be read as %(encoding)s: byte 0x%(byte)s on line %(line)s "
                                          "does not fit; %(help)s") % {"encoding": encoding, "byte": format(raw[exc.start], "02x"), "line": _line_of(raw, exc.start), "help": gettext(ENCODING_HELP)}) from None
    for bom, name in BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(name), name
            except UnicodeDecodeError as exc:
                raise FileFormatError(gettext("the file starts as %(name)s but is not (%(reason)s); %(help)s") % {"name": name, "reason": exc.reason, "help": gettext(ENCODING_HELP)}) from None
    endian = _utf16_without_bom(raw[:4096])
    if endian:
        raise FileFormatError(gettext("%(problem)s: it looks like UTF-16 (%(value)s-endian) without a byte-order "
                                      "mark; save it as CSV UTF-8, or give its encoding with --encoding "
                                      "utf-16-%(endian)s") % {"problem": gettext(NEITHER), "value": 'little' if endian == 'le' else 'big', "endian": endian})
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise FileFormatError(gettext("%(problem)s: byte 0x%(byte)s on line %(line)s is not Windows-1252; %(help)s") % {"problem": gettext(NEITHER), "byte": format(raw[exc.start], "02x"), "line": _line_of(raw, exc.start), "help": gettext(ENCODING_HELP)}) from None
    in_runs = sum(len(run) for run in FOREIGN_RUN.findall(raw))
    if in_runs and in_runs * 2 >= len(HIGH_BYTE.findall(raw)):
        raise FileFormatError(gettext("%(problem)s: its non-ASCII bytes come in long runs, as in Shift-JIS, GB18030, "
                                      "Big5, EUC-KR, Cyrillic or Greek text; %(help)s") % {"problem": gettext(NEITHER), "help": gettext(ENCODING_HELP)})
    return text, "cp1252"


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
        text, self.encoding = decode_csv(self.path.read_bytes(), self.encoding)
        if text.startswith("\ufeff"):
            text = text[1:]
        first_line = text.split("\n", 1)[0]
        self.delimiter = self.delimiter or detect_delimiter(first_line)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        line = 1
        try:
            header = next(reader, None)
            if header is None:
                raise FileFormatError(gettext("the file is empty"))
            self.header = [h.strip().lower() for h in header]
            width = len(self.header)
            for line, values in enumerate(reader, start=2):
                if not any(v.strip() for v in values):
                    continue
                if len(values) > width and any(v.strip() for v in values[width:]):
                    yield line, {"__extra__": f"{len(values)} values for {width} columns"}
                    continue
                yield line, {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(self.header)}
        except csv.Error as exc:
            line += 1  # the record being read when the reader gave up
            if "field larger than field limit" in str(exc):
                raise FileFormatError(gettext("a cell is longer than %(limit)s characters; a cell holds at most "
                                              "%(max_chars)s") % {"limit": csv.field_size_limit(), "max_chars": settings.HUB_IMPORT_MAX_CELL_CHARS}, line=line) from None
            raise FileFormatError(excerpt(exc, 200), line=line) from None

    def _xlsx_rows(self):
        from openpyxl import load_workbook

        xlsx_archive_check(self.path)
        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:
            raise FileFormatError(gettext("not a readable XLSX file: %(error)s") % {"error": excerpt(exc, 200)}) from None
        try:
            sheet = workbook.worksheets[0]
            header = next(sheet.iter_rows(max_row=1, values_only=True), None)
            if header is None:
                raise FileFormatError(gettext("the sheet is empty"))
            self.header = [_cell_text(h).lower() for h in header]
            while self.header and not self.header[-1]:
                self.header.pop()
            # Only the header's columns are read: a sheet may declare 16 384 empty ones.
            rows = sheet.iter_rows(min_row=2, max_col=max(len(self.header), 1), values_only=True)
            for line, values in enumerate(rows, start=2):
                texts = [_cell_text(v) for v in values]
                if not any(texts):
                    continue
                yield line, {name: (texts[i] if i < len(texts) else "") for i, name in enumerate(self.header)}
        except FileFormatError:
            raise
        except Exception as exc:  # the sheet is read lazily: a broken archive or XML shows up here
            raise FileFormatError(gettext("not a readable XLSX file: %(error)s") % {"error": excerpt(exc, 200)}) from None
        finally:
            workbook.close()


def xlsx_archive_check(path: Path) -> None:
    """Refuse an XLSX (a zip archive) that would unpack past the limit, or any member of which
    is compressed suspiciously well, before anything is unpacked. The sizes are those the
    archive declares; Python's zipfile never reads a member past its declared size (and fails
    its CRC check if there was more), so they also bound what is read."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileFormatError(gettext("not a readable XLSX file: %(error)s") % {"error": excerpt(exc, 200)}) from None
    limit_mb, ratio_limit = settings.HUB_IMPORT_XLSX_MAX_MB, settings.HUB_IMPORT_XLSX_MAX_RATIO
    total = sum(member.file_size for member in members)
    if total > limit_mb * MB:
        raise FileFormatError(gettext("the XLSX file would unpack to %(total)s MB, more than the %(limit_mb)s MB "
                                      "allowed; split it, or save it as CSV") % {"total": format(total / MB, ".1f"), "limit_mb": limit_mb})
    for member in members:
        if member.file_size > RATIO_CHECKED_FROM_BYTES and member.file_size > ratio_limit * member.compress_size:
            ratio = member.file_size // max(member.compress_size, 1)
            raise FileFormatError(gettext("%(filename)s in the XLSX file is compressed %(ratio)s to 1 (more than "
                                          "%(ratio_limit)s to 1 is refused as a possible zip bomb); save it again "
                                          "from the spreadsheet, or as CSV") % {"filename": excerpt(member.filename), "ratio": ratio, "ratio_limit": ratio_limit})
