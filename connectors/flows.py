"""What a connector declares for each kind of data it syncs; the engine runs them all alike."""

from dataclasses import dataclass, field

from django.utils.translation import gettext_noop

from connectors.errors import SyncError
from connectors.http import Recorder
from hub.texts import Text

SENT = Text(gettext_noop("sent"))
NOTHING_TO_SEND = Text(gettext_noop("nothing to send"))
UNCHANGED = Text(gettext_noop("unchanged since the last sync"))


def texts_joined(texts) -> Text:
    """Several outcomes as one Text (each shown in the reader's language, joined with "; ")."""
    texts = list(texts)
    if len(texts) == 1 and isinstance(texts[0], Text):
        return texts[0]
    return Text("%(texts)s", texts=texts)


class Flow:
    """One kind of sync with one system, e.g. "stock out" or "orders poll".

    Change-driven flows name the feed topics they follow and map changed objects to record keys;
    scheduled flows give their default interval (each endpoint keeps its own in a schedule row). A job's payload
    is prepared from the hub's current state when it runs (so coalesced changes send the latest),
    unless a person edited it; `send` pushes a batch and reports per job through the context."""

    name = ""
    label = ""  # what the back office calls it, translatable (gettext_lazy)
    topics: tuple[str, ...] = ()
    every_minutes: int | None = None
    batch_size = 1
    lease_seconds = 300
    max_attempts = 10
    enabled_by_default = True

    def record_keys(self, *, endpoint, topic: str, object_ids: list[str], data_by_id: dict) -> list[tuple[str, str]]:
        """(record key, label) pairs for the changed objects; [] when the change does not concern this flow."""
        return [(object_id, "") for object_id in object_ids]

    def prepare(self, ctx: "FlowContext", job) -> dict | None:
        """The payload to send for `job`, or None when there is nothing to send."""
        raise NotImplementedError

    def prepare_batch(self, ctx: "FlowContext", jobs: list) -> dict:
        """Payloads for several jobs ({job id: payload, None or a SyncError}); flows that can read
        the state of a whole batch in a few queries override this."""
        payloads = {}
        for job in jobs:
            try:
                payloads[job.pk] = self.prepare(ctx, job)
            except SyncError as exc:
                payloads[job.pk] = exc
        return payloads

    def send(self, ctx: "FlowContext", jobs: list) -> None:
        raise NotImplementedError


@dataclass
class FlowContext:
    endpoint: object
    connector: object
    recorder: Recorder = field(default_factory=Recorder)
    outcomes: dict = field(default_factory=dict)
    follow_ups: list = field(default_factory=list)
    _client: object = None

    @property
    def client(self):
        if self._client is None:
            self._client = self.connector.client(endpoint=self.endpoint, recorder=self.recorder)
        return self._client

    def done(self, job, outcome: "Text | str" = SENT) -> None:
        """The job succeeded; `outcome` says what was done, as a Text (stored and shown in the
        reader's language) or a plain string kept as it is."""
        self.outcomes[job.pk] = outcome

    def fail(self, job, error: SyncError) -> None:
        self.outcomes[job.pk] = error

    def queue_next(self, record_key: str, label: str = "") -> None:
        """Queue another job of this flow once this batch is recorded (e.g. the next page of a
        long scheduled run, so no single run outgrows the task timeout)."""
        self.follow_ups.append((record_key, label))


class ScheduledFlow(Flow):
    """A flow run on a timer (one `*` job per run), not by changes; runs may be long."""

    lease_seconds = 1800
    every_minutes = 60

    def record_keys(self, **kwargs):
        return []

