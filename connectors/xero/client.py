"""Xero Accounting API client: OAuth 2.0 bearer token plus the organisation's `xero-tenant-id`,
`Idempotency-Key` on creates, and Xero's limits per organisation — 60 calls a minute and 5 000 a
day (`X-MinLimit-Remaining`, `X-DayLimit-Remaining`, 429 with `Retry-After` and
`X-Rate-Limit-Problem`). A spent daily limit stops every worker from calling until it resets:
jobs wait, with the reason, instead of retrying again and again."""

from datetime import datetime, timedelta, timezone

from django.utils.translation import gettext_noop

from connectors.accounting.oauth import OAuthRefresh
from connectors.errors import PermanentError, TransientError
from connectors.http import ApiClient, retry_after_seconds
from connectors.sync import cursor_get, cursor_set
from connectors.throttle import throttle_push_back, throttle_wait
from hub.texts import Text

TOKEN_URL = "https://identity.xero.com/connect/token"
MINUTE_LIMIT, BURST = 60, 5
RATE = (MINUTE_LIMIT - BURST) / 60  # GCRA: the burst plus a minute at this rate stays within 60 calls
DAY_PAUSE = "xero.day-limit-until"


class XeroClient(OAuthRefresh, ApiClient):
    vendor = "Xero"
    default_token_url = TOKEN_URL

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        credentials = self.credentials_required("client_id", "client_secret", "refresh_token", "tenant_id")
        self.tenant_id = credentials["tenant_id"]
        self.token_url = self.endpoint.config.get("token_url") or TOKEN_URL
        self.idempotency_key = ""

    def headers(self) -> dict:
        headers = {"Accept": "application/json", "Content-Type": "application/json", "Authorization": f"Bearer {self.access_token()}",
                   "xero-tenant-id": self.tenant_id}
        if self.idempotency_key:
            headers["Idempotency-Key"] = self.idempotency_key
        return headers

    # --- limits ---------------------------------------------------------------------------------
    def before_request(self) -> None:
        until = cursor_get(endpoint=self.endpoint, name=DAY_PAUSE)
        if until:
            resumes = datetime.fromisoformat(until)
            left = (resumes - datetime.now(timezone.utc)).total_seconds()
            if left > 0:
                raise TransientError(_day_message(resumes), status=429, retry_after=left)
        throttle_wait(endpoint_id=self.endpoint.pk, rate_per_second=RATE, burst=BURST, sleep=self.sleep)

    def after_response(self, response) -> None:
        if response.headers.get("X-MinLimit-Remaining") == "0" and response.status_code != 429:
            throttle_push_back(endpoint_id=self.endpoint.pk, not_before_seconds=60, rate_per_second=RATE, burst=BURST)

    def on_rate_limited(self, response) -> float:
        wait = retry_after_seconds(response, 60.0)
        if response.headers.get("X-Rate-Limit-Problem", "").lower() == "day":
            resumes = datetime.now(timezone.utc) + timedelta(seconds=wait)
            cursor_set(endpoint=self.endpoint, name=DAY_PAUSE, value=resumes.isoformat())
            raise TransientError(_day_message(resumes), status=429, retry_after=wait, excerpt=response.text[:300])
        throttle_push_back(endpoint_id=self.endpoint.pk, not_before_seconds=wait, rate_per_second=RATE, burst=BURST)
        return wait

    # --- requests -------------------------------------------------------------------------------
    def api(self, method: str, resource: str, *, params=None, body=None, idempotency_key: str = "") -> dict:
        self.idempotency_key = idempotency_key
        try:
            try:
                return self.json(method, resource, params=params, json_body=body)
            except PermanentError as exc:
                if exc.status != 401:
                    raise
                self.token_refresh(stale=self.endpoint.credentials.get("access_token", ""))
                return self.json(method, resource, params=params, json_body=body)
        finally:
            self.idempotency_key = ""

    def _raise_for_status(self, method, path, response) -> None:
        if response.status_code == 400:
            raise PermanentError(Text(gettext_noop("Xero refused %(method)s %(path)s: %(said)s"), method=method, path=path,
                                      said=validation_messages(response)), status=400,
                                 excerpt=response.text[:1000])
        if response.status_code in (401, 403):
            detail = _json(response).get("Detail") or response.text[:200]
            raise PermanentError(Text(gettext_noop("Xero answered %(status)s to %(method)s %(path)s: %(said)s"), status=response.status_code,
                                      method=method, path=path, said=detail), status=response.status_code,
                                 excerpt=response.text[:1000])
        super()._raise_for_status(method, path, response)


def _json(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def validation_messages(response) -> str:
    """Xero's own words: the `ValidationErrors` of each element, else its `Message`."""
    body = _json(response)
    messages = []
    for element in body.get("Elements") or []:
        for error in element.get("ValidationErrors") or []:
            if error.get("Message") and error["Message"] not in messages:
                messages.append(error["Message"])
    return " ".join(messages) or body.get("Message") or response.text[:300]


def _day_message(resumes: datetime) -> Text:
    local = resumes.astimezone()
    return Text(gettext_noop("Xero's daily limit of 5 000 calls for this organisation is spent; nothing is sent until it resets (%(resets)s); "
                             "jobs wait until then"), resets=f"{local:%Y-%m-%d %H:%M}")
