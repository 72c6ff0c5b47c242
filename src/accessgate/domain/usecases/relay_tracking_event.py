"""RelayTrackingEvent: accept a funnel or ad event and queue it for its tracker."""

from __future__ import annotations

import msgspec

from accessgate.domain.model.errors import ValidationError
from accessgate.domain.model.outbox import Channel, RetryPolicy
from accessgate.domain.usecases._outbox import enqueue
from accessgate.ports.clock import Clock
from accessgate.ports.tokens import TokenFactory
from accessgate.ports.unit_of_work import UnitOfWorkFactory

MOBISLON_STATUSES = frozenset(
    {
        "start_quiz",
        *(f"block{n}_completed" for n in range(1, 8)),
        "transition_to_payment",
        "pay_success",
    }
)
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
        * MobiSlon: ``status`` must be one of seed 002's ten names and a
          ``clickid`` is required; a (clickid, status) pair is relayed at most
          once (a repeat is accepted and reported ``duplicate``).
        * Meta: any non-empty ``status`` is the event name; each call is its own
          event with its own ``event_id``.
        * A channel that is not configured accepts nothing (``disabled``).
        * Values are bounded in length; nothing is sent from here.
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
        status = command.status.strip()
        fields = {
            "clickid": command.clickid,
            "session_id": command.session_id,
            "page_path": command.page_path,
            "fbclid": command.fbclid,
            "client_ip": command.client_ip,
            "user_agent": command.user_agent,
        }
        for name, value in [("status", status), *fields.items()]:
            if value is not None and len(value) > MAX_VALUE:
                raise ValidationError(f"{name} is too long", field=name)
        params = command.tracking_params or {}
        if len(params) > MAX_PARAMS or any(
            len(k) > MAX_VALUE or len(v) > MAX_VALUE for k, v in params.items()
        ):
            raise ValidationError("tracking_params is too large", field="tracking_params")
        if command.channel is Channel.MOBISLON:
            if status not in MOBISLON_STATUSES:
                raise ValidationError("Unknown MobiSlon status", field="status")
            if not command.clickid:
                raise ValidationError("clickid is required", field="clickid")
            payload = {"status": status, "clickid": command.clickid}
            payload |= {k: v for k, v in fields.items() if v and k in ("session_id", "page_path")}
            if params:
                payload["tracking_params"] = msgspec.json.encode(params).decode()
            return payload, f"mobislon:{command.clickid}:{status}"
        if command.channel is Channel.META:
            if not status:
                raise ValidationError("status is required", field="status")
            payload = {"event_name": status, "action_source": "website"}
            payload |= {k: v for k, v in fields.items() if v and k not in ("clickid",)}
            return payload, ""
        raise ValidationError("Unknown tracking channel", field="channel")
