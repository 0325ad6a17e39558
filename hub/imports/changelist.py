"""django-import-export's Import, Export and "Export selected" on the admin lists, run by the hub's
own engine (hub.imports.engine), so that the admin, `manage.py hub_import`/`hub_export` and the
background imports read, check and write a file by one set of rules.

What django-import-export brings: the buttons, its pages (file and format choice, the preview
of new, changed and unchanged rows, the confirm step), the "Export selected" action and its
permission settings. What the hub replaces: reading the file (its encodings, XLSX limits and
formula quotes instead of tablib), checking the rows (set-wise, with its messages) and writing
them (in bulk, never one save per row), and the storage between the preview and the confirm
step: the dry run is an import job whose stored file the confirm step imports, so the import
history records both, and a large file can run on a worker, which a temporary folder of the web
process would not reach.
"""

import csv
import io
import tempfile
from itertools import groupby
from pathlib import Path

import tablib
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language, gettext, gettext_lazy as _
from import_export import resources as ie_resources
from import_export.admin import ExportActionMixin, ImportMixin
from import_export.fields import Field
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ConfirmImportForm, ExportForm, ImportForm
from import_export.results import Result, RowResult

from hub.imports.admin import ENCODINGS
from hub.imports.engine import export_to_file, stream_csv
from hub.imports.models import ImportJob
from hub.imports.services import STORED_ERRORS, import_job_create, resource_get

FORMATS = [CSV, XLSX]
KINDS = {"new": RowResult.IMPORT_TYPE_NEW, "update": RowResult.IMPORT_TYPE_UPDATE, "skip": RowResult.IMPORT_TYPE_SKIP}


# --- The resource ------------------------------------------------------------------------------

class HubResult(Result):
    """django-import-export's result of a run of the hub engine: totals, the previewed rows
    (`rows`, each new / update / skip with the file's cells as its `diff`) and the rows in error
    (`invalid_rows`, each with the engine's messages by column). `job` is the import job,
    `errors` the engine's errors as the CLI prints them."""

    def __init__(self, job: ImportJob, resource):
        super().__init__()
        self.job = job
        self.hub_resource = resource
        self.diff_headers = list(resource.column_names)
        outcome = getattr(job, "result", None)  # set when the run happened in this process
        self.totals.update({RowResult.IMPORT_TYPE_NEW: job.new, RowResult.IMPORT_TYPE_UPDATE: job.updated,
                            RowResult.IMPORT_TYPE_DELETE: job.deleted, RowResult.IMPORT_TYPE_SKIP: job.unchanged})
        self.total_rows = job.rows
        for previewed in (outcome.preview if outcome else []):
            row = RowResult()
            row.import_type = KINDS[previewed.kind]
            row.row_values = previewed.cells
            row.diff = [previewed.cells.get(name, "") for name in self.diff_headers]
            row.object_repr = f"{gettext('line')} {previewed.line}"
            self.append_row_result(row)
        errors = [error.as_dict() for error in outcome.errors] if outcome else job.errors
        self.errors = errors[:STORED_ERRORS]
        cells = outcome.invalid_cells if outcome else {}
        for line, line_errors in groupby(self.errors, key=lambda error: error["line"]):
            by_column = {}
            for error in line_errors:
                by_column.setdefault(error["column"] or NON_FIELD_ERRORS, []).append(error["message"])
            self.append_invalid_row(line, cells.get(line, {}), ValidationError(by_column))
        self.totals[RowResult.IMPORT_TYPE_INVALID] = len(self.invalid_rows)

    @property
    def error_count(self) -> int:
        return self.job.error_count

    @property
    def preview_is_partial(self) -> bool:
        return len(self.rows) < self.total_rows


