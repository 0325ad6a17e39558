"""Import jobs: create (synchronously for small files, as a background task for large ones), run,
and settle the ones whose worker died.

A run claims its job with a lease (a token and an expiry) that its progress renews, and records
the outcome in the import's own transaction only while it still holds the lease: a run that was
overtaken rolls back. Past its lease a job is run again (a redelivered task, or the sweeper),
from scratch, at most HUB_IMPORT_MAX_ATTEMPTS runs in all; imports write all or nothing, so a
run that died left nothing behind."""

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils import translation
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext, ngettext

from hub.imports.cells import excerpt
from hub.imports.engine import RESOURCES, ImportOptions, ImportResult, run_import
from hub.imports.models import ImportJob
from hub.imports.progress import progress_clear, progress_write
from hub.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)
STORED_ERRORS = 1000
RUN_TASK = "hub.imports.tasks.import_job_run_task"
Status = ImportJob.Status


class LeaseLost(Exception):
    """Another run took the job over (this one's lease had expired): this run must write nothing."""


def resource_get(name: str):
    autodiscover_modules("resources")
    try:
        return RESOURCES[name]
    except KeyError:
        raise ValueError(f"unknown resource {name!r}; known: {', '.join(sorted(RESOURCES))}") from None


def _lease_end(now):
    return now + timedelta(seconds=settings.HUB_IMPORT_LEASE_SECONDS)


def import_job_create(*, resource: str, uploaded_file, user=None, dry_run=False, options: dict | None = None,
                      background: bool | None = None, preview: int = 0) -> ImportJob:
    """Record an import of `uploaded_file` and run it, here or (`background`, by default for a file
    over HUB_IMPORT_BACKGROUND_BYTES) on a worker. Run here, the job returned carries the engine's
    outcome as `job.result`, with `preview` rows (see hub.imports.engine.run_import)."""
    resource_get(resource)
    if background is None:
        background = uploaded_file.size > settings.HUB_IMPORT_BACKGROUND_BYTES
    job = ImportJob(resource=resource, original_name=getattr(uploaded_file, "name", "upload")[:255], dry_run=dry_run,
                    options=options or {}, user=user, background=background, lease_expires_at=_lease_end(timezone.now()))
    job.file.save(job.original_name, uploaded_file, save=False)
    job.save()
    if background:
        enqueue_on_commit(RUN_TASK, job.pk)
    else:
        job = import_job_run(job_id=job.pk, preview=preview)
    return job


def _claim(job_id: int) -> str | None:
    """Take a queued job, or a running one whose lease expired with runs left; the new lease's token."""
    now, token = timezone.now(), uuid.uuid4().hex
    claimable = Q(status=Status.PENDING) | Q(status=Status.RUNNING, lease_expires_at__lt=now,
                                             attempts__lt=settings.HUB_IMPORT_MAX_ATTEMPTS)
    claimed = ImportJob.objects.filter(claimable, pk=job_id).update(
        status=Status.RUNNING, lease_token=token, lease_expires_at=_lease_end(now), attempts=F("attempts") + 1, started_at=now,
    )
    return token if claimed else None


def _finish(job_id: int, token: str, **fields) -> None:
    """Record the outcome, if this run still holds the job."""
    fields.update(finished_at=timezone.now(), lease_token="", lease_expires_at=None)
    if not ImportJob.objects.filter(pk=job_id, lease_token=token, status=Status.RUNNING).update(**fields):
        raise LeaseLost(job_id)


def _finish_with(job_id: int, token: str, result: ImportResult) -> None:
    _finish(job_id, token, status=Status.SUCCEEDED if result.ok else Status.FAILED, rows=result.rows, new=result.new,
            updated=result.updated, unchanged=result.unchanged, deleted=result.deleted, error_count=result.error_count,
            errors=[e.as_dict() for e in result.errors[:STORED_ERRORS]],
            message=str(result) if result.ok else ngettext("%(count)d error; nothing was written.", "%(count)d errors; nothing was written.",
                                                           result.error_count) % {"count": result.error_count})


