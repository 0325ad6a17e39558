from django.core.management.base import BaseCommand

from connectors.xero.sandbox import API, XeroSandbox


class Command(BaseCommand):
    help = "Run a Xero sandbox organisation (Accounting API 2.0 subset, OAuth token rotation, limits, validation) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8040)
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
        parser.add_argument("--refresh-token", required=True, help="The first refresh token the hub is given.")
        parser.add_argument("--tenant-id", required=True)
        parser.add_argument("--day-limit", type=int, default=5000)
        parser.add_argument("--state-file", default="", help="Keep the books in this JSON file across restarts (and accept the "
                                                              "refresh token the hub kept from the previous run).")

    def handle(self, *args, host, port, client_id, client_secret, refresh_token, tenant_id, day_limit, state_file, **options):
        sandbox = XeroSandbox(client_id=client_id, client_secret=client_secret, refresh_token=refresh_token, tenant_id=tenant_id,
                              host=host, port=port, day_limit=day_limit, state_file=state_file, accept_unknown_refresh=bool(state_file))
        self.stdout.write(f"Xero sandbox on {sandbox.url}{API} (token URL {sandbox.url}/connect/token; books: {sandbox.url}/_sandbox/books)")
        sandbox.serve_forever()
