from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    """One spreadsheet import: who, when, which file, what it did (the import history)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Rejected (errors)"
        CRASHED = "crashed", "Failed (internal error)"

    resource = models.CharField(max_length=50)
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    dry_run = models.BooleanField(default=False)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    background = models.BooleanField(default=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    # While queued: when a worker should have claimed it. While running: until when the run
    # owning `lease_token` holds it (its progress renews it). Past that, the job is run again.
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False, help_text="Runs started so far.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "import"
        verbose_name_plural = "imports"
        permissions = [("run_importjob", "Can import spreadsheets"), ("export_importjob", "Can export spreadsheets")]

    def __str__(self) -> str:
        return f"{self.resource} import #{self.pk} ({self.original_name})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CRASHED}
