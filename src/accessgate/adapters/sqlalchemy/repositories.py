"""Orders, accesses, tokens, restore challenges and payment events (driver-level SQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accessgate.adapters.sqlalchemy import rows
from accessgate.adapters.sqlalchemy import statements as st
from accessgate.adapters.sqlalchemy.base import SqlRepository
from accessgate.adapters.sqlalchemy.locked import (
    ORDER_ACCESS,
    ORDER_ACCESS_COLUMNS,
    ORDER_ACCESS_NAMES,
)
from accessgate.adapters.sqlalchemy.read_batches import BatchedRead
from accessgate.adapters.sqlalchemy.statements import POSTGRESQL, Statement, column_list
from accessgate.adapters.sqlalchemy.tables import (
    accesses,
    activation_tokens,
    orders,
    otp_challenges,
    payment_events,
)
from accessgate.domain.model.access import Access
from accessgate.domain.model.credentials import ActivationToken, OtpChallenge
from accessgate.domain.model.order import Order
from accessgate.domain.model.payment_event import PaymentEventRecord
from accessgate.domain.model.status import AccessStatus, PaymentStatus

_RUNNING = f"('{AccessStatus.TOKEN_ISSUED.value}', '{AccessStatus.ACTIVE.value}')"
_UNPAID = f"'{PaymentStatus.UNPAID.value}'"
_ORDERS = column_list(orders)
_ACCESSES = column_list(accesses)
_TOKENS = column_list(activation_tokens)


# An order with its access, both locked, in one statement (the event use cases
# lock both).
def _order_with_access(column: str) -> Statement:
    return Statement(
        f"SELECT {ORDER_ACCESS} FROM orders JOIN accesses ON accesses.order_id = orders.id "
        f"WHERE orders.{column} = :match_value FOR UPDATE OF orders, accesses",
        ORDER_ACCESS_COLUMNS,
        ORDER_ACCESS_NAMES,
    )


_LOCK_ORDER_BY = {
    column: _order_with_access(column)
    for column in ("id", "provider_session_id", "provider_subscription_id", "provider_payment_id")
}


# A read-only unit of work reads an order with its access and current token in
# one statement (session status reads all three); ``LEFT JOIN``: either may be absent.
def _order_with_access_and_token(column: str) -> Statement:
    return Statement(
        f"SELECT {ORDER_ACCESS}, {st.aliased_columns(activation_tokens, 't_')} FROM orders "
        "LEFT JOIN accesses ON accesses.order_id = orders.id "
        "LEFT JOIN activation_tokens ON activation_tokens.token_hash = ("
        "SELECT current.token_hash FROM activation_tokens AS current "
        "WHERE current.order_id = orders.id AND current.revoked_at IS NULL "
        "ORDER BY current.created_at DESC, current.token_hash DESC LIMIT 1) "
        f"WHERE orders.{column} = :match_value LIMIT 1",
        (*ORDER_ACCESS_COLUMNS, *activation_tokens.columns),
        (*ORDER_ACCESS_NAMES, *(f"t_{c.name}" for c in activation_tokens.columns)),
    )


_READ_ORDER_BY = {
    column: BatchedRead(_order_with_access_and_token(column), "match_value", "text")
    for column in _LOCK_ORDER_BY
}
_EVENT_NAMES = ", ".join(":" + c.name for c in payment_events.columns)
# PostgreSQL: record the event and, only if it is new, lock its claimed order
# with the order's access: one round trip tells a duplicate and loads the rows.
_RECORD_AND_LOCK = Statement(
    f"WITH recorded AS (INSERT INTO payment_events ({column_list(payment_events, qualified=False)}) "
    f"VALUES ({_EVENT_NAMES}) ON CONFLICT DO NOTHING RETURNING 1), "
    f"locked AS (SELECT {ORDER_ACCESS} FROM orders JOIN accesses ON accesses.order_id = orders.id "
    "WHERE orders.id = :order_id AND EXISTS (SELECT 1 FROM recorded) "
    "FOR UPDATE OF orders, accesses) "
    "SELECT (SELECT count(*) FROM recorded) AS recorded, locked.* "
    "FROM (SELECT 1) AS one LEFT JOIN locked ON true",
    (None, *ORDER_ACCESS_COLUMNS),
    ("recorded", *ORDER_ACCESS_NAMES),
)

_EVENT_RECORDED = Statement(
    "SELECT 1 AS recorded FROM payment_events "
    "WHERE payment_events.provider = :provider AND payment_events.event_id = :event_id",
    names=("recorded",),
)

_ACCESSES_OF_USER = Statement(
    f"SELECT {_ACCESSES} FROM accesses WHERE accesses.telegram_user_id = :telegram_user_id "
    "ORDER BY accesses.updated_at DESC, accesses.order_id DESC",
    accesses.columns,
)
# A read-only unit of work reads a Telegram account's accesses with their orders in
# one statement (the bot's access status looks at the best one's order next).
_ACCESSES_OF_USER_WITH_ORDERS = BatchedRead(
    Statement(
        f"SELECT {ORDER_ACCESS} FROM accesses JOIN orders ON orders.id = accesses.order_id "
        "WHERE accesses.telegram_user_id = :telegram_user_id "
        "ORDER BY accesses.updated_at DESC, accesses.order_id DESC",
        ORDER_ACCESS_COLUMNS,
        ORDER_ACCESS_NAMES,
    ),
    "telegram_user_id",
    "bigint",
    order_by="found.a_updated_at DESC, found.a_order_id DESC",
)
_IN_EFFECT = Statement(
    f"SELECT count(*) AS n FROM accesses WHERE accesses.status IN {_RUNNING} AND "
    "(accesses.valid_until IS NULL OR accesses.valid_until > :now OR accesses.grace_until > :now)",
    names=("n",),
)
# Accesses whose period and grace have ended but whose status still says they
# run: the expiry job's batch, earliest first, locked (SKIP LOCKED on PostgreSQL;
# SQLite's single writer needs no row locks). ``ix_accesses_status_valid_until``.
_LAPSED = Statement(
    f"SELECT {_ACCESSES} FROM accesses WHERE accesses.status IN {_RUNNING} "
    "AND accesses.valid_until <= :now "
    "AND (accesses.grace_until IS NULL OR accesses.grace_until <= :now) "
    "ORDER BY accesses.valid_until, accesses.order_id LIMIT :limit FOR UPDATE SKIP LOCKED",
    accesses.columns,
)
# Unpaid orders of a window, oldest first, in keyset batches (reconcile).
_UNPAID_SINCE = Statement(
    f"SELECT {_ORDERS} FROM orders WHERE orders.payment_status = {_UNPAID} "
    "AND orders.created_at >= :since ORDER BY orders.created_at, orders.id LIMIT :limit",
    orders.columns,
)
_UNPAID_SINCE_AFTER = Statement(
    f"SELECT {_ORDERS} FROM orders WHERE orders.payment_status = {_UNPAID} "
    "AND orders.created_at >= :since AND (orders.created_at > :after_at "
    "OR (orders.created_at = :after_at AND orders.id > :after_id)) "
    "ORDER BY orders.created_at, orders.id LIMIT :limit",
    orders.columns,
)
_ORDERS_OF_EMAIL = Statement(
    f"SELECT {_ORDERS} FROM orders WHERE orders.email = :email "
    "ORDER BY orders.created_at DESC, orders.id DESC",
    orders.columns,
)
_CURRENT_TOKEN = Statement(
    f"SELECT {_TOKENS} FROM activation_tokens WHERE activation_tokens.order_id = :order_id "
    "AND activation_tokens.revoked_at IS NULL "
    "ORDER BY activation_tokens.created_at DESC, activation_tokens.token_hash DESC LIMIT 1",
    activation_tokens.columns,
)
_OTP_UPSERT = Statement(
    f"INSERT INTO otp_challenges ({column_list(otp_challenges, qualified=False)}) VALUES ("
    + ", ".join(":" + c.name for c in otp_challenges.columns)
    + ") ON CONFLICT (email) DO UPDATE SET "
    + ", ".join(
        f"{c.name} = excluded.{c.name}" for c in otp_challenges.columns if c.name != "email"
    )
)
_EVENT = Statement(
    "SELECT "
    + column_list(payment_events)
    + " FROM payment_events WHERE payment_events.provider = :provider "
    "AND payment_events.event_id = :event_id",
    payment_events.columns,
)


class SqlOrderRepository(SqlRepository):
    """Orders; id and provider session id are unique (a duplicate is StorageError)."""

    async def add(self, order: Order) -> None:
        """Store a new order."""
        await self._add(orders, rows.order_row(order))

    async def _by(self, column: str, value: Any, for_update: bool) -> Order | None:
        if for_update:
            # Locked with its access (and kept for the access lookup that follows).
            found = await self._first(_LOCK_ORDER_BY[column], {"match_value": value})
            if found is not None:
                order = self._uow.locked.keep(found)
                self._uow.claim(order.id)
                return order
        if self._uow.read_only:
            rows_found = await self._uow.read_by_key(_READ_ORDER_BY[column], value)
            return self._uow.read_ahead.keep(rows_found[0]) if rows_found else None
        row = await self._one_by(orders, column, value, for_update)
        return None if row is None else rows.to_order(row)

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        """The order with this id, or ``None``."""
        kept = self._uow.locked.orders.get(order_id) or self._uow.read_ahead.orders.get(order_id)
        return kept if kept is not None else await self._by("id", order_id, for_update)

    async def get_by_session_id(self, session_id: str, *, for_update: bool = False) -> Order | None:
        """The order of a provider checkout session, or ``None``."""
        return await self._by("provider_session_id", session_id, for_update)

    async def get_by_subscription_id(
        self, subscription_id: str, *, for_update: bool = False
    ) -> Order | None:
        """The order of a provider subscription, or ``None``."""
        return await self._by("provider_subscription_id", subscription_id, for_update)

    async def get_by_payment_id(self, payment_id: str, *, for_update: bool = False) -> Order | None:
        """The order of a provider payment, or ``None``."""
        return await self._by("provider_payment_id", payment_id, for_update)

    async def list_by_email(self, email: str) -> list[Order]:
        """The orders of a normalised email, newest first."""
        return [rows.to_order(row) for row in await self._all(_ORDERS_OF_EMAIL, {"email": email})]

    async def list_unpaid_since(
        self, since: datetime, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Order]:
        """Unpaid orders created at or after ``since``, by (created_at, id), past ``after``.

        ``ix_orders_payment_status_created_at`` serves it.
        """
        query = _UNPAID_SINCE if after is None else _UNPAID_SINCE_AFTER
        params: dict[str, Any] = {"since": since, "limit": limit}
        if after is not None:
            params |= {"after_at": after[0], "after_id": after[1]}
        return [rows.to_order(row) for row in await self._all(query, params)]

    async def update(self, order: Order) -> None:
        """Store the new state of an existing order."""
        row = rows.order_row(order)
        await self._update(orders, row, "id", before=self._uow.locked.refresh_order(order, row))


class SqlAccessRepository(SqlRepository):
    """The access of each order."""

    async def add(self, access: Access) -> None:
        """Store the access of a new order."""
        await self._add(accesses, rows.access_row(access))

    async def get(self, order_id: str, *, for_update: bool = False) -> Access | None:
        """The access of an order, or ``None``."""
        kept = self._uow.locked.accesses.get(order_id)
        if kept is not None:
            return kept
        if order_id in self._uow.read_ahead.accesses:
            return self._uow.read_ahead.accesses[order_id]
        row = await self._one_by(accesses, "order_id", order_id, for_update)
        return None if row is None else rows.to_access(row)

    async def list_by_telegram_user(self, telegram_user_id: int) -> list[Access]:
        """Every access bound to a Telegram account, most recently changed first."""
        params = {"telegram_user_id": telegram_user_id}
        if self._uow.read_only:
            found = await self._uow.read_by_key(_ACCESSES_OF_USER_WITH_ORDERS, telegram_user_id)
            return [self._uow.read_ahead.keep_access(row) for row in found]
        return [rows.to_access(row) for row in await self._all(_ACCESSES_OF_USER, params)]

    async def count_in_effect(self, now: datetime) -> int:
        """Accesses issued or active whose period (or grace) runs past ``now``: one COUNT."""
        row = await self._first(_IN_EFFECT, {"now": now})
        assert row is not None
        return int(row["n"])

    async def list_lapsed(self, now: datetime, limit: int) -> list[Access]:
        """Lapsed issued or active accesses, locked; rows locked elsewhere are skipped."""
        found = await self._all(_LAPSED, {"now": now, "limit": limit})
        return [rows.to_access(row) for row in found]

    async def update(self, access: Access) -> None:
        """Store the new state of an existing access."""
        row = rows.access_row(access)
        before = self._uow.locked.refresh_access(access, row)
        await self._update(accesses, row, "order_id", before=before)


class SqlTokenRepository(SqlRepository):
    """Activation tokens, unique by hash."""

    async def add(self, token: ActivationToken) -> None:
        """Store a new token."""
        await self._add(activation_tokens, rows.token_row(token))

    async def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> ActivationToken | None:
        """The token with this hash, or ``None``."""
        row = await self._one_by(activation_tokens, "token_hash", token_hash, for_update)
        return None if row is None else rows.to_token(row)

    async def get_current(self, order_id: str) -> ActivationToken | None:
        """The order's newest token that is not revoked, or ``None``."""
        if order_id in self._uow.read_ahead.tokens:
            return self._uow.read_ahead.tokens[order_id]
        row = await self._first(_CURRENT_TOKEN, {"order_id": order_id})
        return None if row is None else rows.to_token(row)

    async def update(self, token: ActivationToken) -> None:
        """Store the new state of an existing token."""
        await self._update(activation_tokens, rows.token_row(token), "token_hash")


