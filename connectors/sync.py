"""The outbound sync engine: jobs from the change feed, a coalescing dispatcher, claims with
per-endpoint in-flight limits, attempts with backoff, a sweeper, schedules and health alerts.

django-q2 only runs the work; these tables are the truth about what must be synced, so a lost or
duplicated task changes nothing: a run claims jobs atomically, and a job whose worker died is
handed out again once its lease expires."""

import logging
import math
import random
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop

from connectors.errors import PermanentError, SyncError, message_of
from connectors.flows import NOTHING_TO_SEND, SENT, FlowContext
from connectors.models import Endpoint, EndpointHealth, EndpointSchedule, SyncAttempt, SyncCursor, SyncJob
from connectors.registry import connector_for
from hub.bulk import bulk_insert, bulk_update_fields
from hub.texts import Text, text_shown, text_stored

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 3600
RUN_BUDGET_SECONDS = 50
SCHEDULED_KEY = "*"


def backoff_seconds(attempt: int, *, retry_after: float | None = None, rng=random) -> float:
    """Exponential backoff with ±25 % jitter, never sooner than the vendor's Retry-After."""
    delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    delay *= rng.uniform(0.75, 1.25)
    return max(delay, retry_after or 0)


# --- Outbox: changes become jobs in the same transaction ------------------------------------------

DISPATCH_GATE_SECONDS = 0.5


def _kick_dispatch() -> None:
    """Queue a dispatch, unless one was queued less than DISPATCH_GATE_SECONDS ago (a burst of
    orders asks for one dispatch, not one each): a job created after that dispatch looked is
    dispatched by the next kick, or within seconds by the waker (connectors.waker), which
    dispatches whatever became due since its last period."""
    from django.core.cache import cache
    from django_q.tasks import async_task

    if settings.Q_CLUSTER.get("sync") or cache.add("connectors:sync-dispatch", 1, timeout=DISPATCH_GATE_SECONDS):
        async_task("connectors.tasks.sync_dispatch_task")


def _kick_after_commit() -> None:
    """Queue one dispatch per transaction, however many changes it records."""
    if any(callback is _kick_dispatch for _, callback, *_ in connection.run_on_commit):
        return
    transaction.on_commit(_kick_dispatch)


def sync_jobs_for_changes(*, changes) -> int:
    """Change-feed subscriber (`hub.changes.ChangeSet`s): one pending job per endpoint, flow and
    record (a pending job absorbs later changes). Changes that came from an endpoint are never
    sent back to it. The active endpoints are read once for all the sets."""
    created = 0
    now = timezone.now()
    endpoints = list(Endpoint.objects.filter(is_active=True))
    for change in changes:
        for endpoint in endpoints:
            if change.origin and change.origin == endpoint.code:
                continue
            try:
                connector = connector_for(endpoint)
            except LookupError:
                continue
            for flow in connector.enabled_flows(endpoint):
                if change.topic not in flow.topics:
                    continue
                keys = flow.record_keys(endpoint=endpoint, topic=change.topic, object_ids=change.object_ids, data_by_id=change.data_by_id)
                if not keys:
                    continue
                created += _jobs_upsert(endpoint, flow.name, keys, now)
    if created:
        _kick_after_commit()
    return created


def _jobs_upsert(endpoint, flow_name: str, keys: list[tuple[str, str]], now) -> int:
    labels = dict(keys)
    key_list = list(labels)
    for start in range(0, len(key_list), 1000):
        chunk = key_list[start:start + 1000]
        SyncJob.objects.filter(endpoint=endpoint, flow=flow_name, record_key__in=chunk, status=SyncJob.Status.PENDING).update(
            changes=F("changes") + 1, updated_at=now)
    rows = [SyncJob(endpoint=endpoint, flow=flow_name, record_key=key[:100], record_label=(label or key)[:200], next_attempt_at=now)
            for key, label in labels.items()]
    SyncJob.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def sync_job_enqueue(*, endpoint: Endpoint, flow: str, record_key: str, label: str = "") -> None:
    """Queue one record by hand (e.g. 'push this product now')."""
    connector_for(endpoint).flow(flow)
    _jobs_upsert(endpoint, flow, [(record_key, label)], timezone.now())
    _kick_after_commit()


