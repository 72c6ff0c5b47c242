"""Scale-out, shown: two ``serve`` replicas and two ``worker`` processes over one PostgreSQL.

One fresh database is migrated once (``accessgate migrate``). Two replicas run
with their outbox loop off and two ``accessgate worker`` processes deliver the
outbox to an SMTP server in this process. Orders are bought on either replica,
then every signed delivery is posted to both replicas at once, a few of them a
third time to the same replica, and a few orders get a second event of their
own. Nothing coordinates the processes but the database; the test checks what
each replica answered, what the database holds, what the SMTP server received
and what the workers logged.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from accessgate.adapters.sandbox import SandboxPaymentGateway
from accessgate.adapters.smtp.mailer import message_id_of
from accessgate.adapters.system import SystemClock
from accessgate.config import Settings
from accessgate.ports.payment_gateway import WebhookDelivery
from tests.e2e.server import Server, cli_command, running_server, stop_process
from tests.mail.smtp_server import HOST, CountingHandler, free_port, parts, smtp_server

ORDERS = 40
DEADLINE = 60.0  # seconds for every outbox message to be delivered
BOUND = 60.0  # seconds for any one process to start, migrate or stop
SENDER = "shop@example.com"
AMOUNT, CURRENCY = 1900, "USD"  # the default price of one_time_basic
# Small pools (docs/operations.md, "Sizing processes and pools"): 2 x (2 + 2) + 2 x 2
# connections stay far below max_connections beside other test runs, and deliveries
# queue for connections as under load. A worker uses one connection at a time.
REPLICA_POOL = {"DATABASE_POOL_SIZE": "2", "DATABASE_MAX_OVERFLOW": "2"}
WORKER_POOL = {"DATABASE_POOL_SIZE": "2", "DATABASE_MAX_OVERFLOW": "0"}
FIRST_APPLIED = {"fulfilled", "already_fulfilled"}

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Order:
    """An order bought through the public checkout API."""

    order_id: str
    session_id: str
    email: str


@dataclass(frozen=True)
class Post:
    """One delivery to post: to which replica, of which event, for which order."""

    replica: int
    order_id: str
    event_id: str
    delivery: WebhookDelivery


@dataclass(frozen=True)
class Answer:
    """What a replica answered to one post."""

    post: Post
    status: int
    outcomes: tuple[str, ...]


@dataclass
class Worker:
    """A running ``accessgate worker`` and its JSON log."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def text(self) -> str:
        """The log written so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def emails_sent(self) -> int:
        """How many ``email ... sent`` records the log holds."""
        count = 0
        for line in self.text().splitlines():
            try:
                message = str(json.loads(line).get("message", ""))
            except (json.JSONDecodeError, AttributeError):
                continue  # not a JSON record (a line from a library's own output)
            count += message.startswith("email ") and message.endswith(" sent")
        return count


@contextmanager
def running_worker(workdir: Path, env: dict[str, str]) -> Iterator[Worker]:
    """Start ``accessgate worker``; stop it with SIGTERM (and check it stopped cleanly)."""
    workdir.mkdir()
    log_path = workdir / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            cli_command(["worker"]), cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    worker = Worker(process=process, log_path=log_path)
    try:
        yield worker
    finally:
        stop_process(process, BOUND)
    assert process.returncode == 0, worker.text()[-4000:]


def wait_started(worker: Worker) -> None:
    """Return once the worker's delivery loop runs; fail if it exits or takes too long."""
    deadline = time.monotonic() + BOUND
    while "delivery loop started" not in worker.text():
        assert worker.process.poll() is None, worker.text()[-4000:]
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.1)


def settings_free_env() -> dict[str, str]:
    """This process's environment without any accessgate setting."""
    names = {name.upper() for name in Settings.__struct_fields__}
    return {key: value for key, value in os.environ.items() if key not in names}


