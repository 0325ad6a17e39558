"""Background imports survive a worker that dies: a job holds a lease while it runs; once the lease
has expired, a redelivered task or the every-minute sweeper runs it again (imports write all or
nothing in one transaction, so a run that died left nothing behind), at most HUB_IMPORT_MAX_ATTEMPTS
runs in all; then the job fails with a message the admin shows."""

import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_q.models import Schedule

from catalog.models import Product
from hub.imports.engine import RESOURCES, Plan, Resource
from hub.imports.columns import Text
from hub.imports.models import ImportJob
from hub.imports.services import import_job_create, import_job_run, import_job_sweep
from hub.imports.tasks import import_job_run_task, import_job_sweep_task
from hub.registry import schedules
from hub.services import schedules_sync

pytestmark = pytest.mark.django_db

CSV = b"sku,name\n" + b"".join(b"B%d,Big %d\n" % (n, n) for n in range(20))


def queued_job(django_capture_on_commit_callbacks, resource="products", content=CSV):
    with django_capture_on_commit_callbacks(execute=False):
        return import_job_create(resource=resource, uploaded_file=SimpleUploadedFile("big.csv", content), background=True)


def worker_died(job, *, attempts=1, seconds_ago=10):
    """The state a job is left in when its worker is killed mid-run."""
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, attempts=attempts, lease_token="dead-worker",
                                               started_at=now - timedelta(minutes=10),
                                               lease_expires_at=now - timedelta(seconds=seconds_ago))


def test_a_redelivered_task_resumes_a_job_whose_lease_expired(django_capture_on_commit_callbacks):
    job = queued_job(django_capture_on_commit_callbacks)
    worker_died(job)
    assert import_job_run_task(job.pk) == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.new, job.lease_token, job.lease_expires_at) == ("succeeded", 2, 20, "", None)
    assert Product.objects.count() == 20


def test_a_redelivered_task_leaves_a_job_whose_lease_is_live_alone(django_capture_on_commit_callbacks):
    job = queued_job(django_capture_on_commit_callbacks)
    worker_died(job, seconds_ago=-60)
    assert import_job_run_task(job.pk) == "running"
    assert ImportJob.objects.get(pk=job.pk).lease_token == "dead-worker" and not Product.objects.exists()


def test_the_sweeper_queues_again_a_job_whose_worker_died(django_capture_on_commit_callbacks, settings):
    job = queued_job(django_capture_on_commit_callbacks)
    worker_died(job)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert import_job_sweep() == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    assert job.status == "pending" and len(callbacks) == 1
    assert job.message == f"The worker stopped before the import finished; queued again (run 2 of {settings.HUB_IMPORT_MAX_ATTEMPTS})."
    assert import_job_run(job_id=job.pk).status == "succeeded"
    assert Product.objects.count() == 20


def test_the_sweepers_note_is_in_the_language_of_the_person_who_started_the_import(django_capture_on_commit_callbacks):
    job = queued_job(django_capture_on_commit_callbacks)
    ImportJob.objects.filter(pk=job.pk).update(options={**job.options, "language": "fr"})
    worker_died(job)
    with django_capture_on_commit_callbacks(execute=False):
        import_job_sweep()
    job.refresh_from_db()
    assert job.message.startswith("Le traitement s'est arrêté avant la fin de l'import ; remis en file (passage 2 sur ")


def test_the_sweeper_fails_a_job_after_its_last_run_and_the_admin_shows_why(django_capture_on_commit_callbacks, admin_client, settings):
    job = queued_job(django_capture_on_commit_callbacks)
    worker_died(job, attempts=settings.HUB_IMPORT_MAX_ATTEMPTS)
    assert import_job_run_task(job.pk) == "running"  # a redelivered task may not start it a fourth time
    assert import_job_sweep_task() == {"requeued": 0, "failed": 1}
    job.refresh_from_db()
    message = (f"The import stopped {settings.HUB_IMPORT_MAX_ATTEMPTS} times before it finished (its worker was stopped, "
               "or ran out of time or memory); nothing was written. Split the file, or import it with manage.py hub_import.")
    assert (job.status, job.message, job.lease_expires_at) == ("crashed", message, None) and job.finished_at
    assert message in admin_client.get(f"/admin/hub/importjob/{job.pk}/result/").content.decode()
    changelist = admin_client.get("/admin/hub/importjob/").content.decode()
    assert "Failed (internal error)" in changelist and "stopped 3 times" in changelist
    assert import_job_sweep() == {"requeued": 0, "failed": 0}
    assert not Product.objects.exists()


