"""How a sync failure is classed: transient ones retry by themselves, permanent ones wait for a person."""


class SyncError(Exception):
    transient = False

    def __init__(self, message: str, *, status: int | None = None, excerpt: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.excerpt = excerpt
        self.retry_after = retry_after


class TransientError(SyncError):
    """Timeouts, connection errors, 5xx, 429, malformed vendor bodies: tried again later."""

    transient = True


class PermanentError(SyncError):
    """4xx answers and data the vendor (or the mapping) refuses: retrying the same thing cannot help."""
