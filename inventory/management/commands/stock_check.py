import sys

from django.core.management.base import BaseCommand

from inventory.models import StockLevel
from inventory.selectors import ledger_drift


class Command(BaseCommand):
    help = "Prove that every stock level's on-hand equals the sum of its ledger movements; exit 1 on drift."

    def handle(self, *args, **options):
        drift = list(ledger_drift())
        checked = StockLevel.objects.count()
        if not drift:
            self.stdout.write(self.style.SUCCESS(f"{checked} stock levels checked: on-hand equals the ledger everywhere."))
            return
        for level in drift:
            self.stderr.write(
                f"DRIFT {level.product.sku} @ {level.warehouse.code}: on-hand {level.on_hand}, ledger {level.ledger} "
                f"(difference {level.on_hand - level.ledger:+d})"
            )
        self.stderr.write(f"{len(drift)} of {checked} stock levels drift from the ledger.")
        sys.exit(1)