# --- Claims and runs ------------------------------------------------------------------------------

def _in_flight(endpoint_id: int) -> int:
    return (SyncJob.objects.filter(endpoint_id=endpoint_id, status=SyncJob.Status.RUNNING)
            .values("lease_token").distinct().count())


def sync_jobs_claim(*, endpoint_id: int, flow_name: str) -> tuple[str, list[SyncJob]]:
    """Take up to one batch of due jobs, unless the endpoint already has its limit of runs in flight."""
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    flow = connector_for(endpoint).flow(flow_name)
    now = timezone.now()
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        if not endpoint.is_active or _in_flight(endpoint_id) >= max(1, endpoint.concurrency_limit):
            return "", []
        ids = list(SyncJob.objects.filter(endpoint_id=endpoint_id, flow=flow_name, status=SyncJob.Status.PENDING,
                                          next_attempt_at__lte=now).order_by("next_attempt_at", "id")
                   .values_list("pk", flat=True)[:flow.batch_size])
        if not ids:
            return "", []
        token = str(uuid.uuid4())
        SyncJob.objects.filter(pk__in=ids, status=SyncJob.Status.PENDING).update(
            status=SyncJob.Status.RUNNING, lease_token=token, lease_expires_at=now + timedelta(seconds=flow.lease_seconds),
            started_at=now, updated_at=now)
    return token, list(SyncJob.objects.filter(lease_token=token, status=SyncJob.Status.RUNNING).order_by("id"))


def sync_run(*, endpoint_id: int, flow_name: str, budget_seconds: float = RUN_BUDGET_SECONDS) -> int:
    """Claim and execute batches of one flow until none is due or the time budget is spent.
    Safe to run twice: each run only touches the jobs it claimed."""
    deadline = time.monotonic() + budget_seconds
    handled = 0
    while time.monotonic() < deadline:
        token, jobs = sync_jobs_claim(endpoint_id=endpoint_id, flow_name=flow_name)
        if not jobs:
            break
        sync_execute(token=token, jobs=jobs)
        handled += len(jobs)
    return handled


def sync_execute(*, token: str, jobs: list[SyncJob]) -> None:
    endpoint = Endpoint.objects.select_related("channel").get(pk=jobs[0].endpoint_id)
    connector = connector_for(endpoint)
    flow = connector.flow(jobs[0].flow)
    ctx = FlowContext(endpoint=endpoint, connector=connector)
    started = timezone.now()
    to_send = []
    fresh = [job for job in jobs if not job.payload_edited]
    try:
        payloads = flow.prepare_batch(ctx, fresh) if fresh else {}
    except SyncError as exc:
        payloads = {job.pk: exc for job in fresh}
    except Exception as exc:  # a mapping bug or bad data: a person must look
        logger.exception("preparing %s jobs of %s failed", len(fresh), flow.name)
        error = PermanentError(Text(gettext_noop("could not prepare the payload: %(error)s"), error=f"{type(exc).__name__}: {exc}"))
        payloads = {job.pk: error for job in fresh}
    for job in jobs:
        if not job.payload_edited:
            job.payload = payloads.get(job.pk)
        if isinstance(job.payload, SyncError):
            ctx.fail(job, job.payload)
            job.payload = None
        elif job.payload is None:
            ctx.done(job, ctx.outcomes.get(job.pk) or NOTHING_TO_SEND)
        else:
            to_send.append(job)
    if to_send:
        try:
            flow.send(ctx, to_send)
        except SyncError as exc:
            for job in to_send:
                ctx.outcomes.setdefault(job.pk, exc)
        except Exception as exc:
            logger.exception("sending %s jobs of %s failed", len(to_send), flow.name)
            error = PermanentError(f"{type(exc).__name__}: {exc}")
            for job in to_send:
                ctx.outcomes.setdefault(job.pk, error)
    results = {job.pk: ctx.outcomes.get(job.pk, SENT) for job in jobs}
    ok, failed = sync_jobs_finish(jobs=jobs, token=token, results=results, started=started, recorder=ctx.recorder,
                                  max_attempts=flow.max_attempts)
    if ctx.follow_ups:
        _jobs_upsert(endpoint, flow.name, ctx.follow_ups, timezone.now())
        _kick_after_commit()
    endpoint_health_record(endpoint_id=endpoint.pk, succeeded=ok, failed=failed)


