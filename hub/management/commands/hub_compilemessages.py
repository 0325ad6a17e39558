"""Compile the translation catalogues (locale/*/LC_MESSAGES/django.po → .mo) without system gettext."""

from django.core.management.base import BaseCommand

from hub.i18n import catalogue_paths, compile_catalogue


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/django.po into the .mo files the hub reads (needs polib, a development dependency)."

    def handle(self, *args, **options):
        for po_path in catalogue_paths():
            mo_path = po_path.with_suffix(".mo")
            compile_catalogue(po_path, mo_path)
            self.stdout.write(f"{mo_path}")
