from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from connectors.models import Endpoint
from connectors.vault import SealError
from connectors.registry import connector_for
from connectors.services import credentials_parse, endpoint_save, settings_parse
from hub.services import sales_channel_get_or_create

OPTION_OF_FIELD = {"kind": "KIND", "code": "CODE", "name": "--name", "base_url": "--base-url", "channel": "--channel",
                   "credentials": "--credential", "webhook_secret": "--webhook-secret", "settings": "--setting"}


class Command(BaseCommand):
    help = "Manage connected systems: add, list, test, sync."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add (or update) an endpoint.")
        add.add_argument("kind")
        add.add_argument("code")
        add.add_argument("--base-url", required=True)
        add.add_argument("--webhook-secret", default="")
        add.add_argument("--channel", default="", help="Sales channel code (created if missing); storefronts and marketplaces need one.")
        add.add_argument("--name", default="")
        add.add_argument("--credential", action="append", default=[], metavar="NAME=VALUE")
        add.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                         help="A connector setting (see docs/connectors.md); validated by the connector's settings form.")
        sub.add_parser("list", help="List endpoints (secrets never shown).")
        sub.add_parser("reseal", help="Seal every endpoint's secrets again with the first key of HUB_CREDENTIALS_KEYS (key rotation).")
        test = sub.add_parser("test", help="Check connectivity and credentials.")
        test.add_argument("code")
        run = sub.add_parser("sync", help="Run the endpoint's due sync jobs now, in the foreground.")
        run.add_argument("code")
        run.add_argument("--flow", action="append", default=[], help="Only this flow (repeatable); default: every flow with due jobs.")
        run.add_argument("--seconds", type=float, default=50.0, help="Time budget per flow.")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _add(self, *, kind, code, base_url, webhook_secret, channel, name, credential, setting, **_):
        """Everything is validated before anything is saved; any error saves nothing."""
        try:
            with transaction.atomic():
                sales_channel = None
                if channel:
                    try:
                        sales_channel, _ = sales_channel_get_or_create(code=channel)
                    except ValidationError as exc:
                        raise CommandError(f"nothing saved: --channel {channel!r}: {'; '.join(exc.messages)}") from None
                endpoint, created = endpoint_save(code=code, kind=kind, base_url=base_url, channel=sales_channel, name=name,
                                                  credentials=credentials_parse(credential) if credential else None,
                                                  webhook_secret=webhook_secret if webhook_secret != "" else None,
                                                  settings=settings_parse(setting) if setting else None)
        except ValidationError as exc:
            problems = [f"{OPTION_OF_FIELD.get(field, field)}: {message}" for field, messages in exc.message_dict.items() for message in messages] \
                if hasattr(exc, "error_dict") else list(exc.messages)
            raise CommandError("nothing saved: " + "; ".join(problems)) from None
        self.stdout.write(f"{'added' if created else 'updated'} {endpoint}; webhooks: POST /webhooks/{endpoint.code}/")

    def _list(self, **_):
        for endpoint in Endpoint.objects.select_related("channel"):
            secrets = ", ".join(sorted(endpoint.credentials)) or "none"
            channel = endpoint.channel.code if endpoint.channel else "(all channels)"
            self.stdout.write(f"{endpoint.code:<20} {endpoint.kind:<12} {channel:<15} {endpoint.base_url}  "
                              f"credentials: {secrets}; webhook secret {'set' if endpoint.webhook_secret else 'not set'}"
                              f"{'' if endpoint.is_active else ' (inactive)'}")

    def _reseal(self, **_):
        from connectors.services import endpoint_secrets_reseal

        try:
            count = endpoint_secrets_reseal()
        except SealError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"resealed the secrets of {count} endpoint(s) with the current first key")

    def _test(self, *, code, **_):
        endpoint = Endpoint.objects.filter(code=code).first()
        if endpoint is None:
            raise CommandError(f"no endpoint {code!r}")
        try:
            self.stdout.write(self.style.SUCCESS(connector_for(endpoint).check_connection(endpoint=endpoint)))
        except Exception as exc:
            raise CommandError(f"{code}: {exc}") from None

    def _sync(self, *, code, flow, seconds, **_):
        from connectors.models import SyncJob
        from connectors.sync import sync_run, sync_sweep

        endpoint = Endpoint.objects.filter(code=code).first()
        if endpoint is None:
            raise CommandError(f"no endpoint {code!r}")
        sync_sweep()
        queued = connector_for(endpoint).sync_due(endpoint=endpoint)
        if queued:
            self.stdout.write(f"queued {queued} jobs due now")
        flows = flow or sorted(set(SyncJob.objects.filter(endpoint=endpoint, status=SyncJob.Status.PENDING).values_list("flow", flat=True)))
        for name in flows:
            try:
                connector_for(endpoint).flow(name)
            except LookupError as exc:
                raise CommandError(str(exc)) from None
            handled = sync_run(endpoint_id=endpoint.pk, flow_name=name, budget_seconds=seconds)
            counts = dict(SyncJob.objects.filter(endpoint=endpoint, flow=name).values_list("status").annotate(n=models.Count("id")))
            self.stdout.write(f"{name}: ran {handled} jobs; now " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
