"""A shop's backend on 127.0.0.1 that receives the access webhook.

It verifies every request with its own implementation of Standard Webhooks
(not the ``standardwebhooks`` package the sender uses), fails a seeded share
of the requests (half before processing, half after: the answer is lost),
and deduplicates by ``webhook-id`` as the documentation tells shops to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.relays.servers import Received, StubServer

TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    """The request is not signed by the shop's secret."""


def verify(secret: str, headers: dict[str, str], body: bytes, now: int) -> dict[str, Any]:
    """Standard Webhooks verification, written from the specification."""
    lowered = {k.lower(): v for k, v in headers.items()}
    message_id = lowered.get("webhook-id", "")
    timestamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not (message_id and timestamp.isdigit() and signatures):
        raise BadSignature("missing headers")
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise BadSignature("stale or future timestamp")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            payload: dict[str, Any] = json.loads(body)
            return payload
    raise BadSignature("no matching signature")


@dataclass
class ShopBackend:
    """Counts every verified request and applies each ``webhook-id`` once."""

    server: StubServer
    secret: str
    now: Callable[[], int]
    failure_rate: float = 0.3
    seed: int = 13
    verified: list[str] = field(default_factory=list)  # webhook-id of every verified request
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)  # webhook-id -> body
    rejected: int = 0
    failures: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self.server.responder = self.respond

    async def respond(self, request: Received) -> web.StreamResponse:
        try:
            payload = verify(self.secret, request.headers, request.body, self.now())
        except BadSignature:
            self.rejected += 1
            return web.Response(status=401, text="bad signature")
        draw = self._random.random()
        if draw < self.failure_rate / 2:  # down before it could do anything
            self.failures += 1
            return web.Response(status=503, text="busy")
        message_id = request.headers.get("webhook-id") or request.headers["Webhook-Id"]
        self.verified.append(message_id)
        self.applied.setdefault(message_id, payload)
        if draw < self.failure_rate:  # did the work, but the answer was lost
            self.failures += 1
            return web.Response(status=500, text="crashed after the work")
        return web.Response(status=204)
