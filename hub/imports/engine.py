"""Validate-then-write imports and streaming exports, shared by every resource."""

import csv
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import repeat
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext

from hub.imports.cells import QUOTE, csv_cell, excerpt, excerpt_list, imported_text, xlsx_cell
from hub.imports.columns import CellError, Column
from hub.imports.readers import FileFormatError, TabularFile
from hub.registry import ResourceSpec, register_resource

MAX_REPORTED_ERRORS = 10_000
MESSAGE_CHARS = 1000


@dataclass
class ImportOptions:
    decimal_comma: bool = False
    delimiter: str | None = None
    encoding: str | None = None
    replace: bool = False  # resources that support it delete what the file no longer lists


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column '{self.column}'" if self.column else "")
        value = f", value '{self.value}'" if self.value != "" else ""
        return f"{where}{value}: {self.message}"

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "value": self.value, "message": self.message}


@dataclass
class Row:
    line: int
    values: dict
    raw: dict


@dataclass
class ImportResult:
    resource: str
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    dry_run: bool = False
    seconds: float = 0.0
    # Asked for with run_import(preview=N): the first N rows as read, each with what the import
    # does with it, and the cells of the first N lines that have errors.
    preview: list["PreviewRow"] = field(default_factory=list)
    invalid_cells: dict[int, dict] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def counts(self) -> dict:
        return {"rows": self.rows, "new": self.new, "updated": self.updated, "unchanged": self.unchanged, "deleted": self.deleted}

    def __str__(self) -> str:
        rate = ""
        if self.seconds:
            rate = gettext(", %(rate)s rows/s") % {"rate": formats.number_format(round(self.rows / self.seconds), force_grouping=True)}
        if self.dry_run:
            text = gettext("%(resource)s: %(rows)s rows — %(new)s new, %(updated)s updated, %(unchanged)s unchanged, "
                           "%(deleted)s deleted would be written (dry run: nothing written)%(rate)s")
        else:
            text = gettext("%(resource)s: %(rows)s rows — %(new)s new, %(updated)s updated, %(unchanged)s unchanged, "
                           "%(deleted)s deleted were written%(rate)s")
        return text % {**self.counts(), "resource": self.resource, "rate": rate}


class Errors:
    def __init__(self):
        self.items: list[RowError] = []
        self.count = 0

    def add(self, line: int, column: str, value, message: str) -> None:
        """Values are quoted as excerpts; messages that quote one use `excerpt` themselves."""
        self.count += 1
        if len(self.items) < MAX_REPORTED_ERRORS:
            self.items.append(RowError(line, excerpt(column, MESSAGE_CHARS), excerpt(value), excerpt(message, MESSAGE_CHARS)))

    def __bool__(self) -> bool:
        return self.count > 0


@dataclass(frozen=True)
class PreviewRow:
    line: int
    kind: str  # "new", "update" or "skip" (unchanged)
    cells: dict


@dataclass
class Plan:
    """What a write will do. `apply()` runs inside the import transaction. `new_lines` and
    `updated_lines` name the file lines behind `new` and `updated` (the other rows are unchanged),
    for a preview that says what happens to each row."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    apply: Callable[[], None] = lambda: None
    new_lines: Collection[int] = ()
    updated_lines: Collection[int] = ()


Progress = Callable[[str, int, int], None]


class Resource:
    """One spreadsheet resource. Subclasses declare `columns` and implement `check`, `plan`
    and the export side (`export_queryset`, `export_values`)."""

    name: str = ""
    label: str = ""
    columns: list[Column] = []
    importable: bool = True
    order: int = 100
    supports_replace: bool = False  # with ImportOptions.replace, deletes what the file no longer lists

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    # --- import -------------------------------------------------------------------------------
    def check(self, rows: list[Row], errors: Errors, options: ImportOptions) -> None:
        """Set-wise checks: references, uniqueness within the file, business rules."""

    def plan(self, rows: list[Row], options: ImportOptions, user=None) -> Plan:
        raise NotImplementedError

    # --- export -------------------------------------------------------------------------------
    def export_queryset(self):
        raise NotImplementedError

    def export_values(self, obj) -> list:
        raise NotImplementedError

    def export_lines(self, obj) -> Iterator[list]:
        """The rows one exported object gives: one, unless a resource says otherwise."""
        yield self.export_values(obj)

    def export_header(self) -> list[str]:
        return self.column_names

    #: How an export row reaches the model of the admin list it is exported from: "" when it is
    #: that model, else a lookup (returns: "rma", the lines of the listed RMAs).
    selection_lookup: str = ""

    def export_selection(self, queryset):
        """The export rows behind an admin list's queryset (filtered, searched or selected)."""
        lookup = f"{self.selection_lookup}__in" if self.selection_lookup else "pk__in"
        return self.export_queryset().filter(**{lookup: queryset.order_by().values("pk")})


