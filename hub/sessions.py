"""Django's database sessions, with session keys checked like any other client input."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS

_KEY_CHARS = frozenset(VALID_KEY_CHARS)


class SessionStore(db.SessionStore):
    """A session cookie whose key has characters Django never issues is no session, like a key
    that is too short. Django unquotes `"\\000…"` in a cookie to a NUL, which PostgreSQL cannot
    compare: looking such a key up would be a 500 on every page, the admin's included."""

    def _validate_session_key(self, key):
        return super()._validate_session_key(key) and _KEY_CHARS.issuperset(key)
