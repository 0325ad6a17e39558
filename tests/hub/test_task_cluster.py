"""A real django-q2 cluster, in its own process, runs a task queued by the hub."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django_q.tasks import async_task, fetch

ROOT = Path(__file__).resolve().parents[2]


def database_url_of_test_db() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_task_cluster_runs_a_queued_task(settings):
    task_id = async_task("hub.tasks.ping", "hello from the test")
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db(), "Q_WORKERS": "1"}
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        task = None
        while time.monotonic() < deadline:
            task = fetch(task_id)
            if task is not None:
                break
            assert cluster.poll() is None, cluster.stderr.read().decode()
            time.sleep(0.5)
        assert task is not None, "the cluster did not run the task within 90 s"
        assert task.success is True
        assert task.result == "hello from the test"
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