def _parse(resource: Resource, table: TabularFile, errors: Errors, options: ImportOptions, progress: Progress | None,
           invalid_cells: dict | None = None, keep_invalid: int = 0) -> list[Row]:
    rows: list[Row] = []
    invalid_lines: set[int] = set()
    header_checked = False
    columns = resource.columns
    max_cell = settings.HUB_IMPORT_MAX_CELL_CHARS
    for line, raw in table.rows():
        if not header_checked:
            header_checked = True
            missing = [c.name for c in columns if c.required and c.name not in table.header]
            # The export's own extra columns (figures such as stock available) are read back and ignored.
            known = {*resource.column_names, *resource.export_header()}
            unknown = [h for h in table.header if h and h not in known]
            if missing:
                errors.add(1, ", ".join(missing), "", gettext("missing required column(s): %(missing)s; found: %(header)s") % {"missing": ', '.join(missing), "header": excerpt_list(table.header)})
            if unknown:
                errors.add(1, excerpt_list(unknown), "", gettext("unknown column(s): %(unknown)s; expected: %(column_names)s") % {"unknown": excerpt_list(unknown), "column_names": ', '.join(resource.column_names)})
            if missing or unknown:
                return rows, 0
        if "__extra__" in raw:
            errors.add(line, "", "", gettext("more values than columns (%(extra)s)") % {"extra": raw["__extra__"]})
            continue
        values = {}
        valid = True
        # Most rows have no quoted or oversized cell: found with C-level scans of the whole row.
        cells = raw.values()
        plain = max(map(len, cells), default=0) <= max_cell and not any(map(str.startswith, cells, repeat(QUOTE)))
        for column in columns:
            text = raw.get(column.name, "")
            if not plain:
                text = imported_text(text)
                if len(text) > max_cell:
                    errors.add(line, column.name, text, gettext("%(name)s is %(length)s characters long; a cell holds at "
                                                                "most %(max_cell)s") % {"name": column.name, "length": len(text), "max_cell": max_cell})
                    valid = False
                    continue
            try:
                values[column.name] = column.parse(text, options=options)
            except CellError as exc:
                errors.add(line, column.name, text, gettext("%(name)s %(error)s") % {"name": column.name, "error": exc})
                valid = False
        if valid:
            rows.append(Row(line, values, raw))
        else:
            invalid_lines.add(line)
            if len(invalid_lines) <= keep_invalid:
                invalid_cells[line] = raw
        if progress and len(rows) % 5000 == 0:
            progress("validating", len(rows), 0)
    if not header_checked and not table.header:
        errors.add(1, "", "", gettext("the file has no header row"))
    return rows, len(rows) + len(invalid_lines)


def run_import(resource: Resource, path: Path, *, dry_run: bool = False, options: ImportOptions | None = None,
               user=None, progress: Progress | None = None,
               finish: Callable[[ImportResult], None] | None = None, preview: int = 0) -> ImportResult:
    """`finish(result)` runs in the import's transaction once the outcome is known (rows written, or
    errors found); raising there writes nothing. With `preview`, the result keeps the first
    `preview` rows and the cells of the first `preview` lines in error (the admin's confirm step)."""
    options = options or ImportOptions()
    # Resources keep lookups between check() and plan(): each run gets its own instance, so
    # imports running at the same time (web threads, workers) never share them.
    resource = type(resource)()
    started = time.perf_counter()
    result = ImportResult(resource=resource.name, dry_run=dry_run)
    errors = Errors()
    table = TabularFile(path, delimiter=options.delimiter, encoding=options.encoding)
    try:
        rows, result.rows = _parse(resource, table, errors, options, progress, result.invalid_cells, preview)
    except FileFormatError as exc:
        errors.add(exc.line, "", "", str(exc))
        rows = []
    header_broken = any(e.line == 1 for e in errors.items)
    if rows and not header_broken:
        # Rows whose cells all parsed still get reference and rule checks, so one run reports everything.
        resource.check(rows, errors, options)
    with transaction.atomic():
        if errors:
            result.errors = sorted(errors.items, key=lambda e: (e.line, e.column))
            result.error_count = errors.count
        else:
            plan = resource.plan(rows, options, user=user)
            result.new, result.updated, result.unchanged, result.deleted = plan.new, plan.updated, plan.unchanged, plan.deleted
            if preview:
                result.preview = _preview(rows[:preview], plan)
            if not dry_run:
                if progress:
                    progress("writing", 0, len(rows))
                plan.apply()
                if progress:
                    progress("writing", len(rows), len(rows))
        result.seconds = time.perf_counter() - started
        if finish:
            finish(result)
    return result


