"""Export of returns (one row per RMA line)."""

from django.utils.translation import gettext_lazy as _

from hub.imports.columns import DecimalNumber, Integer, Text
from hub.imports.engine import Resource, register
from returns.models import RmaLine


class ReturnExportResource(Resource):
    name, label, order, importable = "returns", _("Returns (export)"), 100, False
    selection_lookup = "rma"  # exported from the RMA list: the lines of the listed RMAs
    columns = [Text(n) for n in ["rma", "status", "order", "customer", "channel", "source", "sku", "reason"]] + [
        Integer("quantity"), Integer("received"), Text("condition"), Text("disposition"), Text("replacement_sku"),
        DecimalNumber("rma_refunded_total", places=2), Text("created_at")]

    def export_queryset(self):
        return RmaLine.objects.select_related("rma__order", "rma__customer", "rma__channel", "order_line", "replacement_product").order_by("rma_id", "pk")

    def export_values(self, line):
        rma = line.rma
        return [rma.number, rma.status, rma.order.number, rma.customer.code, rma.channel.code, rma.source, line.order_line.sku, line.reason,
                line.quantity, line.received_quantity, line.condition, line.disposition,
                line.replacement_product.sku if line.replacement_product_id else "", rma.refunded_total, rma.created_at.isoformat()]


register(ReturnExportResource())
