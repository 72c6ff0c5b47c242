"""The OpenAPI document: complete, and honoured by the app (schemathesis)."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from .helpers import INTERNAL_TOKEN, client_for, make_app

SEED_002 = {
    ("get", "/health"),
    ("post", "/api/payment/checkout-session"),
    ("post", "/api/stripe/webhook"),
    ("post", "/webhook/{provider}"),
    ("get", "/api/payment/session-status"),
    ("post", "/api/payment/customer-portal"),
    ("post", "/api/access/activate"),
    ("post", "/api/auth/restore/request"),
    ("post", "/api/auth/restore/confirm"),
    ("get", "/api/tracking/meta-event"),
    ("post", "/api/tracking/mobi-slon-event"),
    ("get", "/api/tracking/mobi-slon-event"),
    ("post", "/api/bot/access/status"),
    ("post", "/api/bot/access/activate"),
    ("post", "/api/bot/restore/request"),
    ("post", "/api/bot/restore/confirm"),
    ("get", "/api/payment/redirect"),
}
ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"


async def _document() -> dict[str, Any]:
    async with client_for() as (client, _):
        response = await client.get("/schema/openapi.json")
        assert response.status_code == 200
        page = await client.get("/schema")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        document: dict[str, Any] = response.json()
        return document


async def test_every_endpoint_is_documented_with_an_operation_id_and_errors() -> None:
    document = await _document()
    operations = {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post")
    }
    assert set(operations) >= SEED_002
    ids = [op["operationId"] for key, op in operations.items() if key in SEED_002]
    assert len(set(ids)) == len(SEED_002)
    for key in SEED_002:
        operation = operations[key]
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert errors, key
        for response in errors.values():
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": ENVELOPE_REF}, key
        if key[0] == "post" and "webhook" not in key[1]:
            assert "requestBody" in operation, key
    assert operations[("post", "/api/bot/access/status")]["security"] == [{"internalToken": []}]


APP, _CORE = make_app()
SCHEMA = schemathesis.openapi.from_asgi("/schema/openapi.json", APP)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@SCHEMA.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_generated_requests_never_5xx_and_match_the_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"X-Internal-Token": INTERNAL_TOKEN}, checks=CHECKS)
