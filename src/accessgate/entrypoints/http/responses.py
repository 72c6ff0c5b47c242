"""JSON responses encoded by the handler: the bytes skip Litestar's serializer lookup.

Litestar encodes a returned struct per request after resolving its type
encoders; a handler on a hot path encodes it here instead, to the same bytes
(msgspec, no encoder hook needed for these bodies), and returns
``Response[TheStruct]`` so the OpenAPI document stays the same.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Response

_ENCODER = msgspec.json.Encoder()


def json_response(body: msgspec.Struct, status_code: int = 200) -> Response[Any]:
    """``body`` as an ``application/json`` response."""
    return Response(_ENCODER.encode(body), status_code=status_code, media_type=MediaType.JSON)
