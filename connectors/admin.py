from django.contrib import admin, messages

from connectors.models import Endpoint, InboxMessage
from connectors.services import inbox_process


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "channel", "base_url", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    exclude = ["credentials", "webhook_secret"]  # secrets are set from the command line and never shown back
    readonly_fields = ["secrets"]

    @admin.display(description="Secrets")
    def secrets(self, obj):
        names = [f"{name}=••••" for name in sorted(obj.credentials)]
        names.append("webhook secret " + ("set" if obj.webhook_secret else "not set"))
        return ", ".join(names)


@admin.register(InboxMessage)
class InboxMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "endpoint", "topic", "delivery_id", "status", "signature_ok", "attempts", "error"]
    list_filter = ["status", "endpoint", "topic", "signature_ok"]
    search_fields = ["delivery_id", "error", "body"]
    readonly_fields = [f.name for f in InboxMessage._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Replay (process again)")
    def replay(self, request, queryset):
        for message in queryset:
            result = inbox_process(message_id=message.pk, replay=True)
            level = messages.SUCCESS if result.status in {"processed", "ignored"} else messages.WARNING
            self.message_user(request, f"#{message.pk}: {result.get_status_display()} — {result.error}", level)
