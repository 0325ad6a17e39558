from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _settled_deliveries(cutoff):
    """Deliveries nobody needs to look at again: processed, ignored, duplicate or rejected.
    Failed and unprocessed ones stay until a person settles them."""
    from connectors.models import InboxMessage

    S = InboxMessage.Status
    return InboxMessage.objects.filter(received_at__lt=cutoff, status__in=[S.PROCESSED, S.IGNORED, S.DUPLICATE, S.REJECTED])


def _finished_sync_jobs(cutoff):
    from connectors.models import SyncJob

    return SyncJob.objects.filter(status__in=[SyncJob.Status.DONE, SyncJob.Status.RESOLVED], updated_at__lt=cutoff)


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = _("Connectors")

    def ready(self):
        from connectors.registry import discover
        from django_q.signals import post_spawn

        from connectors.sync import sync_jobs_for_changes
        from connectors.waker import start_waker
        from hub.changes import change_subscribe
        from hub.registry import RetentionSpec, ScheduleSpec, register_retention, register_schedule

        discover()
        change_subscribe(sync_jobs_for_changes)
        post_spawn.connect(start_waker, dispatch_uid="connectors.waker")
        register_schedule(ScheduleSpec(name="connectors.sync_tick", func="connectors.tasks.sync_tick_task", minutes=1))
        register_retention(RetentionSpec(name="connectors.inbox", setting="HUB_RETENTION_INBOX_DAYS", expired=_settled_deliveries))
        register_retention(RetentionSpec(name="connectors.sync_jobs", setting="HUB_RETENTION_SYNC_DAYS", expired=_finished_sync_jobs))
