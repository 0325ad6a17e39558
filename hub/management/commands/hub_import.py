import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hub.management.commands._resource_command import resource_spec


class Command(BaseCommand):
    help = "Import a CSV or XLSX file into a resource (products, prices, stock, …). Exit status 1 on any error; nothing is written then."

    def add_arguments(self, parser):
        parser.add_argument("resource")
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Validate and count, write nothing.")
        parser.add_argument("--decimal-comma", action="store_true", help="Numbers use a decimal comma (12,50).")
        parser.add_argument("--delimiter", default=None, help="CSV delimiter; detected when omitted.")
        parser.add_argument("--encoding", default=None, help="CSV encoding (utf-16-le, shift_jis, gb18030, cp1251…); detected when omitted: UTF-8, UTF-8 or UTF-16 with a BOM, Windows-1252. Other encodings are refused unless named here.")
        parser.add_argument("--replace", action="store_true", help="Delete what the file no longer lists (resources that support it, e.g. prices).")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, resource, file, dry_run, **options):
        spec = resource_spec(resource)
        if spec.importer is None:
            raise CommandError(f"Resource {resource!r} is export-only.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"File not found: {file}")
        result = spec.importer(path, dry_run=dry_run, options=options, stdout=self.stdout)
        if getattr(result, "errors", None):
            for error in result.errors[:1000]:
                self.stderr.write(str(error))
            if len(result.errors) > 1000:
                self.stderr.write(f"… and {result.error_count - 1000} more")
            self.stderr.write(f"{result.error_count} error(s) in {file}; nothing was written.")
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(str(result)))
