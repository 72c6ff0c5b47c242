"""Request ids made here: random version-4 UUIDs in hex, never the same twice."""

from __future__ import annotations

import uuid

from accessgate.entrypoints.http.request_id import new_request_id


def test_made_ids_are_distinct_uuid4_hex_across_several_draws() -> None:
    ids = [new_request_id() for _ in range(300)]  # more than one draw of the pool
    assert len(set(ids)) == len(ids)
    for made in ids:
        parsed = uuid.UUID(hex=made)
        assert parsed.hex == made
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
