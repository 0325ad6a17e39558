"""Connectors' panel on the admin index: open sync errors per endpoint and the operator console."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from connectors.models import SyncJob
from connectors.selectors import open_errors_per_endpoint
from hub.overview import Bar, Chart, Figure, Link, Panel, changelist_url
from hub.registry import OverviewPanelSpec, register_overview_panel


def sync_panel(*, request, now):
    may_see_jobs = request.user.has_perm("connectors.view_syncjob")
    may_see_console = request.user.has_perm("connectors.view_endpoint")
    if not (may_see_jobs or may_see_console):
        return None
    figures, charts, links = [], [], []
    if may_see_console:
        links.append(Link(id="overview-console-link", label=_("Operator console"), url=reverse("admin:connectors_console")))
    if may_see_jobs:
        endpoints = open_errors_per_endpoint()
        failed = SyncJob.Status.FAILED
        figures.append(Figure(id="overview-sync-errors", label=_("Open sync errors"), value=sum(e.open_errors for e in endpoints),
                              tone="alert", url=changelist_url("connectors.syncjob", status__exact=failed)))
        if endpoints:
            charts.append(Chart(id="overview-chart-sync-errors", title=_("Open sync errors per connected system"), kind="rows", tone="alert", bars=[
                Bar(id=f"overview-sync-errors-{endpoint.code}", label=f"{endpoint.name} ({endpoint.code})", value=endpoint.open_errors,
                    url=changelist_url("connectors.syncjob", status__exact=failed, endpoint__id__exact=endpoint.pk))
                for endpoint in endpoints
            ]))
    return Panel(id="overview-sync", title=_("Connected systems"), figures=figures, charts=charts, links=links)


register_overview_panel(OverviewPanelSpec(name="connectors.sync", build=sync_panel, order=40))
