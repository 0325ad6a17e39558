"""Progress of a running import, readable from another process (web) while the import's own
transaction is still open: in the cache when it is shared (Redis), else in a small file."""

import json
import time

from django.conf import settings
from django.core.cache import cache


def _path(job_id):
    folder = settings.VAR_DIR / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"progress-{job_id}.json"


def progress_write(job_id, *, phase: str, done: int, total: int, started: float) -> None:
    state = {"phase": phase, "done": done, "total": total, "started": started, "at": time.time()}
    if settings.REDIS_URL:
        cache.set(f"import-progress:{job_id}", state, timeout=24 * 3600)
    else:
        _path(job_id).write_text(json.dumps(state))


def progress_read(job_id) -> dict | None:
    if settings.REDIS_URL:
        state = cache.get(f"import-progress:{job_id}")
    else:
        try:
            state = json.loads(_path(job_id).read_text())
        except (FileNotFoundError, ValueError):
            state = None
    if not state:
        return None
    elapsed = max(state["at"] - state["started"], 1e-6)
    rate = state["done"] / elapsed
    state["rate"] = round(rate)
    state["percent"] = round(100 * state["done"] / state["total"]) if state["total"] else None
    state["eta_seconds"] = round((state["total"] - state["done"]) / rate) if state["total"] and rate else None
    return state


def progress_clear(job_id) -> None:
    if settings.REDIS_URL:
        cache.delete(f"import-progress:{job_id}")
    else:
        _path(job_id).unlink(missing_ok=True)