def migrate(url: str, workdir: Path) -> None:
    """``accessgate migrate`` once, as a deploy does before the replicas start."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        cli_command(["migrate"]),
        cwd=workdir,
        env=settings_free_env() | {"DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def buy(replicas: list[Server]) -> list[Order]:
    """``ORDERS`` orders through ``POST /api/payment/checkout-session``, alternating replicas."""
    orders = []
    clients = [httpx.Client(base_url=r.base_url, timeout=30.0) for r in replicas]
    try:
        for n in range(ORDERS):
            email = f"buyer-{n}@example.com"
            response = clients[n % len(clients)].post(
                "/api/payment/checkout-session",
                json={"mode": "one_time", "plan": "one_time_basic", "email": email},
            )
            assert response.status_code == 200, response.text
            body = response.json()
            orders.append(Order(body["order_id"], body["session_id"], email))
    finally:
        for client in clients:
            client.close()
    return orders


def plan_posts(orders: list[Order], secret: str, base_url: str) -> list[Post]:
    """Every order's event to both replicas; some a third time, some a second event."""
    signer = SandboxPaymentGateway(
        secret=secret.encode(), clock=SystemClock(), public_base_url=base_url
    )

    def event(order: Order, event_id: str) -> WebhookDelivery:
        return signer.signed_event(
            outcome="pay",
            session_id=order.session_id,
            order_id=order.order_id,
            amount=AMOUNT,
            currency=CURRENCY,
            event_id=event_id,
        )

    posts = []
    for n, order in enumerate(orders):
        event_id = f"evt_scale_{n}"
        delivery = event(order, event_id)
        posts += [Post(r, order.order_id, event_id, delivery) for r in (0, 1)]
        if n % 5 == 0:  # the same delivery twice to one replica
            posts.append(Post(n % 2, order.order_id, event_id, delivery))
        if n % 8 == 3:  # another event for the same order (the order's row lock decides)
            other = f"evt_scale_{n}_again"
            posts.append(Post((n + 1) % 2, order.order_id, other, event(order, other)))
    random.Random(16).shuffle(posts)  # a fixed interleaving of replicas and orders
    return posts


async def post_all(replicas: list[Server], posts: list[Post]) -> list[Answer]:
    """Post every delivery at once (all in flight together) and collect the answers."""
    clients = [httpx.AsyncClient(base_url=r.base_url, timeout=60.0) for r in replicas]

    async def send(post: Post) -> Answer:
        response = await clients[post.replica].post(
            "/webhook/sandbox", content=post.delivery.body, headers=post.delivery.headers
        )
        outcomes = response.json().get("outcomes", []) if response.status_code == 200 else []
        return Answer(post, response.status_code, tuple(outcomes))

    try:
        return list(await asyncio.gather(*(send(p) for p in posts)))
    finally:
        for client in clients:
            await client.aclose()


