"""A deployment that runs only `manage.py qcluster` (no `hub_run`) still gets its schedules, so
expired leases are swept."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.models import Schedule

from connectors.models import Endpoint, SyncJob
from hub.registry import schedules
from tests.hub.factories import SalesChannelFactory
from tests.hub.test_task_cluster import database_url_of_test_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_bare_task_cluster_creates_the_schedules_and_sweeps_an_expired_lease():
    assert not Schedule.objects.exists()
    endpoint = Endpoint.objects.create(kind="shopify", code="shop-fr", name="Shop", base_url="https://shop.invalid",
                                       channel=SalesChannelFactory(), is_active=False)  # inactive: nothing is dispatched after the sweep
    long_ago = timezone.now() - timedelta(hours=1)
    job = SyncJob.objects.create(endpoint=endpoint, flow="products.out", record_key="1", status="running", lease_token="lost-worker",
                                 lease_expires_at=long_ago, started_at=long_ago, next_attempt_at=long_ago)
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db(), "Q_WORKERS": "1"}
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while SyncJob.objects.get(pk=job.pk).status == "running":
            assert cluster.poll() is None, cluster.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, f"not swept within 120 s; schedules: {list(Schedule.objects.values_list('name', flat=True))}"
            time.sleep(0.5)
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
    assert sorted(Schedule.objects.values_list("name", flat=True)) == sorted(schedules)
    job.refresh_from_db()
    assert job.status == "pending" and list(job.attempt_log.values_list("outcome", flat=True)) == ["lost"]


@pytest.mark.django_db
def test_ensuring_the_schedules_twice_keeps_one_row_per_name_and_repairs_duplicates():
    from hub.services import schedules_sync

    Schedule.objects.create(name="connectors.sync_tick", func="connectors.tasks.sync_tick_task", schedule_type=Schedule.MINUTES, minutes=1)
    Schedule.objects.create(name="connectors.sync_tick", func="connectors.tasks.sync_tick_task", schedule_type=Schedule.MINUTES, minutes=1)
    schedules_sync()
    schedules_sync()
    assert sorted(Schedule.objects.values_list("name", flat=True)) == sorted(schedules)
