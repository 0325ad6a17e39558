"""OAuth 2.0 bearer tokens with single-use, rotating refresh tokens (RFC 6749 §6), for API clients.

The access token and its expiry live with the endpoint's sealed credentials. A client about to
send with a token that is missing or about to expire refreshes it through
`endpoint_credentials_refresh`: one process at a time holds the endpoint row, so two workers
never spend the same refresh token (the second finds the first one's fresh token and keeps it),
and the rotated refresh token is stored before anything uses it."""

import time

import requests
from django.utils.translation import gettext_noop

from connectors.errors import PermanentError, TransientError
from connectors.http import Exchange, credentials_needed, origin_text, url_origin
from connectors.services import endpoint_credentials_refresh
from hub.texts import Text

EARLY_SECONDS = 60  # refresh this long before the access token expires


class OAuthRefresh:
    """Mixed into an `ApiClient`: `access_token()` for the Authorization header, `token_refresh()`
    after a 401. The client names its `token_url` and what it calls itself in messages (`vendor`)."""

    vendor = "the accounting system"
    token_url = ""
    default_token_url = ""  # the vendor's identity server

    def credentials_required(self, *names: str) -> dict:
        credentials = self.endpoint.credentials
        missing = [name for name in names if not credentials.get(name)]
        if missing:
            raise PermanentError(credentials_needed(missing, f"hub_endpoint add {self.endpoint.kind} {self.endpoint.code} … --credential NAME=VALUE"))
        return credentials

    def access_token(self) -> str:
        credentials = self.endpoint.credentials
        if credentials.get("access_token") and float(credentials.get("expires_at") or 0) > time.time() + EARLY_SECONDS:
            return credentials["access_token"]
        return self.token_refresh(stale=credentials.get("access_token", ""))

    def token_refresh(self, *, stale: str = "") -> str:
        """A new access token, unless another worker replaced `stale` meanwhile (then theirs)."""

        def refresh(current: dict):
            if (current.get("access_token") and current.get("access_token") != stale
                    and float(current.get("expires_at") or 0) > time.time() + EARLY_SECONDS):
                return None
            return self._token_request(current)

        fresh = endpoint_credentials_refresh(endpoint_id=self.endpoint.pk, refresh=refresh)
        self.endpoint.credentials = fresh
        return fresh["access_token"]

    def _token_request(self, current: dict) -> dict:
        """The client secret and refresh token go only to the vendor's identity server or to the
        endpoint's own host (whose change needs the credentials again), never where a setting alone
        points, and no redirect is followed."""
        allowed = {url_origin(self.default_token_url), url_origin(self.endpoint.base_url)} - {None}
        if url_origin(self.token_url) not in allowed:
            raise PermanentError(Text(gettext_noop("refused to use the token URL %(origin)s: it is neither %(vendor)s's identity server nor "
                                                   "the endpoint's host, so the refresh token would leave them; nothing was sent"),
                                      origin=origin_text(self.token_url), vendor=self.vendor))
        started = time.perf_counter()
        try:
            response = requests.post(self.token_url, data={"grant_type": "refresh_token", "refresh_token": current.get("refresh_token", "")},
                                     auth=(current.get("client_id", ""), current.get("client_secret", "")),
                                     headers={"Accept": "application/json"}, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            self._log_token(None, started, error=type(exc).__name__)
            raise TransientError(Text(gettext_noop("%(vendor)s's token endpoint could not be reached (%(error)s)"), vendor=self.vendor,
                                      error=type(exc).__name__)) from exc
        self._log_token(response.status_code, started, excerpt=response.text[:300])
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(Text(gettext_noop("%(vendor)s's token endpoint answered %(status)s"), vendor=self.vendor,
                                      status=response.status_code), status=response.status_code)
        try:
            body = response.json()
        except ValueError:
            raise TransientError(Text(gettext_noop("%(vendor)s's token endpoint did not answer JSON"), vendor=self.vendor),
                                 status=response.status_code) from None
        if response.status_code != 200 or not body.get("access_token"):
            reason = body.get("error_description") or body.get("error") or Text(gettext_noop("status %(status)s"), status=response.status_code)
            raise PermanentError(Text(gettext_noop("%(vendor)s refused the refresh token (%(reason)s): connect the endpoint again and store "
                                                   "the new refresh token (hub_endpoint add … --credential refresh_token=…)"),
                                      vendor=self.vendor, reason=reason), status=response.status_code)
        return {"access_token": body["access_token"], "refresh_token": body.get("refresh_token") or current.get("refresh_token", ""),
                "expires_at": time.time() + float(body.get("expires_in") or 1800)}

    def _log_token(self, status, started, *, excerpt="", error=""):
        shown = self.token_url.split("//", 1)[-1]
        self.recorder.exchanges.append(Exchange(method="POST", path=shown, status=status, duration_ms=int((time.perf_counter() - started) * 1000),
                                                excerpt="(token answer not recorded)" if status == 200 else excerpt, error=error))