def sync_job_finish(*, job: SyncJob, token: str, result, started, recorder, max_attempts: int = 10) -> bool:
    """Record one job's attempt and move it on. Returns False when the job was no longer ours
    (its lease expired and it was handed out again): the newer run decides."""
    ok, failed = sync_jobs_finish(jobs=[job], token=token, results={job.pk: result}, started=started, recorder=recorder,
                                  max_attempts=max_attempts)
    return bool(ok or failed)


def sync_jobs_finish(*, jobs: list[SyncJob], token: str, results: dict, started, recorder, max_attempts: int = 10) -> tuple[int, int]:
    """Record the attempts of a batch and move each job on, set-wise (a 250-SKU batch is a few
    statements, not 250 round trips). Jobs no longer ours are left alone. Returns (ok, failed)."""
    now = timezone.now()
    last = recorder.last if recorder else None
    summary = recorder.summary() if recorder else ""
    duration_ms = int((now - started).total_seconds() * 1000)
    with transaction.atomic():
        owned = set(SyncJob.objects.select_for_update().filter(pk__in=[job.pk for job in jobs], lease_token=token,
                                                               status=SyncJob.Status.RUNNING).values_list("pk", flat=True))
        attempts, finished, retried, ok, failed = [], [], [], [], []
        for job in jobs:
            if job.pk not in owned:
                continue
            result = results.get(job.pk, SENT)
            error = result if isinstance(result, SyncError) else None
            job.attempts += 1
            outcome = SyncAttempt.Outcome.OK if error is None else (
                SyncAttempt.Outcome.TRANSIENT if error.transient else SyncAttempt.Outcome.PERMANENT)
            attempts.append({
                "job_id": job.pk, "endpoint_id": job.endpoint_id, "number": job.attempts, "outcome": outcome, "request_summary": summary,
                "response_status": (error.status if error and error.status else (last.status if last else None)),
                "response_excerpt": (error.excerpt if error and error.excerpt else (last.excerpt if last else ""))[:2000],
                "error": str(error) if error else "", "error_text": error.stored() if error else None,
                "duration_ms": duration_ms, "started_at": started, "finished_at": now})
            job.lease_token, job.lease_expires_at, job.updated_at = "", None, now
            if error is None:
                job.status, job.error_class, job.finished_at = SyncJob.Status.DONE, "", now
                job.outcome, job.outcome_text = str(result)[:300], text_stored(result)
                job.last_error, job.error_text = "", None
                finished.append(job)
                ok.append(job)
            elif error.transient and job.attempts < max_attempts:
                job.error_class, job.last_error, job.error_text = SyncJob.ErrorClass.TRANSIENT, str(error), error.stored()
                job.next_attempt_at = now + timedelta(seconds=backoff_seconds(job.attempts, retry_after=error.retry_after))
                retried.append(job)
                failed.append(job)
            else:
                job.status, job.finished_at = SyncJob.Status.FAILED, now
                job.error_class = SyncJob.ErrorClass.TRANSIENT if error.transient else SyncJob.ErrorClass.PERMANENT
                text = message_of(error)
                if error.transient:
                    text = Text(gettext_noop("%(error)s (gave up after %(attempts)s attempts)"), error=text, attempts=job.attempts)
                job.last_error, job.error_text = str(text), text_stored(text)
                finished.append(job)
                failed.append(job)
        bulk_insert(SyncAttempt, attempts)
        bulk_update_fields(finished, ["status", "outcome", "outcome_text", "error_class", "last_error", "error_text", "finished_at", "attempts", "payload",
                                      "lease_token", "lease_expires_at", "updated_at"])
        for job in retried:
            _back_to_pending(job)
        _resolve_older_many(ok, Text(gettext_noop("resolved: a later sync of this record succeeded")))
        _resolve_older_many([j for j in failed if j.status == SyncJob.Status.FAILED],
                            Text(gettext_noop("resolved: superseded by a newer error of this record")))
    return len(ok), len(failed)