class HubResource(ie_resources.Resource):
    """A django-import-export Resource whose import and export are those of the hub resource
    named `hub_name` (see `resource_class`)."""

    hub_name = ""

    @classmethod
    def hub(cls):
        return resource_get(cls.hub_name)

    @classmethod
    def get_display_name(cls):
        return str(cls.hub().label)

    def get_user_visible_fields(self):
        return [Field(attribute=name, column_name=name) for name in self.hub().export_header()]

    def import_data(self, dataset=None, dry_run=False, raise_errors=False, use_transactions=None,
                    collect_failed_rows=False, rollback_on_validation_errors=False, **kwargs):
        """Import with the hub engine, as an import job: `uploaded_file` (a Django file, as the
        admin has it) or else the tablib `dataset`, written out as CSV. `options` are the hub's
        import options (decimal_comma, encoding, replace); `background` sends the run to a
        worker (the result then has the job's state, not its outcome). All or nothing: a file
        with any error writes nothing, whatever `rollback_on_validation_errors` says."""
        upload = kwargs.get("uploaded_file")
        if upload is None:
            name = f"{Path(kwargs.get('file_name') or 'dataset').stem}.csv"  # read as the CSV it is written as
            upload = ContentFile(dataset.export("csv").encode("utf-8"), name=name)
        job = import_job_create(
            resource=self.hub_name, uploaded_file=upload, user=kwargs.get("user"), dry_run=dry_run,
            options=kwargs.get("options") or {}, background=kwargs.get("background", False),
            preview=settings.HUB_IMPORT_PREVIEW_ROWS,
        )
        result = HubResult(job, self.hub())
        if raise_errors and job.error_count:
            raise ValueError("; ".join(_error_text(error) for error in result.errors[:5]))
        return result

    def export(self, queryset=None, **kwargs):
        """A tablib Dataset of the rows the hub exports for `queryset` (all when None), with its
        spreadsheet-safe cell texts."""
        reader = csv.reader(io.StringIO("".join(stream_csv(self.hub(), queryset=queryset)).removeprefix("\ufeff")))
        return tablib.Dataset(*list(reader)[1:], headers=self.hub().export_header())


_RESOURCE_CLASSES: dict[str, type] = {}


def resource_class(hub_name: str) -> type:
    """The django-import-export Resource class of a hub resource."""
    if hub_name not in _RESOURCE_CLASSES:
        _RESOURCE_CLASSES[hub_name] = type(f"Hub{hub_name.title().replace('-', '')}Resource", (HubResource,), {"hub_name": hub_name})
    return _RESOURCE_CLASSES[hub_name]


def _error_text(error: dict) -> str:
    """An error as the command line prints it (hub.imports.engine.RowError)."""
    from hub.imports.engine import RowError

    return str(RowError(**error))


# --- Forms -------------------------------------------------------------------------------------

class SpreadsheetImportForm(ImportForm):
    """django-import-export's form (file, format) plus the hub's import options."""

    encoding = forms.ChoiceField(label=_("Encoding"), choices=ENCODINGS, required=False,
                                 help_text=_("CSV only: the character set the file was saved in, when it is not detected."))
    decimal_comma = forms.BooleanField(label=_("Decimal comma"), required=False, help_text=_("Numbers are written 12,50."))
    replace = forms.BooleanField(label=_("Replace"), required=False,
                                 help_text=_("Delete what the file's price lists hold and the file no longer lists."))

    field_order = ["resource", "import_file", "format", "encoding", "decimal_comma", "replace"]

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.fields["import_file"].help_text = _("CSV (UTF-8 or Windows-1252, ',' or ';') or XLSX, with a header row.")
        if not any(getattr(resource.hub(), "supports_replace", False) for resource in resources):
            del self.fields["replace"]

    def hub_options(self) -> dict:
        data = self.cleaned_data
        return {"decimal_comma": data["decimal_comma"], "replace": data.get("replace", False), "encoding": data["encoding"],
                "language": get_language()}  # the engine's messages, in the background too, in the user's language


class SpreadsheetConfirmForm(ConfirmImportForm):
    """The confirm step names the dry run it confirms (an import job of this user)."""

    import_job = forms.IntegerField(widget=forms.HiddenInput())


# --- Admin mixins --------------------------------------------------------------------------------

