from django.contrib import admin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from connectors.fulfilment.models import ThirdPartyStock
from connectors.fulfilment.reconciliation import COLUMNS, reconciliation_export, reconciliation_rows
from connectors.models import Endpoint
from hub.admin import ReadOnlyAdmin, admin_permission_required

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@admin.register(ThirdPartyStock)
class ThirdPartyStockAdmin(ReadOnlyAdmin):
    """The reconciliation report: per SKU and 3PL warehouse, the hub's on hand beside the 3PL's
    last count, differences highlighted, exportable as CSV or XLSX."""

    @admin_permission_required("view")
    def changelist_view(self, request, extra_context=None):
        endpoint = request.GET.get("endpoint", "")
        warehouse = request.GET.get("warehouse", "")
        differences = request.GET.get("differences") == "1"
        rows = reconciliation_rows(endpoint_code=endpoint, warehouse_code=warehouse, differences_only=differences)
        export = request.GET.get("export", "")
        if export:
            if export not in EXPORT_TYPES:
                return HttpResponse(_("Export as csv or xlsx."), status=400, content_type="text/plain; charset=utf-8")
            response = HttpResponse(reconciliation_export(rows, file_format=export), content_type=EXPORT_TYPES[export])
            response["Content-Disposition"] = f'attachment; filename="3pl-reconciliation.{export}"'
            return response
        codes = sorted(set(ThirdPartyStock.objects.values_list("endpoint__code", flat=True)))
        context = {
            **self.admin_site.each_context(request), "title": _("3PL stock reconciliation"), "opts": self.model._meta,
            "rows": rows, "columns": COLUMNS, "endpoints": Endpoint.objects.filter(code__in=codes),
            "warehouses": sorted(set(ThirdPartyStock.objects.values_list("warehouse__code", flat=True))),
            "endpoint": endpoint, "warehouse": warehouse, "differences": differences,
            "query": request.GET.urlencode(), "differing": sum(1 for row in rows if row.difference),
        }
        return TemplateResponse(request, "admin/connectors_fulfilment/reconciliation.html", context)
