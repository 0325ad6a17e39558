import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import autodiscover_modules

from hub.models import SalesChannel
from hub.registry import demo_seeders


class Command(BaseCommand):
    help = (
        "Load deterministic demo data: a French/EU merchant selling online and B2B. Each app adds its "
        "records in dependency order. --scale multiplies volumes for benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=1, help="Multiply volumes (e.g. 1000 for ~100 000 products).")
        parser.add_argument("--seed", type=int, default=20260101, help="Random seed (same seed, same data).")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when the hub already has data.")

    def handle(self, *args, scale, seed, if_empty, **options):
        if scale < 1:
            raise CommandError("--scale must be at least 1")
        if if_empty and SalesChannel.objects.exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        autodiscover_modules("demo")
        rng = random.Random(seed)
        for seeder in sorted(demo_seeders.values(), key=lambda s: s.order):
            started = time.perf_counter()
            with transaction.atomic():
                summary = seeder.seed(scale=scale, rng=rng)
            self.stdout.write(f"{seeder.name:<12} {summary or ''} ({time.perf_counter() - started:.1f}s)")
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
