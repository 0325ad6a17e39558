"""QuickBooks Online Accounting API client: OAuth 2.0 bearer token per company (`realmId` in every
path), `requestid` on every create (the same id answers the first answer again instead of writing
twice), `minorversion`, 500 requests a minute per company, and Intuit's `Fault` bodies — which can
come inside a 200 answer, and are an error there too."""

from django.utils.translation import gettext_noop

from connectors.accounting.oauth import OAuthRefresh
from connectors.errors import PermanentError, TransientError
from connectors.http import ApiClient, retry_after_seconds
from connectors.throttle import throttle_push_back, throttle_wait
from hub.texts import Text

TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
MINOR_VERSION = "75"
RATE, BURST = 500 / 60, 10
STALE = "5010"


class QuickBooksFault(PermanentError):
    def __init__(self, message, *, code: str, **kwargs):
        super().__init__(message, **kwargs)
        self.code = code


class QuickBooksClient(OAuthRefresh, ApiClient):
    vendor = "QuickBooks"
    default_token_url = TOKEN_URL

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        credentials = self.credentials_required("client_id", "client_secret", "refresh_token", "realm_id")
        self.realm_id = credentials["realm_id"]
        self.token_url = self.endpoint.config.get("token_url") or TOKEN_URL

    def headers(self) -> dict:
        return {"Accept": "application/json", "Content-Type": "application/json", "Authorization": f"Bearer {self.access_token()}"}

    def before_request(self) -> None:
        throttle_wait(endpoint_id=self.endpoint.pk, rate_per_second=RATE, burst=BURST, sleep=self.sleep)

    def on_rate_limited(self, response) -> float:
        wait = retry_after_seconds(response, 60.0)  # Intuit: wait a minute after a throttled request
        throttle_push_back(endpoint_id=self.endpoint.pk, not_before_seconds=wait, rate_per_second=RATE, burst=BURST)
        return wait

    def api(self, method: str, entity: str, *, body=None, params=None, request_id: str = "") -> dict:
        query = {"minorversion": MINOR_VERSION, **(params or {})}
        if request_id:
            query["requestid"] = request_id
        path = f"v3/company/{self.realm_id}/{entity}"
        try:
            answer = self.json(method, path, params=query, json_body=body)
        except PermanentError as exc:
            if exc.status != 401:
                raise
            self.token_refresh(stale=self.endpoint.credentials.get("access_token", ""))
            answer = self.json(method, path, params=query, json_body=body)
        if isinstance(answer, dict) and answer.get("Fault"):
            raise fault_error(f"{method} {entity}", answer, status=200)
        return answer

    def query(self, statement: str) -> dict:
        return self.api("GET", "query", params={"query": statement}).get("QueryResponse") or {}

    def _raise_for_status(self, method, path, response) -> None:
        if response.status_code in (400, 401, 403, 404) or (400 <= response.status_code < 500 and response.status_code != 429):
            try:
                body = response.json()
            except ValueError:
                body = {}
            if isinstance(body, dict) and body.get("Fault"):
                raise fault_error(f"{method} {path.rsplit('/', 1)[-1]}", body, status=response.status_code)
        if response.status_code >= 500:
            raise TransientError(Text(gettext_noop("%(method)s %(path)s: QuickBooks server error %(status)s"), method=method, path=path,
                                      status=response.status_code), status=response.status_code,
                                 excerpt=response.text[:1000])
        super()._raise_for_status(method, path, response)


def fault_error(what: str, body: dict, *, status: int) -> PermanentError:
    """Intuit's own words: each error's Message, Detail and code."""
    fault = body.get("Fault") or {}
    errors = fault.get("Error") or [{}]
    words = "; ".join(f"{e.get('Message', '')}: {e.get('Detail', '')} (code {e.get('code', '?')})".strip() for e in errors)
    code = str(errors[0].get("code", ""))
    if code in ("3001", "003001") or "ThrottleExceeded" in words:
        return TransientError(Text(gettext_noop("QuickBooks throttled %(what)s: %(said)s"), what=what, said=words), status=status, retry_after=60)
    return QuickBooksFault(Text(gettext_noop("QuickBooks refused %(what)s (%(fault)s): %(said)s"), what=what, fault=fault.get("type", "Fault"),
                                said=words), code=code, status=status,
                           excerpt=str(body)[:1000])
