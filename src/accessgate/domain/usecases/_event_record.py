"""The payment event record that starts every event use case (shared by them).

The record is inserted as the first statement of the unit of work, so a
duplicate delivery stops there, before any lookup or lock. It is written with
the outcome the use case expects and the order the event names; the end of the
unit corrects it only when what happened differs, so the usual path costs no
second statement. Nobody else sees the record before the commit, and a failed
check rolls it back with everything else.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from accessgate.domain.model.payment_event import EventOutcome, PaymentEvent, PaymentEventRecord
from accessgate.ports.unit_of_work import UnitOfWork


async def record_first(
    uow: UnitOfWork, event: PaymentEvent, now: datetime, expected: EventOutcome
) -> PaymentEventRecord | None:
    """Insert ``event``'s record with the ``expected`` outcome; ``None`` for a duplicate."""
    record = PaymentEventRecord(
        provider=event.provider,
        event_id=event.event_id,
        kind=event.kind,
        order_id=event.order_id,
        occurred_at=event.occurred_at,
        received_at=now,
        outcome=expected,
    )
    return record if await uow.payment_events.add(record) else None


async def settle_record(
    uow: UnitOfWork, record: PaymentEventRecord, order_id: str, outcome: EventOutcome
) -> None:
    """Store the real order and outcome, when they differ from what was recorded."""
    if record.order_id != order_id or record.outcome is not outcome:
        await uow.payment_events.update(
            msgspec.structs.replace(record, order_id=order_id, outcome=outcome)
        )
