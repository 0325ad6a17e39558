"""Panels returns adds to other apps' admin pages (registered in ReturnsConfig.ready)."""

from django.template.loader import render_to_string
from django.urls import reverse

from returns.selectors import customer_returns


def customer_returns_panel(request, customer) -> str:
    from hub.display import badge
    from returns.admin import STATUS_TONES

    returns, total = customer_returns(customer=customer)
    rows = [{"rma": rma, "url": reverse("admin:returns_rma_change", args=[rma.pk]), "status": badge(rma.get_status_display(), STATUS_TONES.get(rma.status, "neutral"))}
            for rma in returns]
    return render_to_string("admin/returns/customer_returns_panel.html", {
        "rows": rows, "total": total, "all_url": reverse("admin:returns_rma_changelist") + f"?customer__id__exact={customer.pk}"}, request=request)
