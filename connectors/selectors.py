"""Reads for the operator console: per-endpoint figures, open errors."""

from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from connectors.models import Endpoint, InboxRejection, SyncAttempt, SyncJob
from hub.texts import text_shown


def endpoint_dashboard(*, endpoint: Endpoint, hours: int = 24, now=None) -> dict:
    """Figures an operator reads first: throughput per hour, success rate, lag, queue, last error."""
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    attempts = SyncAttempt.objects.filter(endpoint=endpoint, finished_at__gte=since)
    per_hour = {}
    for row in attempts.annotate(hour=TruncHour("finished_at")).values("hour", "outcome").annotate(n=Count("id")).order_by():
        bucket = per_hour.setdefault(row["hour"], {"ok": 0, "failed": 0})
        bucket["ok" if row["outcome"] == SyncAttempt.Outcome.OK else "failed"] += row["n"]
    start = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    series = []
    for index in range(hours):
        hour = start + timedelta(hours=index)
        counts = next((v for k, v in per_hour.items() if k is not None and abs((k - hour).total_seconds()) < 1), {"ok": 0, "failed": 0})
        series.append({"hour": hour, **counts})
    totals = attempts.aggregate(all=Count("id"), ok=Count("id", filter=Q(outcome=SyncAttempt.Outcome.OK)))
    jobs = SyncJob.objects.filter(endpoint=endpoint)
    queue = jobs.aggregate(
        due=Count("id", filter=Q(status=SyncJob.Status.PENDING, next_attempt_at__lte=now)),
        waiting=Count("id", filter=Q(status=SyncJob.Status.PENDING, next_attempt_at__gt=now)),
        running=Count("id", filter=Q(status=SyncJob.Status.RUNNING)),
        failed=Count("id", filter=Q(status=SyncJob.Status.FAILED)),
        oldest_due=Min("created_at", filter=Q(status=SyncJob.Status.PENDING, next_attempt_at__lte=now)),
    )
    done = list(jobs.filter(status=SyncJob.Status.DONE, finished_at__gte=since)
                .annotate(took=ExpressionWrapper(F("finished_at") - F("created_at"), output_field=DurationField()))
                .order_by("took").values_list("took", flat=True)[:10_000])
    last_error = (jobs.exclude(last_error="").order_by("-updated_at")
                  .values("last_error", "error_text", "updated_at", "flow", "record_label").first())
    if last_error:
        last_error["shown"] = text_shown(last_error["error_text"], last_error["last_error"])
    rejected = InboxRejection.objects.filter(endpoint=endpoint).aggregate(deliveries=Sum("count"), sources=Count("remote_addr", distinct=True))
    return {
        "endpoint": endpoint, "hours": hours, "series": series,
        "attempts": totals["all"], "succeeded": totals["ok"],
        "success_rate": (totals["ok"] / totals["all"]) if totals["all"] else None,
        "jobs_per_hour": round(totals["all"] / hours, 1),
        "due": queue["due"], "waiting": queue["waiting"], "running": queue["running"], "open_errors": queue["failed"],
        "lag": (now - queue["oldest_due"]) if queue["oldest_due"] else timedelta(0),
        "median_sync_time": done[len(done) // 2] if done else None,
        "last_error": last_error,
        "rejected_deliveries": rejected["deliveries"] or 0, "rejected_sources": rejected["sources"],
    }


def open_errors(*, endpoint: Endpoint | None = None):
    """Failed jobs waiting for a person: one per record, since a newer error resolves the older ones."""
    jobs = SyncJob.objects.filter(status=SyncJob.Status.FAILED).select_related("endpoint")
    return jobs.filter(endpoint=endpoint) if endpoint else jobs


def open_errors_per_endpoint() -> list[Endpoint]:
    """Every endpoint with its number of open errors (`open_errors`), by code. One query."""
    return list(Endpoint.objects.annotate(open_errors=Count("jobs", filter=Q(jobs__status=SyncJob.Status.FAILED))).order_by("code"))
