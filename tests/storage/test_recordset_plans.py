"""PostgreSQL: the statements that carry many rows at once find their rows by index.

Rows sent together travel as one parameter and are turned back into rows in
the statement. How many rows the planner expects there decides the plan: with
an estimate of 100 (a set-returning function's default) it hash-joined a full
scan of the table to be updated, and the server's CPU per fulfilment grew with
the table. Each statement is planned here as a prepared statement's generic
plan, the one a long-lived connection ends up using, over a few thousand rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from accessgate.adapters.sqlalchemy import statements as st
from accessgate.adapters.sqlalchemy.groups import RECORD_AND_LOCK
from accessgate.adapters.sqlalchemy.tables import accesses, orders
from tests.storage import helpers as h

pytestmark = pytest.mark.postgres

_FILL = (  # a few thousand orders, each with its access
    "INSERT INTO orders (id, mode, plan, email, locale, provider, provider_session_id, "
    "amount, currency, created_at, updated_at, payment_status, fulfillment_status) "
    "SELECT 'ord_' || n, 'one_time', 'one_time_basic', 'b' || n || '@example.com', 'ru', "
    "'stripe', 'cs_' || n, 1990, 'USD', now(), now(), 'paid', 'fulfilled' "
    "FROM generate_series(1, 3000) AS n",
    "INSERT INTO accesses (order_id, status, changed_at, updated_at, cancel_at_period_end) "
    "SELECT id, 'active', now(), now(), false FROM orders",
    "ANALYZE orders",
    "ANALYZE accesses",
)

STATEMENTS = {
    "update orders": st.update_recordset(orders, ("id",)),
    "update accesses": st.update_recordset(accesses, ("order_id",)),
    "record events and lock their orders": RECORD_AND_LOCK,
}


@pytest.mark.parametrize("name", list(STATEMENTS))
async def test_rows_sent_together_are_found_by_index(name: str, pg_schema: str) -> None:
    async with (
        h.sql_factory("postgres", tmp_path=Path(), schema=pg_schema) as factory,
        factory.engine.connect() as conn,
    ):
        for fill in _FILL:
            await conn.execute(text(fill))
        await conn.execute(text("SET plan_cache_mode = force_generic_plan"))
        sql = st.render(STATEMENTS[name], st.POSTGRESQL).text
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute(f"PREPARE planned AS {sql}")
        plan = "\n".join(row[0] for row in await driver.fetch("EXPLAIN EXECUTE planned('{}')"))
        await conn.rollback()
    assert "Seq Scan on orders" not in plan, plan
    assert "Seq Scan on accesses" not in plan, plan
