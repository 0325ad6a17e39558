"""A webhook receiver for tests, itself a sandbox: it records every request and answers with the
statuses a test queues (200 once the queue is empty). Its fault switches apply too, so a test can
make the receiver slow (`slow_before`) or drop connections to see how a sender copes."""

import threading
import time
from dataclasses import dataclass

from connectors.testing.harness import Request, Sandbox, empty_response, route


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: str
    headers: dict
    body: bytes
    status: int

    def header(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), default)


class WebhookReceiver(Sandbox):
    name = "receiver"

    def __init__(self, *, answers=(), **options):
        self.answers = list(answers)
        self._arrived = threading.Condition()
        super().__init__(**options)

    def reset_state(self) -> None:
        self.received: list[Received] = []

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order."""
        with self.lock:
            self.answers.extend(statuses)

    def _receive(self, request: Request, rest: str = ""):
        status = self.answers.pop(0) if self.answers else 200
        entry = Received(request.method, request.path, request.query_string, dict(request.headers.items()), request.body, status)
        with self._arrived:
            self.received.append(entry)
            self._arrived.notify_all()
        return empty_response(status) if status != 200 else self.json({"ok": True})

    @route("POST", "/", auth=False)
    def receive_root(self, request: Request):
        return self._receive(request)

    @route("POST", "/<path:rest>", auth=False)
    def receive(self, request: Request, rest: str):
        return self._receive(request, rest)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The requests received so far, once there are at least `count` (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            return list(self.received)
