"""ACME Panel: an access target plug-in written outside accessgate.

It imports only accessgate's public port (``accessgate.ports.access_target``,
``accessgate.ports.access_targets``), the domain's errors and the settings
base. Its "panel" is in memory: ``members`` holds who has access now and
``applied`` every change it applied, once per change id.
"""

from __future__ import annotations

from accessgate.domain.model.errors import DeliveryFailed
from accessgate.ports.access_target import AccessChange, AccessChangeType
from accessgate.ports.access_targets import TargetContext, TargetPlugin
from accessgate.support.redaction import SettingsGroup

GIVES = frozenset({AccessChangeType.GRANTED, AccessChangeType.ACTIVATED, AccessChangeType.EXTENDED})


class AcmeTargetSettings(SettingsGroup, frozen=True, kw_only=True):
    """``ACME_TARGET_PANEL_TOKEN`` (required, secret) and ``ACME_TARGET_GROUP``."""

    panel_token: str
    group: str = "members"

    def __post_init__(self) -> None:
        if len(self.panel_token) < 8:
            raise ValueError("ACME_TARGET_PANEL_TOKEN must be at least 8 characters")


class AcmePanelTarget:
    """Adds an order to the panel's group on access, removes it on revocation or expiry."""

    def __init__(self, *, token: str, group: str, channel: str) -> None:
        self._token = token
        self.group = group
        self.channel = channel
        self.members: set[str] = set()
        self.applied: dict[str, AccessChange] = {}
        self.fail_next = 0

    async def apply(self, change: AccessChange) -> None:
        """Apply ``change`` once per id; ``fail_next`` makes the next calls fail (retryable)."""
        if self.fail_next > 0:
            self.fail_next -= 1
            raise DeliveryFailed("ACME Panel is busy", retryable=True)
        if change.id in self.applied:
            return
        self.applied[change.id] = change
        if change.type in GIVES:
            self.members.add(change.order_id)
        else:
            self.members.discard(change.order_id)


def build(settings: AcmeTargetSettings, context: TargetContext) -> AcmePanelTarget:
    """The panel target from its settings group."""
    return AcmePanelTarget(
        token=settings.panel_token, group=settings.group, channel=context.channel
    )


plugin = TargetPlugin(
    name="acme_target",
    settings_type=AcmeTargetSettings,
    env_prefix="ACME_TARGET_",
    build=build,
    description="ACME Panel (a test access target outside accessgate)",
)
