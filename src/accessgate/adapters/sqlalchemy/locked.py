"""Rows a unit of work has read once and answers from memory after: locked ones, read-ahead ones."""

from __future__ import annotations

from accessgate.adapters.sqlalchemy import rows
from accessgate.adapters.sqlalchemy.statements import Row, aliased_columns, unprefixed
from accessgate.adapters.sqlalchemy.tables import accesses, orders
from accessgate.domain.model.access import Access
from accessgate.domain.model.credentials import ActivationToken
from accessgate.domain.model.order import Order

# An order read with its access: the select list, the columns it decodes by and
# the keys of a row (``o_``/``a_`` prefix the columns of each); see ``keep``.
ORDER_ACCESS = f"{aliased_columns(orders, 'o_')}, {aliased_columns(accesses, 'a_')}"
ORDER_ACCESS_COLUMNS = (*orders.columns, *accesses.columns)
ORDER_ACCESS_NAMES = (
    *(f"o_{c.name}" for c in orders.columns),
    *(f"a_{c.name}" for c in accesses.columns),
)


def order_and_access_rows(row: Row) -> tuple[Row, Row]:
    """The order's and the access's columns of a row of :data:`ORDER_ACCESS` columns."""
    return unprefixed(row, "o_"), unprefixed(row, "a_")


def order_and_access(row: Row) -> tuple[Order, Access]:
    """The order and the access of a row of :data:`ORDER_ACCESS` columns."""
    order_row, access_row = order_and_access_rows(row)
    return rows.to_order(order_row), rows.to_access(access_row)


class LockedRows:
    """The rows locked in the open transaction, in their latest state.

    A locked row cannot change under the transaction, so once loaded (an
    order with its access, in one statement) a later lookup of either is
    answered without a round trip; updates refresh what is kept. Forgotten at
    every commit and rollback, when the locks go.

    Args:
        keep_rows: also keep each row as stored, so an update can set only the
            columns that changed (SQLite: see ``PendingWrites.update``).

    """

    __slots__ = ("accesses", "keep_rows", "orders", "rows")

    def __init__(self, *, keep_rows: bool = False) -> None:
        self.orders: dict[str, Order] = {}
        self.accesses: dict[str, Access] = {}
        self.rows: dict[tuple[str, str], Row] = {}
        self.keep_rows = keep_rows

    def keep(self, row: Row) -> Order:
        """Keep the order and access of a joined row (``o_``/``a_`` columns); the order."""
        order_row, access_row = order_and_access_rows(row)
        order, access = rows.to_order(order_row), rows.to_access(access_row)
        self.orders[order.id] = order
        self.accesses[order.id] = access
        if self.keep_rows:
            self.rows[(orders.name, order.id)] = order_row
            self.rows[(accesses.name, order.id)] = access_row
        return order

    def refresh_order(self, order: Order, row: Row) -> Row | None:
        """An order was updated to ``row``: keep its new state if kept; its row before."""
        if order.id in self.orders:
            self.orders[order.id] = order
        return self._replace_row(orders.name, order.id, row)

    def refresh_access(self, access: Access, row: Row) -> Row | None:
        """An access was updated to ``row``: keep its new state if kept; its row before."""
        if access.order_id in self.accesses:
            self.accesses[access.order_id] = access
        return self._replace_row(accesses.name, access.order_id, row)

    def _replace_row(self, table: str, key: str, row: Row) -> Row | None:
        before = self.rows.get((table, key))
        if before is not None:
            self.rows[(table, key)] = row
        return before

    def forget(self) -> None:
        """The locks went (commit or rollback)."""
        self.orders.clear()
        self.accesses.clear()
        self.rows.clear()


class ReadAhead:
    """What a read-only unit of work read along with what it asked for.

    With an order: its access and current token; with an access: its order.

    A read-only unit of work writes nothing, so what it read stays what it would
    read again within the unit (each of its statements reads committed data; the
    one statement that read all three saw them together). ``None`` is kept too:
    read and absent.
    """

    __slots__ = ("accesses", "orders", "tokens")

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.accesses: dict[str, Access | None] = {}
        self.tokens: dict[str, ActivationToken | None] = {}

    def keep(self, row: Row) -> Order:
        """Keep the access and token of a joined row (``o_``/``a_``/``t_``); the order."""
        order = rows.to_order(unprefixed(row, "o_"))
        access = unprefixed(row, "a_")
        token = unprefixed(row, "t_")
        self.accesses[order.id] = None if access["order_id"] is None else rows.to_access(access)
        self.tokens[order.id] = None if token["token_hash"] is None else rows.to_token(token)
        return order

    def keep_access(self, row: Row) -> Access:
        """Keep the order of a joined row (``o_``/``a_`` columns); the access."""
        order, access = order_and_access(row)
        self.orders[order.id] = order
        self.accesses[order.id] = access
        return access

    def forget(self) -> None:
        """Nothing is known any more."""
        self.orders.clear()
        self.accesses.clear()
        self.tokens.clear()
