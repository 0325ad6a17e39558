"""The 3PL stock reconciliation report: per SKU and 3PL warehouse, the hub's on hand beside the
3PL's last count, with what explains a gap (units held for orders on each side) and the
difference that remains. Shown in the admin and by `manage.py threepl_reconciliation`, exported
as CSV or XLSX."""

import csv
import io
from dataclasses import asdict, dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from connectors.fulfilment.models import ThirdPartyStock
from connectors.fulfilment.state import awaiting_shipment
from hub.texts import text_shown
from inventory.models import StockLevel

COLUMNS = [
    ("endpoint", _("Endpoint")), ("warehouse", _("Warehouse")), ("sku", _("SKU")), ("name", _("Product")),
    ("hub_on_hand", _("Hub on hand")), ("awaiting_shipment", _("Hub awaiting shipment")),
    ("third_party_on_hand", _("3PL on hand")), ("third_party_committed", _("3PL committed")), ("third_party_in_transit", _("3PL in transit")),
    ("difference", _("Difference")), ("last_correction", _("Last correction")), ("reason", _("Reason")), ("counted_at", _("Counted at")),
]


@dataclass
class ReconciliationRow:
    endpoint: str
    warehouse: str
    sku: str
    name: str
    hub_on_hand: int
    awaiting_shipment: int
    third_party_on_hand: int
    third_party_committed: int
    third_party_in_transit: int
    difference: int
    last_correction: int
    reason: str
    counted_at: datetime


def reconciliation_rows(*, endpoint_code: str = "", warehouse_code: str = "", differences_only: bool = False) -> list[ReconciliationRow]:
    """One row per SKU and 3PL warehouse the 3PL has counted. Difference = (3PL on hand − 3PL
    committed) − (hub on hand now − hub awaiting shipment now): 0 when both sides agree on the
    stock free of orders."""
    counts = ThirdPartyStock.objects.select_related("endpoint", "warehouse", "product").order_by("endpoint__code", "warehouse__code",
                                                                                                  "product__sku", "lot")
    if endpoint_code:
        counts = counts.filter(endpoint__code=endpoint_code)
    if warehouse_code:
        counts = counts.filter(warehouse__code=warehouse_code)
    counts = list(counts)
    hub = {(w, p): on_hand for w, p, on_hand in StockLevel.objects.filter(
        warehouse_id__in={c.warehouse_id for c in counts}, product_id__in={c.product_id for c in counts}).values_list(
        "warehouse_id", "product_id", "on_hand")}
    awaiting = {}
    rows = []
    for count in counts:
        key = (count.endpoint_id, count.warehouse.code)
        if key not in awaiting:
            awaiting[key] = awaiting_shipment(count.endpoint, warehouse_code=count.warehouse.code)
        on_hand = hub.get((count.warehouse_id, count.product_id), 0)
        held = awaiting[key].get(count.product.sku, 0)
        difference = (count.on_hand - count.committed) - (on_hand - held)
        if differences_only and not difference:
            continue
        rows.append(ReconciliationRow(
            endpoint=count.endpoint.code, warehouse=count.warehouse.code, sku=count.product.sku, name=count.product.name,
            hub_on_hand=on_hand, awaiting_shipment=held, third_party_on_hand=count.on_hand, third_party_committed=count.committed,
            third_party_in_transit=count.in_transit, difference=difference, last_correction=count.corrected, reason=text_shown(count.reason_text, count.reason),
            counted_at=count.counted_at))
    return rows


def _cell(value):
    """Text that a spreadsheet would take for a formula is written as text."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def reconciliation_export(rows: list[ReconciliationRow], *, file_format: str) -> bytes:
    """The rows as CSV (UTF-8 with BOM, for spreadsheets) or XLSX."""
    header = [str(label) for _name, label in COLUMNS]
    values = [[_cell(asdict(row)[name]) for name, _label in COLUMNS] for row in rows]
    if file_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("3PL reconciliation")
        sheet.append(header)
        for line in values:
            sheet.append(line)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    if file_format != "csv":
        raise ValueError(f"unknown export format {file_format!r}: csv or xlsx")
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(values)
    return ("\ufeff" + text.getvalue()).encode("utf-8")
