from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator
from django.db import models

from connectors.models import Endpoint
from connectors.options import settings_clean
from connectors.registry import CONNECTORS, connector_for
from hub.services import sales_channel_get_or_create


def _pairs(items: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        if "=" not in item:
            raise CommandError(f"{option} {item!r}: write NAME=VALUE")
        key, value = item.split("=", 1)
        pairs[key.strip()] = value
    return pairs


class Command(BaseCommand):
    help = "Manage connected systems: add, list, test, sync."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add (or update) an endpoint.")
        add.add_argument("kind")
        add.add_argument("code")
        add.add_argument("--base-url", required=True)
        add.add_argument("--webhook-secret", default="")
        add.add_argument("--channel", default="", help="Sales channel code (created if missing); needed by storefronts and "
                                                       "marketplaces, not by systems serving every channel (3PL, accounting).")
        add.add_argument("--name", default="")
        add.add_argument("--credential", action="append", default=[], metavar="NAME=VALUE")
        add.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                         help="A connector setting (repeatable), validated by the connector; e.g. warehouse_map=3PL-NORD=1001.")
        sub.add_parser("list", help="List endpoints (secrets never shown).")
        test = sub.add_parser("test", help="Check connectivity and credentials.")
        test.add_argument("code")
        run = sub.add_parser("sync", help="Run the endpoint's due sync jobs now, in the foreground.")
        run.add_argument("code")
        run.add_argument("--flow", action="append", default=[], help="Only this flow (repeatable); default: every flow with due jobs.")
        run.add_argument("--seconds", type=float, default=50.0, help="Time budget per flow.")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _add(self, *, kind, code, base_url, webhook_secret, channel, name, credential, setting, **_):
        if kind not in CONNECTORS:
            raise CommandError(f"unknown kind {kind!r}; known: {', '.join(sorted(CONNECTORS))}")
        connector = CONNECTORS[kind]
        try:
            URLValidator()(base_url)
        except ValidationError:
            raise CommandError(f"--base-url {base_url!r} is not a URL") from None
        if connector.needs_channel and not channel:
            raise CommandError(f"{kind} sells on a sales channel: give --channel CODE")
        credentials = _pairs(credential, "--credential")
        given = _pairs(setting, "--setting")
        existing = Endpoint.objects.filter(code=code).first()
        stored = dict(existing.settings or {}) if existing is not None and existing.kind == kind else {}
        try:
            settings = settings_clean(connector=connector, values={**stored, **given}) if given or not existing else stored
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
                                 for field, messages in exc.message_dict.items())
            raise CommandError(f"--setting: {problems}") from None
        sales_channel = sales_channel_get_or_create(code=channel)[0] if channel else None
        endpoint, created = Endpoint.objects.update_or_create(code=code, defaults={
            "kind": kind, "name": name or code, "base_url": base_url, "channel": sales_channel, "settings": settings,
            **({"webhook_secret": webhook_secret} if webhook_secret else {}), **({"credentials": credentials} if credentials else {}),
        })
        endpoint.full_clean()
        self.stdout.write(f"{'added' if created else 'updated'} {endpoint}; webhooks: POST /webhooks/{endpoint.code}/")

    def _list(self, **_):
        for endpoint in Endpoint.objects.select_related("channel"):
            secrets = ", ".join(sorted(endpoint.credentials)) or "none"
            channel = endpoint.channel.code if endpoint.channel else "—"
            self.stdout.write(f"{endpoint.code:<20} {endpoint.kind:<12} {channel:<15} {endpoint.base_url}  "
                              f"credentials: {secrets}; webhook secret {'set' if endpoint.webhook_secret else 'not set'}"
                              f"{'' if endpoint.is_active else ' (inactive)'}")

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
        flows = flow or sorted(set(SyncJob.objects.filter(endpoint=endpoint, status=SyncJob.Status.PENDING).values_list("flow", flat=True)))
        for name in flows:
            try:
                connector_for(endpoint).flow(name)
            except LookupError as exc:
                raise CommandError(str(exc)) from None
            handled = sync_run(endpoint_id=endpoint.pk, flow_name=name, budget_seconds=seconds)
            counts = dict(SyncJob.objects.filter(endpoint=endpoint, flow=name).values_list("status").annotate(n=models.Count("id")))
            self.stdout.write(f"{name}: ran {handled} jobs; now " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
