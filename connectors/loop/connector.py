"""Loop Returns as the returns front door of a sales channel: its returns become authorised RMAs
on the channel's orders, its labels put carrier and tracking on them, and when the hub has
inspected the goods Loop is told (process, close or flag the return)."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.binder import RETURN, Binder
from connectors.errors import PermanentError, RefusedData, message_of
from connectors.flows import Flow
from connectors.http import Recorder
from connectors.loop import mapping
from connectors.loop.client import LoopClient
from connectors.loop.webhooks import signature_valid
from connectors.options import ConnectorSettings
from connectors.registry import Connector, register
from hub.texts import Text

RETURN_TRIGGERS = ("return.created", "return.updated", "return.closed")
LABEL_TRIGGERS = ("label.created", "label.updated")
RESTOCK_TRIGGERS = ("restock.requested",)
MOVING_LABEL_STATES = {"in_transit", "out_for_delivery", "available_for_pickup", "delivered"}  # Loop's `label_status`


class LoopSettings(ConnectorSettings):
    order_reference = forms.ChoiceField(
        choices=[("provider_order_id", _("The shop's order id (provider_order_id)")), ("order_name", _("The order name (order_name)"))],
        initial="provider_order_id", required=False, label=_("How Loop's returns name the hub's orders"),
        help_text=_("The field of a Loop return that equals the external id of the order in the hub."))


def _document(body: bytes) -> dict:
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _stamp(value) -> str:
    return value.isoformat() if value else ""


class ReturnOutcome(Flow):
    """Tell Loop what the hub's inspection found: goods that passed are processed in Loop (it pays
    out a refund or issues the store credit; for an exchange the hub ships the replacement, so the
    return is closed without Loop's own exchange order); goods that failed are flagged for review."""

    name = "return.outcome"
    label = _("Return outcome sent")
    topics = ("returns.inspected",)

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        binder = Binder(endpoint)
        return [(object_id, "") for object_id in object_ids if binder.external_id(RETURN, object_id)]

    def prepare(self, ctx, job):
        from returns.models import Rma

        rma = Rma.objects.get(pk=job.record_key)
        loop_id = Binder(ctx.endpoint).external_id(RETURN, rma.pk)
        failed = rma.lines.exclude(received_quantity=0).exclude(condition="sellable").exists()
        exchange = rma.lines.exclude(replacement_product=None).exists()
        action = "flag" if failed else "close" if exchange else "process"
        return {"return_id": loop_id, "action": action, "rma": rma.number}

    def send(self, ctx, jobs):
        for job in jobs:
            payload = job.payload
            ctx.client.api("POST", f"warehouse/return/{payload['return_id']}/{payload['action']}")
            ctx.done(job, Text(LOOP_ACTIONS.get(payload["action"], "%(action)s Loop return %(return)s (%(rma)s)"), action=payload["action"],
                               **{"return": payload["return_id"]}, rma=payload["rma"]))


LOOP_ACTIONS = {
    "flag": gettext_noop("flagged Loop return %(return)s (%(rma)s)"),
    "close": gettext_noop("closed Loop return %(return)s (%(rma)s)"),
    "process": gettext_noop("processed Loop return %(return)s (%(rma)s)"),
}


