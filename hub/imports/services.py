"""Import jobs: create (synchronously for small files, as a background task for large ones) and run."""

import logging
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from hub.imports.engine import RESOURCES, ImportOptions, run_import
from hub.imports.models import ImportJob
from hub.imports.progress import progress_clear, progress_write
from hub.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)
BACKGROUND_THRESHOLD_BYTES = getattr(settings, "HUB_IMPORT_BACKGROUND_BYTES", 256 * 1024)
STORED_ERRORS = 1000


def resource_get(name: str):
    autodiscover_modules("resources")
    try:
        return RESOURCES[name]
    except KeyError:
        raise ValueError(f"unknown resource {name!r}; known: {', '.join(sorted(RESOURCES))}") from None


def import_job_create(*, resource: str, uploaded_file, user=None, dry_run=False, options: dict | None = None,
                      background: bool | None = None) -> ImportJob:
    resource_get(resource)
    if background is None:
        background = uploaded_file.size > BACKGROUND_THRESHOLD_BYTES
    job = ImportJob(resource=resource, original_name=getattr(uploaded_file, "name", "upload")[:255], dry_run=dry_run,
                    options=options or {}, user=user, background=background)
    job.file.save(job.original_name, uploaded_file, save=False)
    job.save()
    if background:
        enqueue_on_commit("hub.imports.tasks.import_job_run_task", job.pk)
    else:
        import_job_run(job_id=job.pk)
        job.refresh_from_db()
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a queued job once: a second delivery of the same task finds it claimed and does nothing."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )
    job = ImportJob.objects.get(pk=job_id)
    if not claimed:
        return job
    resource = resource_get(job.resource)
    started = time.time()
    last = [0.0]

    def progress(phase, done, total):
        now = time.time()
        if now - last[0] >= 0.5 or done == total:
            last[0] = now
            progress_write(job.pk, phase=phase, done=done, total=total, started=started)

    options = ImportOptions(**{k: v for k, v in job.options.items() if k in ImportOptions.__dataclass_fields__})
    try:
        result = run_import(resource, job.file.path, dry_run=job.dry_run, options=options, user=job.user, progress=progress)
    except Exception as exc:
        logger.exception("import job %s crashed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CRASHED, finished_at=timezone.now(),
                                                   message=f"{type(exc).__name__}: {exc}")
        progress_clear(job.pk)
        return ImportJob.objects.get(pk=job.pk)
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.SUCCEEDED if result.ok else ImportJob.Status.FAILED,
            finished_at=timezone.now(), rows=result.rows, new=result.new, updated=result.updated,
            unchanged=result.unchanged, deleted=result.deleted, error_count=result.error_count,
            errors=[e.as_dict() for e in result.errors[:STORED_ERRORS]], message=str(result) if result.ok else f"{result.error_count} error(s); nothing was written.",
        )
    progress_clear(job.pk)
    return ImportJob.objects.get(pk=job.pk)