def import_job_run(*, job_id: int, preview: int = 0) -> ImportJob:
    """Run a job this call can claim; a second delivery of the task finds it claimed and does nothing.
    The job returned carries the engine's outcome as `result` (None when the run did not finish)."""
    token = _claim(job_id)
    if token is None:
        return ImportJob.objects.get(pk=job_id)
    job = ImportJob.objects.get(pk=job_id)
    resource = resource_get(job.resource)
    started = time.time()
    last = {"progress": 0.0, "lease": started}

    def progress(phase, done, total):
        now = time.time()
        if now - last["lease"] >= settings.HUB_IMPORT_LEASE_SECONDS / 4:
            last["lease"] = now
            ImportJob.objects.filter(pk=job.pk, lease_token=token).update(lease_expires_at=_lease_end(timezone.now()))
        if now - last["progress"] >= 0.5 or done == total:
            last["progress"] = now
            progress_write(job.pk, phase=phase, done=done, total=total, started=started)

    options = ImportOptions(**{k: v for k, v in job.options.items() if k in ImportOptions.__dataclass_fields__})
    outcome = None
    try:
        # Row errors and the summary in the language of the person who started the import.
        with translation.override(job.options.get("language") or settings.LANGUAGE_CODE):
            outcome = run_import(resource, job.file.path, dry_run=job.dry_run, options=options, user=job.user, progress=progress,
                                 finish=lambda result: _finish_with(job.pk, token, result), preview=preview)
    except LeaseLost:
        logger.warning("import job %s: another run took it over; this run wrote nothing", job.pk)
    except Exception as exc:
        logger.exception("import job %s crashed", job.pk)
        try:
            _finish(job.pk, token, status=Status.CRASHED, message=excerpt(f"{type(exc).__name__}: {exc}", 1000))
        except LeaseLost:
            pass
    progress_clear(job.pk)
    job = ImportJob.objects.get(pk=job.pk)
    job.result = outcome
    return job


def import_job_sweep(*, now=None) -> dict[str, int]:
    """Settle jobs past their lease: queued ones whose task was lost are queued again; running ones
    whose worker died run again, or fail once they have had all their runs."""
    now = now or timezone.now()
    settled = {"requeued": 0, "failed": 0}
    most = settings.HUB_IMPORT_MAX_ATTEMPTS
    lapsed = ImportJob.objects.filter(status__in=[Status.PENDING, Status.RUNNING], lease_expires_at__lt=now)
    for job in lapsed.only("pk", "status", "attempts", "options").order_by("pk"):
        # Each change is conditional on the state seen, so a worker or another sweeper acting meanwhile wins.
        seen = ImportJob.objects.filter(pk=job.pk, status=job.status, attempts=job.attempts, lease_expires_at__lt=now)
        # Written in the language of the person who started the import, as its row errors are.
        with translation.override(job.options.get("language") or settings.LANGUAGE_CODE):
            stopped = gettext("The import stopped %(attempts)s times before it finished (its worker was stopped, or ran out of "
                              "time or memory); nothing was written. Split the file, or import it with manage.py hub_import.") % {
                "attempts": job.attempts}
            queued_again = gettext("The worker stopped before the import finished; queued again (run %(run)s of %(most)s).") % {
                "run": job.attempts + 1, "most": most}
        if job.status == Status.RUNNING and job.attempts >= most:
            settled["failed"] += seen.update(status=Status.CRASHED, finished_at=now, lease_token="", lease_expires_at=None, message=stopped)
            continue
        changes = {"status": Status.PENDING, "lease_token": "", "lease_expires_at": _lease_end(now)}
        if job.status == Status.RUNNING:
            changes["message"] = queued_again
        if seen.update(**changes):
            settled["requeued"] += 1
            enqueue_on_commit(RUN_TASK, job.pk)
    return settled
