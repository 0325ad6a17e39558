import csv
import io
import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.files.base import ContentFile
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from hub.admin import admin_permission_required, granted_by
from hub.display import truncated
from hub.imports.cells import csv_cell
from hub.imports.engine import RESOURCES, export_to_file, stream_csv
from hub.imports.models import ImportJob
from hub.imports.progress import progress_read
from hub.imports.services import import_job_create, resource_get


def resource_label(name: str) -> str:
    """A resource as people call it ("Prix (paliers de quantité)"), its code when it is unknown."""
    try:
        return str(resource_get(name).label)
    except ValueError:
        return name


def _resource_choices(importable_only: bool):
    resource_get("products")  # autodiscovers every app's resources
    return [(r.name, r.label) for r in sorted(RESOURCES.values(), key=lambda r: r.order) if r.importable or not importable_only]


ENCODINGS = [
    ("", _("Detect (UTF-8, UTF-16 with BOM, or Windows-1252)")),
    ("utf-8", "UTF-8"),
    ("cp1252", _("Windows-1252 / Latin-1 (Western Europe)")),
    ("iso-8859-15", _("ISO-8859-15 (Latin-9)")),
    ("cp1250", _("Windows-1250 (Central Europe)")),
    ("cp1251", _("Windows-1251 (Cyrillic)")),
    ("utf-16-le", _("UTF-16 little-endian, without BOM")),
    ("utf-16-be", _("UTF-16 big-endian, without BOM")),
    ("shift_jis", _("Shift-JIS (Japanese)")),
    ("gb18030", _("GB18030 (Simplified Chinese)")),
    ("big5", _("Big5 (Traditional Chinese)")),
    ("euc_kr", _("EUC-KR (Korean)")),
]