async def query(url: str, sql: str) -> list[dict[str, Any]]:
    """The rows of one statement on the test database."""
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncio.wait_for(asyncpg.connect(url), 10)
    try:
        return [dict(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


def rows(url: str, sql: str) -> list[dict[str, Any]]:
    """:func:`query`, from synchronous code."""
    return asyncio.run(query(url, sql))


def wait_delivered(url: str, handler: CountingHandler, workers: list[Worker]) -> None:
    """Return once every outbox message is delivered and ``ORDERS`` emails arrived."""
    deadline = time.monotonic() + DEADLINE
    while True:
        outbox = rows(url, "SELECT status FROM outbox")
        done = sum(r["status"] == "delivered" for r in outbox)
        if len(outbox) >= ORDERS and done == len(outbox) and handler.count >= ORDERS:
            return
        for worker in workers:
            assert worker.process.poll() is None, worker.text()[-4000:]
        assert time.monotonic() < deadline, (
            f"after {DEADLINE:.0f} s: {done} of {len(outbox)} outbox messages delivered, "
            f"{handler.count} emails received"
        )
        time.sleep(0.2)


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def check_answers(answers: list[Answer], orders: list[Order]) -> None:
    """Each event applied once, on one replica; each order fulfilled once."""
    assert [a.status for a in answers if a.status != 200] == []
    assert [a for a in answers if len(a.outcomes) != 1] == []
    by_event: dict[str, list[str]] = {}
    by_order: dict[str, list[str]] = {}
    for answer in answers:
        by_event.setdefault(answer.post.event_id, []).append(answer.outcomes[0])
        by_order.setdefault(answer.post.order_id, []).append(answer.outcomes[0])
    for event_id, outcomes in by_event.items():
        applied = [o for o in outcomes if o in FIRST_APPLIED]
        assert len(applied) == 1, (event_id, outcomes)
        assert outcomes.count("duplicate") == len(outcomes) - 1, (event_id, outcomes)
    assert set(by_order) == {o.order_id for o in orders}
    for order_id, outcomes in by_order.items():
        assert outcomes.count("fulfilled") == 1, (order_id, outcomes)


def check_database(url: str, orders: list[Order], events: set[str]) -> list[dict[str, Any]]:
    """Orders paid once, one token each, each event recorded once; returns the email rows."""
    ids = {o.order_id for o in orders}
    stored = rows(url, "SELECT id, payment_status, fulfillment_status FROM orders")
    assert {r["id"] for r in stored} == ids
    assert {(r["payment_status"], r["fulfillment_status"]) for r in stored} == {
        ("paid", "fulfilled")
    }
    recorded = rows(url, "SELECT event_id, order_id, outcome FROM payment_events")
    assert sorted(r["event_id"] for r in recorded) == sorted(events)
    fulfilled = Counter(r["order_id"] for r in recorded if r["outcome"] == "fulfilled")
    assert fulfilled == Counter(ids)
    tokens = rows(url, "SELECT order_id FROM activation_tokens")
    assert Counter(r["order_id"] for r in tokens) == Counter(ids)
    outbox = rows(url, "SELECT id, channel, status, payload FROM outbox")
    assert {r["status"] for r in outbox} == {"delivered"}
    emails = [r for r in outbox if r["channel"] == "email"]
    assert Counter(json.loads(r["payload"])["order_id"] for r in emails) == Counter(ids)
    return emails


def check_mail(
    handler: CountingHandler, emails: list[dict[str, Any]], orders: list[Order]
) -> dict[str, str]:
    """Each outbox email arrived once, to its buyer; returns each buyer's activation token."""
    expected = {message_id_of(r["id"], SENDER) for r in emails}
    received = Counter(str(m.message["Message-ID"]) for m in handler.messages)
    assert set(received) == expected
    assert [mid for mid, count in received.items() if count != 1] == []
    recipients = Counter(to for m in handler.messages for to in m.rcpt_tos)
    assert recipients == Counter(o.email for o in orders)
    tokens = {}
    for delivered in handler.messages:
        text, _ = parts(delivered.message)
        links = [w for w in text.split() if "/activate?token=" in w]
        assert len(links) == 1, text
        tokens[delivered.rcpt_tos[0]] = token_of(links[0])
    return tokens


def check_links(replicas: list[Server], orders: list[Order], mailed: dict[str, str]) -> None:
    """The link each replica shows for an order is the one its buyer was mailed."""
    clients = [httpx.Client(base_url=r.base_url, timeout=30.0) for r in replicas]
    try:
        for n, order in enumerate(orders):
            body = (
                clients[n % len(clients)]
                .get("/api/payment/session-status", params={"session_id": order.session_id})
                .json()
            )
            assert body["access_status"] == "token_issued", body
            assert token_of(body["activation_link"]) == mailed[order.email]
    finally:
        for client in clients:
            client.close()


def test_two_replicas_and_two_workers_fulfil_and_mail_each_order_once(
    tmp_path: Path, postgres_database: str
) -> None:
    url = postgres_database
    migrate(url, tmp_path)
    handler = CountingHandler()
    smtp_port = free_port()
    shared = REPLICA_POOL | {
        "DATABASE_URL": url,
        "SECRET_KEY": "scale-out-secret-key-0123456789abcdef",
        "SMTP_HOST": HOST,
        "SMTP_PORT": str(smtp_port),
        "SMTP_STARTTLS": "false",
        "SMTP_FROM": SENDER,
        "OUTBOX_BATCH_SIZE": "4",  # small batches: both workers get a share
    }
    with ExitStack() as stack:
        stack.enter_context(smtp_server(handler, port=smtp_port))
        dirs = [tmp_path / name for name in ("a", "b", "w1", "w2")]
        dirs[0].mkdir()
        first = stack.enter_context(running_server(dirs[0], shared, ["--no-worker"]))
        # The workers start while the second replica does (they need no replica).
        workers = [
            stack.enter_context(running_worker(d, first.env | WORKER_POOL)) for d in dirs[2:]
        ]
        dirs[1].mkdir()
        second = stack.enter_context(running_server(dirs[1], shared, ["--no-worker"]))
        replicas = [first, second]
        for worker in workers:
            wait_started(worker)

        orders = buy(replicas)
        posts = plan_posts(orders, first.env["SANDBOX_WEBHOOK_SECRET"], first.base_url)
        answers = asyncio.run(post_all(replicas, posts))
        check_answers(answers, orders)
        wait_delivered(url, handler, workers)
        # Count only once the workers have exited: no second send can still be on its way.
        for worker in reversed(workers):
            worker.process.terminate()
        for worker in workers:
            worker.process.wait(timeout=BOUND)
            assert worker.process.returncode == 0, worker.text()[-4000:]
        emails = check_database(url, orders, {p.event_id for p in posts})
        mailed = check_mail(handler, emails, orders)
        check_links(replicas, orders, mailed)
        assert sum(w.emails_sent() for w in workers) == ORDERS
        replica_logs = "".join(r.log_path.read_text(errors="replace") for r in replicas)
        assert "delivery loop started" not in replica_logs
