"""`Authorization: Token <key>` for storefronts: a key belongs to one sales channel."""

from django.utils import timezone
from rest_framework import authentication, exceptions

from hub.models import ApiToken
from hub.services import hash_token_key

LAST_USED_RESOLUTION_SECONDS = 300


class ChannelPrincipal:
    """The authenticated caller of the storefront API: a sales channel, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, token: ApiToken):
        self.token = token
        self.channel = token.channel
        self.pk = None

    def __str__(self) -> str:
        return f"channel:{self.channel.code}"

    def get_username(self) -> str:
        return str(self)


class ChannelTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        key = self.key_from_request(request)
        if key is None:
            return None
        token = self.find_active_token(hash_token_key(key))
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        self.stamp_last_used(token)
        return ChannelPrincipal(token), token

    def key_from_request(self, request) -> str | None:
        """The key from `Authorization: Token <key>`; None when another scheme (or none) is used."""
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            return header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token header: the key must be ASCII.") from None

    def find_active_token(self, key_hash: str) -> ApiToken | None:
        """The unrevoked token of an active channel with this key hash (subclasses may look it up faster)."""
        token = (
            ApiToken.objects.select_related("channel")
            .filter(key_hash=key_hash)
            .only("id", "revoked_at", "last_used_at", "channel__id", "channel__code", "channel__currency", "channel__is_active")
            .first()
        )
        if token is None or token.revoked_at is not None or not token.channel.is_active:
            return None
        return token

    @staticmethod
    def stamp_last_used(token: ApiToken) -> None:
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now

    def authenticate_header(self, request):
        return self.keyword


def request_channel(request):
    """The sales channel behind a token-authenticated request, or None for a staff session."""
    user = getattr(request, "user", None)
    return getattr(user, "channel", None)
