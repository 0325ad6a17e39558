"""Loop Returns API client: the API key in `X-Authorization`, paths under `/api/v1/`. Loop allows
300 requests a minute per key and answers 429 without `Retry-After`, so requests are spaced by
the endpoint's shared scheduler at 5 a second, and a 429 pushes every process's schedule back
before the same request is tried again."""

from connectors.errors import PermanentError
from connectors.http import ApiClient, credentials_needed
from connectors.throttle import throttle_push_back, throttle_wait

RATE_PER_SECOND = 300 / 60
PAUSE_AFTER_429 = 2.0


class LoopClient(ApiClient):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.api_key = self.endpoint.credentials.get("api_key", "")
        if not self.api_key:
            raise PermanentError(credentials_needed(["api_key"], "hub_endpoint add loop … --credential api_key=…"))

    def headers(self) -> dict:
        return {"Accept": "application/json", "Content-Type": "application/json", "X-Authorization": self.api_key}

    def _rate(self) -> float:
        return float(self.endpoint.rate_limit_per_second or RATE_PER_SECOND)

    def before_request(self) -> None:
        throttle_wait(endpoint_id=self.endpoint.pk, rate_per_second=self._rate(), burst=1, sleep=self.sleep)

    def on_rate_limited(self, response) -> float:
        throttle_push_back(endpoint_id=self.endpoint.pk, not_before_seconds=PAUSE_AFTER_429, rate_per_second=self._rate(), burst=1)
        return 0.0  # before_request now waits for the pushed-back slot

    def api(self, method: str, resource: str, *, params=None, body=None):
        return self.json(method, f"api/v1/{resource}", params=params, json_body=body)