class SqlOtpRepository(SqlRepository):
    """Restore challenges: the email is unique, so at most one per email."""

    async def get(self, email: str, *, for_update: bool = False) -> OtpChallenge | None:
        """The challenge of an email, or ``None``."""
        row = await self._one_by(otp_challenges, "email", email, for_update)
        return None if row is None else rows.to_otp(row)

    async def get_by_id(self, challenge_id: str) -> OtpChallenge | None:
        """The challenge with this id, or ``None`` (it was replaced)."""
        row = await self._one_by(otp_challenges, "id", challenge_id)
        return None if row is None else rows.to_otp(row)

    async def replace(self, challenge: OtpChallenge) -> None:
        """Store a challenge in place of the email's previous one (one upsert)."""
        self._hold(_OTP_UPSERT, rows.otp_row(challenge))

    async def update(self, challenge: OtpChallenge) -> None:
        """Store the new state of an existing challenge (same id and email)."""
        await self._update(otp_challenges, rows.otp_row(challenge), "id", "email")


class SqlPaymentEventRepository(SqlRepository):
    """Applied provider events; (provider, event_id) is the primary key."""

    async def add(self, record: PaymentEventRecord) -> bool:
        """Record an event; ``False`` if it was recorded before.

        A new event's claimed order is locked with its access at once (the
        event use cases do that next): on PostgreSQL in the same statement.
        """
        row = rows.event_row(record)
        # SQLite: a committed record tells a duplicate without a turn on the writer.
        if await self._uow.read_committed(_EVENT_RECORDED, row):
            return False
        if record.order_id is None:
            return await self._add_unless_exists(payment_events, row)
        if self._uow.dialect == POSTGRESQL:
            answer = None
            if self._uow.can_group():
                key = (record.provider, record.event_id)
                member = await self._uow.join_group(key, record.order_id)
                answer = await member.record(row)
                if not answer["admitted"]:  # its order is busy elsewhere: wait alone
                    await self._uow.leave_group()
                    answer = None
            if answer is None:
                answer = (await self._all(_RECORD_AND_LOCK, row))[0]
            if not answer["recorded"]:
                return False
            if answer["o_id"] is not None:
                self._uow.locked.keep(answer)
            return True
        if not await self._add_unless_exists(payment_events, row):
            return False
        found = await self._first(_LOCK_ORDER_BY["id"], {"match_value": record.order_id})
        if found is not None:
            self._uow.locked.keep(found)
        return True

    async def update(self, record: PaymentEventRecord) -> None:
        """Store the order and outcome of an event recorded in this unit of work."""
        await self._update(payment_events, rows.event_row(record), "provider", "event_id")

    async def get(self, provider: str, event_id: str) -> PaymentEventRecord | None:
        """The record of an event, or ``None``."""
        row = await self._first(_EVENT, {"provider": provider, "event_id": event_id})
        return None if row is None else rows.to_event(row)
