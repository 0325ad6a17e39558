"""Inventory's panel on the admin index: stock levels low and out of stock."""

from django.utils.translation import gettext_lazy as _

from hub.overview import Figure, Link, Panel, changelist_url
from hub.registry import OverviewPanelSpec, register_overview_panel
from inventory.selectors import LOW_STOCK_THRESHOLD, stock_availability_counts


def stock_panel(*, request, now):
    if not request.user.has_perm("inventory.view_stocklevel"):
        return None
    counts = stock_availability_counts()
    return Panel(id="overview-stock", title=_("Stock"), figures=[
        Figure(id="overview-stock-low", label=_("Low stock (1 to %(threshold)s available)") % {"threshold": LOW_STOCK_THRESHOLD},
               value=counts["low"], url=changelist_url("inventory.stocklevel", availability="low"), tone="alert"),
        Figure(id="overview-stock-out", label=_("Out of stock"), value=counts["out"], tone="alert",
               url=changelist_url("inventory.stocklevel", availability="out")),
    ], links=[Link(id="overview-stock-link", label=_("All stock levels"), url=changelist_url("inventory.stocklevel"))],
        note=_("Counted per SKU and warehouse; available is on hand less reserved."))


register_overview_panel(OverviewPanelSpec(name="inventory.stock", build=stock_panel, order=30))
