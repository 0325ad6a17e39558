"""How a sync failure is classed: transient ones retry by themselves, permanent ones wait for a person.

The message is a `hub.texts.Text` (or a plain string, kept as it is): `str(error)` is the English
sentence for logs and the searchable column, `error.text` what is stored to be shown in the
reader's language."""

from hub.texts import Text, text_stored


class SyncError(Exception):
    transient = False

    def __init__(self, message: "str | Text", *, status: int | None = None, excerpt: str = "", retry_after: float | None = None):
        super().__init__(str(message))
        self.text = message if isinstance(message, Text) else None
        self.status = status
        self.excerpt = excerpt
        self.retry_after = retry_after

    def stored(self) -> dict | None:
        """The message as a stored Text, or None when it was given as a plain string."""
        return text_stored(self.text)


class RefusedData(ValueError):
    """Data the hub cannot take (a vendor document, a webhook body): a ValueError whose message may
    be a Text, so what is stored from it can be shown in the reader's language."""

    def __init__(self, message: "str | Text"):
        super().__init__(str(message))
        self.text = message if isinstance(message, Text) else None


def message_of(exc: BaseException) -> "Text | str":
    """An exception's message as a Text when it carries one, else its English string."""
    text = getattr(exc, "text", None)
    return text if isinstance(text, Text) else str(exc)


class TransientError(SyncError):
    """Timeouts, connection errors, 5xx, 429, malformed vendor bodies: tried again later."""

    transient = True


class PermanentError(SyncError):
    """4xx answers and data the vendor (or the mapping) refuses: retrying the same thing cannot help."""
