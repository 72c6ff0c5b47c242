"""Activation links: a Telegram deep link, or the service's own activation page."""

from __future__ import annotations

from urllib.parse import quote

import msgspec


class LinkBuilder(msgspec.Struct, frozen=True, kw_only=True):
    """Builds the links the buyer receives.

    With a bot username the activation link is ``https://t.me/<bot>?start=<token>``;
    without one it is ``<public base URL>/activate?token=<token>``.
    """

    public_base_url: str
    bot_username: str | None = None

    def activation_link(self, token: str) -> str:
        """The one link that may carry an activation token."""
        if self.bot_username:
            return f"https://t.me/{self.bot_username}?start={token}"
        return f"{self.public_base_url.rstrip('/')}/activate?token={quote(token)}"

    def url(self, path: str) -> str:
        """An absolute URL of the service for ``path``."""
        return f"{self.public_base_url.rstrip('/')}/{path.lstrip('/')}"
