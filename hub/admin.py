from dataclasses import dataclass
from functools import wraps
from typing import Callable

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_q import admin as q_admin
from django_q.models import Failure, Success

from hub import services
from hub.models import ApiToken, ChangeEvent, NumberSequence, SalesChannel, TimelineEvent


def granted_by(permission: str):
    """A `has_<name>_permission` method for a ModelAdmin: true when the user holds `permission`
    ("app_label.codename"). Admin actions name it in `permissions=[…]`, custom views in
    `admin_permission_required`."""
    def has_permission(model_admin, request, obj=None):
        return request.user.has_perm(permission)
    return has_permission


def admin_permission_required(name: str):
    """A custom ModelAdmin view (wrapped in `admin_site.admin_view`) answers 403 unless the
    admin's `has_<name>_permission(request)` is true, the rule admin actions follow."""
    def decorator(view):
        @wraps(view)
        def checked(model_admin, request, *args, **kwargs):
            if not getattr(model_admin, f"has_{name}_permission")(request):
                raise PermissionDenied
            return view(model_admin, request, *args, **kwargs)
        return checked
    return decorator


# Timeline event codes as people read them; a code not listed is shown as stored.
TIMELINE_EVENTS = {
    "received": pgettext_lazy("timeline event", "received"), "confirmed": pgettext_lazy("timeline event", "confirmed"),
    "allocated": pgettext_lazy("timeline event", "allocated"), "held": pgettext_lazy("timeline event", "put on hold"),
    "released": pgettext_lazy("timeline event", "released"), "shipped": pgettext_lazy("timeline event", "shipped"),
    "invoiced": pgettext_lazy("timeline event", "invoiced"), "completed": pgettext_lazy("timeline event", "completed"),
    "cancelled": pgettext_lazy("timeline event", "cancelled"), "updated": pgettext_lazy("timeline event", "updated"),
    "linked": pgettext_lazy("timeline event", "linked"), "requested": pgettext_lazy("timeline event", "requested"),
    "authorised": pgettext_lazy("timeline event", "authorised"), "rejected": pgettext_lazy("timeline event", "rejected"),
    "label": pgettext_lazy("timeline event", "return label"), "exchange": pgettext_lazy("timeline event", "exchange"),
    "inspected": pgettext_lazy("timeline event", "inspected"), "refund": pgettext_lazy("timeline event", "refund"),
    "refunded": pgettext_lazy("timeline event", "refunded"), "closed": pgettext_lazy("timeline event", "closed"),
    "partially shipped": pgettext_lazy("timeline event", "partially shipped"), "hold lifted": pgettext_lazy("timeline event", "hold lifted"),
    "address changed": pgettext_lazy("timeline event", "address changed"), "credit note": pgettext_lazy("timeline event", "credit note"),
    "payment": pgettext_lazy("timeline event", "payment"), "return requested": pgettext_lazy("timeline event", "return requested"),
    "needs a decision": pgettext_lazy("timeline event", "needs a decision"), "in transit": pgettext_lazy("timeline event", "in transit"),
}


class TimelineInline(GenericTabularInline):
    """Read-only timeline for any document admin (orders, RMAs, …)."""

    model = TimelineEvent
    ct_fk_field = "object_id"
    extra = 0
    can_delete = False
    fields = ["created_at", "event_label", "message_label", "who"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    classes = ["hub-rows"]
    verbose_name_plural = _("Timeline")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("By"))
    def who(self, obj):
        return obj.who

    @admin.display(description=_("event"))
    def event_label(self, obj):
        return TIMELINE_EVENTS.get(obj.event, obj.event)

    @admin.display(description=_("message"))
    def message_label(self, obj):
        return obj.message_shown


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    extra = 0
    can_delete = False
    fields = ["prefix", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SalesChannel)
class SalesChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "currency", "country", "is_active", "active_tokens"]
    list_filter = ["kind", "is_active", "currency"]
    search_fields = ["code", "name"]
    inlines = [ApiTokenInline]
    actions = ["issue_token"]

    @admin.display(description=_("Active tokens"))
    def active_tokens(self, obj):
        return obj.api_tokens.filter(revoked_at__isnull=True).count()

    has_issue_token_permission = granted_by("hub.issue_apitoken")

    @admin.action(description=_("Issue a new API token (shown once)"), permissions=["issue_token"])
    def issue_token(self, request, queryset):
        for channel in queryset:
            _token, key = services.api_token_create(channel=channel, name=f"admin {timezone.now():%Y-%m-%d}", created_by=request.user)
            self.message_user(
                request,
                format_html(gettext("New token for <b>{}</b>: <code>{}</code> — copy it now, it is not stored."), channel.code, key),
                messages.WARNING,
            )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "channel", "name", "created_at", "last_used_at", "status"]
    list_filter = ["channel", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "channel__code"]
    readonly_fields = ["channel", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    fields = ["channel", "name", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are issued from the sales channel page or `manage.py hub_token`

    @admin.display(description=_("Status"))
    def status(self, obj):
        return gettext("revoked") if obj.revoked_at else gettext("active")

    has_revoke_permission = granted_by("hub.revoke_apitoken")

    @admin.action(description=_("Revoke selected tokens"), permissions=["revoke"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.api_token_revoke(token=token)
            count += 1
        self.message_user(request, ngettext("%(count)d token revoked; it stops working at once.", "%(count)d tokens revoked; they stop working at once.", count) % {"count": count}, messages.SUCCESS)


@dataclass(frozen=True)
class Workflow:
    """A step a document's page offers as a button (`<button name="_workflow" value="<name>">` in the
    form `#workflow-actions`), shown only when `allowed(obj)` says the transition is possible now and
    the admin's `has_<permission>_permission(request)` is true.

    The admin method `do_<name>(request, obj)` performs it through the app's services and returns
    a message (or ""); the list action of the same step calls that same method for each row.
    A step that needs a form of its own names its admin URL in `url_name` (a link, no POST here).
    """

    name: str
    label: str
    permission: str
    allowed: Callable = lambda obj: True
    url_name: str = ""
    danger: bool = False
    confirm: str = ""


class WorkflowAdminMixin:
    """Workflow buttons on a change page; see `Workflow`. POSTs go to the change page itself with
    `_workflow=<name>` (and the CSRF token), so they need no URL of their own."""

    workflows: tuple = ()
    service_errors: tuple = (ValueError,)
    change_form_template = "admin/hub/workflow_change_form.html"

    class Media:
        css = {"all": ["hub/admin.css"]}

    def workflow_permitted(self, request, workflow) -> bool:
        return getattr(self, f"has_{workflow.permission}_permission")(request)

    def workflow_buttons(self, request, obj) -> list[dict]:
        if obj is None:
            return []
        buttons = []
        for workflow in self.workflows:
            if self.workflow_permitted(request, workflow) and workflow.allowed(obj):
                url = reverse(f"{self.admin_site.name}:{workflow.url_name}", args=[obj.pk]) if workflow.url_name else ""
                buttons.append({"name": workflow.name, "label": workflow.label, "url": url, "danger": workflow.danger,
                                "confirm": workflow.confirm})
        return buttons

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["workflow_buttons"] = self.workflow_buttons(request, obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST" and "_workflow" in request.POST:
            return self.workflow_view(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def workflow_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        workflow = next((w for w in self.workflows if w.name == request.POST["_workflow"] and not w.url_name), None)
        if workflow is None:
            return HttpResponseBadRequest(gettext("Unknown step."))
        if not (self.has_view_permission(request, obj) and self.workflow_permitted(request, workflow)):
            raise PermissionDenied
        here = HttpResponseRedirect(request.path)
        if not workflow.allowed(obj):
            self.message_user(request, gettext("%(object)s: “%(step)s” is not possible in its current state.")
                              % {"object": obj, "step": workflow.label}, messages.ERROR)
            return here
        try:
            message = self.workflow_run(request, obj, workflow.name)
        except self.service_errors as exc:
            self.message_user(request, gettext("%(object)s: %(error)s") % {"object": obj, "error": exc}, messages.ERROR)
        else:
            self.message_user(request, message or gettext("%(object)s: %(step)s — done.") % {"object": obj, "step": workflow.label},
                              messages.SUCCESS)
        return here

    def workflow_run(self, request, obj, name: str) -> str:
        return getattr(self, f"do_{name}")(request, obj) or ""

    def workflow_each(self, request, queryset, name: str, done_text=None) -> None:
        """A list action: the step's `do_<name>` for each selected row; each refusal reported by
        name, then "N <objects> <done_text>." (or each row's own message without `done_text`)."""
        done = 0
        for obj in queryset:
            try:
                message = self.workflow_run(request, obj, name)
            except self.service_errors as exc:
                self.message_user(request, gettext("%(object)s: %(error)s") % {"object": obj, "error": exc}, messages.ERROR)
                continue
            done += 1
            if done_text is None and message:
                self.message_user(request, message, messages.SUCCESS)
        if done and done_text is not None:
            opts = queryset.model._meta
            self.message_user(request, ngettext("%(count)d %(name)s %(done)s.", "%(count)d %(name)s %(done)s.", done)
                              % {"count": done, "name": opts.verbose_name if done == 1 else opts.verbose_name_plural, "done": done_text},
                              messages.SUCCESS)


class PanelsAdminMixin:
    """Read-only panels under a change page's fields: the admin's own (`panels`: names of methods
    `(request, obj) -> HTML`, with an `admin.display` description as title) and those other apps
    register for the model in `hub.registry.register_admin_panel`."""

    panels: tuple = ()
    change_form_template = "admin/hub/workflow_change_form.html"

    class Media:
        css = {"all": ["hub/admin.css"]}

    def get_panels(self, request, obj) -> list[dict]:
        if obj is None or obj.pk is None:
            return []
        from hub.registry import admin_panels_for

        shown = []
        for name in self.panels:
            method = getattr(self, name)
            shown.append({"name": name, "title": getattr(method, "short_description", name), "html": method(request, obj)})
        for spec in admin_panels_for(self.opts.label):
            if not spec.permission or request.user.has_perm(spec.permission):
                shown.append({"name": spec.name, "title": spec.title, "html": spec.render(request, obj)})
        return shown

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["panels"] = self.get_panels(request, obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


class ServiceActionsMixin:
    """Admin actions that call a service per selected row and report each refusal by name."""

    service_errors: tuple = (ValueError,)

    def run_service(self, request, queryset, service, verb, *, subject, **kwargs):
        """`verb` is a translatable past participle ("confirmed"), agreeing with the model's name."""
        done = 0
        for obj in queryset:
            try:
                service(**{subject: obj}, user=request.user, **kwargs)
                done += 1
            except self.service_errors as exc:
                self.message_user(request, gettext("%(object)s: %(error)s") % {"object": obj, "error": exc}, messages.ERROR)
        if done:
            opts = queryset.model._meta
            self.message_user(request, ngettext("%(count)d %(name)s %(verb)s.", "%(count)d %(name)s %(verb)s.", done) % {
                "count": done, "name": opts.verbose_name_plural if done > 1 else opts.verbose_name, "verb": verb}, messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    class Media:
        css = {"all": ["hub/admin.css"]}

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(NumberSequence)
class NumberSequenceAdmin(ReadOnlyAdmin):
    list_display = ["series", "last_value"]
    search_fields = ["series"]


@admin.register(ChangeEvent)
class ChangeEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "topic", "object_id", "action", "origin", "created_at"]
    list_filter = ["topic", "action", "origin"]
    search_fields = ["object_id"]
    date_hierarchy = "created_at"


@admin.action(description=q_admin.resubmit_task.short_description, permissions=["change"])
def resubmit_task(model_admin, request, queryset):
    q_admin.resubmit_task(model_admin, request, queryset)


class FailedTaskAdmin(q_admin.FailAdmin):
    actions = [resubmit_task]


class SucceededTaskAdmin(q_admin.TaskAdmin):
    actions = [resubmit_task]


# django-q2's own registration lets anyone who may view a task run it again.
admin.site.unregister([Failure, Success])
admin.site.register(Failure, FailedTaskAdmin)
admin.site.register(Success, SucceededTaskAdmin)


if admin.site.is_registered(AccessAttempt):
    # django-axes' own clean-up action is open to anyone who may view login attempts (and fails
    # outside a login request); staff who may delete attempts lift lockouts instead.
    class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
        actions = ["lift_lockout"]

        @admin.action(description=_("Remove the selected attempts (lifts their lockout)"), permissions=["delete"])
        def lift_lockout(self, request, queryset):
            count, _deleted = queryset.delete()
            self.message_user(request, _("%(count)d login attempts removed.") % {"count": count})

    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, AccessAttemptAdmin)


from hub.imports import admin as _imports_admin  # noqa: E402,F401  (registers the Imports pages)
