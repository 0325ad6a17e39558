"""Thin task wrappers: ids in, services do the work (each safe to run twice)."""

from connectors import sync
from connectors.services import inbox_drain, inbox_process


def inbox_process_task(message_id: int) -> str:
    """One delivery (tasks queued before deliveries were drained in batches still run)."""
    return inbox_process(message_id=message_id).status


def inbox_drain_task(requested_at: float | None = None) -> int:
    return inbox_drain(requested_at=requested_at)


def sync_dispatch_task() -> int:
    return sync.sync_dispatch()


def sync_run_task(endpoint_id: int, flow_name: str) -> int:
    handled = sync.sync_run(endpoint_id=endpoint_id, flow_name=flow_name)
    if handled:
        sync.sync_dispatch()
    return handled


def sync_tick_task() -> dict:
    return sync.sync_tick()
