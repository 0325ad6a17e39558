from django.apps import AppConfig


def _expired_idempotency_keys(cutoff):
    from orders.models import IdempotencyKey

    return IdempotencyKey.objects.filter(created_at__lt=cutoff)


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self):
        from hub.registry import RetentionSpec, register_retention

        register_retention(RetentionSpec(name="orders.idempotency_keys", setting="HUB_RETENTION_IDEMPOTENCY_DAYS",
                                         expired=_expired_idempotency_keys))
