"""A unit-of-work factory that records every repository call of the factory it wraps.

It changes nothing: each call goes to the wrapped (memory) adapter. Tests use
the recorded sequence to show that a use case does the same statements and
writes for two inputs, without measuring time.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

REPOSITORIES = ("orders", "accesses", "tokens", "otps", "payment_events", "outbox")


class _Repository:
    def __init__(self, inner: Any, name: str, calls: list[str]) -> None:
        self._inner = inner
        self._name = name
        self._calls = calls

    def __getattr__(self, method: str) -> Any:
        target = getattr(self._inner, method)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(f"{self._name}.{method}")
            return await target(*args, **kwargs)

        return call


class _UnitOfWork:
    def __init__(self, inner: Any, calls: list[str]) -> None:
        self._inner = inner
        self._calls = calls
        for name in REPOSITORIES:
            setattr(self, name, _Repository(getattr(inner, name), name, calls))

    def record(self, event: Any) -> None:
        self._calls.append(f"record.{type(event).__name__}")
        self._inner.record(event)

    async def __aenter__(self) -> _UnitOfWork:
        self._calls.append("begin")
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._calls.append("end")
        await self._inner.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        self._calls.append("commit")
        await self._inner.commit()

    async def rollback(self) -> None:
        self._calls.append("rollback")
        await self._inner.rollback()


class RecordingUnitOfWorkFactory:
    """Wraps a unit-of-work factory; ``calls`` lists begin, each repository call, commit, end."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: list[str] = []

    def __call__(self, *, read_only: bool = False) -> Any:
        return _UnitOfWork(self._inner(read_only=read_only), self.calls)
