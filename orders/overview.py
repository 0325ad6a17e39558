"""Orders' panels on the admin index: orders and revenue (today, this week, 14 days), holds by
reason, overdue invoices. Each figure links to the admin list of exactly the rows it counts."""

from datetime import timedelta
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hub.overview import Bar, Chart, Figure, Panel, changelist_url, day_range, week_start
from hub.registry import OverviewPanelSpec, register_overview_panel
from orders.models import OrderStatus
from orders.selectors import LIVE_STATUSES, hold_kinds, invoices_overdue_by_currency, orders_on_hold_counts, orders_per_day

CHART_DAYS = 14
DEFAULT_CURRENCY = "EUR"


def orders_url(start, end, currency=None) -> str:
    return changelist_url("orders.salesorder", created_at__gte=start.isoformat(), created_at__lt=end.isoformat(),
                          status__in=",".join(LIVE_STATUSES), currency__exact=currency)


def sales_panel(*, request, now):
    if not request.user.has_perm("orders.view_salesorder"):
        return None
    today = timezone.localdate(now)
    first_day = today - timedelta(days=CHART_DAYS - 1)
    monday = week_start(today)
    rows = orders_per_day(since=day_range(first_day)[0], until=day_range(today)[1])
    currencies = sorted({row["currency"] for row in rows}) or [DEFAULT_CURRENCY]

    def total(what, first, last=today, currency=None):
        return sum((row[what] for row in rows if first <= row["day"] <= last and currency in (None, row["currency"])),
                   Decimal(0) if what == "revenue" else 0)

    week = (day_range(monday)[0], day_range(today)[1])
    figures = [
        Figure(id="overview-orders-today", label=_("Orders today"), value=total("orders", today), url=orders_url(*day_range(today))),
        Figure(id="overview-orders-week", label=_("Orders this week (since Monday)"), value=total("orders", monday), url=orders_url(*week)),
    ]
    for currency in currencies:
        code = currency.lower()
        figures.append(Figure(id=f"overview-revenue-today-{code}", label=_("Revenue today"), currency=currency,
                              value=total("revenue", today, currency=currency), url=orders_url(*day_range(today), currency)))
        figures.append(Figure(id=f"overview-revenue-week-{code}", label=_("Revenue this week"), currency=currency,
                              value=total("revenue", monday, currency=currency), url=orders_url(*week, currency)))

    days = [first_day + timedelta(days=n) for n in range(CHART_DAYS)]
    charts = [Chart(id="overview-chart-orders-per-day", title=_("Orders per day, last %(days)s days") % {"days": CHART_DAYS}, bars=[
        Bar(label=formats.date_format(day, "DATE_FORMAT"), short_label=str(day.day), value=total("orders", day, day),
            url=orders_url(*day_range(day)), id=f"overview-orders-day-{day.isoformat()}")
        for day in days
    ])]
    for currency in currencies:
        charts.append(Chart(id=f"overview-chart-revenue-per-day-{currency.lower()}", currency=currency,
                            title=_("Revenue per day in %(currency)s, last %(days)s days") % {"currency": currency, "days": CHART_DAYS}, bars=[
            Bar(label=formats.date_format(day, "DATE_FORMAT"), short_label=str(day.day),
                value=total("revenue", day, day, currency=currency),
                url=orders_url(*day_range(day), currency))
            for day in days
        ]))
    return Panel(id="overview-sales", title=_("Orders and revenue"), figures=figures, charts=charts,
                 note=_("Orders the hub received, cancelled ones left out; revenue is their total, taxes and shipping included."))


def attention_panel(*, request, now):
    may_see_orders = request.user.has_perm("orders.view_salesorder")
    may_see_invoices = request.user.has_perm("orders.view_invoice")
    if not (may_see_orders or may_see_invoices):
        return None
    figures, charts = [], []
    if may_see_orders:
        counts = orders_on_hold_counts()
        figures.append(Figure(id="overview-holds", label=_("Orders on hold"), value=counts["total"], tone="alert",
                              url=changelist_url("orders.salesorder", status__exact=OrderStatus.ON_HOLD)))
        charts.append(Chart(id="overview-chart-holds", title=_("Orders on hold by reason"), kind="rows", tone="alert", bars=[
            Bar(id=f"overview-holds-{kind.code}", label=kind.label, value=counts[kind.code],
                url=changelist_url("orders.salesorder", hold=kind.code))
            for kind in hold_kinds()
        ]))
    if may_see_invoices:
        today = timezone.localdate(now)
        overdue = invoices_overdue_by_currency(today=today)
        figures.append(Figure(id="overview-invoices-overdue", label=_("Invoices overdue"), tone="alert",
                              value=sum(count for count, _due in overdue.values()),
                              url=changelist_url("orders.invoice", balance="overdue")))
        for currency, (count, due) in overdue.items():
            figures.append(Figure(id=f"overview-invoices-overdue-{currency.lower()}", label=_("Overdue balance"), currency=currency,
                                  value=due, tone="alert", url=changelist_url("orders.invoice", balance="overdue", currency__exact=currency),
                                  note=ngettext("%(count)s invoice", "%(count)s invoices", count) % {"count": count}))
    return Panel(id="overview-attention", title=_("Waiting for someone"), figures=figures, charts=charts)


register_overview_panel(OverviewPanelSpec(name="orders.sales", build=sales_panel, order=10))
register_overview_panel(OverviewPanelSpec(name="orders.attention", build=attention_panel, order=20))
