from django.core.management.base import BaseCommand

from connectors.shopify.sandbox import ShopifySandbox


class Command(BaseCommand):
    help = "Run a Shopify sandbox shop (Admin API 2025-01 subset, signed webhooks, rate limits, fault switches) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8010)
        parser.add_argument("--access-token", required=True)
        parser.add_argument("--webhook-url", default="")
        parser.add_argument("--webhook-secret", default="")
        parser.add_argument("--duplicate-rate", type=float, default=0.0, help="Share of webhooks delivered twice (real shops do this).")
        parser.add_argument("--graphql-maximum", type=float, default=2000.0, help="GraphQL cost bucket (standard plan: 2000 points).")
        parser.add_argument("--graphql-restore", type=float, default=100.0, help="GraphQL points restored per second (standard: 100).")

    def handle(self, *args, host, port, access_token, webhook_url, webhook_secret, duplicate_rate, graphql_maximum, graphql_restore, **options):
        sandbox = ShopifySandbox(access_token=access_token, webhook_url=webhook_url or None, webhook_secret=webhook_secret,
                                 host=host, port=port, duplicate_rate=duplicate_rate, graphql_maximum=graphql_maximum,
                                 graphql_restore=graphql_restore)
        self.stdout.write(f"Shopify sandbox on {sandbox.url} (control API: {sandbox.url}/_sandbox/state)")
        sandbox.serve_forever()
