"""What one database round trip costs in this process, by driver and layer.

``SELECT $1`` repeated on one connection: raw asyncpg, asyncpg under SQLAlchemy's
AsyncConnection, raw aiosqlite, aiosqlite under SQLAlchemy, and the synchronous
sqlite3 module; wall and CPU microseconds per statement. It explains the pipeline's
figures: a fulfilment is nine such round trips.

Run: ``python -m bench.statement_cost [--rounds 3000]`` (PostgreSQL at
``BENCH_POSTGRES_URL``'s server, database ``postgres``; SQLite in a temporary file).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosqlite
import asyncpg
from bench import seed
from bench.run import PG_URL
from sqlalchemy import Integer, bindparam, select
from sqlalchemy.ext.asyncio import create_async_engine

STATEMENT = select(bindparam("v", type_=Integer))


async def _timed(rounds: int, once: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    await once(0)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(rounds):
        await once(i)
    return (time.perf_counter() - wall) / rounds * 1e6, (time.process_time() - cpu) / rounds * 1e6


async def measure(rounds: int, sqlite_path: Path) -> dict[str, tuple[float, float]]:
    """(wall us, CPU us) per statement for each driver and layer."""
    out: dict[str, tuple[float, float]] = {}
    dsn = seed.pg_dsn(PG_URL).rsplit("/", 1)[0] + "/postgres"
    raw = await asyncpg.connect(dsn)
    out["asyncpg"] = await _timed(rounds, lambda i: raw.fetchrow("SELECT $1::int", i))
    await raw.close()
    for name, url in (
        ("sqlalchemy + asyncpg", PG_URL.rsplit("/", 1)[0] + "/postgres"),
        ("sqlalchemy + aiosqlite", f"sqlite+aiosqlite:///{sqlite_path}"),
    ):
        engine = create_async_engine(url)
        async with engine.connect() as conn:

            async def once(i: int, conn=conn) -> object:
                return (await conn.execute(STATEMENT, {"v": i})).first()

            out[name] = await _timed(rounds, once)
        await engine.dispose()
    async with aiosqlite.connect(sqlite_path) as db:

        async def lite(i: int) -> object:
            async with db.execute("SELECT ?", (i,)) as cursor:
                return await cursor.fetchone()

        out["aiosqlite"] = await _timed(rounds, lite)
    sync = sqlite3.connect(sqlite_path)

    async def direct(i: int) -> object:
        return sync.execute("SELECT ?", (i,)).fetchone()

    out["sqlite3 (synchronous)"] = await _timed(rounds, direct)
    sync.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(measure(args.rounds, Path(tmp) / "cost.db"))
    print("| driver | wall us | CPU us |\n| --- | --- | --- |")
    for name, (wall, cpu) in figures.items():
        print(f"| {name} | {wall:.0f} | {cpu:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
