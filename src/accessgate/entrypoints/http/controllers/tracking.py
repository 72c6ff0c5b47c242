"""``/api/tracking``: funnel events for MobiSlon and ad events for Meta's Conversions API.

These are public: the events that count a payment (MobiSlon ``pay_success``,
Meta ``Purchase``) are refused here and sent only by the fulfilment of a
verified payment.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from accessgate.domain.model.outbox import Channel
from accessgate.domain.model.values import MAX_CLICKID, header_text
from accessgate.domain.usecases.relay_tracking_event import (
    MOBISLON_STATUSES,
    RelayTrackingEvent,
    TrackingCommand,
)
from accessgate.entrypoints.http.client import ClientAddress
from accessgate.entrypoints.http.guards import strict_body
from accessgate.entrypoints.http.openapi import PUBLIC, errors
from accessgate.entrypoints.http.schemas import MobiSlonEventRequest, RelayResponse

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
BEACON_FIELDS = frozenset({"status", "clickid", "session_id", "page_path"})
MAX_VALUE = 512
Query = Annotated[str | None, QueryParameter(max_length=MAX_VALUE, required=False)]


class TrackingController(Controller):
    """Public relays: they validate, queue in the outbox and answer at once."""

    path = "/api/tracking"
    tags = ["tracking"]  # noqa: RUF012 - Litestar reads class attributes
    guards = [strict_body]  # noqa: RUF012

    @get("/meta-event", operation_id="relayMetaEvent", responses=errors(*PUBLIC))
    async def meta_event(
        self,
        request: Request[Any, Any, Any],
        relay_tracking_event: NamedDependency[RelayTrackingEvent],
        client_address: NamedDependency[ClientAddress],
        status: Annotated[str, QueryParameter(min_length=1, max_length=128)],
        fbclid: Query = None,
        ip: Query = None,
        ua: Query = None,
    ) -> RelayResponse:
        """Queue a Conversions API event named ``status``; ip/ua default to the caller's."""
        result = await relay_tracking_event.execute(
            TrackingCommand(
                channel=Channel.META,
                status=status,
                fbclid=fbclid or None,
                client_ip=ip or client_address(request),
                user_agent=ua or header_text(request.headers.get("user-agent"), MAX_VALUE),
            )
        )
        return RelayResponse(status=result.status)  # type: ignore[arg-type]

    @post(
        "/mobi-slon-event",
        operation_id="relayMobiSlonEvent",
        status_code=200,
        responses=errors(*PUBLIC),
    )
    async def mobislon_event(
        self,
        data: JSONBody[MobiSlonEventRequest],
        relay_tracking_event: NamedDependency[RelayTrackingEvent],
    ) -> RelayResponse:
        """Queue a funnel event for MobiSlon; a (clickid, status) pair is relayed once."""
        result = await relay_tracking_event.execute(
            TrackingCommand(
                channel=Channel.MOBISLON,
                status=data.status,
                clickid=data.clickid,
                session_id=data.session_id,
                page_path=data.page_path,
                tracking_params=data.tracking_params,
            )
        )
        return RelayResponse(status=result.status)  # type: ignore[arg-type]

    @get(
        "/mobi-slon-event",
        operation_id="relayMobiSlonBeacon",
        media_type="image/gif",
        responses=errors(*PUBLIC),
    )
    async def mobislon_beacon(
        self,
        request: Request[Any, Any, Any],
        relay_tracking_event: NamedDependency[RelayTrackingEvent],
        status: Annotated[
            str, QueryParameter(min_length=1, max_length=64, enum=sorted(MOBISLON_STATUSES))
        ],
        clickid: Annotated[str, QueryParameter(min_length=1, max_length=MAX_CLICKID)],
        session_id: Query = None,
        page_path: Query = None,
    ) -> Response[bytes]:
        """Beacon/image fallback: like the POST; other query params become tracking_params.

        Answers a 1x1 transparent GIF that is never cached.
        """
        params = {k: v for k, v in request.query_params.items() if k not in BEACON_FIELDS}
        await relay_tracking_event.execute(
            TrackingCommand(
                channel=Channel.MOBISLON,
                status=status,
                clickid=clickid,
                session_id=session_id or None,
                page_path=page_path or None,
                tracking_params=params or None,
            )
        )
        return Response(
            PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store, max-age=0"}
        )
