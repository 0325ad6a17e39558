"""Jobs whose backoff ends run within seconds, not at the next one-minute tick.

Every task-cluster worker process runs a small daemon thread (started on django-q2's `post_spawn`);
each period, one of them across all clusters wins a compare-and-set on a shared clock row and,
if some job became due since the previous period, dispatches. Nothing else changes: a run still
claims its jobs under the endpoint's lease and limits."""

import logging
import threading
import time
from datetime import timedelta

from django.db import close_old_connections, connections
from django.utils import timezone

from connectors.models import EngineClock, SyncJob

logger = logging.getLogger(__name__)
WAKE_SECONDS = 2.0
CLOCK = "sync.wake"


def sync_wake(*, now=None) -> int:
    """Dispatch if a pending job became due since the last wake; returns the runs queued (0 when
    another process had this period, or nothing became due)."""
    from connectors.sync import sync_dispatch

    now = now or timezone.now()
    clock, created = EngineClock.objects.get_or_create(name=CLOCK, defaults={"at": now})
    if created:
        return 0
    since = clock.at
    if now - since < timedelta(seconds=WAKE_SECONDS * 0.9):
        return 0
    if not EngineClock.objects.filter(name=CLOCK, at=since).update(at=now):
        return 0  # another process won this period
    became_due = SyncJob.objects.filter(status=SyncJob.Status.PENDING, next_attempt_at__gt=since, next_attempt_at__lte=now).exists()
    return sync_dispatch() if became_due else 0


def _wake_forever() -> None:
    while True:
        time.sleep(WAKE_SECONDS)
        try:
            close_old_connections()
            sync_wake()
        except Exception:  # the database may be briefly unavailable; the next period tries again
            logger.exception("waking due sync jobs failed")
            connections.close_all()


def start_waker(**_) -> None:
    """django-q2 `post_spawn` receiver: one waker thread per worker process."""
    threading.Thread(target=_wake_forever, name="sync-waker", daemon=True).start()
