"""The overview on the admin index: panels of figures and small charts that each app contributes.

The kernel knows no orders, stock or connectors: each app registers an `OverviewPanelSpec`
(`hub.registry`) in its `overview.py`, whose `build` returns a `Panel` made of the plain pieces
below. Every figure and every bar carries the URL of the filtered admin list it counts, and a
stable element id. Charts are drawn here, on the server, as inline SVG (columns) or CSS bars
(rows): no script and nothing fetched from elsewhere.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

from hub import registry
from hub.imports.models import ImportJob
from hub.money import minor_unit


@dataclass
class Figure:
    """One number and the list behind it. `currency` makes it an amount; `tone` "alert" marks a
    figure that asks for someone's attention when it is not zero."""

    id: str
    label: str
    value: int | Decimal
    url: str = ""
    currency: str = ""
    tone: str = ""
    note: str = ""

    @property
    def alerting(self) -> bool:
        return self.tone == "alert" and bool(self.value)

    @property
    def number_format(self) -> str:
        """floatformat's argument for this amount: the currency's decimals, digits grouped."""
        return number_format(self.currency)


@dataclass
class Link:
    id: str
    label: str
    url: str


@dataclass
class Bar:
    label: str
    value: int | Decimal
    url: str = ""
    id: str = ""
    short_label: str = ""
    # Filled in by Chart.
    percent: float = 0.0
    x: int = 0
    y: int = 0
    height: int = 0


COLUMN_WIDTH, COLUMN_GAP, CHART_HEIGHT, LABEL_SPACE = 16, 6, 64, 16


@dataclass
class Chart:
    """Columns (an SVG, one column per period, oldest left) or rows (one CSS bar per category)."""

    id: str
    title: str
    bars: list[Bar]
    kind: str = "columns"
    currency: str = ""
    tone: str = ""

    def __post_init__(self):
        tallest = max([bar.value for bar in self.bars] + [0])
        for index, bar in enumerate(self.bars):
            share = (bar.value / tallest) if tallest else 0
            bar.percent = round(float(share) * 100, 1)
            bar.height = round(float(share) * CHART_HEIGHT) if bar.value else 0
            if bar.value and bar.height < 2:
                bar.height = 2  # a non-zero value stays visible
            bar.x = index * (COLUMN_WIDTH + COLUMN_GAP)
            bar.y = CHART_HEIGHT - bar.height

    @property
    def width(self) -> int:
        return max(len(self.bars) * (COLUMN_WIDTH + COLUMN_GAP) - COLUMN_GAP, 1)

    @property
    def height(self) -> int:
        return CHART_HEIGHT + LABEL_SPACE

    @property
    def baseline(self) -> int:
        return CHART_HEIGHT

    @property
    def label_y(self) -> int:
        return CHART_HEIGHT + LABEL_SPACE - 4

    @property
    def column_width(self) -> int:
        return COLUMN_WIDTH

    @property
    def number_format(self) -> str:
        return number_format(self.currency)

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


@dataclass
class Panel:
    id: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    note: str = ""


# --- Helpers for panels ----------------------------------------------------------------------

def number_format(currency: str) -> str:
    return f"{minor_unit(currency)}g" if currency else "0g"


def changelist_url(model_label: str, **params) -> str:
    """The admin list of `app_label.model_name` filtered by `params` (query-string lookups)."""
    app_label, model_name = model_label.lower().split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    params = {name: value for name, value in params.items() if value is not None}
    return f"{url}?{urlencode(params)}" if params else url


def local_midnight(day) -> datetime:
    """The aware start of a calendar day in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_range(first_day, days: int = 1) -> tuple[datetime, datetime]:
    """[start, end) of `days` calendar days from `first_day`, in the current time zone."""
    return local_midnight(first_day), local_midnight(first_day + timedelta(days=days))


def week_start(today):
    """Monday of `today`'s week (ISO weeks, as in France)."""
    return today - timedelta(days=today.weekday())


# --- The index ------------------------------------------------------------------------------

_discovered = False


def overview_panels(request, *, now=None) -> list[Panel]:
    """The panels this user may see, in their registered order."""
    global _discovered
    if not _discovered:
        autodiscover_modules("overview")
        _discovered = True
    now = now or timezone.now()
    panels = []
    for spec in sorted(registry.overview_panels.values(), key=lambda spec: (spec.order, spec.name)):
        panel = spec.build(request=request, now=now)
        if panel is not None:
            panels.append(panel)
    return panels


def imports_panel(*, request, now):
    if not request.user.has_perm("hub.view_importjob"):
        return None
    counts = dict(ImportJob.objects.filter(status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING])
                  .values_list("status").annotate(n=Count("id")).order_by())
    return Panel(id="overview-imports", title=_("Spreadsheet imports"), figures=[
        Figure(id="overview-imports-running", label=_("Imports running"), value=counts.get(ImportJob.Status.RUNNING, 0),
               url=changelist_url("hub.importjob", status__exact=ImportJob.Status.RUNNING)),
        Figure(id="overview-imports-queued", label=_("Imports waiting for a worker"), value=counts.get(ImportJob.Status.PENDING, 0),
               url=changelist_url("hub.importjob", status__exact=ImportJob.Status.PENDING)),
    ], links=[Link(id="overview-imports-link", label=_("Import history"), url=changelist_url("hub.importjob"))])


registry.register_overview_panel(registry.OverviewPanelSpec(name="hub.imports", build=imports_panel, order=90))
