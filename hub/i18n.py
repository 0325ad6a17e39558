"""The translation catalogues (locale/<language>/LC_MESSAGES/django.po) and their compiled .mo files.

The .mo files are committed, so a fresh machine needs no system gettext; they are compiled with
polib (`manage.py hub_compilemessages`), and a test fails when one is out of date with its .po.
"""

import gettext
from pathlib import Path

from django.conf import settings


def catalogue_paths() -> list[Path]:
    return sorted(path for folder in settings.LOCALE_PATHS for path in Path(folder).glob("*/LC_MESSAGES/django.po"))


def compiled_catalogue(mo_path: Path) -> dict:
    """A compiled catalogue as Python reads it: {msgid (or (msgid, n) for plurals): msgstr}."""
    with open(mo_path, "rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)


def compile_catalogue(po_path: Path, mo_path: Path) -> None:
    import polib  # development dependency: only translators compile

    polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
