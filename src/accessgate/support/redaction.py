"""Settings that never show a secret: :class:`SettingsGroup` and its masking rules.

A field is secret when the last word of its name is ``key``, ``secret``,
``token``, ``password`` or ``passphrase`` (or their plurals: ``secret_key``,
``stripe_webhook_secret``, ``tokens``), or when its class names it in
``__secret_fields__``. ``repr()``, ``str()`` and ``rich`` show a secret as
:data:`MASK` (``None`` and empty values stay visible, so an operator still
sees what is unset), and the password of any URL value as :data:`MASK`.
Every settings group (the service's, each provider's, each target's)
subclasses :class:`SettingsGroup`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import msgspec

MASK = "********"
SECRET_WORDS = frozenset(
    {"key", "keys", "secret", "secrets", "token", "tokens", "password", "passwords", "passphrase"}
)


def is_secret_name(name: str, extra: Iterable[str] = ()) -> bool:
    """Whether a field of this name holds a secret (by its last word, or named in ``extra``)."""
    return name.lower().rsplit("_", 1)[-1] in SECRET_WORDS or name in extra


def mask_url(value: str) -> str:
    """``value`` with the password of its user info (``user:password@``) masked."""
    if "@" not in value or "://" not in value:
        return value
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return MASK  # not parseable: show nothing of it
    if password is None:
        return value
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hostinfo}"))


def masked(name: str, value: object, extra: Iterable[str] = ()) -> object:
    """What may be shown of the value of field ``name``."""
    if value is None or value in ("", ()):
        return value
    if is_secret_name(name, extra):
        return MASK
    if isinstance(value, str):
        return mask_url(value)
    if isinstance(value, tuple):
        return tuple(mask_url(v) if isinstance(v, str) else v for v in value)
    return value


class SettingsGroup(msgspec.Struct, frozen=True, kw_only=True):
    """A frozen settings struct whose ``repr``/``str`` mask every secret.

    Subclasses add fields (``class StripeSettings(SettingsGroup, frozen=True,
    kw_only=True)``) and may name secrets the suffix rule misses in
    ``__secret_fields__``. Nested groups mask their own secrets.
    """

    __secret_fields__: ClassVar[frozenset[str]] = frozenset()

    def _shown(self) -> Iterator[tuple[str, object]]:
        for name in self.__struct_fields__:
            yield name, masked(name, getattr(self, name), self.__secret_fields__)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self._shown())
        return f"{type(self).__name__}({fields})"

    def __str__(self) -> str:
        return repr(self)

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        """The masked fields, for ``rich``'s pretty printer."""
        return list(self._shown())
