import sys

from django.core.management.base import BaseCommand

from connectors.shipbob import sandbox


class Command(BaseCommand):
    help = "Run a ShipBob sandbox (REST API, simulated warehouse, signed webhooks) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*", help="Options of the sandbox: --port, --token, --channel-id, --location ID=NAME, "
                                                     "--webhook-url, --webhook-secret, --auto, --stock LOCATION:SKU=UNITS …")

    def run_from_argv(self, argv):
        sandbox.main(argv[2:])

    def handle(self, *args, **options):
        sandbox.main(list(args))
