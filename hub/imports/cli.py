"""Command-line side of imports/exports: options from argparse, a progress line on stderr."""

import sys
import time

from hub.imports.engine import ImportOptions, export_to_file, run_import


class ProgressLine:
    def __init__(self, enabled: bool, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last < 0.2 and done != total:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-6)
        if total:
            width = 30
            filled = int(width * done / total)
            bar = "#" * filled + "-" * (width - filled)
            eta = (total - done) / rate if rate else 0
            text = f"\r{phase:<10} [{bar}] {done}/{total} {rate:,.0f} rows/s, {eta:.0f}s left"
        else:
            text = f"\r{phase:<10} {done} rows, {rate:,.0f} rows/s"
        self.stream.write(text)
        self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\n")


def options_from(cli_options: dict) -> ImportOptions:
    return ImportOptions(
        decimal_comma=bool(cli_options.get("decimal_comma")),
        delimiter=cli_options.get("delimiter") or None,
        encoding=cli_options.get("encoding") or None,
        replace=bool(cli_options.get("replace")),
    )


def cli_import(resource, path, *, dry_run, options, stdout=None):
    progress = ProgressLine(not options.get("no_progress") and sys.stderr.isatty())
    try:
        return run_import(resource, path, dry_run=dry_run, options=options_from(options), progress=progress)
    finally:
        progress.close()


def cli_export(resource, path, *, options, stdout=None):
    progress = ProgressLine(not options.get("no_progress") and sys.stderr.isatty())
    try:
        return export_to_file(resource, path, delimiter=options.get("delimiter") or ",", progress=progress)
    finally:
        progress.close()
