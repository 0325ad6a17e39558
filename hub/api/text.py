"""Text a database cannot hold: PostgreSQL refuses NUL in text, and no database driver can encode
a lone surrogate (which JSON's `\\ud800` escapes produce) as UTF-8. DRF's `CharField` refuses both
with these messages; hand-written validation and the request checks word them the same."""

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework.validators import ProhibitSurrogateCharactersValidator

NUL_MESSAGE = str(ProhibitNullCharactersValidator.message)


def text_problem(value: str) -> str | None:
    """DRF's message for text that cannot be stored or compared, else None (cheap for ASCII)."""
    if "\x00" in value:
        return NUL_MESSAGE
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return str(ProhibitSurrogateCharactersValidator.message).format(code_point=ord(value[exc.start]))
    return None