def _resolve_older_many(jobs: list[SyncJob], note: Text) -> None:
    """Failed jobs of the same records that are older than these ones resolve themselves."""
    newest: dict[tuple[int, str, str], int] = {}
    for job in jobs:
        key = (job.endpoint_id, job.flow, job.record_key)
        newest[key] = max(newest.get(key, 0), job.pk)
    by_flow: dict[tuple[int, str], list[str]] = {}
    for endpoint_id, flow, record_key in newest:
        by_flow.setdefault((endpoint_id, flow), []).append(record_key)
    for (endpoint_id, flow), keys in by_flow.items():
        for start in range(0, len(keys), 1000):
            candidates = SyncJob.objects.filter(endpoint_id=endpoint_id, flow=flow, record_key__in=keys[start:start + 1000],
                                                status=SyncJob.Status.FAILED).values_list("pk", "record_key")
            older = [pk for pk, record_key in candidates if pk < newest[(endpoint_id, flow, record_key)]]
            if older:
                SyncJob.objects.filter(pk__in=older).update(status=SyncJob.Status.RESOLVED, resolution=str(note)[:300],
                                                            resolution_text=note.stored(), updated_at=timezone.now())


def _back_to_pending(job: SyncJob) -> None:
    """Return a job to the queue; if a newer change already queued the same record, that job
    carries on (it sends the latest state) and this one is closed."""
    job.status = SyncJob.Status.PENDING
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        newer = SyncJob.objects.get(endpoint_id=job.endpoint_id, flow=job.flow, record_key=job.record_key, status=SyncJob.Status.PENDING)
        SyncJob.objects.filter(pk=newer.pk).update(next_attempt_at=max(newer.next_attempt_at, job.next_attempt_at))
        note = Text(gettext_noop("superseded by job #%(job)s"), job=newer.pk)
        job.status, job.resolution, job.resolution_text, job.finished_at = SyncJob.Status.RESOLVED, str(note), note.stored(), timezone.now()
        job.save()


# --- Dispatcher, sweeper, schedules ---------------------------------------------------------------

def sync_dispatch() -> int:
    """Hand due work to the task cluster: per endpoint and flow, as many runs as the endpoint's
    in-flight limit leaves room for (each run drains batches until nothing is due)."""
    from django_q.tasks import async_task

    now = timezone.now()
    due = (SyncJob.objects.filter(status=SyncJob.Status.PENDING, next_attempt_at__lte=now, endpoint__is_active=True)
           .values("endpoint_id", "flow").annotate(n=Count("id")).order_by("endpoint_id", "flow"))
    limits = dict(Endpoint.objects.values_list("pk", "concurrency_limit"))
    room: dict[int, int] = {}
    queued = 0
    for row in due:
        endpoint_id = row["endpoint_id"]
        if endpoint_id not in room:
            room[endpoint_id] = max(1, limits.get(endpoint_id, 1)) - _in_flight(endpoint_id)
        endpoint = Endpoint.objects.get(pk=endpoint_id)
        batch = connector_for(endpoint).flow(row["flow"]).batch_size
        runs = min(room[endpoint_id], math.ceil(row["n"] / batch))
        for _ in range(max(0, runs)):
            async_task("connectors.tasks.sync_run_task", endpoint_id, row["flow"])
            queued += 1
        room[endpoint_id] -= max(0, runs)
    return queued


