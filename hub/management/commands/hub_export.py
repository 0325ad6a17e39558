from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hub.management.commands._resource_command import resource_spec


class Command(BaseCommand):
    help = "Export a resource to CSV or XLSX (by the file's extension), streaming."

    def add_arguments(self, parser):
        parser.add_argument("resource")
        parser.add_argument("file")
        parser.add_argument("--delimiter", default=",")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, resource, file, **options):
        spec = resource_spec(resource)
        if spec.exporter is None:
            raise CommandError(f"Resource {resource!r} cannot be exported.")
        count = spec.exporter(Path(file), options=options, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"{count} row(s) written to {file}"))
