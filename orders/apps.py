from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _expired_idempotency_keys(cutoff):
    from orders.models import IdempotencyKey

    return IdempotencyKey.objects.filter(created_at__lt=cutoff)


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from hub.registry import RetentionSpec, register_retention

        register_retention(RetentionSpec(name="orders.idempotency_keys", setting="HUB_RETENTION_IDEMPOTENCY_DAYS",
                                         expired=_expired_idempotency_keys))
