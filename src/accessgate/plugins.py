"""Discovery of payment provider and access target plug-ins, and the reading of their settings groups.

Part of the composition root (used by :mod:`accessgate.config` to read and
check the groups at start-up, and by :mod:`accessgate.container` to build the
gateways and targets). A provider is found through the entry-point group
``accessgate.payment_providers``: the entry point's name is the provider's
name, its object a :class:`~accessgate.ports.payment_providers.ProviderPlugin`.
An access target is found the same way in ``accessgate.access_targets``
(a :class:`~accessgate.ports.access_targets.TargetPlugin`).
Only the plug-ins that are listed are loaded, so an installed one whose
optional dependencies are missing costs nothing until it is listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any

import msgspec

from accessgate.domain.model.outbox import TARGET_NAME
from accessgate.ports.access_targets import ENTRY_POINT_GROUP as TARGET_GROUP
from accessgate.ports.access_targets import AnyTargetPlugin, TargetPlugin
from accessgate.ports.payment_providers import ENTRY_POINT_GROUP, AnyPlugin, ProviderPlugin

_FIELD = re.compile(r"`\$\.(\w+)`")
_MISSING = re.compile(r"missing required field `(\w+)`")
_SEQUENCES = (msgspec.inspect.ListType, msgspec.inspect.VarTupleType, msgspec.inspect.SetType)


class PluginError(ValueError):
    """A plug-in that is unknown, broken or badly configured; one line, safe to print."""


def available(group: str = ENTRY_POINT_GROUP) -> list[str]:
    """The names of every installed plug-in of ``group`` (providers by default; nothing is imported)."""
    return sorted({ep.name for ep in entry_points(group=group)})


def load(name: str) -> AnyPlugin:
    """Import the plug-in ``name``.

    Raises:
        PluginError: no such plug-in, or its object is not a ProviderPlugin of that name.
        ImportError: the plug-in's package (or an optional dependency) is missing.

    """
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        installed = ", ".join(available()) or "none"
        raise PluginError(f"unknown payment provider {name!r} (installed: {installed})")
    plugin = found[0].load()
    if not isinstance(plugin, ProviderPlugin) or plugin.name != name:
        raise PluginError(
            f"the entry point {name!r} does not name a ProviderPlugin called {name!r}"
        )
    return plugin


def load_all(names: Iterable[str]) -> dict[str, AnyPlugin]:
    """The plug-ins of ``names``, in order."""
    return {name: load(name) for name in names}


def load_target(name: str) -> AnyTargetPlugin:
    """Import the access target plug-in ``name`` (entry-point group ``accessgate.access_targets``).

    Raises:
        PluginError: no such plug-in, a name that cannot be a target's, or its
            object is not a TargetPlugin of that name.
        ImportError: the plug-in's package (or an optional dependency) is missing.

    """
    if not TARGET_NAME.fullmatch(name):
        raise PluginError(
            f"{name[:80]!r} is not an access target name "
            "(a lower-case letter, then up to 63 of a-z, 0-9 and _)"
        )
    found = [ep for ep in entry_points(group=TARGET_GROUP) if ep.name == name]
    if not found:
        installed = ", ".join(available(TARGET_GROUP)) or "none"
        raise PluginError(f"unknown access target {name!r} (installed: {installed})")
    plugin = found[0].load()
    if not isinstance(plugin, TargetPlugin) or plugin.name != name:
        raise PluginError(f"the entry point {name!r} does not name a TargetPlugin called {name!r}")
    return plugin


def load_targets(names: Iterable[str]) -> dict[str, AnyTargetPlugin]:
    """The access target plug-ins of ``names``, in order."""
    return {name: load_target(name) for name in names}


def _is_sequence(info: msgspec.inspect.Type) -> bool:
    if isinstance(info, msgspec.inspect.UnionType):
        return any(_is_sequence(t) for t in info.types)
    return isinstance(info, _SEQUENCES)


def read_group(
    plugin: AnyPlugin | AnyTargetPlugin,
    environ: Mapping[str, str],
    *,
    listed_in: str = "PAYMENT_PROVIDERS",
) -> Any:
    """The settings group of ``plugin`` from ``environ``, converted and checked.

    Every field ``f`` is read from ``<prefix>F``; blank values count as unset;
    sequence fields are comma-separated. ``listed_in`` is the variable that
    lists the plug-in (``PAYMENT_PROVIDERS``, ``ACCESS_TARGETS``), for the
    message about a missing required field.

    Raises:
        PluginError: one line naming the variable at fault (never its value).

    """
    info = msgspec.inspect.type_info(plugin.settings_type)
    if not isinstance(info, msgspec.inspect.StructType):
        raise PluginError(f"the settings of plug-in {plugin.name!r} are not a msgspec Struct")
    raw: dict[str, object] = {}
    for field in info.fields:
        value = environ.get(plugin.variable(field.encode_name))
        if value is None or not value.strip():
            continue
        value = value.strip()
        raw[field.name] = (
            [v.strip() for v in value.split(",") if v.strip()]
            if _is_sequence(field.type)
            else value
        )
    try:
        return msgspec.convert(raw, plugin.settings_type, strict=False)
    except msgspec.ValidationError as error:
        text = str(error)
        missing = _MISSING.search(text)
        if missing:
            variable = plugin.variable(missing.group(1))
            raise PluginError(
                f"{variable} is required when {listed_in} lists {plugin.name}"
            ) from None
        message = text.split(" - at ")[0]
        if message.startswith(plugin.env_prefix):  # a check that names its variable itself
            raise PluginError(message) from None
        match = _FIELD.search(text)
        variable = plugin.variable(match.group(1)) if match else f"{plugin.env_prefix}*"
        raise PluginError(f"{variable}: {message}") from None
