"""A local stand-in of the Telegram Bot API on 127.0.0.1 for the bot's tests.

It serves ``/bot<token>/<method>`` like ``api.telegram.org`` (point aiogram at it
with ``TelegramAPIServer.from_base(stand_in.base_url)``, or ``TELEGRAM_API_BASE``
for a subprocess) and answers ``getMe``, ``getUpdates`` (long polling over a
queue the test pushes updates into, honouring ``offset``, ``limit`` and a
bounded ``timeout``), ``sendMessage``, ``setWebhook``, ``deleteWebhook``,
``getWebhookInfo``, ``setMyCommands``, ``getMyCommands``, ``answerCallbackQuery``
and a few harmless others with real-shaped ``{"ok": true, "result": ...}``
bodies. Every call is recorded. Faults on demand: the next N calls answer 500 or
429 (``parameters.retry_after``), and a chat can block the bot (403 "Forbidden:
bot was blocked by the user").

The server runs on its own event loop in a background thread, so synchronous
tests, async tests and subprocesses can all use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

TOKEN = "123456789:AAH-stand-in-token_0123456789abcdefgh"
BOT_ID = 123456789
BOT_USERNAME = "accessgate_test_bot"
MAX_POLL_SECONDS = 1.0  # a long poll never waits longer than this
INT_FIELDS = {"chat_id", "offset", "limit", "timeout", "message_id", "user_id"}
TRUE_METHODS = {
    "setMyCommands",
    "deleteMyCommands",
    "answerCallbackQuery",
    "sendChatAction",
    "deleteMessage",
    "setChatMenuButton",
    "close",
    "logOut",
}


@dataclass(frozen=True)
class Call:
    """One request the bot made: the method, its decoded parameters and the HTTP status answered."""

    method: str
    params: dict[str, Any]
    status: int


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: int
    methods: frozenset[str] | None


@dataclass
class _State:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    webhook_url: str = ""
    webhook_secret: str | None = None
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _decode(params: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        elif isinstance(value, str) and key in INT_FIELDS:
            with contextlib.suppress(ValueError):
                value = int(value)
        elif isinstance(value, str) and value in ("true", "false"):
            value = value == "true"
        decoded[key] = value
    return decoded


class TelegramApiStandIn:
    """The fake Bot API server; use :func:`telegram_api` to run one."""

    def __init__(self, token: str = TOKEN, username: str = BOT_USERNAME) -> None:
        self.token = token
        self.username = username
        self.base_url = ""
        self._state = _State()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_update: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)

    # --- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        """Start serving on a free loopback port (``base_url`` is set on return)."""
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="telegram-api-stand-in", daemon=True)
        self._thread.start()
        assert ready.wait(10.0), "the Bot API stand-in did not start"

    def stop(self) -> None:
        """Stop the server and its thread."""
        if self._loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10.0)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10.0)
        self._loop.close()
        self._loop = None

    async def _serve(self) -> None:
        self._new_update = asyncio.Condition()
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    # --- what the test does -------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update (its ``update_id`` is assigned here) for ``getUpdates``."""
        update_id = next(self._update_ids)
        with self._lock:
            self._state.updates.append({"update_id": update_id, **update})
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._notify(), self._loop).result(5.0)
        return update_id

    def message_update(
        self,
        user_id: int,
        text: str,
        *,
        language_code: str = "en",
        first_name: str = "Tester",
    ) -> dict[str, Any]:
        """A real-shaped ``message`` update of a private chat (without ``update_id``)."""
        user = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "username": f"user{user_id}",
            "language_code": language_code,
        }
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "from": user,
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"message": message}

    def send_text(self, user_id: int, text: str, **user: Any) -> int:
        """Queue a private message from ``user_id``; returns its ``update_id``."""
        return self.push_update(self.message_update(user_id, text, **user))

    def callback_update(self, user_id: int, data: str) -> dict[str, Any]:
        """A real-shaped ``callback_query`` update (without ``update_id``)."""
        user = {"id": user_id, "is_bot": False, "first_name": "Tester", "language_code": "en"}
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Tester"},
            "from": self._me(),
            "text": "...",
        }
        return {
            "callback_query": {
                "id": str(next(self._message_ids)),
                "from": user,
                "chat_instance": f"ci{user_id}",
                "message": message,
                "data": data,
            }
        }

    def fail_next(
        self,
        count: int,
        status: int = 500,
        *,
        retry_after: int = 1,
        methods: set[str] | None = None,
    ) -> None:
        """Answer the next ``count`` calls (of ``methods``, or any) with ``status`` (500 or 429)."""
        with self._lock:
            self._state.faults.append(
                _Fault(status, count, retry_after, frozenset(methods) if methods else None)
            )

    def block(self, chat_id: int) -> None:
        """The user of ``chat_id`` blocked the bot: sending to it answers 403."""
        with self._lock:
            self._state.blocked.add(chat_id)

    def calls(self, method: str | None = None) -> list[Call]:
        """Every recorded call (of ``method``), oldest first."""
        with self._lock:
            return [c for c in self._state.calls if method is None or c.method == method]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """The parameters of every delivered ``sendMessage`` (to ``chat_id``)."""
        return [
            c.params
            for c in self.calls("sendMessage")
            if c.status == 200 and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def wait_for(
        self, predicate: Callable[[list[Call]], bool], timeout: float = 15.0
    ) -> list[Call]:
        """Every call once ``predicate(calls)`` holds; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls()
            if predicate(calls):
                return calls
            assert time.monotonic() < deadline, (
                f"timed out; calls so far: {[(c.method, c.status) for c in calls]}"
            )
            time.sleep(0.05)

    def wait_sent(
        self, chat_id: int, count: int = 1, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        """The messages sent to ``chat_id`` once there are ``count``; fails after ``timeout``."""
        self.wait_for(lambda _: len(self.sent(chat_id)) >= count, timeout)
        return self.sent(chat_id)

    @property
    def webhook(self) -> tuple[str, str | None]:
        """The registered webhook URL and its secret token."""
        with self._lock:
            return self._state.webhook_url, self._state.webhook_secret

    def commands(self, language_code: str = "") -> list[dict[str, Any]]:
        """The commands set by ``setMyCommands`` for ``language_code`` ('' = default)."""
        with self._lock:
            return list(self._state.commands.get(language_code, []))

    def deliver_webhook(self, update: dict[str, Any], timeout: float = 10.0) -> httpx.Response:
        """POST ``update`` to the registered webhook as Telegram does (with the secret header)."""
        url, secret = self.webhook
        assert url, "no webhook is registered"
        body = {"update_id": next(self._update_ids), **update}
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        return httpx.post(url, json=body, headers=headers, timeout=timeout)

    # --- the server ---------------------------------------------------------

    async def _notify(self) -> None:
        assert self._new_update is not None
        async with self._new_update:
            self._new_update.notify_all()

    def _me(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "accessgate test",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            params |= body if isinstance(body, dict) else {}
        elif request.can_read_body:
            form = await request.post()
            params |= {k: v for k, v in form.items() if isinstance(v, str)}
        return _decode(params)

    def _fault(self, method: str) -> _Fault | None:
        for fault in self._state.faults:
            if fault.remaining > 0 and (fault.methods is None or method in fault.methods):
                fault.remaining -= 1
                return fault
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        status, body = await self._answer(request.match_info["token"], method, params)
        with self._lock:
            self._state.calls.append(Call(method, params, status))
        return web.json_response(body, status=status)

    async def _answer(
        self, token: str, method: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        with self._lock:
            fault = self._fault(method)
            blocked = params.get("chat_id") in self._state.blocked
        if fault is not None and fault.status == 429:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {fault.retry_after}",
                "parameters": {"retry_after": fault.retry_after},
            }
        if fault is not None:
            return fault.status, {
                "ok": False,
                "error_code": fault.status,
                "description": "Internal Server Error",
            }
        if blocked and method.startswith(("send", "edit", "copy", "forward")):
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        if method == "getUpdates":
            return await self._get_updates(params)
        return self._method(method, params)

    async def _get_updates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.webhook[0]:
            return 409, {
                "ok": False,
                "error_code": 409,
                "description": "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            }
        offset = int(params.get("offset") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 100))
        wait = min(float(params.get("timeout") or 0), MAX_POLL_SECONDS)
        deadline = time.monotonic() + wait
        assert self._new_update is not None
        while True:
            with self._lock:
                if offset:
                    self._state.updates = [
                        u for u in self._state.updates if u["update_id"] >= offset
                    ]
                pending = self._state.updates[:limit]
            left = deadline - time.monotonic()
            if pending or left <= 0:
                return 200, {"ok": True, "result": pending}
            async with self._new_update:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), left)

    def _method(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getMe":
            return 200, {"ok": True, "result": self._me()}
        if method == "sendMessage":
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": params.get("chat_id"), "type": "private", "first_name": "Tester"},
                "from": self._me(),
                "text": str(params.get("text", "")),
            }
            if isinstance(params.get("reply_markup"), dict):
                message["reply_markup"] = params["reply_markup"]
            return 200, {"ok": True, "result": message}
        with self._lock:
            if method == "setWebhook":
                self._state.webhook_url = str(params.get("url") or "")
                self._state.webhook_secret = params.get("secret_token") or None
                return 200, {"ok": True, "result": True, "description": "Webhook was set"}
            if method == "deleteWebhook":
                self._state.webhook_url, self._state.webhook_secret = "", None
                if params.get("drop_pending_updates"):
                    self._state.updates.clear()
                return 200, {"ok": True, "result": True, "description": "Webhook was deleted"}
            if method == "getWebhookInfo":
                info = {
                    "url": self._state.webhook_url,
                    "has_custom_certificate": False,
                    "pending_update_count": len(self._state.updates),
                }
                return 200, {"ok": True, "result": info}
            if method == "setMyCommands":
                language = str(params.get("language_code") or "")
                self._state.commands[language] = list(params.get("commands") or [])
            if method == "getMyCommands":
                language = str(params.get("language_code") or "")
                return 200, {"ok": True, "result": self._state.commands.get(language, [])}
        if method in TRUE_METHODS:
            return 200, {"ok": True, "result": True}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}


@contextmanager
def telegram_api(token: str = TOKEN) -> Iterator[TelegramApiStandIn]:
    """Run a stand-in for the duration of the block."""
    stand_in = TelegramApiStandIn(token)
    stand_in.start()
    try:
        yield stand_in
    finally:
        stand_in.stop()
