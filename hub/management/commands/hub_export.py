from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hub.management.commands._resource_command import resource_spec


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        from argparse import ArgumentTypeError

        raise ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Export a resource to CSV or XLSX (by the file's extension), streaming; `fec` writes the FEC into a folder."

    def add_arguments(self, parser):
        parser.add_argument("resource")
        parser.add_argument("file", help="the file to write, or the folder for resources that name their file (fec)")
        parser.add_argument("--delimiter", default=",")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--from", dest="date_from", type=_day, help="first day of the period (YYYY-MM-DD), for period exports (fec)")
        parser.add_argument("--to", dest="date_to", type=_day, help="last day of the period (YYYY-MM-DD), for period exports (fec)")

    def handle(self, *args, resource, file, **options):
        spec = resource_spec(resource)
        if spec.exporter is None:
            raise CommandError(f"Resource {resource!r} cannot be exported.")
        if not spec.takes_period and (options["date_from"] or options["date_to"]):
            raise CommandError(f"Resource {resource!r} has no period: --from and --to do not apply.")
        if spec.target == "folder" and Path(file).is_file():
            raise CommandError(f"{file} is a file; {resource} is written into a folder (it names the file itself).")
        written = spec.exporter(Path(file), options=options, stdout=self.stdout)
        count, path = written if isinstance(written, tuple) else (written, file)
        self.stdout.write(self.style.SUCCESS(f"{count} row(s) written to {path}"))
