from django.core.management.base import BaseCommand

from connectors.shipstation import sandbox


class Command(BaseCommand):
    help = "Run a ShipStation sandbox (API v1, simulated warehouse, SHIP_NOTIFY webhooks) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*", help="Options of the sandbox: --port, --api-key, --api-secret, --warehouse ID=NAME, "
                                                     "--webhook-url, --auto, --stock WAREHOUSE:SKU=UNITS …")

    def run_from_argv(self, argv):
        sandbox.main(argv[2:])

    def handle(self, *args, **options):
        sandbox.main(list(args))