class SpreadsheetExportMixin(ExportActionMixin):
    """Export (of the list as filtered) and "Export selected", as CSV or XLSX, written by the hub
    engine. Needs the model's view permission (IMPORT_EXPORT_EXPORT_PERMISSION_CODE) and
    `hub.export_importjob`, the permission to export spreadsheets."""

    hub_resource = ""  # the hub resource's name
    import_export_change_list_template = "admin/hub/spreadsheets/change_list.html"
    export_form_class = ExportForm  # a resource's columns are its file format: no column choice
    export_formats = FORMATS
    # No Export button on the change form: ExportActionMixin's template would replace the
    # admin's own change form template.
    change_form_template = None
    show_change_form_export = False

    def get_resource_classes(self, request):
        return [resource_class(self.hub_resource)]

    def has_export_permission(self, request):
        return super().has_export_permission(request) and request.user.has_perm("hub.export_importjob")

    @admin.action(description=_("Export selected %(verbose_name_plural)s"), permissions=["export"])
    def export_admin_action(self, request, queryset):
        return super().export_admin_action(request, queryset)

    def get_valid_export_item_pks(self, request):
        """The posted selection, as far as this list shows it (instead of every key of the table)."""
        posted = request.POST.getlist("export_items")
        return list(self.get_export_queryset(request).filter(pk__in=posted).values_list("pk", flat=True))

    def get_export_data(self, file_format, request, queryset, **kwargs):
        """The file's bytes, written by the hub engine (formula quotes, string cells)."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        resource = resource_get(self.hub_resource)
        if file_format.get_extension() == "csv":
            return "".join(stream_csv(resource, queryset=queryset)).encode("utf-8")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "export.xlsx"
            export_to_file(resource, path, queryset=queryset)
            return path.read_bytes()

    def get_export_filename(self, request, queryset, file_format):
        return f"{self.hub_resource}-{timezone.now():%Y%m%d-%H%M}.{file_format.get_extension()}"

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        """CSV streams (memory stays flat on a large list); XLSX is built in a file first."""
        if file_format.get_extension() != "csv":
            return super()._do_file_export(file_format, request, queryset, export_form=export_form)
        if not self.has_export_permission(request):
            raise PermissionDenied
        response = StreamingHttpResponse(stream_csv(resource_get(self.hub_resource), queryset=queryset),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.get_export_filename(request, queryset, file_format)}"'
        return response


class SpreadsheetAdminMixin(ImportMixin, SpreadsheetExportMixin):
    """Import, Export and "Export selected" on an admin list, by the hub engine. Import needs the
    model's add and change permissions, `hub.run_importjob` (the permission to import
    spreadsheets) and, for the replace option, the delete permission.

    Import shows django-import-export's preview of a dry run (new, changed, unchanged rows, or
    the rows in error with the engine's messages); confirming imports the same file, on a worker
    when it has more than HUB_IMPORT_BACKGROUND_ROWS rows (with a link to its progress)."""

    import_export_change_list_template = "admin/hub/spreadsheets/change_list.html"
    import_template_name = "admin/hub/spreadsheets/import.html"
    import_form_class = SpreadsheetImportForm
    confirm_form_class = SpreadsheetConfirmForm
    import_formats = FORMATS
    skip_admin_log = True  # the import history (ImportJob) records who imported which file

    def _has_model_permission(self, request, action: str) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename(action, self.opts)}")

    def has_import_permission(self, request):
        return (super().has_import_permission(request) and self._has_model_permission(request, "add")
                and self._has_model_permission(request, "change") and request.user.has_perm("hub.run_importjob"))

    def import_action(self, request, **kwargs):
        """The Import page: upload, then the preview of a dry run and, when it found no error,
        the confirm button."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = self.create_import_form(request)
        context = self.get_import_context_data()
        resource_cls = self.get_import_resource_classes(request)[0]
        if request.method == "POST" and form.is_valid():
            options = form.hub_options()
            if options["replace"] and not self._has_model_permission(request, "delete"):
                form.add_error("replace", gettext("Replacing deletes rows: it needs the permission to delete them."))
            else:
                upload = form.cleaned_data["import_file"]
                file_format = self.get_import_formats()[int(form.cleaned_data["format"])]()
                extension = f".{file_format.get_extension()}"
                if Path(upload.name).suffix.lower() != extension:
                    upload.name += extension  # the chosen format decides how the file is read
                result = resource_cls().import_data(dry_run=True, uploaded_file=upload, user=request.user, options=options)
                context["result"] = result
                if not result.error_count:
                    upload.tmp_storage_name = result.job.file.name
                    form.dry_run_job = result.job
                    context["confirm_form"] = self.create_confirm_form(request, import_form=form)
        resource = resource_cls.hub()
        context.update(self.admin_site.each_context(request))
        context.update({
            "title": _("Import"), "form": form, "opts": self.model._meta, "media": self.media + form.media,
            "hub_columns": resource.columns, "background_rows": settings.HUB_IMPORT_BACKGROUND_ROWS,
            "can_view_jobs": request.user.has_perm("hub.view_importjob"),
        })
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["import_job"] = import_form.dry_run_job.pk
        return initial

    def process_import(self, request, **kwargs):
        """Confirm: import the file of this user's successful dry run, in this request or, past
        HUB_IMPORT_BACKGROUND_ROWS rows, on a worker."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        confirm_form = self.create_confirm_form(request)
        if not confirm_form.is_valid():
            messages.error(request, gettext("The confirmation was incomplete; upload the file again."))
            return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_import"))
        resource_cls = self.get_import_resource_classes(request)[0]
        dry = get_object_or_404(ImportJob, pk=confirm_form.cleaned_data["import_job"], dry_run=True, user=request.user,
                                status=ImportJob.Status.SUCCEEDED, resource=resource_cls.hub_name)
        if dry.options.get("replace") and not self._has_model_permission(request, "delete"):
            raise PermissionDenied
        with dry.file.open("rb") as handle:
            upload = ContentFile(handle.read(), name=dry.original_name)
        background = dry.rows > settings.HUB_IMPORT_BACKGROUND_ROWS
        result = resource_cls().import_data(dry_run=False, uploaded_file=upload, user=request.user, options=dry.options,
                                            background=background)
        return self.process_result(result, request)

    def process_result(self, result, request):
        job = result.job
        job_url = reverse("admin:hub_importjob_result", args=[job.pk])
        if job.background:
            messages.info(request, format_html(
                '{} <a id="import-job-link" href="{}">{}</a>',
                gettext("%(rows)s rows: the import runs in the background.") % {"rows": result.total_rows or job.rows},
                job_url, gettext("Follow its progress"),
            ))
            if request.user.has_perm("hub.view_importjob"):
                return HttpResponseRedirect(job_url)
        elif job.status == ImportJob.Status.SUCCEEDED:
            messages.success(request, format_html('{} <a id="import-job-link" href="{}">{}</a>', gettext(
                "Import finished: %(new)s new, %(updated)s updated, %(deleted)s deleted and %(skipped)s unchanged %(name)s."
            ) % {"new": job.new, "updated": job.updated, "deleted": job.deleted, "skipped": job.unchanged,
                 "name": self.opts.verbose_name_plural}, job_url, gettext("Import #%(id)s") % {"id": job.pk}))
        else:
            # The data changed since the dry run: the engine refused the file and wrote nothing.
            messages.error(request, format_html('{} <a id="import-job-link" href="{}">{}</a>', gettext(
                "The import found %(count)s error(s) and wrote nothing."
            ) % {"count": job.error_count}, job_url, gettext("Read them")))
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist",
                                            current_app=self.admin_site.name))


def spreadsheet_admins(admin_site=None):
    """(model admin, hub resource name) of every list with the Import button."""
    admin_site = admin_site or admin.site
    return [(model_admin, model_admin.hub_resource) for model_admin in admin_site._registry.values()
            if isinstance(model_admin, SpreadsheetAdminMixin)]

