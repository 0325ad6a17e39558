from functools import wraps

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
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
}


class TimelineInline(GenericTabularInline):
    """Read-only timeline for any document admin (orders, RMAs, …)."""

    model = TimelineEvent
    ct_fk_field = "object_id"
    extra = 0
    can_delete = False
    fields = ["created_at", "event_label", "message", "who"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    verbose_name_plural = _("Timeline")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("By"))
    def who(self, obj):
        return obj.who

    @admin.display(description=_("event"))
    def event_label(self, obj):
        return TIMELINE_EVENTS.get(obj.event, obj.event)


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