def sync_sweep() -> int:
    """Jobs whose worker died (lease expired while running) go back to the queue."""
    now = timezone.now()
    swept = 0
    for job in SyncJob.objects.filter(status=SyncJob.Status.RUNNING, lease_expires_at__lt=now):
        with transaction.atomic():
            fresh = SyncJob.objects.select_for_update().filter(pk=job.pk, status=SyncJob.Status.RUNNING, lease_expires_at__lt=now).first()
            if fresh is None:
                continue
            fresh.attempts += 1
            stopped = Text(gettext_noop("the worker stopped before finishing (lease expired); queued again"))
            SyncAttempt.objects.create(job=fresh, endpoint_id=fresh.endpoint_id, number=fresh.attempts, outcome=SyncAttempt.Outcome.LOST,
                                       error=str(stopped), error_text=stopped.stored(), started_at=fresh.started_at or now, finished_at=now)
            fresh.lease_token, fresh.lease_expires_at, fresh.next_attempt_at = "", None, now
            lost = Text(gettext_noop("worker lost"))
            fresh.error_class, fresh.last_error, fresh.error_text = SyncJob.ErrorClass.TRANSIENT, str(lost), lost.stored()
            _back_to_pending(fresh)
            swept += 1
    return swept


def schedules_ensure(*, endpoint) -> dict[str, EndpointSchedule]:
    """The endpoint's schedule rows, one per scheduled flow of its connector (created with the
    flow's default interval the first time)."""
    rows = {row.flow: row for row in EndpointSchedule.objects.filter(endpoint=endpoint)}
    try:
        connector = connector_for(endpoint)
    except LookupError:
        return rows
    missing = [EndpointSchedule(endpoint=endpoint, flow=flow.name, every_minutes=flow.every_minutes)
               for flow in connector.scheduled_flows() if flow.name not in rows]
    if missing:
        EndpointSchedule.objects.bulk_create(missing, ignore_conflicts=True)
        rows = {row.flow: row for row in EndpointSchedule.objects.filter(endpoint=endpoint)}
    return rows


def sync_schedule_due(*, now=None) -> int:
    """Queue a run of every scheduled flow whose interval has elapsed for its endpoint."""
    now = now or timezone.now()
    queued = 0
    for endpoint in Endpoint.objects.filter(is_active=True):
        try:
            connector = connector_for(endpoint)
        except LookupError:
            continue
        schedules = schedules_ensure(endpoint=endpoint)
        for flow in connector.enabled_flows(endpoint):
            schedule = schedules.get(flow.name)
            if schedule is None or not schedule.every_minutes:
                continue
            with transaction.atomic():
                claimed = (EndpointSchedule.objects.filter(pk=schedule.pk)
                           .filter(Q(last_run_at__isnull=True) | Q(last_run_at__lte=now - timedelta(minutes=schedule.every_minutes)))
                           .update(last_run_at=now))
                if claimed:
                    queued += _jobs_upsert(endpoint, flow.name, [(SCHEDULED_KEY, f"scheduled {flow.label or flow.name}")], now)
    return queued


def sync_tick() -> dict:
    """Every minute: sweep lost jobs, queue scheduled flows, dispatch what is due."""
    return {"swept": sync_sweep(), "scheduled": sync_schedule_due(), "dispatched": sync_dispatch()}


def cursor_get(*, endpoint, name: str) -> str:
    return SyncCursor.objects.filter(endpoint=endpoint, name=name).values_list("value", flat=True).first() or ""


def cursor_set(*, endpoint, name: str, value: str) -> None:
    SyncCursor.objects.update_or_create(endpoint=endpoint, name=name, defaults={"value": value})


# --- Operator actions -----------------------------------------------------------------------------

class JobActionError(Exception):
    pass


def sync_job_retry(*, job: SyncJob, user=None, payload=None) -> SyncJob:
    """Send a failed (or waiting) job again now; with `payload`, send that instead of what the
    hub would compute (edit-and-retry)."""
    with transaction.atomic():
        fresh = SyncJob.objects.select_for_update().get(pk=job.pk)
        if fresh.status not in (SyncJob.Status.FAILED, SyncJob.Status.PENDING, SyncJob.Status.RESOLVED):
            raise JobActionError(gettext("job #%(job)s is %(status)s; only failed or waiting jobs can be retried") % {"job": fresh.pk, "status": fresh.get_status_display().lower()})
        if payload is not None:
            fresh.payload, fresh.payload_edited = payload, True
        fresh.status, fresh.next_attempt_at, fresh.finished_at = SyncJob.Status.PENDING, timezone.now(), None
        note = Text(gettext_noop("retried by %(user)s"), user=str(user)) if user else Text(gettext_noop("retried"))
        fresh.resolution, fresh.resolution_text = str(note)[:300], note.stored()
        try:
            with transaction.atomic():
                fresh.save()
        except IntegrityError:
            newer = SyncJob.objects.get(endpoint_id=fresh.endpoint_id, flow=fresh.flow, record_key=fresh.record_key, status=SyncJob.Status.PENDING)
            raise JobActionError(gettext("job #%(job)s already queues this record; retry that one") % {"job": newer.pk}) from None
    _kick_after_commit()
    return fresh