class ImportForm(forms.Form):
    resource = forms.ChoiceField(label=_("Resource"))
    file = forms.FileField(label=_("File"), help_text=_("CSV (UTF-8 or Windows-1252, ',' or ';') or XLSX, with a header row."))
    encoding = forms.ChoiceField(label=_("Encoding"), choices=ENCODINGS, required=False,
                                 help_text=_("CSV only: the character set the file was saved in, when it is not detected."))
    decimal_comma = forms.BooleanField(label=_("Decimal comma"), required=False, help_text=_("Numbers are written 12,50."))
    replace = forms.BooleanField(label=_("Replace"), required=False, help_text=_("Prices: delete breaks of the listed price lists that the file no longer contains."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = _resource_choices(True)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in {".csv", ".txt", ".xlsx"}:
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."), code="extension")
        return upload


class ExportForm(forms.Form):
    resource = forms.ChoiceField(label=_("Resource"))
    format = forms.ChoiceField(label=_("Format"), choices=[("csv", "CSV"), ("xlsx", "XLSX")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = _resource_choices(False)


class ResourceFilter(admin.SimpleListFilter):
    title = _("data")
    parameter_name = "resource"

    def lookups(self, request, model_admin):
        names = model_admin.get_queryset(request).order_by().values_list("resource", flat=True).distinct()
        return sorted(((name, resource_label(name)) for name in names), key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        return queryset.filter(resource=self.value()) if self.value() else queryset


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "resource_label", "file_name", "status_badge", "rows", "new", "updated", "user"]
    list_display_links = ["created_at"]
    list_filter = ["status", ResourceFilter, "dry_run", "background"]
    search_fields = ["original_name", "resource", "user__username"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    change_list_template = "admin/hub/importjob/change_list.html"

    has_run_permission = granted_by("hub.run_importjob")
    has_export_permission = granted_by("hub.export_importjob")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Status"), ordering="status")
    def status_badge(self, job):
        colour = {"succeeded": "#2e7d32", "failed": "#c62828", "crashed": "#c62828", "running": "#1565c0"}.get(job.status, "#555")
        notes = []
        if job.error_count:
            notes.append(ngettext("%(count)d error", "%(count)d errors", job.error_count) % {"count": job.error_count})
        if job.dry_run:
            notes.append(gettext("dry run"))
        label = format_html('<b class="hub-wrap" style="color:{}" title="{}">{}</b>', colour, Truncator(job.message).chars(300),
                            job.get_status_display())
        if notes:
            return format_html('{}<span class="hub-sub">{}</span>', label, " · ".join(notes))
        return label

    @admin.display(description=_("data"), ordering="resource")
    def resource_label(self, job):
        return truncated(resource_label(job.resource), 18)

    @admin.display(description=_("file"), ordering="original_name")
    def file_name(self, job):
        return truncated(job.original_name, 16)

    @admin.display(description=_("Message"))
    def summary(self, job):
        return Truncator(job.message).chars(160)

    @admin.display(description=_("Duration"))
    def duration(self, job):
        if job.started_at and job.finished_at:
            return f"{(job.finished_at - job.started_at).total_seconds():.1f} s"
        return "—"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("new/", view(self.new_import_view), name="hub_importjob_new"),
            path("export/", view(self.export_view), name="hub_importjob_export"),
            path("<int:job_id>/result/", view(self.result_view), name="hub_importjob_result"),
            path("<int:job_id>/confirm/", view(self.confirm_view), name="hub_importjob_confirm"),
            path("<int:job_id>/errors.csv", view(self.errors_csv_view), name="hub_importjob_errors"),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        permitted = {"can_run": self.has_run_permission(request), "can_export": self.has_export_permission(request)}
        return super().changelist_view(request, {**permitted, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, unquote(object_id))
        if job is None:
            raise Http404
        return redirect("admin:hub_importjob_result", job_id=job.pk)

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    @admin_permission_required("run")
    def new_import_view(self, request):
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            job = import_job_create(
                resource=data["resource"], uploaded_file=data["file"], user=request.user,
                dry_run="validate" in request.POST,
                options={"decimal_comma": data["decimal_comma"], "replace": data["replace"], "encoding": data["encoding"],
                         "language": get_language()},
            )
            return redirect("admin:hub_importjob_result", job_id=job.pk)
        from hub.imports.changelist import spreadsheet_admins

        list_imports = [(model_admin.opts.verbose_name_plural, reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_import"))
                        for model_admin, _name in spreadsheet_admins(self.admin_site) if model_admin.has_import_permission(request)]
        return TemplateResponse(request, "admin/hub/importjob/new.html", self._context(
            request, title=_("Import a spreadsheet"), form=form, list_imports=list_imports))

    @admin_permission_required("view")
    def result_view(self, request, job_id):
        job = get_object_or_404(ImportJob, pk=job_id)
        return TemplateResponse(request, "admin/hub/importjob/result.html", self._context(
            request, title=str(job), job=job, resource_label=resource_label(job.resource), progress=None if job.is_finished else progress_read(job.pk),
            can_run=self.has_run_permission(request),
        ))

    @admin_permission_required("run")
    def confirm_view(self, request, job_id):
        """Run for real a dry run that found no error, from the same file."""
        dry = get_object_or_404(ImportJob, pk=job_id, dry_run=True, status=ImportJob.Status.SUCCEEDED)
        if request.method != "POST":
            return redirect("admin:hub_importjob_result", job_id=dry.pk)
        with dry.file.open("rb") as handle:
            upload = ContentFile(handle.read(), name=dry.original_name)
        job = import_job_create(resource=dry.resource, uploaded_file=upload, user=request.user, options=dry.options)
        messages.success(request, gettext("Import #%(job)s started from %(file)s.") % {"job": job.pk, "file": dry.original_name})
        return redirect("admin:hub_importjob_result", job_id=job.pk)

    @admin_permission_required("view")
    def errors_csv_view(self, request, job_id):
        job = get_object_or_404(ImportJob, pk=job_id)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["line", "column", "value", "message"])
        for error in job.errors:
            writer.writerow([error["line"], *(csv_cell(error[key]) for key in ("column", "value", "message"))])
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response

    @admin_permission_required("export")
    def export_view(self, request):
        form = ExportForm(request.GET or None)
        if request.GET and form.is_valid():
            resource = resource_get(form.cleaned_data["resource"])
            stamp = timezone.now().strftime("%Y%m%d-%H%M")
            if form.cleaned_data["format"] == "csv":
                response = StreamingHttpResponse(stream_csv(resource), content_type="text/csv; charset=utf-8")
                response["Content-Disposition"] = f'attachment; filename="{resource.name}-{stamp}.csv"'
                return response
            handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=True)
            export_to_file(resource, Path(handle.name))
            return FileResponse(open(handle.name, "rb"), as_attachment=True, filename=f"{resource.name}-{stamp}.xlsx")
        return TemplateResponse(request, "admin/hub/importjob/export.html", self._context(request, title=_("Export a spreadsheet"), form=form))
