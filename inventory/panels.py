"""Panels inventory adds to other apps' admin pages (registered in InventoryConfig.ready)."""

from django.template.loader import render_to_string
from django.urls import reverse

from inventory.selectors import stock_by_warehouse


def product_stock_panel(request, product) -> str:
    levels = stock_by_warehouse(product=product)
    rows = [{"level": level, "available": level.available,
             "movements": reverse("admin:inventory_stockmovement_changelist") + f"?product__id__exact={level.product_id}&warehouse__id__exact={level.warehouse_id}"}
            for level in levels]
    totals = {"on_hand": sum(l.on_hand for l in levels), "reserved": sum(l.reserved for l in levels), "available": sum(l.available for l in levels)}
    return render_to_string("admin/inventory/product_stock_panel.html",
                            {"rows": rows, "totals": totals, "variants": any(l.product_id != product.pk for l in levels)}, request=request)
