"""Selling Partner API client: a Login with Amazon access token (`x-amz-access-token`), refreshed
from the long-lived refresh token before it expires or when Amazon says it has; one request
bucket per operation at the documented rate and burst, following `x-amzn-RateLimit-Limit`;
`QuotaExceeded` 429s (no Retry-After) only re-queue the request behind its bucket; restricted
data tokens for the personal data of the orders being imported, kept in memory while they live."""

import time

import requests
from django.utils.translation import gettext_noop

from connectors.errors import PermanentError, TransientError
from connectors.http import ApiClient, EndpointSession
from connectors.services import endpoint_credentials_refresh
from connectors.throttle import OperationBuckets, Quota
from hub.texts import Text

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
REFRESH_MARGIN_SECONDS = 120

# Default usage plans (requests per second, burst) from the SP-API models' operation descriptions.
QUOTAS = {
    "getOrders": Quota(0.0167, 20),
    "getOrder": Quota(0.5, 30),
    "getOrderItems": Quota(0.5, 30),
    "getOrderAddress": Quota(0.5, 30),
    "getOrderBuyerInfo": Quota(0.5, 30),
    "confirmShipment": Quota(2.0, 10),
    "getListingsItem": Quota(5.0, 10),
    "patchListingsItem": Quota(5.0, 10),
    "createRestrictedDataToken": Quota(1.0, 10),
    "getMarketplaceParticipations": Quota(0.016, 15),
}


class AmazonClient(OperationBuckets, ApiClient):
    quotas = QUOTAS
    rate_limit_header = "x-amzn-RateLimit-Limit"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        credentials = self.endpoint.credentials
        missing = [name for name in ("refresh_token", "client_id", "client_secret") if not credentials.get(name)]
        if missing:
            raise PermanentError(Text(gettext_noop("the endpoint needs the %(names)s credential(s) of its Login with Amazon application "
                                                   "(%(command)s)"), names=", ".join(missing),
                                      command="hub_endpoint add amazon … --credential refresh_token=Atzr|… --credential client_id=… "
                                              "--credential client_secret=…"))
        self.restricted_token = ""  # set only around the calls that read personal data

    # --- Login with Amazon ---------------------------------------------------------------------
    def token_url(self) -> str:
        return self.endpoint.config.get("token_url") or LWA_TOKEN_URL

    def access_token(self, *, force: bool = False) -> str:
        credentials = self.endpoint.credentials
        if not force and credentials.get("access_token") and float(credentials.get("access_token_expires_at") or 0) > time.time() + REFRESH_MARGIN_SECONDS:
            return credentials["access_token"]
        spent = credentials.get("access_token", "")

        def refresh(current):
            fresh = current.get("access_token") and current.get("access_token") != spent
            if fresh and float(current.get("access_token_expires_at") or 0) > time.time() + REFRESH_MARGIN_SECONDS:
                return None  # another process refreshed it while this one waited for the lock
            return self._exchange(current)

        self.endpoint.credentials = endpoint_credentials_refresh(endpoint_id=self.endpoint.pk, refresh=refresh)
        return self.endpoint.credentials["access_token"]

    def _exchange(self, credentials: dict) -> dict:
        session = EndpointSession(self.token_url())
        try:
            response = session.post(self.token_url(), data={
                "grant_type": "refresh_token", "refresh_token": credentials["refresh_token"],
                "client_id": credentials["client_id"], "client_secret": credentials["client_secret"]}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransientError(Text(gettext_noop("Login with Amazon: token refresh failed (%(error)s)"), error=type(exc).__name__)) from exc
        if response.status_code >= 500:
            raise TransientError(Text(gettext_noop("Login with Amazon answered %(status)s"), status=response.status_code), status=response.status_code)
        try:
            answer = response.json()
        except ValueError:
            raise TransientError(Text(gettext_noop("Login with Amazon: the token answer is not JSON")), status=response.status_code) from None
        if response.status_code != 200 or not answer.get("access_token"):
            raise PermanentError(Text(gettext_noop("Login with Amazon refused the refresh token: %(said)s"),
                                      said=answer.get("error_description") or answer.get("error") or response.status_code),
                                 status=response.status_code)
        new = {"access_token": answer["access_token"], "access_token_expires_at": time.time() + float(answer.get("expires_in") or 3600)}
        if answer.get("refresh_token"):
            new["refresh_token"] = answer["refresh_token"]
        return new

    def headers(self) -> dict:
        return {"Accept": "application/json", "Content-Type": "application/json",
                "x-amz-access-token": self.restricted_token or self.access_token()}

    def request(self, method, path, **kwargs):
        try:
            return super().request(method, path, **kwargs)
        except PermanentError as exc:
            if exc.status == 403 and "expired" in (exc.excerpt or "").lower() and not self.restricted_token:
                self.access_token(force=True)  # expired before its announced lifetime: refresh once, then retry
                return super().request(method, path, **kwargs)
            raise

    # --- operations ---------------------------------------------------------------------------
    def call(self, operation: str, method: str, path: str, **kwargs) -> dict:
        with self.operation(operation):
            response = self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise TransientError(Text(gettext_noop("%(operation)s: the answer is not valid JSON"), operation=operation), status=response.status_code,
                                 excerpt=response.text[:500]) from None

    def restricted(self, resources: list[dict]):
        """A context in which calls carry a restricted data token for exactly `resources`."""
        client = self

        class _Restricted:
            def __enter__(self):
                answer = client.call("createRestrictedDataToken", "POST", "tokens/2021-03-01/restrictedDataToken",
                                     json_body={"restrictedResources": resources})
                client.restricted_token = answer.get("restrictedDataToken") or ""
                self.expires = time.time() + float(answer.get("expiresIn") or 0)
                if not client.restricted_token:
                    raise PermanentError(Text(gettext_noop("Amazon gave no restricted data token for the orders' addresses")))
                return self

            def __exit__(self, *exc):
                client.restricted_token = ""

        return _Restricted()
