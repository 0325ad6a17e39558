from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"

    def ready(self):
        from connectors.registry import discover
        from django_q.signals import post_spawn

        from connectors.sync import sync_jobs_for_changes
        from connectors.waker import start_waker
        from hub.changes import change_subscribe
        from hub.registry import ScheduleSpec, register_schedule

        discover()
        change_subscribe(sync_jobs_for_changes)
        post_spawn.connect(start_waker, dispatch_uid="connectors.waker")
        register_schedule(ScheduleSpec(name="connectors.sync_tick", func="connectors.tasks.sync_tick_task", minutes=1))
        # The webhook inbox's safety net: deliveries a lost drain task would leave (connectors.services).
        register_schedule(ScheduleSpec(name="connectors.inbox_sweep", func="connectors.tasks.inbox_drain_task", minutes=1))
