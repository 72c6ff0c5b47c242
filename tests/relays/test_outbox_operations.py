"""ListOutbox, RetryOutboxMessages and ``accessgate outbox list|retry`` over memory and SQLite storage."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from accessgate.config import load_settings
from accessgate.container import create_container, start_services, stop_services
from accessgate.domain.model.errors import ValidationError
from accessgate.domain.model.outbox import Channel, OutboxMessage, OutboxStatus, RetryPolicy
from accessgate.domain.usecases.list_outbox import ListOutbox
from accessgate.domain.usecases.retry_outbox import RetryOutboxMessages
from accessgate.entrypoints.cli import main
from accessgate.ports.unit_of_work import UnitOfWorkFactory


async def seed(uow: UnitOfWorkFactory, clock: SettableClock) -> None:
    """m1 pending, m2 and m3 failed, m4 delivered."""
    now = clock.now()
    async with uow() as tx:
        for n in range(1, 5):
            message = OutboxMessage(
                id=f"m{n}",
                channel=Channel.MOBISLON,
                dedupe_key=f"mobislon:c{n}:start_quiz",
                payload={"clickid": f"c{n}", "status": "start_quiz"},
                created_at=now + timedelta(seconds=n),
                next_attempt_at=now,
                max_attempts=3,
            )
            if n in (2, 3):
                message = message.failed_attempt(
                    "tracker answered HTTP 404",
                    retryable=False,
                    now=now,
                    policy=RetryPolicy(),
                    jitter=0,
                )
            if n == 4:
                message = message.delivered(now)
            await tx.outbox.add(message)
        await tx.commit()


@pytest.fixture
async def storage() -> tuple[MemoryUnitOfWorkFactory, SettableClock]:
    uow, clock = MemoryUnitOfWorkFactory(), SettableClock()
    await seed(uow, clock)
    return uow, clock


async def test_list_all_or_one_status(
    storage: tuple[MemoryUnitOfWorkFactory, SettableClock],
) -> None:
    uow, _ = storage
    listing = ListOutbox(uow=uow)
    assert [m.id for m in await listing.execute()] == ["m1", "m2", "m3", "m4"]
    assert [m.id for m in await listing.execute(OutboxStatus.FAILED)] == ["m2", "m3"]
    assert [m.id for m in await listing.execute(None, limit=2)] == ["m1", "m2"]
    with pytest.raises(ValidationError):
        await listing.execute(None, limit=0)


async def test_retry_named_replays_only_failed_ones(
    storage: tuple[MemoryUnitOfWorkFactory, SettableClock],
) -> None:
    uow, clock = storage
    clock.advance(timedelta(hours=1))
    retry = RetryOutboxMessages(uow=uow, clock=clock)
    assert await retry.execute(["m2", "m4", "m1", "nope", "m2"]) == 1
    table = uow.store.tables.outbox
    assert table["m2"].status is OutboxStatus.PENDING
    assert table["m2"].attempts == 0
    assert table["m2"].next_attempt_at == clock.now()
    assert table["m3"].status is OutboxStatus.FAILED
    assert table["m4"].status is OutboxStatus.DELIVERED
    assert table["m1"].attempts == 0


async def test_retry_all_failed(storage: tuple[MemoryUnitOfWorkFactory, SettableClock]) -> None:
    uow, clock = storage
    assert await RetryOutboxMessages(uow=uow, clock=clock).execute(None) == 2
    assert await RetryOutboxMessages(uow=uow, clock=clock).execute(None) == 0
    statuses = {m.id: m.status for m in uow.store.tables.outbox.values()}
    assert statuses == {
        "m1": OutboxStatus.PENDING,
        "m2": OutboxStatus.PENDING,
        "m3": OutboxStatus.PENDING,
        "m4": OutboxStatus.DELIVERED,
    }


def test_cli_list_and_retry(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    settings = load_settings({"DATABASE_URL": url})
    clock = SettableClock()

    async def prepare() -> None:
        app = create_container(settings)
        await start_services(app)
        await seed(app.uow(), clock)
        await stop_services(app)

    async def status_of(message_id: str) -> OutboxStatus:
        app = create_container(settings)
        try:
            async with app.uow()() as tx:
                message = await tx.outbox.get(message_id)
        finally:
            await stop_services(app)
        assert message is not None
        return message.status

    asyncio.run(prepare())

    assert main(["outbox", "list", "--status", "failed"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t")[:3] == ["id", "channel", "status"]
    assert [line.split("\t")[:3] for line in lines[1:]] == [
        ["m2", "mobislon", "failed"],
        ["m3", "mobislon", "failed"],
    ]
    assert lines[1].endswith("tracker answered HTTP 404")

    assert main(["outbox", "retry", "m3"]) == 0
    assert capsys.readouterr().out.strip() == "1 message(s) queued again"
    assert asyncio.run(status_of("m3")) is OutboxStatus.PENDING
    assert main(["outbox", "retry"]) == 0
    assert capsys.readouterr().out.strip() == "1 message(s) queued again"

    assert main(["outbox", "list", "--limit", "0"]) == 2
    assert "limit" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["outbox", "list", "--status", "bogus"])
