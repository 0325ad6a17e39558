from django.core.management.base import BaseCommand

from connectors.shopify.traffic import run_traffic


class Command(BaseCommand):
    help = "Place shopper orders (and the odd cancellation or refund) in a Shopify sandbox shop, every few seconds."

    def add_arguments(self, parser):
        parser.add_argument("--sandbox-url", required=True)
        parser.add_argument("--interval", type=float, default=8.0)

    def handle(self, *args, sandbox_url, interval, **options):
        run_traffic(sandbox_url=sandbox_url.rstrip("/"), interval_seconds=interval, log=lambda line: self.stdout.write(f"traffic: {line}"))
