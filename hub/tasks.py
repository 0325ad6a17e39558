"""Task helpers. Background work is enqueued only after the surrounding transaction commits,
and receives ids, never model instances."""

import logging

from django.db import transaction
from django_q.tasks import async_task

from hub.services import heartbeat_beat, retention_purge, schedules_sync

logger = logging.getLogger(__name__)


def enqueue_on_commit(func: str, *args, **kwargs) -> None:
    """Queue `func` (a dotted path) once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: async_task(func, *args, **kwargs))


def ping(value: str = "pong") -> str:
    """Round trip used by tests and operators to prove a worker runs tasks."""
    logger.info("ping task ran", extra={"value": value})
    return value


def heartbeat() -> None:
    heartbeat_beat(name="worker")


def retention_purge_task() -> dict:
    return retention_purge()


def schedules_ensure(sender=None, proc_name: str = "", **kwargs) -> None:
    """django-q2 `post_spawn` receiver: every worker a cluster starts makes sure the registered
    schedules exist, so a deployment running only `manage.py qcluster` sweeps and ticks too."""
    try:
        schedules_sync()
    except Exception:  # a worker must start even if the database is not migrated yet
        logger.exception("could not ensure the task schedules")
