"""Demo only: plays the warehouse for orders that came from connected shops, shipping each
allocated order a little after it arrives, with a carrier and a tracking number, through the
same services staff use. Fulfilments (with tracking) then flow back to the shop."""

import random
import time
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from connectors.models import Binding
from inventory.models import Reservation
from orders.models import OrderStatus, SalesOrder
from orders.services import OrderError, shipment_create


def ship_ready_orders(*, older_than_seconds: int = 15, rng=random) -> list[str]:
    """Ship every allocated order of a connected shop that has waited long enough; one shipment
    per warehouse holding its reservations. Returns the shipment numbers."""
    from_shops = Binding.objects.filter(model="order", endpoint__is_active=True).values_list("local_id", flat=True)
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    shipped = []
    for order in SalesOrder.objects.filter(pk__in=[int(pk) for pk in from_shops], status=OrderStatus.ALLOCATED, updated_at__lt=cutoff).order_by("id")[:20]:
        by_warehouse: dict = {}
        for reservation in Reservation.objects.filter(document=order.number).select_related("warehouse"):
            by_warehouse.setdefault(reservation.warehouse, []).append(reservation)
        for warehouse, reservations in by_warehouse.items():
            lines = [(order.lines.get(pk=int(r.line_ref)), r.quantity) for r in reservations]
            tracking = f"6A{rng.randint(10**9, 10**10 - 1)}"
            try:
                with transaction.atomic():
                    shipment = shipment_create(order=order, warehouse=warehouse, lines=lines, carrier="Colissimo", service="Domicile",
                                               tracking_numbers=[tracking], tracking_urls=[f"https://www.laposte.fr/outils/suivre-vos-envois?code={tracking}"],
                                               actor_label="demo:warehouse")
                shipped.append(shipment.number)
            except OrderError:
                continue
    return shipped


class Command(BaseCommand):
    help = "Demo: ship allocated orders from connected shops after a short delay (a pretend warehouse)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=10.0)
        parser.add_argument("--delay", type=int, default=15, help="Seconds an allocated order waits before it ships.")
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, interval, delay, once, **options):
        while True:
            for number in ship_ready_orders(older_than_seconds=delay):
                self.stdout.write(f"shipped {number}")
            if once:
                return
            time.sleep(interval)
