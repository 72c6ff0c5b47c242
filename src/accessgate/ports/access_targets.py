"""The shape of an access target plug-in.

:class:`TargetPlugin` is what a package registers in the entry-point group
``accessgate.access_targets``: its name (``ACCESS_TARGETS``, and its outbox
channel ``target:<name>``), its settings group (a msgspec Struct read from the
environment variables with its prefix) and a factory of its
:class:`~accessgate.ports.access_target.AccessTarget`. Discovery and building
happen in the composition root only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from accessgate.ports.access_target import AccessTarget
from accessgate.ports.clock import Clock

ENTRY_POINT_GROUP = "accessgate.access_targets"
S = TypeVar("S")


@dataclass(frozen=True, kw_only=True)
class TargetContext:
    """What the service tells a target plug-in when it is built.

    Attributes:
        clock: the time source (signature times, request times).
        public_base_url: the service's public URL, without a trailing slash.
        channel: the target's outbox channel (``target:<name>``), for its logs.
        production: whether ``ACCESSGATE_ENV=production``.

    """

    clock: Clock
    public_base_url: str
    channel: str
    production: bool = False


@dataclass(frozen=True, kw_only=True)
class TargetPlugin(Generic[S]):
    """An access target as a plug-in (the object an entry point names).

    Attributes:
        name: the target name (``ACCESS_TARGETS``; its outbox channel is
            ``target:<name>``): a lower-case letter, then up to 63 of
            ``[a-z0-9_]``; the entry point's name must equal it.
        settings_type: a msgspec Struct (subclass
            ``accessgate.support.redaction.SettingsGroup`` so ``repr`` masks
            secrets): the target's settings group. Field ``url`` is read from
            ``<env_prefix>URL``; fields without a default are required when
            the target is listed; tuple fields are comma-separated.
        env_prefix: the prefix of its environment variables (``ACCESS_WEBHOOK_``).
        build: makes the target from the settings group and the context; a
            ``ValueError`` stops the start with its message.
        description: one line for the list of targets.

    """

    name: str
    settings_type: type[S]
    env_prefix: str
    build: Callable[[S, TargetContext], AccessTarget]
    description: str = ""

    def variable(self, field_name: str) -> str:
        """The environment variable of a field of the settings group."""
        return f"{self.env_prefix}{field_name}".upper()


AnyTargetPlugin = TargetPlugin[Any]
