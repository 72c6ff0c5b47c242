"""Query strings: every control character is found, escaped or raw; plain ones pass untouched."""

from __future__ import annotations

import pytest

from accessgate.entrypoints.http.control_chars import offending_parameter


@pytest.mark.parametrize(
    ("query", "name"),
    [
        (b"session_id=a%00b", "session_id"),
        (b"session_id=a\x00b", "session_id"),
        (b"session_id=a\x1fb", "session_id"),
        (b"session_id=a\x7fb", "session_id"),
        (b"session_id=a\x85b", "session_id"),  # a raw C1 byte, read as latin-1
        (b"a=%C2%85", "a"),  # C1 NEL, UTF-8 escaped
        (b"ok=1&b=%09", "b"),
        (b"x%01=1", "query"),
        (b"x\x01=1", "query"),
    ],
)
def test_a_control_character_names_its_parameter(query: bytes, name: str) -> None:
    assert offending_parameter(query) == name


@pytest.mark.parametrize(
    "query",
    [b"", b"session_id=cs_test_123", b"a=b+c&d=~!$'()*,;:@/?", b"a=%41%42", b"a=%C3%A9", b"a=%zz"],
)
def test_printable_queries_pass(query: bytes) -> None:
    assert offending_parameter(query) is None
