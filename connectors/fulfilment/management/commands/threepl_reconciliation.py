from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from connectors.fulfilment.reconciliation import COLUMNS, reconciliation_export, reconciliation_rows
from connectors.models import Endpoint


class Command(BaseCommand):
    help = ("3PL stock reconciliation: per SKU and 3PL warehouse, the hub's on hand beside the 3PL's last count and the "
            "difference. Exit status 1 when a difference remains.")

    def add_arguments(self, parser):
        parser.add_argument("--endpoint", default="", help="Only this 3PL endpoint.")
        parser.add_argument("--warehouse", default="", help="Only this warehouse.")
        parser.add_argument("--differences", action="store_true", help="Only rows with a difference.")
        parser.add_argument("--refresh", action="store_true", help="Read the 3PL's levels now first (runs the stock-in flow).")
        parser.add_argument("--output", default="", help="Write the report to FILE.csv or FILE.xlsx instead of printing it.")

    def handle(self, *args, endpoint, warehouse, differences, refresh, output, **options):
        if endpoint and not Endpoint.objects.filter(code=endpoint).exists():
            raise CommandError(f"no endpoint {endpoint!r}")
        if output and Path(output).suffix.lower() not in (".csv", ".xlsx"):
            raise CommandError("--output must end in .csv or .xlsx")
        if refresh:
            self._refresh(endpoint)
        rows = reconciliation_rows(endpoint_code=endpoint, warehouse_code=warehouse, differences_only=differences)
        if output:
            Path(output).write_bytes(reconciliation_export(rows, file_format=Path(output).suffix.lower().lstrip(".")))
            self.stdout.write(f"wrote {len(rows)} rows to {output}")
        else:
            widths = [8, 10, 16, 6, 6, 6, 6, 6]
            keys = ["endpoint", "warehouse", "sku", "hub_on_hand", "awaiting_shipment", "third_party_on_hand", "third_party_committed", "difference"]
            labels = dict(COLUMNS)
            self.stdout.write("  ".join(labels[k][:w].ljust(w) for k, w in zip(keys, widths)))
            for row in rows:
                values = [getattr(row, k) for k in keys]
                line = "  ".join(str(v)[:max(w, 16 if k == "sku" else w)].ljust(w) for k, v, w in zip(keys, values, widths))
                self.stdout.write(self.style.ERROR(line) if row.difference else line)
        differing = [row for row in rows if row.difference]
        if differing:
            self.stderr.write(f"{len(differing)} SKU(s) differ between the hub and the 3PL")
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(f"{len(rows)} rows, no difference"))

    def _refresh(self, code):
        from connectors.fulfilment.provider import FulfilmentProvider
        from connectors.registry import connector_for
        from connectors.sync import sync_job_enqueue, sync_run

        endpoints = Endpoint.objects.filter(is_active=True, **({"code": code} if code else {}))
        for endpoint in endpoints:
            connector = connector_for(endpoint)
            if not isinstance(connector, FulfilmentProvider) or not connector.reads_stock:
                continue
            sync_job_enqueue(endpoint=endpoint, flow="stock.in", record_key="*", label="reconciliation")
            sync_run(endpoint_id=endpoint.pk, flow_name="stock.in", budget_seconds=600)
