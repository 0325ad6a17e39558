"""Orders a channel sent as paid never had their payment recorded, so their invoices showed the
whole amount as due. Record the missing part once, as the import now does: method the channel's
code, reference the channel's order id, dated the day the order was placed."""

from decimal import Decimal

from django.db import migrations
from django.db.models import Q, Sum
from django.utils import timezone

PAID_STATUSES = ["paid", "partially_refunded", "refunded"]


def record_missing_payments(apps, schema_editor):
    SalesOrder = apps.get_model("orders", "SalesOrder")
    Payment = apps.get_model("orders", "Payment")
    orders = (SalesOrder.objects.filter(payment_status__in=PAID_STATUSES, total__gt=0).select_related("channel")
              .annotate(paid=Sum("payments__amount", filter=Q(payments__kind="payment"))).order_by("pk"))
    missing = []
    for order in orders.iterator(chunk_size=2000):
        due = order.total - (order.paid or Decimal(0))
        if due > 0:
            missing.append(Payment(order_id=order.pk, kind="payment", method=order.channel.code[:50], amount=due, currency=order.currency,
                                   received_on=timezone.localdate(order.placed_at or order.created_at), reference=(order.external_id or order.number)[:100]))
    Payment.objects.bulk_create(missing, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("orders", "0007_customer_identities_per_channel")]

    operations = [migrations.RunPython(record_missing_payments, migrations.RunPython.noop)]
