"""DescribeActivation: the language of the order an activation token belongs to."""

from __future__ import annotations

from accessgate.domain.model.credentials import TokenCodec
from accessgate.domain.model.values import Locale
from accessgate.domain.usecases.activate_access import TOKEN_SHAPE
from accessgate.ports.unit_of_work import UnitOfWorkFactory


class DescribeActivation:
    """Find the locale of the order behind an activation token, for the activation page.

    Rules:
        * Read only: nothing is changed, the token is not used.
        * A malformed, unknown or replaced token gives ``None`` (the page then
          falls back to the request's language); nothing else is revealed.
    """

    def __init__(self, *, uow: UnitOfWorkFactory, codec: TokenCodec) -> None:
        self._uow = uow
        self._codec = codec

    async def execute(self, activation_token: str) -> Locale | None:
        """The order's locale, or ``None``."""
        if not TOKEN_SHAPE.match(activation_token):
            return None
        token_hash = self._codec.hash_token(activation_token)
        async with self._uow(read_only=True) as uow:
            token = await uow.tokens.get_by_hash(token_hash)
            if token is None or token.revoked_at is not None:
                return None
            order = await uow.orders.get(token.order_id)
        return order.locale if order is not None else None