def _preview(rows: list[Row], plan: Plan) -> list[PreviewRow]:
    new, updated = set(plan.new_lines), set(plan.updated_lines)
    return [PreviewRow(row.line, "new" if row.line in new else "update" if row.line in updated else "skip", row.raw)
            for row in rows]


# --- export ----------------------------------------------------------------------------------

def export_rows(resource: Resource, *, chunk_size: int = 2000, queryset=None) -> Iterator[list]:
    """Every row of the resource, or those of `queryset` (see `Resource.export_selection`)."""
    rows = resource.export_queryset() if queryset is None else resource.export_selection(queryset)
    for obj in rows.iterator(chunk_size=chunk_size):
        yield from resource.export_lines(obj)


def _formatter(resource: Resource, options):
    """Turns one exported row into cell texts; built once per export, not per row."""
    by_name = {c.name: c for c in resource.columns}
    columns = [by_name.get(name) for name in resource.export_header()]

    def cells(values: list) -> list[str]:
        return [csv_cell(value, column.format(value, options=options) if column else None)
                for column, value in zip(columns, values)]

    return cells


class _Echo:
    def write(self, value):
        return value


def stream_csv(resource: Resource, *, delimiter: str = ",", options=None, queryset=None) -> Iterator[str]:
    """CSV text in pieces, for a streaming HTTP response: memory stays flat."""
    writer = csv.writer(_Echo(), delimiter=delimiter)
    cells = _formatter(resource, options)
    yield "\ufeff" + writer.writerow(resource.export_header())
    for values in export_rows(resource, queryset=queryset):
        yield writer.writerow(cells(values))


def export_to_file(resource: Resource, path: Path, *, delimiter: str = ",", progress: Progress | None = None, queryset=None) -> int:
    path = Path(path)
    count = 0
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(resource.name)
        sheet.append(resource.export_header())
        for values in export_rows(resource, queryset=queryset):
            sheet.append([_xlsx_value(sheet, v) for v in values])
            count += 1
            if progress and count % 20000 == 0:
                progress("exporting", count, 0)
        workbook.save(path)
        return count
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(resource.export_header())
        cells = _formatter(resource, None)
        batch = []
        for values in export_rows(resource, queryset=queryset):
            batch.append(cells(values))
            if len(batch) == 5000:
                writer.writerows(batch)
                count += len(batch)
                batch.clear()
                if progress:
                    progress("exporting", count, 0)
        writer.writerows(batch)
        count += len(batch)
    return count


def _xlsx_value(sheet, value):
    if isinstance(value, (int, Decimal, date)) and not isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple)):
        return xlsx_cell(sheet, ";".join(map(str, value)))
    if isinstance(value, dict):
        return xlsx_cell(sheet, ";".join(f"{k}={v}" for k, v in value.items()))
    return "" if value is None else xlsx_cell(sheet, str(value))


# --- registry --------------------------------------------------------------------------------

RESOURCES: dict[str, Resource] = {}


def register(resource: Resource) -> Resource:
    """Make a resource available to `hub_import`/`hub_export` and the admin's Imports page."""
    RESOURCES[resource.name] = resource

    def importer(path, *, dry_run, options, stdout=None):
        from hub.imports.cli import cli_import

        return cli_import(resource, path, dry_run=dry_run, options=options, stdout=stdout)

    def exporter(path, *, options, stdout=None):
        from hub.imports.cli import cli_export

        return cli_export(resource, path, options=options, stdout=stdout)

    register_resource(ResourceSpec(
        name=resource.name, label=resource.label, importer=importer if resource.importable else None,
        exporter=exporter, order=resource.order,
    ))
    return resource
