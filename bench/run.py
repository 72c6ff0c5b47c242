"""Run every benchmark on this machine: ``nox -s bench`` (``-- --quick`` for a short run).

Writes ``bench/results/<YYYY-MM-DD>.json`` and ``bench/results/<YYYY-MM-DD>.md``.
Traffic goes to 127.0.0.1 only; every run is bounded in time. Needs wrk
(``apt-get install -y wrk``) and the PostgreSQL at 127.0.0.1:5432 (database
``accessgate_bench`` is created and dropped); without them those parts are skipped
with a message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report, seed
from bench.paired import PairedCeiling
from bench.pipeline import Pipeline
from bench.procs import wrk_binary

RESULTS = Path(__file__).with_name("results")
PG_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/accessgate_bench"
)
CONCURRENCY = (1, 16, 64)
GROWTH = (1_000, 100_000, 1_000_000)
BOT_USERS = 1000


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, versions."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    wrk = wrk_binary()
    version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout if wrk else ""
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu_model": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "wrk": version.split("[")[0].strip() or None,
        "load_average_at_start": os.getloadavg(),
    }


def verify(quick: bool) -> dict[str, Any]:
    """Figure 1: our verify + decode against ``stripe.Webhook.construct_event``."""
    from bench.stripe_verify import measure

    r = measure(rounds=3 if quick else 5)
    return {
        "verify_webhook_us": round(r["verify_webhook"] * 1e6, 2),
        "construct_event_us": round(r["construct_event"] * 1e6, 2),
        "payload_bytes": int(r["payload_bytes"]),
        "ratio": round(r["construct_event"] / r["verify_webhook"], 1),
    }


def ceiling(paired: PairedCeiling, seconds: float) -> dict[str, Any]:
    """Figure 2: the bare Litestar endpoint at each concurrency, same signed bodies."""
    return {"runs": [paired.run(c, seconds) for c in CONCURRENCY]}


def database(
    name: str, url: str, work: Path, seconds: float, paired: PairedCeiling | None
) -> dict[str, Any]:
    """Figures 3-5 and 7 on one database."""
    bench = Pipeline(url, work, name[:2], seconds, paired)
    bench.start(history=1_000, active=BOT_USERS)
    out: dict[str, Any] = {"url": url.split("@")[-1]}
    try:
        out["warmup"] = bench.deliver(16, 2)
        out["pipeline"] = [bench.deliver(c) for c in CONCURRENCY]
        out["duplicates"] = [bench.duplicates(c, 2000) for c in (1, 64)]
        out["reads"] = {
            "session_status": bench.session_reads(64),
            "bot_access_status": bench.bot_reads(64, BOT_USERS),
        }
        out["orders_at_end"] = asyncio.run(seed.counts(url))["orders"]
    finally:
        out["memory_mb"] = bench.stop()
        asyncio.run(seed.drop(url))
    return out


def growth(
    work: Path, seconds: float, sizes: tuple[int, ...], paired: PairedCeiling | None
) -> dict[str, Any]:
    """Figure 6: the pipeline's p99 at concurrency 64 as the orders grow (PostgreSQL)."""
    bench = Pipeline(PG_URL, work, "gr", seconds, paired)
    bench.start(history=sizes[0], active=0)
    steps = []
    try:
        bench.deliver(16, 2)  # warm-up
        loaded = sizes[0]
        for size in sizes:
            started = time.monotonic()
            asyncio.run(seed.add_history(PG_URL, loaded, size - loaded))
            asyncio.run(seed.analyze(PG_URL))
            loaded = size
            fill = round(time.monotonic() - started, 1)
            orders = asyncio.run(seed.counts(PG_URL))["orders"]
            run = bench.deliver(64)
            steps.append({"history": size, "orders_before": orders, "fill_seconds": fill, **run})
    finally:
        memory = bench.stop()
        asyncio.run(seed.drop(PG_URL))
    return {"steps": steps, "memory_mb": memory}


def postgres_up() -> bool:
    """Whether the PostgreSQL server answers."""
    import asyncpg

    async def probe() -> None:
        base = seed.pg_dsn(PG_URL).rsplit("/", 1)[0]
        conn = await asyncpg.connect(f"{base}/postgres", timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError) as error:
        print(f"bench: PostgreSQL unreachable ({error}); its parts are skipped", file=sys.stderr)
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 s runs, growth up to 100k")
    parser.add_argument("--only", default="verify,ceiling,sqlite,postgres,growth")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    seconds = 3.0 if args.quick else 10.0
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "seconds_per_run": seconds,
        "machine": machine(),
    }
    log = print
    if "verify" in parts:
        log("bench: verify + decode ...")
        results["verify"] = verify(args.quick)
    if wrk_binary() is None:
        log("bench: wrk is not installed (apt-get install -y wrk): HTTP figures skipped")
        parts -= {"ceiling", "sqlite", "postgres", "growth"}
    if not parts.isdisjoint({"postgres", "growth"}) and not postgres_up():
        parts -= {"postgres", "growth"}
    with tempfile.TemporaryDirectory(prefix="accessgate-bench-") as tmp:
        work = Path(tmp)
        # The ceiling's server runs throughout: each figure at c=64 is paired with a
        # ceiling run right before it (see bench/paired.py).
        paired = PairedCeiling(work) if "ceiling" in parts else None
        try:
            if paired is not None:
                log("bench: framework ceiling ...")
                results["ceiling"] = ceiling(paired, seconds)
            if "sqlite" in parts:
                log("bench: SQLite pipeline ...")
                results["sqlite"] = database(
                    "sqlite", f"sqlite+aiosqlite:///{work}/bench.db", work, seconds, paired
                )
            if "postgres" in parts:
                log("bench: PostgreSQL pipeline ...")
                results["postgres"] = database("postgres", PG_URL, work, seconds, paired)
            if "growth" in parts:
                log("bench: growth ...")
                sizes = GROWTH[:2] if args.quick else GROWTH
                results["growth"] = growth(work, seconds, sizes, paired)
        finally:
            if paired is not None:
                memory = paired.stop()
                if "ceiling" in results:
                    results["ceiling"]["memory_mb"] = memory
    results["total_seconds"] = round(time.monotonic() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    day = results["date"][:10]
    (args.out / f"{day}.json").write_text(json.dumps(results, indent=2) + "\n")
    table = report.markdown(results)
    (args.out / f"{day}.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