class LoopConnector(Connector):
    kind = "loop"
    label = "Loop Returns"
    flows = (ReturnOutcome(),)
    settings_form = LoopSettings
    credential_names = ("api_key",)
    needs_channel = True

    def client(self, *, endpoint, recorder):
        return LoopClient(endpoint=endpoint, recorder=recorder)

    def check_connection(self, *, endpoint):
        client = self.client(endpoint=endpoint, recorder=Recorder())
        try:
            client.api("GET", "warehouse/return/list", params={"paginate": "true", "pageSize": 1})
        except PermanentError as exc:
            if exc.status in (401, 403):
                raise ValueError(f"Loop refused the API key ({exc.status}): it needs the Returns scope") from None
            raise
        return f"connected to Loop at {endpoint.base_url}"

    # --- webhooks -------------------------------------------------------------------------------
    def verify_webhook(self, *, endpoint, request):
        return signature_valid(secret=endpoint.webhook_secret, body=request.body, header_value=request.header("X-Loop-Signature"))

    def topic(self, request):
        return str(_document(request.body).get("trigger") or "")[:100]

    def topics(self):
        return set(RETURN_TRIGGERS + LABEL_TRIGGERS + RESTOCK_TRIGGERS)

    def delivery_id(self, request):
        """Loop sends no delivery id: a delivery is its topic, the return id (a label or restock
        names its return by `id`; older label pages say `return_id`), the trigger and the time Loop
        last changed it (`edited_at` / `label_updated_at`, else `created_at`), so a resent delivery
        is a duplicate and a new change is not."""
        document = _document(request.body)
        subject = document.get("return_id") or document.get("id")
        if not subject:
            return ""
        changed = (document.get("label_updated_at") or document.get("updated_at") or document.get("edited_at")
                   or document.get("created_at") or "")
        return f"{document.get('topic') or ''}:{subject}:{document.get('trigger') or ''}:{changed}"

    def process(self, *, message):
        document = json.loads(bytes(message.body))
        if not isinstance(document, dict):
            raise RefusedData(Text(gettext_noop("a Loop webhook is a JSON object")))
        trigger = str(document.get("trigger") or "")
        endpoint = message.endpoint
        if trigger in RETURN_TRIGGERS:
            return self._apply_return(endpoint, document)
        if trigger in LABEL_TRIGGERS:
            return self._apply_label(endpoint, document)
        return "ignored"  # restock requests: the hub restocks what its inspection finds sellable

    def _actor(self, endpoint) -> str:
        return f"{self.kind}:{endpoint.code}"

    def _apply_return(self, endpoint, document):
        from returns.models import Rma
        from returns.services import ReturnError, rma_authorise, rma_cancel, rma_close, rma_goods_value, rma_hold, rma_request_from_channel

        loop = mapping.loop_return(document, order_field=endpoint.config.get("order_reference") or "provider_order_id")
        binder = Binder(endpoint)
        local_id = binder.local_id(RETURN, loop.return_id)
        applied = (binder.get(RETURN, local_id).data or {}).get("updated_at", "") if local_id else ""
        if local_id and applied and loop.updated_at and _stamp(loop.updated_at) < applied:
            return Text(gettext_noop("Loop return %(return)s: an update of %(stamp)s, older than the one applied (%(applied)s), is ignored"),
                        **{"return": loop.return_id}, stamp=_stamp(loop.updated_at), applied=applied)
        actor = self._actor(endpoint)
        if local_id is None:
            if loop.state in ("cancelled", "closed", "expired"):
                return Text(gettext_noop("Loop return %(return)s is %(state)s and was never in the hub: nothing to do"),
                            **{"return": loop.return_id}, state=loop.state)
            method = Rma.RefundMethod.STORE_CREDIT if loop.outcome == "store_credit" else Rma.RefundMethod.ORIGINAL
            try:
                rma = rma_request_from_channel(
                    channel=endpoint.channel, order_external_id=loop.order_reference, lines=loop.lines, source=Rma.Source.RETURNS_APP,
                    check_window=False, authorise=False, notes=f"Loop return {loop.return_id} ({loop.outcome.replace('_', ' ')})",
                    actor_label=actor, refund_method=method)
            except ReturnError as exc:
                raise RefusedData(Text(gettext_noop("Loop return %(return)s: %(error)s"), **{"return": loop.return_id}, error=message_of(exc))) from None
            binder.bind(RETURN, rma.pk, loop.return_id, data={"updated_at": _stamp(loop.updated_at), "outcome": loop.outcome})
            paid = rma_goods_value(rma=rma)
            held = None
            if loop.total is not None and abs(loop.total - paid) > mapping.TOLERANCE:
                held = Text(gettext_noop("Loop's return total is %(total)s %(currency)s, but the units returned were paid %(paid)s "
                                         "%(order_currency)s"), total=str(loop.total), currency=loop.currency, paid=str(paid),
                            order_currency=rma.order.currency)
            elif loop.inconsistency:
                held = Text(gettext_noop("%(inconsistency)s (the units returned were paid %(paid)s %(currency)s)"), inconsistency=loop.inconsistency,
                            paid=str(paid), currency=rma.order.currency)
            elif loop.outcome == "mixed":
                held = Text(gettext_noop("Loop refunds some units and gives store credit for others: choose how this return is refunded"))
            if held:
                rma_hold(rma=rma, actor_label=actor,
                         reason=Text(gettext_noop("%(held)s: check before authorising, nothing is refunded until then"), held=held))
                return Text(gettext_noop("%(rma)s held: %(held)s"), rma=rma.number, held=held)
            rma_authorise(rma=rma, actor_label=actor)
            return Text(gettext_noop("%(rma)s authorised for Loop return %(return)s"), rma=rma.number, **{"return": loop.return_id})
        rma = Rma.objects.get(pk=local_id)
        binder.bind(RETURN, rma.pk, loop.return_id, data={"updated_at": _stamp(loop.updated_at)}, merge_data=True)
        if loop.state in ("cancelled", "expired") and rma.status in ("requested", "authorised", "in_transit"):
            try:
                rma_cancel(rma=rma, reason=Text(gettext_noop("%(state)s in Loop (return %(return)s)"), state=loop.state,
                                                **{"return": loop.return_id}))
            except ReturnError as exc:
                raise RefusedData(message_of(exc)) from None
            return Text(gettext_noop("%(rma)s cancelled (%(state)s in Loop)"), rma=rma.number, state=loop.state)
        if loop.state == "closed" and rma.status == "refunded":  # settled in the hub, closed in Loop
            rma_close(rma=rma, user=None)
            return Text(gettext_noop("%(rma)s closed (closed in Loop)"), rma=rma.number)
        return Text(gettext_noop("%(rma)s: Loop return %(return)s is %(state)s"), rma=rma.number, **{"return": loop.return_id}, state=loop.state)

    def _apply_label(self, endpoint, document):
        from returns.models import Rma
        from returns.services import ReturnError, rma_label_set, rma_mark_in_transit

        label = mapping.label(document)
        binder = Binder(endpoint)
        local_id = binder.local_id(RETURN, label["return_id"])
        if local_id is None:
            raise RefusedData(Text(gettext_noop("label for Loop return %(return)s, which is not in the hub (yet): replay once the return is"),
                                   **{"return": label["return_id"]}))
        binding = binder.get(RETURN, local_id)
        applied = (binding.data or {}).get("label_updated_at", "")
        if applied and label["updated_at"] and _stamp(label["updated_at"]) < applied:
            return Text(gettext_noop("label of Loop return %(return)s: an update older than the one applied is ignored"),
                        **{"return": label["return_id"]})
        rma = Rma.objects.get(pk=local_id)
        actor = self._actor(endpoint)
        try:
            if label["status"] in MOVING_LABEL_STATES and rma.status == "authorised":
                rma_mark_in_transit(rma=rma, carrier=label["carrier"], tracking_number=label["tracking_number"], actor_label=actor)
                outcome = Text(gettext_noop("%(rma)s in transit with %(carrier)s %(tracking)s"), rma=rma.number, carrier=label["carrier"],
                               tracking=label["tracking_number"])
            else:
                rma_label_set(rma=rma, carrier=label["carrier"], tracking_number=label["tracking_number"], actor_label=actor)
                outcome = Text(gettext_noop("%(rma)s: label %(carrier)s %(tracking)s (%(status)s)"), rma=rma.number, carrier=label["carrier"],
                               tracking=label["tracking_number"], status=label["status"])
        except ReturnError as exc:
            raise RefusedData(message_of(exc)) from None
        binder.bind(RETURN, local_id, label["return_id"], data={"label_updated_at": _stamp(label["updated_at"])}, merge_data=True)
        return outcome


register(LoopConnector())
