"""RelayTrackingEvent: accept a funnel or ad event and queue it for its tracker."""

from __future__ import annotations

import msgspec

from accessgate.domain.model.errors import ValidationError
from accessgate.domain.model.outbox import (
    META_PURCHASE,
    MOBISLON_PAY_SUCCESS,
    Channel,
    RetryPolicy,
    mobislon_dedupe_key,
)
from accessgate.domain.model.values import MAX_CLICKID, single_line
from accessgate.domain.usecases._outbox import enqueue
from accessgate.ports.clock import Clock
from accessgate.ports.tokens import TokenFactory
from accessgate.ports.unit_of_work import UnitOfWorkFactory

# The funnel events of seed 002 that the public relay accepts. The tenth name,
# ``pay_success``, is sent only by the payment fulfilment, from a verified payment.
MOBISLON_STATUSES = frozenset(
    {
        "start_quiz",
        *(f"block{n}_completed" for n in range(1, 8)),
        "transition_to_payment",
    }
)
SERVER_ONLY_MOBISLON_STATUSES = frozenset({MOBISLON_PAY_SUCCESS})
# Meta events sent only server-side after a verified payment (compared case-blind).
SERVER_ONLY_META_EVENTS = frozenset({META_PURCHASE.casefold()})
MAX_VALUE = 512
MAX_PARAMS = 50


class TrackingCommand(msgspec.Struct, frozen=True, kw_only=True):
    """An event from the funnel (MobiSlon) or for the Conversions API (Meta)."""

    channel: Channel
    status: str
    clickid: str | None = None
    session_id: str | None = None
    page_path: str | None = None
    tracking_params: dict[str, str] | None = None
    fbclid: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None


class RelayAccepted(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to the event: queued, a repeat of one queued, or relay off."""

    status: str


class RelayTrackingEvent:
    """Validate an event and write it to the outbox for delivery.

    Rules:
        * MobiSlon: ``status`` must be one of seed 002's funnel names and a
          ``clickid`` is required; a (clickid, status) pair is relayed at most
          once (a repeat is accepted and reported ``duplicate``).
        * Events that count a payment come only from a verified payment (the
          fulfilment writes them): MobiSlon ``pay_success`` and Meta
          ``Purchase`` are refused here (VALIDATION_ERROR on ``status``).
        * Meta: any other non-empty ``status`` is the event name; each call is
          its own event with its own ``event_id``.
        * A channel that is not configured accepts nothing (``disabled``).
        * Values are bounded in length (a clickid to 500 characters, the rest to
          512) and hold no control character; nothing is sent from here.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        tokens: TokenFactory,
        retry: RetryPolicy,
        channels: frozenset[Channel],
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._tokens = tokens
        self._retry = retry
        self._channels = channels

    async def execute(self, command: TrackingCommand) -> RelayAccepted:
        """Queue the event; raises ValidationError for bad input."""
        payload, dedupe_key = self._payload(command)
        if command.channel not in self._channels:
            return RelayAccepted(status="disabled")
        now = self._clock.now()
        if command.channel is Channel.META:
            event_id = self._tokens.new_id("evt")
            payload |= {"event_time": str(int(now.timestamp())), "event_id": event_id}
            dedupe_key = f"meta:{event_id}"
        async with self._uow() as uow:
            added = await enqueue(
                uow,
                channel=command.channel,
                dedupe_key=dedupe_key,
                payload=payload,
                now=now,
                tokens=self._tokens,
                retry=self._retry,
            )
            await uow.commit()
        return RelayAccepted(status="queued" if added else "duplicate")

    @staticmethod
    def _payload(command: TrackingCommand) -> tuple[dict[str, str], str]:
        single_line(command.status, "status", MAX_VALUE)
        status = command.status.strip()
        single_line(command.clickid, "clickid", MAX_CLICKID)
        fields = {
            "clickid": command.clickid,
            "session_id": command.session_id,
            "page_path": command.page_path,
            "fbclid": command.fbclid,
            "client_ip": command.client_ip,
            "user_agent": command.user_agent,
        }
        for name, value in fields.items():
            single_line(value, name, MAX_VALUE)
        params = command.tracking_params or {}
        if len(params) > MAX_PARAMS or any(
            len(k) > MAX_VALUE or len(v) > MAX_VALUE for k, v in params.items()
        ):
            raise ValidationError("tracking_params is too large", field="tracking_params")
        for key, value in params.items():
            single_line(key, "tracking_params", MAX_VALUE)
            single_line(value, "tracking_params", MAX_VALUE)
        if command.channel is Channel.MOBISLON:
            return _mobislon(status, command.clickid, fields, params)
        if command.channel is Channel.META:
            return _meta(status, fields), ""
        raise ValidationError("Unknown tracking channel", field="channel")


def _mobislon(
    status: str, clickid: str | None, fields: dict[str, str | None], params: dict[str, str]
) -> tuple[dict[str, str], str]:
    if status in SERVER_ONLY_MOBISLON_STATUSES:
        raise ValidationError(
            f"{status} is sent only by the payment webhook, not by this endpoint",
            field="status",
        )
    if status not in MOBISLON_STATUSES:
        raise ValidationError("Unknown MobiSlon status", field="status")
    if not clickid:
        raise ValidationError("clickid is required", field="clickid")
    payload = {"status": status, "clickid": clickid}
    payload |= {k: v for k, v in fields.items() if v and k in ("session_id", "page_path")}
    if params:
        payload["tracking_params"] = msgspec.json.encode(params).decode()
    return payload, mobislon_dedupe_key(clickid, status)


def _meta(status: str, fields: dict[str, str | None]) -> dict[str, str]:
    if not status:
        raise ValidationError("status is required", field="status")
    if status.casefold() in SERVER_ONLY_META_EVENTS:
        raise ValidationError(
            f"{META_PURCHASE} is sent only after a verified payment, not by this endpoint",
            field="status",
        )
    payload = {"event_name": status, "action_source": "website"}
    payload |= {k: v for k, v in fields.items() if v and k not in ("clickid",)}
    return payload
