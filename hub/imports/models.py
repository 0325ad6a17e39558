from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One spreadsheet import: who, when, which file, what it did (the import history)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Done")
        FAILED = "failed", _("Rejected (errors)")
        CRASHED = "crashed", _("Failed (internal error)")

    resource = models.CharField(_("resource"), max_length=50)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("original name"), max_length=255)
    dry_run = models.BooleanField(_("dry run"), default=False)
    options = models.JSONField(_("options"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    background = models.BooleanField(_("background"), default=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("user"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    new = models.PositiveIntegerField(_("new"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    error_count = models.PositiveIntegerField(_("error count"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    # While queued: when a worker should have claimed it. While running: until when the run
    # owning `lease_token` holds it (its progress renews it). Past that, the job is run again.
    lease_token = models.CharField(_("lease token"), max_length=32, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True, editable=False, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0, editable=False, help_text=_("Runs started so far."))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        permissions = [("run_importjob", _("Can import spreadsheets")), ("export_importjob", _("Can export spreadsheets"))]

    def __str__(self) -> str:
        from hub.imports.admin import resource_label

        return gettext("%(resource)s import #%(id)s (%(file)s)") % {"resource": resource_label(self.resource), "id": self.pk, "file": self.original_name}

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CRASHED}
