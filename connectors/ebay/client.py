"""eBay Sell APIs client: an OAuth2 user access token (about two hours) minted from the
long-lived refresh token with the application's client id and secret (HTTP Basic), refreshed
before it expires or when eBay answers 401; an application token (client credentials) for the
Notification API's public keys; `Content-Language` on Inventory API writes. eBay meters calls per
day, not per second: requests are spaced by the endpoint's shared scheduler."""

import base64
import time

import requests
from django.utils.translation import gettext_noop

from connectors.errors import PermanentError, TransientError
from connectors.http import ApiClient, not_json
from connectors.services import endpoint_credentials_refresh
from connectors.throttle import throttle_wait
from hub.texts import Text

TOKEN_PATH = "identity/v1/oauth2/token"
REFRESH_MARGIN_SECONDS = 300
SELL_SCOPES = " ".join(f"https://api.ebay.com/oauth/api_scope/{scope}" for scope in ("sell.inventory", "sell.fulfillment"))
PUBLIC_SCOPE = "https://api.ebay.com/oauth/api_scope"
BULK_LIMIT = 25


class EbayClient(ApiClient):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        credentials = self.endpoint.credentials
        missing = [name for name in ("refresh_token", "client_id", "client_secret") if not credentials.get(name)]
        if missing:
            raise PermanentError(Text(gettext_noop("the endpoint needs the %(names)s credential(s) of its eBay application (%(command)s)"),
                                      names=", ".join(missing),
                                      command="hub_endpoint add ebay … --credential refresh_token=v^1.1#… --credential client_id=… "
                                              "--credential client_secret=…"))
        self.content_language = ""
        self.bearer = ""

    def before_request(self) -> None:
        rate = float(self.endpoint.rate_limit_per_second or 5)
        throttle_wait(endpoint_id=self.endpoint.pk, rate_per_second=rate, burst=max(1, int(rate)), sleep=self.sleep)

    # --- OAuth ---------------------------------------------------------------------------------
    def _mint(self, form: dict) -> dict:
        credentials = self.endpoint.credentials
        basic = base64.b64encode(f"{credentials['client_id']}:{credentials['client_secret']}".encode()).decode()
        try:
            response = self.session.post(self.url(TOKEN_PATH), data=form, timeout=self.timeout,
                                         headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})
        except requests.RequestException as exc:
            raise TransientError(Text(gettext_noop("eBay OAuth: token request failed (%(error)s)"), error=type(exc).__name__)) from exc
        if response.status_code >= 500:
            raise TransientError(Text(gettext_noop("eBay OAuth answered %(status)s"), status=response.status_code), status=response.status_code)
        try:
            answer = response.json()
        except ValueError:
            raise TransientError(Text(gettext_noop("eBay OAuth: the token answer is not JSON")), status=response.status_code) from None
        if response.status_code != 200 or not answer.get("access_token"):
            raise PermanentError(Text(gettext_noop("eBay refused the token request: %(said)s"),
                                      said=answer.get("error_description") or answer.get("error") or response.status_code),
                                 status=response.status_code)
        return answer

    def access_token(self, *, force: bool = False) -> str:
        credentials = self.endpoint.credentials
        if not force and credentials.get("access_token") and float(credentials.get("access_token_expires_at") or 0) > time.time() + REFRESH_MARGIN_SECONDS:
            return credentials["access_token"]
        spent = credentials.get("access_token", "")

        def refresh(current):
            if current.get("access_token") and current["access_token"] != spent and \
                    float(current.get("access_token_expires_at") or 0) > time.time() + REFRESH_MARGIN_SECONDS:
                return None
            answer = self._mint({"grant_type": "refresh_token", "refresh_token": current["refresh_token"], "scope": SELL_SCOPES})
            return {"access_token": answer["access_token"], "access_token_expires_at": time.time() + float(answer.get("expires_in") or 7200)}

        self.endpoint.credentials = endpoint_credentials_refresh(endpoint_id=self.endpoint.pk, refresh=refresh)
        return self.endpoint.credentials["access_token"]

    def application_token(self) -> str:
        return self._mint({"grant_type": "client_credentials", "scope": PUBLIC_SCOPE})["access_token"]

    def headers(self) -> dict:
        headers = {"Accept": "application/json", "Content-Type": "application/json",
                   "Authorization": f"Bearer {self.bearer or self.access_token()}"}
        if self.content_language:
            headers["Content-Language"] = self.content_language
        return headers

    def request(self, method, path, **kwargs):
        try:
            return super().request(method, path, **kwargs)
        except PermanentError as exc:
            if exc.status == 401 and not self.bearer:  # the token was revoked or expired early: refresh once
                self.access_token(force=True)
                return super().request(method, path, **kwargs)
            raise

    def api(self, method: str, path: str, *, params=None, body=None, language: str = "") -> dict:
        self.content_language = language
        try:
            response = self.request(method, path, params=params, json_body=body)
        finally:
            self.content_language = ""
        if response.status_code == 204 or not response.content:
            return {"_location": response.headers.get("Location", "")}
        try:
            answer = response.json()
        except ValueError:
            raise TransientError(not_json(method, path), status=response.status_code) from None
        if isinstance(answer, dict) and response.headers.get("Location"):
            answer["_location"] = response.headers["Location"]
        return answer

    def bulk_update_price_quantity(self, requests_: list[dict], *, language: str) -> list[dict]:
        """At most 25 SKUs a call (the Inventory API's limit), batched; per-SKU refusals are raised."""
        responses = []
        for start in range(0, len(requests_), BULK_LIMIT):
            answer = self.api("POST", "sell/inventory/v1/bulk_update_price_quantity", body={"requests": requests_[start:start + BULK_LIMIT]},
                              language=language)
            responses.extend(answer.get("responses") or [])
        refused = [r for r in responses if int(r.get("statusCode") or 200) >= 400]
        if refused:
            messages = "; ".join(f"{r.get('sku')}: {(r.get('errors') or [{}])[0].get('message', r.get('statusCode'))}" for r in refused[:5])
            raise PermanentError(Text(gettext_noop("eBay refused %(count)s price/quantity update(s): %(said)s"), count=len(refused), said=messages))
        return responses