def sync_job_resolve(*, job: SyncJob, user=None, note: "str | Text" = "") -> SyncJob:
    """Close a failed job without sending it again; `note` (a Text, or a person's own words) says why."""
    with transaction.atomic():
        fresh = SyncJob.objects.select_for_update().get(pk=job.pk)
        if fresh.status != SyncJob.Status.FAILED:
            raise JobActionError(gettext("job #%(job)s is %(status)s, not failed") % {"job": fresh.pk, "status": fresh.get_status_display().lower()})
        fresh.status, fresh.resolved_by = SyncJob.Status.RESOLVED, user if getattr(user, "pk", None) else None
        if not note:
            note = Text(gettext_noop("resolved by %(user)s"), user=str(user)) if user else Text(gettext_noop("resolved by an operator"))
        fresh.resolution = str(note)[:300]
        fresh.resolution_text = text_stored(note)
        fresh.save()
    return fresh


# --- Health and alerts ----------------------------------------------------------------------------

def endpoint_health_record(*, endpoint_id: int, succeeded: int, failed: int) -> str | None:
    """An endpoint turns 'failing' after HUB_ALERT_AFTER_FAILURES failed attempts in a row and
    'ok' at the next success; one e-mail per turn, not one per error. Returns the new state when it turned."""
    if not succeeded and not failed:
        return None
    threshold = getattr(settings, "HUB_ALERT_AFTER_FAILURES", 5)
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        turned = None
        if succeeded:
            endpoint.consecutive_failures = 0
            if endpoint.health == EndpointHealth.FAILING:
                turned = EndpointHealth.OK
        else:
            endpoint.consecutive_failures += failed
            if endpoint.health == EndpointHealth.OK and endpoint.consecutive_failures >= threshold:
                turned = EndpointHealth.FAILING
        if turned:
            endpoint.health, endpoint.health_changed_at = turned, timezone.now()
        endpoint.save(update_fields=["consecutive_failures", "health", "health_changed_at"])
        if turned:
            transaction.on_commit(lambda: _alert(endpoint, turned))
    return turned


def _alert(endpoint: Endpoint, state: str) -> None:
    recipients = [a.strip() for a in endpoint.alert_emails.split(",") if a.strip()] or list(settings.HUB_ALERT_EMAILS)
    if not recipients:
        logger.warning("endpoint %s is %s (no alert recipients configured)", endpoint.code, state)
        return
    params = {"name": endpoint.name, "code": endpoint.code}
    with translation.override(settings.LANGUAGE_CODE):  # e-mails are written in the hub's language
        if state == EndpointHealth.FAILING:
            last = SyncJob.objects.filter(endpoint=endpoint).exclude(last_error="").order_by("-updated_at").first()
            subject = gettext("[ERP Hub] %(name)s (%(code)s) is failing") % params
            body = gettext(
                "The last %(count)s sync attempts with %(name)s failed.\n"
                "Last error: %(error)s\n\n"
                "Jobs keep retrying by themselves where the failure is transient. "
                "Open errors: /admin/connectors/syncjob/?status__exact=failed\n"
            ) % {**params, "count": endpoint.consecutive_failures, "error": text_shown(last.error_text, last.last_error) if last else gettext("unknown")}
        else:
            subject = gettext("[ERP Hub] %(name)s (%(code)s) has recovered") % params
            body = gettext("Syncs with %(name)s succeed again since %(since)s.\n") % {
                **params, "since": date_format(timezone.localtime(endpoint.health_changed_at), "SHORT_DATETIME_FORMAT")}
    send_mail(subject, body, None, recipients, fail_silently=True)
