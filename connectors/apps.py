from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"

    def ready(self):
        from connectors.registry import discover
        from connectors.sync import sync_jobs_for_changes
        from hub.changes import change_subscribe
        from hub.registry import ScheduleSpec, register_schedule

        discover()
        change_subscribe(sync_jobs_for_changes)
        register_schedule(ScheduleSpec(name="connectors.sync_tick", func="connectors.tasks.sync_tick_task", minutes=1))