def test_the_sweeper_queues_again_a_job_whose_task_was_lost(django_capture_on_commit_callbacks):
    job = queued_job(django_capture_on_commit_callbacks)
    assert job.lease_expires_at > timezone.now()  # a worker should claim it by then
    ImportJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert import_job_sweep() == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    assert job.status == "pending" and job.attempts == 0 and job.lease_expires_at > timezone.now() and len(callbacks) == 1


def test_the_sweeper_leaves_live_and_finished_jobs_alone(django_capture_on_commit_callbacks):
    live = queued_job(django_capture_on_commit_callbacks)
    worker_died(live, seconds_ago=-60)
    done = queued_job(django_capture_on_commit_callbacks)
    import_job_run(job_id=done.pk)
    assert import_job_sweep() == {"requeued": 0, "failed": 0}
    assert ImportJob.objects.get(pk=live.pk).status == "running"


def test_the_sweeper_runs_every_minute_on_the_task_cluster():
    assert schedules["hub.imports.sweep"].func == "hub.imports.tasks.import_job_sweep_task"
    schedules_sync()
    schedule = Schedule.objects.get(name="hub.imports.sweep")
    assert (schedule.func, schedule.minutes) == ("hub.imports.tasks.import_job_sweep_task", 1)


# --- A run that is overtaken, and a run that renews its lease -----------------------------------------

class ProbeResource(Resource):
    """Writes one product per row; `during_check` runs while the job is validated."""

    name, label = "probe", "Probe"
    columns = [Text("sku", required=True)]
    during_check = staticmethod(lambda: None)
    seen_at_write: list = []

    def check(self, rows, errors, options):
        type(self).during_check()

    def plan(self, rows, options, user=None):
        def apply():
            type(self).seen_at_write.append(ImportJob.objects.values_list("lease_expires_at", flat=True).get())
            Product.objects.bulk_create([Product(sku=r.values["sku"], name=r.values["sku"]) for r in rows])
        return Plan(new=len(rows), apply=apply)


@pytest.fixture
def probe():
    RESOURCES["probe"] = ProbeResource()
    ProbeResource.seen_at_write = []
    yield ProbeResource
    del RESOURCES["probe"]
    ProbeResource.during_check = staticmethod(lambda: None)


def test_a_run_overtaken_by_another_writes_nothing_and_leaves_the_job_to_it(probe, django_capture_on_commit_callbacks):
    job = queued_job(django_capture_on_commit_callbacks, resource="probe", content=b"sku\nP1\n")
    probe.during_check = staticmethod(lambda: ImportJob.objects.filter(pk=job.pk).update(lease_token="newer-run"))
    assert import_job_run(job_id=job.pk).status == "running"
    assert ImportJob.objects.get(pk=job.pk).lease_token == "newer-run"
    assert not Product.objects.exists()


def test_a_running_job_holds_a_lease_that_its_progress_renews(probe, django_capture_on_commit_callbacks, settings):
    settings.HUB_IMPORT_LEASE_SECONDS = 2
    job = queued_job(django_capture_on_commit_callbacks, resource="probe", content=b"sku\nP1\n")
    claimed = []

    def slow_check():
        claimed.append(ImportJob.objects.values_list("status", "attempts", "lease_expires_at").get(pk=job.pk))
        time.sleep(0.6)

    probe.during_check = staticmethod(slow_check)
    assert import_job_run(job_id=job.pk).status == "succeeded"
    [(status, attempts, lease_at_claim)] = claimed
    assert (status, attempts) == ("running", 1) and lease_at_claim > timezone.now() - timedelta(seconds=1)
    assert probe.seen_at_write[0] >= lease_at_claim + timedelta(seconds=0.5)
