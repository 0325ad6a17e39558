from django.core.management.base import BaseCommand, CommandError

from hub.models import SalesChannel
from hub.services import api_token_create, sales_channel_get_or_create


class Command(BaseCommand):
    help = "Print a new API token for a sales channel (the key is shown once and stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("channel", help="Sales channel code")
        parser.add_argument("--create", action="store_true", help="Create the channel if it does not exist.")
        parser.add_argument("--name", default="cli", help="Label for the token.")

    def handle(self, *args, channel, create, name, **options):
        if create:
            sales_channel, _ = sales_channel_get_or_create(code=channel)
        else:
            sales_channel = SalesChannel.objects.filter(code=channel).first()
            if sales_channel is None:
                known = ", ".join(SalesChannel.objects.values_list("code", flat=True)) or "none"
                raise CommandError(f"No sales channel {channel!r} (known: {known}). Use --create to add it.")
        _, key = api_token_create(channel=sales_channel, name=name)
        self.stdout.write(key)
