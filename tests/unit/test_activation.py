import re
from datetime import timedelta

import msgspec
import pytest

from accessgate.adapters.system import SecureTokenFactory
from accessgate.domain.model.credentials import TokenCodec
from accessgate.domain.model.errors import TokenExpired, TokenInvalid, TokenUsed, ValidationError
from accessgate.domain.model.status import AccessStatus
from accessgate.domain.usecases.activate_access import ActivateAccessCommand
from tests.unit.conftest import App


async def paid_link(app: App) -> tuple[str, str]:
    started = await app.checkout()
    await app.pay(started.session_id)
    status = await app.core.session_status().execute(started.session_id)
    assert status.activation_link is not None
    return started.order_id, app.link_token(status.activation_link)


def test_token_shape_and_entropy() -> None:
    codec = TokenCodec(b"k" * 32)
    factory = SecureTokenFactory()
    tokens = {codec.activation_token(factory.new_seed()) for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token)
    assert len(factory.new_seed()) * 4 >= 128  # hex seed: 4 bits a character


def test_codec_refuses_a_short_key() -> None:
    with pytest.raises(ValidationError):
        TokenCodec(b"short")


async def test_token_is_stored_only_as_hash(app: App) -> None:
    _, token = await paid_link(app)
    dump = msgspec.json.encode(
        [list(app.store.tables.tokens.values()), list(app.store.tables.outbox.values())]
    )
    assert token.encode() not in dump
    stored = next(iter(app.store.tables.tokens.values()))
    assert stored.token_hash == TokenCodec.hash_token(token)


async def test_activation_is_single_use_and_idempotent_for_its_owner(app: App) -> None:
    order_id, token = await paid_link(app)
    activate = app.core.activate_access()
    first = await activate.execute(
        ActivateAccessCommand(activation_token=token, telegram_user_id=42)
    )
    assert first.access_granted
    assert first.access_status is AccessStatus.ACTIVE
    again = await activate.execute(
        ActivateAccessCommand(activation_token=token, telegram_user_id=42)
    )
    assert again.access_granted
    assert again.order_id == order_id
    with pytest.raises(TokenUsed):
        await activate.execute(ActivateAccessCommand(activation_token=token, telegram_user_id=43))


async def test_token_expires(app: App) -> None:
    _, token = await paid_link(app)
    app.clock.advance(timedelta(days=30))
    with pytest.raises(TokenExpired):
        await app.core.activate_access().execute(
            ActivateAccessCommand(activation_token=token, telegram_user_id=42)
        )


@pytest.mark.parametrize("token", ["unknown-token", "bad token!", "x" * 65, ""])
async def test_unknown_or_malformed_token_is_invalid(app: App, token: str) -> None:
    await paid_link(app)
    with pytest.raises(TokenInvalid):
        await app.core.activate_access().execute(
            ActivateAccessCommand(activation_token=token, telegram_user_id=42)
        )


async def test_bot_status_reports_paid_only_when_active(app: App) -> None:
    order_id, token = await paid_link(app)
    status = app.core.access_status()
    unknown = await status.execute(42)
    assert (unknown.is_paid, unknown.order_id, unknown.access_status) == (False, None, None)
    await app.core.activate_access().execute(
        ActivateAccessCommand(activation_token=token, telegram_user_id=42)
    )
    known = await status.execute(42)
    assert (known.is_paid, known.order_id, known.plan, known.access_status) == (
        True,
        order_id,
        "one_time_basic",
        AccessStatus.ACTIVE,
    )
